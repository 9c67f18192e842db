"""``rdnet info FILE``: what a dataset holds, in a few lines."""

from __future__ import annotations

import click


@click.command("info")
@click.argument("file", type=click.Path())
def command(file: str) -> None:
    """Describe FILE: system, model, grid, snapshots, variables and parameters.

    The grid line gives the points and spacing along each axis: "y x" for 2-D runs,
    "z y x" for 3-D ones.

    \b
    Examples:
      rdnet info gs.nc
      rdnet info run.nc.partial     # an interrupted run: its complete snapshots
    """
    from rdnet.dataset import SPATIAL_DIMS, open_dataset, parameters_of, spatial_dims, spatial_variables

    ds = open_dataset(file)  # a file from another tool: rdnet.cli.main prints the warning in one line
    attrs = ds.attrs
    click.echo(f"{file}: system {attrs.get('system', '?')}, model {attrs.get('model', '?')}, "
               f"rdnet {attrs.get('rdnet_version', '?')}, created {attrs.get('created', '?')}")
    fields = spatial_variables(ds)
    if fields:
        three_d = any(spatial_dims(ds[name].dims) == SPATIAL_DIMS for name in fields)
        axes = SPATIAL_DIMS if three_d else SPATIAL_DIMS[1:]
        click.echo(f"grid: {' x '.join(str(ds.sizes[axis]) for axis in axes)} ({' '.join(axes)}), spacing "
                   f"{' x '.join(_spacing(ds[axis]) for axis in axes)}{_units(ds['x'])}")
    if "time" in ds.dims:
        time = ds["time"]
        click.echo(f"snapshots: {ds.sizes['time']}, time {float(time[0]):g} to {float(time[-1]):g}"
                   f"{_units(time)}")
    click.echo("variables:")
    for name, variable in ds.data_vars.items():
        dims = ", ".join(f"{dim}={ds.sizes[dim]}" for dim in variable.dims)
        label = variable.attrs.get("long_name", "")
        click.echo(f"  {name:<22} ({dims}) {label}{_units(variable)}")
    parameters = parameters_of(ds)
    if parameters:
        text = ", ".join(f"{key}={_short(value)}" for key, value in sorted(parameters.items()))
        click.echo(f"parameters: {text}")
    ds.close()


def _spacing(coordinate) -> str:
    values = coordinate.values
    return f"{float(values[1] - values[0]):g}" if values.size > 1 else "-"


def _units(variable) -> str:
    units = variable.attrs.get("model_units", variable.attrs.get("units", ""))
    if variable.name == "time":
        from rdnet.dataset.cf import model_time_units

        units = model_time_units(variable.attrs)
    return f" [{units}]" if units and units != "1" else ""


def _short(value) -> str:
    """A parameter as one short token: a stored text of several lines (a model declaration) is summarised."""
    if isinstance(value, str) and "\n" in value:
        return f"<{value.count(chr(10)) + 1} lines of text>"
    return str(value)
