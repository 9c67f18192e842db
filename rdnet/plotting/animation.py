"""A field's snapshots as a movie: GIF through Pillow, MP4 through ffmpeg when it is installed."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from rdnet.dataset import load_snapshot
from rdnet.plotting import new_figure

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr

__all__ = ["movie_format", "colour_range", "animate_field", "AnimationInterrupted"]


def movie_format(path: str | Path) -> tuple[Path, str]:
    """Where the movie goes and with which writer.

    Parameters
    ----------
    path : str or Path
        Requested file, ``.gif`` or ``.mp4``.

    Returns
    -------
    path : Path
        The file that will be written: an ``.mp4`` request becomes ``.gif`` when
        ffmpeg is not on the PATH.
    writer : str
        ``"pillow"`` or ``"ffmpeg"``.
    """
    path = Path(path)
    if path.suffix.lower() == ".mp4":
        if shutil.which("ffmpeg"):
            return path, "ffmpeg"
        return path.with_suffix(".gif"), "pillow"
    return path, "pillow"


def colour_range(variable: xr.DataArray, frames: np.ndarray, reduce: Callable) -> tuple[float, float]:
    """The colour range covering every frame (one frame in memory at a time)."""
    low, high = np.inf, -np.inf
    for index in frames:
        values = np.asarray(reduce(variable.isel(time=int(index))).values, dtype=float)
        finite = values[np.isfinite(values)]
        if finite.size:
            low, high = min(low, float(finite.min())), max(high, float(finite.max()))
    if not np.isfinite(low):
        low, high = 0.0, 1.0
    if high <= low:
        high = low + 1.0
    return low, high


class AnimationInterrupted(KeyboardInterrupt):
    """Ctrl-C while a movie was being written; no file was left under its name.

    Attributes
    ----------
    frames_done : int
        Frames drawn before the interrupt.
    frames_total : int
        Frames the movie would have had.
    path : Path
        The movie that was not written (an earlier file of that name is untouched).
    """

    def __init__(self, frames_done: int, frames_total: int, path: Path) -> None:
        super().__init__(f"interrupted after {frames_done} of {frames_total} frames")
        self.frames_done = frames_done
        self.frames_total = frames_total
        self.path = path


def animate_field(
    variable: xr.DataArray,
    path: str | Path,
    *,
    fps: int = 10,
    every: int = 1,
    title: str = "",
    cmap: str = "viridis",
    progress: bool = True,
    z_index: int | None = None,
) -> Path:
    """Write every ``every``-th snapshot of a field as a movie with a fixed colour scale.

    The figure is laid out once (for the widest caption) and then frozen, so the axes,
    the colour bar and the labels stay in place from frame to frame; the colour range
    covers every frame. The movie is written under a temporary name in the same folder
    and renamed when complete: an error or Ctrl-C leaves no partial movie behind.

    Parameters
    ----------
    variable : xarray.DataArray
        A field with dims ``(time, ..., y, x)``; component dims are reduced to their norm.
        A 3-D field ``(time, ..., z, y, x)`` is shown as one ``(y, x)`` plane, named in
        every frame's title (see ``z_index``).
    path : str or Path
        ``.gif`` or ``.mp4`` (``.gif`` beside it when ffmpeg is missing).
    fps : int, optional
        Frames per second.
    every : int, optional
        Use every n-th snapshot.
    title : str, optional
        Text before the time in each frame's title (a 3-D field's plane is named on a
        second line).
    cmap : str, optional
        Colour map.
    progress : bool, optional
        Show a tqdm progress bar on stderr.
    z_index : int, optional
        The plane of a 3-D field (negative counts from the end); default the mid-plane
        ``nz // 2`` (:func:`rdnet.plotting.fields.z_slice`).

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    AnimationInterrupted
        On Ctrl-C (a KeyboardInterrupt), after the temporary file is removed.
    ConfigError
        ``z_index`` is out of range, or given for a field without ``z``.
    """
    import matplotlib as mpl
    from matplotlib.animation import FFMpegWriter, PillowWriter
    from matplotlib.lines import Line2D
    from tqdm import tqdm

    from rdnet.dataset.cf import model_time_units
    from rdnet.plotting import written_atomically
    from rdnet.analysis.fields import _model_times
    from rdnet.plotting.fields import draw_field, reduce_components, z_slice

    variable, plane_caption = z_slice(variable, z_index)  # lazy: one plane per frame is read
    path, writer_name = movie_format(path)
    frames = np.arange(0, variable.sizes["time"], max(1, int(every)))
    low, high = colour_range(variable, frames, reduce_components)
    times = _model_times(variable["time"].values) if "time" in variable.coords else np.arange(variable.sizes["time"], dtype=float)
    time_attrs = variable["time"].attrs if "time" in variable.coords else {}
    units = model_time_units(time_attrs)
    unit_text = f" {units}" if units else ""

    def caption(index: int) -> str:
        line = f"{title}  t = {times[index]:.5g}{unit_text}  (snapshot {index})".strip()
        return f"{line}\n{plane_caption}" if plane_caption else line

    figure = new_figure(width=5.4, height=4.6)
    axes = figure.subplots()
    image = draw_field(axes, load_snapshot(variable.isel(time=int(frames[0]))), vmin=low, vmax=high, cmap=cmap)
    text = axes.set_title(max((caption(int(index)) for index in frames), key=len), fontsize=10)
    figure.canvas.draw()  # constrained layout places axes, colour bar and labels once ...
    figure.set_layout_engine("none")  # ... and every frame keeps that place
    text.set_text(caption(int(frames[0])))

    writer = FFMpegWriter(fps=fps) if writer_name == "ffmpeg" else PillowWriter(fps=fps)
    done = 0
    try:
        with written_atomically(path) as temporary, mpl.rc_context({"savefig.bbox": None}):
            writer.setup(figure, str(temporary), dpi=100)
            try:
                for index in tqdm(frames, desc="frames", unit="frame", disable=not progress, leave=False):
                    snapshot = reduce_components(load_snapshot(variable.isel(time=int(index))))
                    values = np.asarray(snapshot.transpose("y", "x").values, dtype=float)
                    if isinstance(image, Line2D):  # a 1-D field: its profile, one point along y or x
                        image.set_ydata(values.ravel())
                    else:
                        image.set_data(values)
                    text.set_text(caption(int(index)))
                    writer.grab_frame()
                    done += 1
            except BaseException:
                _discard(writer)
                raise
            writer.finish()
    except KeyboardInterrupt:
        raise AnimationInterrupted(done, len(frames), path) from None
    return path


def _discard(writer) -> None:
    """Stop a movie writer without finishing the file (an ffmpeg child is ended)."""
    process = getattr(writer, "_proc", None)
    if process is not None and process.poll() is None:
        process.kill()
        process.communicate()
