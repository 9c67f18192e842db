"""Radial power spectra of several datasets on one figure, with the surrogate significance band.

Each compared role (``u``, ``v``, ``reaction_u`` ...) gets a row of two panels: the
left one against the wavenumber in physical units (cycles per unit length of each
grid), the right one against the wavenumber relative to each grid's Nyquist
wavenumber ``1 / (2 dx)``, so grids of different size and spacing line up. The
shaded band around each curve holds the spectra of spatially shuffled copies of the
field (no spatial structure): a curve above its band has structure beyond chance.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from rdnet.plotting import new_figure

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from rdnet.comparison import ComparisonSpectrum

__all__ = ["spectra_figure"]


def _positive(values: np.ndarray) -> np.ndarray:
    """Values with non-positive entries masked (log axes cannot show them)."""
    values = np.asarray(values, dtype=float)
    return np.where(values > 0, values, np.nan)


def spectra_figure(spectra: Sequence[ComparisonSpectrum], *, title: str | None = None) -> Figure:
    """Draw the spectra of several fields, grouped by role.

    Parameters
    ----------
    spectra : sequence of ComparisonSpectrum
        From :func:`rdnet.comparison.compute_spectra`; curves of one role share a row.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    roles: list[str] = list(dict.fromkeys(spectrum.entry.role for spectrum in spectra))
    labels: list[str] = list(dict.fromkeys(spectrum.entry.label for spectrum in spectra))
    colours = {label: f"C{index % 10}" for index, label in enumerate(labels)}

    figure = new_figure(width=11.0, height=3.3 * len(roles) + (0.4 if title else 0.0))
    grid = figure.subplots(len(roles), 2, squeeze=False)
    units = sorted({spectrum.length_units for spectrum in spectra})
    physical_units = units[0] if len(units) == 1 else None
    normalized = all(spectrum.normalized for spectrum in spectra)

    for row, role in enumerate(roles):
        physical_axes, relative_axes = grid[row]
        for spectrum in (s for s in spectra if s.entry.role == role):
            colour = colours[spectrum.entry.label]
            name = spectrum.entry.label
            if spectrum.entry.variable != role:
                name += f" [{spectrum.entry.variable}]"
            label = f"{name}  (p = {spectrum.p_value:.2g})"
            for axes, scale in ((physical_axes, 1.0), (relative_axes, 1.0 / spectrum.nyquist)):
                k = spectrum.wavenumber * scale
                keep = k > 0
                axes.fill_between(
                    k[keep],
                    _positive(spectrum.band_low[keep]),
                    _positive(spectrum.band_high[keep]),
                    color=colour,
                    alpha=0.18,
                    linewidth=0,
                )
                axes.plot(k[keep], _positive(spectrum.power[keep]), color=colour, linewidth=1.6, label=label)
        row_values = np.concatenate([s.power[s.wavenumber > 0] for s in spectra if s.entry.role == role])
        row_values = row_values[np.isfinite(row_values) & (row_values > 0)]
        physical_axes.set_xscale("log")  # grids of very different spacing share this axis
        for axes in (physical_axes, relative_axes):
            axes.set_yscale("log")
            if row_values.size:  # show eight decades below the peak, not round-off
                axes.set_ylim(bottom=max(float(row_values.min()), 1e-8 * float(row_values.max())) / 2)
            axes.grid(True, which="major", alpha=0.3)
            axes.set_ylabel("fraction of variance per bin" if normalized else "power per bin [field units²]")
        if physical_units is None:
            physical_axes.set_xlabel("wavenumber k [cycles per unit length of each file's grid]")
        elif physical_units in ("", "1"):
            physical_axes.set_xlabel("wavenumber k [cycles per unit length]")
        else:
            physical_axes.set_xlabel(f"wavenumber k [cycles / {physical_units}]")
        relative_axes.set_xlabel("k / k_Nyquist  (k_Nyquist = 1 / (2 dx) of each grid)")
        relative_axes.axvline(1.0, color="0.4", linestyle=":", linewidth=1.0)
        relative_axes.set_xlim(0, None)
        physical_axes.set_title(f"{role}: radial power spectrum", fontsize=10, loc="left")
        relative_axes.set_title(f"{role}: relative to each grid's Nyquist", fontsize=10, loc="left")
        handles, texts = relative_axes.get_legend_handles_labels()
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch

        handles.append(Patch(color="0.5", alpha=0.3))
        texts.append("shaded: 95% band of shuffled\nsurrogates (no spatial structure)")
        handles.append(Line2D([], [], color="0.4", linestyle=":", linewidth=1.0))
        texts.append("Nyquist wavenumber (bins beyond\nit hold only the grid's corners)")
        relative_axes.legend(handles, texts, loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8, frameon=False)
    if title:
        figure.suptitle(title, fontsize=11)
    return figure
