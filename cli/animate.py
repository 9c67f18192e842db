"""``rdnet animate``: a field's snapshots as a GIF or MP4 movie."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from rdnet.errors import ConfigError

MOVIE_SUFFIXES = (".gif", ".mp4")


@click.command(name="animate")
@click.argument("file", type=click.Path())
@click.option("--var", "variable", metavar="NAME", default=None,
              help="Field to animate (default: v, else the first field that is not a label such as neuron_index).")
@click.option("--out", required=True, metavar="MOVIE.gif|mp4", type=click.Path(dir_okay=False), help="Movie file: .gif, or .mp4 (needs ffmpeg; else a .gif is written).")
@click.option("--fps", type=click.IntRange(1, 120), default=10, show_default=True, help="Frames per second.")
@click.option("--every", type=click.IntRange(min=1), default=1, show_default=True, help="Use every n-th snapshot.")
@click.option("--cmap", default="viridis", show_default=True, help="Matplotlib colour map.")
@click.option("--z-index", "z_index", metavar="INDEX", type=int, default=None,
              help="For a 3-D field: the z index of the (y, x) plane shown (negative counts from the end). "
                   "Default: the mid-plane nz//2, named in every frame's title.")
@click.option("--overwrite", is_flag=True, help="Replace an existing movie file.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def command(file, variable, out, fps, every, cmap, z_index, overwrite, quiet):
    """Animate a field over the snapshots of a run, with a fixed colour scale.

    MP4 is written when ffmpeg is on the PATH; otherwise the movie is written as a GIF
    (same name, .gif) and a note says so. Fields with component dims (a network's u)
    are shown as the norm over the components. A 3-D field (dims time, z, y, x) is shown
    as one (y, x) plane, the mid-plane z = nz//2 unless --z-index chooses another; every
    frame's title names it by its z coordinate and index. The movie appears under its
    name only when complete (Ctrl-C leaves none); an existing one is replaced with
    --overwrite.

    \b
    Examples:
      rdnet animate gs.nc --var v --out gs.gif
      rdnet animate gs.nc --var v --out gs.mp4 --fps 24
      rdnet animate adv.nc --var displacement_u --every 2 --out adv.gif
      rdnet animate gs3d.nc --var v --z-index -1 --out top.gif   # a 3-D run's top plane
    """
    import matplotlib.colors

    from rdnet.dataset.vocabulary import is_label_variable, missing_variable_message, resolve_role, spatial_variables
    from rdnet.dataset import open_dataset

    from rdnet.cli.paths import check_new_output, existing_input, output_with_suffix

    existing_input(file)
    out_path = output_with_suffix(out, MOVIE_SUFFIXES, "movie", overwrite=overwrite, inputs=[file])
    if cmap not in matplotlib.colormaps:
        raise ConfigError(f"--cmap {cmap}: unknown colour map (e.g. viridis, magma, RdBu_r)")
    try:
        import PIL  # noqa: F401  (matplotlib's PillowWriter needs it)
    except ImportError:  # pragma: no cover - Pillow ships with matplotlib
        raise ConfigError("writing movies needs Pillow: pip install pillow") from None

    from rdnet.plotting.animation import AnimationInterrupted, animate_field, movie_format

    target, _ = movie_format(out_path)
    if target != out_path:  # the GIF written instead of an MP4 is checked like --out
        if target.exists() and not overwrite:
            raise ConfigError(f"output file exists: {target} (the GIF written instead of {out}, as ffmpeg is not "
                              "on PATH; pass --overwrite to replace it)")  # fmt: skip
        check_new_output(target, overwrite=overwrite, inputs=[file])

    dataset = open_dataset(file)
    try:
        # by default the first measured field, never a label of the grid cells (neuron_index), as plot/analyze
        fields = [field for field in spatial_variables(dataset) if not is_label_variable(dataset[field])]
        name = resolve_role(dataset, variable) if variable is not None else (resolve_role(dataset, "v") or (fields[0] if fields else None))
        if name is None and variable is not None:
            raise ConfigError(missing_variable_message(dataset, Path(file).name, variable))
        if name is None:
            raise ConfigError(f"{Path(file).name} has no spatial field to animate (dims ending in y, x)")
        if "time" not in dataset[name].dims:
            raise ConfigError(f"{name} has no time dim: nothing to animate")
        if z_index is not None and "z" not in dataset[name].dims:
            raise ConfigError(f"--z-index applies to 3-D fields (dims time, z, y, x); {name} has dims "
                              f"{tuple(dataset[name].dims)}")  # fmt: skip
        if target != out_path:
            click.echo(f"note: ffmpeg not found on PATH; writing a GIF instead: {target}", err=True)
        written = animate_field(
            dataset[name],
            out_path,
            fps=fps,
            every=every,
            title=f"{Path(file).name}: {name}",
            cmap=cmap,
            progress=not quiet and sys.stderr.isatty(),
            z_index=z_index,
        )
    except AnimationInterrupted as interrupt:
        kept = " (the existing file is unchanged)" if interrupt.path.exists() else ""
        click.echo(f"interrupted after {interrupt.frames_done} of {interrupt.frames_total} frames: "
                   f"no movie written to {interrupt.path}{kept}", err=True)
        raise click.exceptions.Exit(130) from None
    finally:
        dataset.close()
    click.echo(f"movie: {written}")
