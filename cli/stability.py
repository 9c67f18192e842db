"""``rdnet stability``: linear (Turing) stability analysis of a model's homogeneous state,
or (``--network RUN.nc``, :mod:`rdnet.cli.network_stability`) of a trained network's dynamics."""

from __future__ import annotations

import json

import click

from rdnet.cli.analyze import json_value
from rdnet.cli.network_stability import dispatch as network_dispatch
from rdnet.cli.network_stability import network_options
from rdnet.cli.options import parse_parameters
from rdnet.cli.simulate import model_choice

#: image types --plot can write
PLOT_SUFFIXES = (".png", ".pdf", ".svg")


@click.command("stability")
@click.option("--model", "model", default="gray-scott", show_default=True,
              help="A built-in model (list them with 'rdnet models').")
@click.option("--model-file", "model_file", default=None, metavar="FILE.toml",
              help="A model file declaring your own equations (docs/models.md); instead of --model.")
@click.option("--preset", default=None, help="Named parameter set (default: the model's default preset).")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE", help="Set a model parameter (repeatable).")
@click.option("--state", "state_index", type=int, default=None,
              help="Which homogeneous steady state (0, 1, ...; default: analyse all).")
@click.option("--critical", default=None, metavar="NAME",
              help="Also find the critical value of parameter NAME (needs --bracket).")
@click.option("--bracket", nargs=2, type=float, default=None, metavar="LOW HIGH", help="Search interval for --critical.")
@click.option("--box", default=None, metavar="LX[xLY[xLZ]]",
              help="Also list the modes a box of these side lengths admits (cosines between no-flux sides, sines "
                   "between Dirichlet sides, Fourier modes on periodic axes) and which of them grow.")
@click.option("--boundary", "boundary", multiple=True, metavar="[SPECIES[.SIDE]=]CONDITION",
              help="The box's conditions, as 'rdnet simulate --boundary' takes them (default periodic, after the "
                   "model file's [boundary]); only their kind matters here.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON (strict: NaN and infinity, e.g. the "
              "wavelength of q = 0, are written as null).")
@click.option("--plot", "plot_path", default=None, metavar="FILE",
              help="Save the dispersion relation λ(q) as an image (.png, .pdf or .svg).")
@network_options
@click.pass_context
def command(ctx, model, model_file, preset, params, state_index, critical, bracket, box, boundary, as_json, plot_path,
            **network):  # fmt: skip
    """Dispersion relation, Turing test and fastest-growing wavelength, for any number of species.

    Linearises the model about its homogeneous steady state(s) (the model file's
    closed forms, else found from its equations): a mode exp(λt + iq·x) grows at the
    largest real part of the eigenvalues of J - q² D, with J the symbolic Jacobian of
    the reaction and D the diagonal of the diffusion coefficients. Turing unstable:
    stable without diffusion and growing at some q > 0. Wavenumbers q are angular
    (radians per length unit); wavelength = 2π/q.

    \b
    Examples:
      rdnet stability --model schnakenberg
      rdnet stability --model gray-scott --param F=0.09 --param k=0.059 --json
      rdnet stability --model brusselator --plot dispersion.png
      rdnet stability --model schnakenberg --critical Dv --bracket 1 100
      rdnet stability --model-file my_model.toml --json
      rdnet stability --model schnakenberg --box 20 --boundary no-flux
      rdnet stability --model brusselator --box 30x30 --boundary "dirichlet 4.5"
      rdnet stability --network adv.nc --out modes.nc --plot stability.png
      rdnet stability --network adv.nc --snapshot all --jacobian frozen --json
      rdnet stability --network sup.nc --train-critic 500
    """
    if network_dispatch(as_json=as_json, plot_path=plot_path, **network):
        return
    import numpy as np

    from rdnet.errors import ConfigError
    from rd_classic.models import get_model
    from rd_classic.presets import default_preset, get_preset
    from rd_classic.stability import box_modes, critical_parameter, growth_rate, turing_analysis, wavenumber_range

    if bracket is not None and critical is None:
        raise ConfigError("--bracket applies only with --critical NAME")
    if network["overwrite"] and plot_path is None:
        raise ConfigError("--overwrite applies only with --plot (or --out with --network)")
    if plot_path is not None:  # checked before any work
        from rdnet.cli.paths import output_with_suffix

        plot_file = output_with_suffix(plot_path, PLOT_SUFFIXES, "image", overwrite=network["overwrite"],
                                       option="--plot")  # fmt: skip
    chosen = model_choice(ctx, model, model_file)
    selected = get_preset(chosen, preset) if preset is not None else default_preset(chosen)
    model_object = get_model(chosen, **{**selected.parameters, **parse_parameters(params, fields=False)})
    states = model_object.steady_states()
    if not states:
        raise ConfigError(f"{model_object.name} has no homogeneous steady state at these parameters")
    if state_index is not None:
        if not 0 <= state_index < len(states):
            raise ConfigError(f"--state {state_index}: the model has {len(states)} steady state(s) (0..{len(states) - 1})")
        indices = [state_index]
    else:
        indices = list(range(len(states)))
    analyses = [turing_analysis(model_object, state=states[i]) for i in indices]
    result = {"model": model_object.name, "species": list(model_object.species),
              "parameters": model_object.parameters(), "states": [analysis.to_dict() for analysis in analyses]}  # fmt: skip
    boxes = _box_modes(model_object, box, boundary, [states[i] for i in indices], box_modes)
    for entry, modes in zip(result["states"], boxes):
        entry["box"] = modes.to_dict()
    if critical is not None:
        if bracket is None:
            raise ConfigError("--critical needs --bracket LOW HIGH")
        if len(indices) > 1:  # it follows one state: which one is the user's choice, not the first found
            raise ConfigError(f"--critical follows one steady state and {model_object.name} has {len(indices)} here; "
                              f"choose one with --state (0..{len(indices) - 1})")  # fmt: skip
        result["critical"] = {"parameter": critical, "value": critical_parameter(
            model_object, critical, bracket=tuple(bracket), state_index=indices[0])}  # fmt: skip
    if as_json:
        click.echo(json.dumps(json_value(result), indent=2, default=float))
    else:
        click.echo(f"{model_object.name}: " + ", ".join(f"{k}={v:g}" for k, v in model_object.parameters().items()))
        for index, analysis in zip(indices, analyses):
            values = ", ".join(f"{name}* = {value:.6g}" for name, value in zip(model_object.species, analysis.state))
            click.echo(f"state {index}: {values}")
            click.echo(f"  trace J = {analysis.trace:.6g}, det J = {analysis.determinant:.6g}, "
                       f"stable without diffusion: {analysis.stable_without_diffusion}")  # fmt: skip
            click.echo("  conditions: " + ", ".join(f"{k}={v}" for k, v in analysis.conditions.items()))
            kind = f" ({analysis.instability})" if analysis.turing_unstable and analysis.instability else ""
            click.echo(f"  Turing unstable: {analysis.turing_unstable}{kind}")
            if analysis.unstable_band:
                low, high = analysis.unstable_band
                click.echo(f"  unstable band: {low:.6g} < q < {high:.6g} (wavelengths {2 * np.pi / high:.6g} .. "
                           f"{2 * np.pi / low if low > 0 else float('inf'):.6g})")  # fmt: skip
            click.echo(f"  fastest growing: q = {analysis.fastest_wavenumber:.6g}, wavelength = "
                       f"{analysis.fastest_wavelength:.6g}, rate = {analysis.max_growth_rate:.6g}")  # fmt: skip
            if boxes:
                modes = boxes[indices.index(index)]
                sides = " x ".join(f"{length:g}" for length in modes.lengths)
                if modes.unbounded:
                    click.echo(f"  box {sides} ({', '.join(modes.kinds)}): infinitely many allowed modes grow "
                               f"(the band reaches q = inf); the fastest is at the grid's scale")  # fmt: skip
                else:
                    click.echo(f"  box {sides} ({', '.join(modes.kinds)}): {modes.growing} allowed mode(s) grow; fastest "
                               f"allowed: mode {tuple(int(m) for m in modes.modes[0])}, q = {modes.wavenumbers[0]:.6g}, "
                               f"rate = {modes.rates[0]:.6g}")  # fmt: skip
        if critical is not None:
            click.echo(f"critical {critical} = {result['critical']['value']:.8g}")
    if plot_path is not None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        # up to where every state's λ(q) is clearly falling (see rd_classic.stability.wavenumber_range)
        top = max(wavenumber_range(model_object, state=analysis.state) for analysis in analyses)
        q = np.linspace(0.0, top, 800)
        fig, ax = plt.subplots(figsize=(6, 4))
        for index, analysis in zip(indices, analyses):
            ax.plot(q, growth_rate(model_object, q, state=analysis.state), label=f"state {index}")
        ax.axhline(0.0, color="grey", lw=0.8)
        ax.set_xlabel("angular wavenumber q (radians per length unit)")
        ax.set_ylabel("growth rate max Re λ(q) (1/time)")
        ax.set_title(f"dispersion relation: {model_object.name}")
        ax.legend()
        fig.tight_layout()
        fig.savefig(plot_file)
        plt.close(fig)
        if not as_json:
            click.echo(f"wrote {plot_path}")


def _box_modes(model_object, box, boundary, states, box_modes) -> list:
    """The box's modes at every analysed state (none without --box; --boundary needs --box)."""
    from rdnet.errors import ConfigError
    from rd_classic.boundaries import resolve_boundary_conditions
    from rd_classic.stability import box_axis_kinds

    if box is None:
        if boundary:
            raise ConfigError("--boundary sets the conditions of a --box; give --box LX[xLY[xLZ]] too")
        return []
    try:
        lengths = [float(part) for part in str(box).lower().replace("×", "x").split("x")]
    except ValueError:
        raise ConfigError(f"--box needs side lengths like 20, 30x20 or 10x10x10, got {box!r}") from None
    if not 1 <= len(lengths) <= 3 or min(lengths) <= 0 or not all(length < float("inf") for length in lengths):
        raise ConfigError(f"--box needs one to three positive side lengths, got {box!r}")
    declaration = model_object.declaration
    conditions = resolve_boundary_conditions(declaration.species, declaration.parameter_names,
                                             declared=declaration.boundary, specifications=list(boundary) or None,
                                             ndim=len(lengths))  # fmt: skip
    conditions.check(len(lengths))
    kinds = box_axis_kinds(conditions, len(lengths))
    return [box_modes(model_object, lengths, kinds, state=state) for state in states]
