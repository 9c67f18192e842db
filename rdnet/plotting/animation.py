"""A field's snapshots as a movie: GIF through Pillow, MP4 through ffmpeg when it is installed."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from rdnet.plotting import new_figure

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr

__all__ = ["movie_format", "colour_range", "animate_field"]


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


def animate_field(
    variable: xr.DataArray,
    path: str | Path,
    *,
    fps: int = 10,
    every: int = 1,
    title: str = "",
    cmap: str = "viridis",
    progress: bool = True,
) -> Path:
    """Write every ``every``-th snapshot of a field as a movie with a fixed colour scale.

    Parameters
    ----------
    variable : xarray.DataArray
        A field with dims ``(time, ..., y, x)``; component dims are reduced to their norm.
    path : str or Path
        ``.gif`` or ``.mp4`` (``.gif`` beside it when ffmpeg is missing).
    fps : int, optional
        Frames per second.
    every : int, optional
        Use every n-th snapshot.
    title : str, optional
        Text before the time in each frame's title.
    cmap : str, optional
        Colour map.
    progress : bool, optional
        Show a tqdm progress bar on stderr.

    Returns
    -------
    Path
        The file written.
    """
    from matplotlib.animation import FFMpegWriter, PillowWriter
    from tqdm import tqdm

    from rdnet.plotting.fields import draw_field, reduce_components

    path, writer_name = movie_format(path)
    frames = np.arange(0, variable.sizes["time"], max(1, int(every)))
    low, high = colour_range(variable, frames, reduce_components)
    times = np.asarray(variable["time"].values, dtype=float) if "time" in variable.coords else np.arange(variable.sizes["time"], dtype=float)
    time_attrs = variable["time"].attrs if "time" in variable.coords else {}
    units = time_attrs.get("units", "")
    unit_text = "" if units in ("", "1") else f" {units}"

    figure = new_figure(width=5.4, height=4.6)
    axes = figure.subplots()
    image = draw_field(axes, variable.isel(time=int(frames[0])).load(), vmin=low, vmax=high, cmap=cmap)

    def caption(index: int) -> str:
        return f"{title}  t = {times[index]:.5g}{unit_text}  (snapshot {index})".strip()

    text = axes.set_title(caption(int(frames[0])), fontsize=10)
    writer = FFMpegWriter(fps=fps) if writer_name == "ffmpeg" else PillowWriter(fps=fps)
    with writer.saving(figure, str(path), dpi=100):
        for index in tqdm(frames, desc="frames", unit="frame", disable=not progress, leave=False):
            snapshot = reduce_components(variable.isel(time=int(index)).load())
            image.set_data(np.asarray(snapshot.transpose("y", "x").values, dtype=float))
            text.set_text(caption(int(index)))
            writer.grab_frame()
    return path
