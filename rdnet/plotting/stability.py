"""Figures of the network's linear stability (a modes dataset of ``rdnet stability --network --out``).

- :func:`stability_figure`: for one snapshot, the network's "dispersion relation" (the leading
  growth rates Re λ against each mode's dominant wavenumber on the neuron grid) beside the
  leading mode of each Jacobian drawn on the grid; for several snapshots, max Re λ of each
  Jacobian against training time (reaction vs reaction + diffusion) and the leading mode's
  wavelength beside that of the pattern the run formed.
- :func:`dispersion_comparison_figure`: a classic model's dispersion relation beside the
  network's leading growth rates (the demo's panel).

Wavenumbers are in cycles per grid cell for the network (the analysis' convention, k = 1/λ)
and in cycles per length unit for a classic model (q / 2π).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from rdnet.plotting import axis_label, new_figure

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["JACOBIAN_STYLES", "jacobians_in", "network_dispersion", "stability_figure", "dispersion_comparison_figure"]

#: how each Jacobian is drawn: (label, colour, marker)
JACOBIAN_STYLES = {
    "reaction": ("J_R: reaction alone", "tab:blue", "o"),
    "frozen": ("J_RD: reaction + diffusion, critic frozen", "tab:red", "s"),
    "game": ("J_game: generator-critic game", "tab:purple", "^"),
}


def jacobians_in(modes: xr.Dataset) -> list[str]:
    """The Jacobians a modes dataset holds, in :data:`JACOBIAN_STYLES` order."""
    return [kind for kind in JACOBIAN_STYLES if f"max_real_part_{kind}" in modes]


def _growth_axis(axes: Axes, values: list[np.ndarray], tolerance: float) -> None:
    """A symmetric-log axis of growth rates, linear inside the neutral band ±tolerance, which is shaded."""
    finite = np.concatenate([np.asarray(v, dtype=float).ravel() for v in values])
    finite = finite[np.isfinite(finite)]
    threshold = max(tolerance, 1e-300)
    low = float(finite.min()) if finite.size else 0.0
    high = float(finite.max()) if finite.size else threshold
    axes.axhspan(-tolerance, tolerance, color="0.85", zorder=0, label=f"neutral band ±{tolerance:.2g}")
    axes.axhline(0.0, color="0.4", linewidth=0.8)
    axes.set_yscale("symlog", linthresh=threshold)
    axes.set_ylim(min(low * 3, -3 * threshold) if low < -threshold else -3 * threshold, max(high * 3, 3 * threshold))


def network_dispersion(axes: Axes, modes: xr.Dataset, *, time_index: int = -1) -> None:
    """Leading growth rates Re λ against each mode's dominant wavenumber (1/wavelength) on the grid.

    The neutral band ±tolerance is shaded; the dotted line marks the wavenumber of the pattern
    the run formed (``displacement_u``).
    """
    tolerance, drawn = 0.0, []
    for kind in jacobians_in(modes):
        label, colour, marker = JACOBIAN_STYLES[kind]
        snapshot = modes.isel(time=time_index)
        growth = np.asarray(snapshot[f"eigenvalue_real_{kind}"].values, dtype=float)
        wavenumber = 1.0 / np.asarray(snapshot[f"dominant_wavelength_{kind}"].values, dtype=float)
        axes.plot(wavenumber, growth, linestyle="none", marker=marker, color=colour, label=label, alpha=0.8)
        tolerance = max(tolerance, float(snapshot[f"tolerance_{kind}"]))
        drawn.append(growth)
    _growth_axis(axes, drawn, tolerance)
    pattern = float(modes["pattern_wavelength"].isel(time=time_index))
    if np.isfinite(pattern) and pattern > 0:
        axes.axvline(1.0 / pattern, color="k", linestyle=":", label=f"pattern formed: wavelength {pattern:.3g}")
    axes.set_xlabel(axis_label("dominant wavenumber of the mode on the neuron grid", "1/cell"))
    axes.set_ylabel("growth rate Re λ [1/(gradient-flow time)]")
    axes.legend(fontsize=7)


def stability_figure(modes: xr.Dataset, *, title: str | None = None) -> Figure:
    """The figure of a modes dataset (see the module docstring).

    Parameters
    ----------
    modes : xarray.Dataset
        Written by :func:`rdnet.prd.stability_report.modes_dataset`.
    title : str, optional
    """
    from rdnet.plotting.fields import draw_field

    kinds = jacobians_in(modes)
    if modes.sizes["time"] > 1:
        figure = new_figure(width=11.0, height=4.2)
        growth_axes, wavelength_axes = figure.subplots(1, 2)
        time = np.asarray(modes["time"].values, dtype=float)
        tolerance, drawn = 0.0, []
        for kind in kinds:
            label, colour, marker = JACOBIAN_STYLES[kind]
            growth_axes.plot(time, modes[f"max_real_part_{kind}"].values, marker=marker, color=colour, label=label)
            tolerance = max(tolerance, float(modes[f"tolerance_{kind}"].max()))
            drawn.append(modes[f"max_real_part_{kind}"].values)
            wavelength_axes.plot(time, modes[f"dominant_wavelength_{kind}"].isel(rank=0).values, marker=marker,
                                 color=colour, label=f"mode 1 of {label.split(':')[0]}")  # fmt: skip
        _growth_axis(growth_axes, drawn, tolerance)
        growth_axes.set_ylabel("max Re λ [1/(gradient-flow time)]")
        wavelength_axes.plot(time, modes["pattern_wavelength"].values, "k:", marker="x", label="pattern formed (displacement_u)")
        wavelength_axes.set_ylabel(axis_label("dominant wavelength on the neuron grid", "cells"))
        for axes in (growth_axes, wavelength_axes):
            axes.set_xlabel("gradient-flow time t = step · lr")
            axes.legend(fontsize=7)
        growth_axes.set_title("leading growth rate through training", fontsize=10)
        wavelength_axes.set_title("scale of the fastest-growing mode", fontsize=10)
    else:
        figure = new_figure(width=4.6 * (1 + len(kinds)), height=4.2)
        axes = figure.subplots(1, 1 + len(kinds), squeeze=False)[0]
        network_dispersion(axes[0], modes)
        axes[0].set_title("network dispersion: leading modes", fontsize=10)
        for panel, kind in zip(axes[1:], kinds):
            field = modes[f"mode1_{kind}_u_norm"].isel(time=0)
            value = float(modes[f"eigenvalue_real_{kind}"].isel(time=0, rank=0))
            draw_field(panel, field, title=f"{JACOBIAN_STYLES[kind][0].split(':')[0]} mode 1 (Re λ = {value:.3g})")
    if title:
        figure.suptitle(title, fontsize=11)
    return figure


def dispersion_comparison_figure(
    classic_curves: dict[str, tuple[np.ndarray, np.ndarray]],
    modes: xr.Dataset,
    *,
    classic_fastest_wavelength: float | None = None,
    classic_length_units: str = "1",
    title: str | None = None,
) -> Figure:
    """A classic model's dispersion relation beside the network's leading growth rates.

    Parameters
    ----------
    classic_curves : dict
        Label (a steady state) to ``(k, growth)``: wavenumbers k = q/2π (cycles per length
        unit) and max Re λ(q) of the classic model there.
    modes : xarray.Dataset
        A network's modes dataset (its last snapshot is drawn).
    classic_fastest_wavelength : float, optional
        Marked with a dotted line.
    classic_length_units : str
        The classic grid's length units.
    """
    figure = new_figure(width=11.0, height=4.2)
    classic_axes, network_axes = figure.subplots(1, 2)
    for label, (wavenumber, growth) in classic_curves.items():
        classic_axes.plot(wavenumber, growth, label=label)
    classic_axes.axhline(0.0, color="0.4", linewidth=0.8)
    if classic_fastest_wavelength and np.isfinite(classic_fastest_wavelength):
        classic_axes.axvline(1.0 / classic_fastest_wavelength, color="k", linestyle=":",
                             label=f"fastest growing: wavelength {classic_fastest_wavelength:.3g}")  # fmt: skip
    units = "1/length" if classic_length_units in ("", "1") else f"1/{classic_length_units}"
    classic_axes.set_xlabel(axis_label("wavenumber k = q/2π", units))
    classic_axes.set_ylabel("growth rate max Re λ(q) [1/time]")
    classic_axes.set_title("classic model: dispersion relation", fontsize=10)
    classic_axes.legend(fontsize=7)
    network_dispersion(network_axes, modes)
    network_axes.set_title("network: leading growth rates against mode wavenumber", fontsize=10)
    if title:
        figure.suptitle(title, fontsize=11)
    return figure
