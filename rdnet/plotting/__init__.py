"""Figures of rdnet datasets (matplotlib, always on the non-interactive Agg backend).

Modules, one per kind of figure:

- :mod:`rdnet.plotting.fields` -- a field as an image with physical axes and a labelled colour bar;
- :mod:`rdnet.plotting.spectra` -- radial spectra of several datasets on one figure;
- :mod:`rdnet.plotting.network` -- hidden-filter mosaics and training time series of network runs;
- :mod:`rdnet.plotting.gan_dynamics`, :mod:`rdnet.plotting.phase_diagram` -- the solvable GAN and sweeps.

matplotlib is imported inside the functions that draw, so importing rdnet stays light.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["new_figure", "save_figure", "written_atomically", "axis_label"]


def new_figure(*, width: float, height: float) -> Figure:
    """A matplotlib figure on the Agg backend with constrained layout.

    Parameters
    ----------
    width, height : float
        Size in inches.

    Returns
    -------
    matplotlib.figure.Figure
        Not registered with pyplot, so it is freed when no longer referenced.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), layout="constrained", dpi=100)
    FigureCanvasAgg(figure)
    return figure


@contextmanager
def written_atomically(path: str | Path) -> Iterator[Path]:
    """A temporary name beside ``path`` to write to; renamed to ``path`` only on success.

    The temporary file (``.<name>.<random>.part<suffix>``, hidden, same folder and
    suffix, so writers that pick the format from the suffix still do) replaces
    ``path`` in one rename when the block ends normally, and is deleted when the block
    raises (an error, Ctrl-C): a reader never sees a half-written file under the final
    name, and an existing file is untouched until the new one is complete.

    Parameters
    ----------
    path : str or Path
        The final file; its folder must exist.

    Yields
    ------
    Path
        The temporary path to write.
    """
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part{path.suffix}")
    try:
        yield temporary
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def save_figure(figure: Figure, path: str | Path, *, dpi: int = 120) -> Path:
    """Write a figure (format from the suffix: .png, .pdf, .svg) and return its path.

    The file appears under its name only when complete (:func:`written_atomically`).

    Parameters
    ----------
    figure : matplotlib.figure.Figure
        The figure.
    path : str or Path
        Destination; the folder must exist.
    dpi : int, optional
        Resolution of raster formats.

    Returns
    -------
    Path
    """
    path = Path(path)
    with written_atomically(path) as temporary:
        figure.savefig(temporary, dpi=dpi, format=path.suffix.lstrip(".").lower() or None)
    return path


def axis_label(name: str, units: str | None) -> str:
    """``"name [units]"``, leaving out dimensionless units (``"1"`` or empty).

    Parameters
    ----------
    name : str
        What the axis shows.
    units : str or None
        Its units.

    Returns
    -------
    str
    """
    if units in (None, "", "1"):
        return name
    return f"{name} [{units}]"
