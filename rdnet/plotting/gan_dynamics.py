"""Figures of the solvable GAN: overlaps vs time, weight histograms and the phase diagram."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from rdnet.plotting import new_figure, save_figure

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr
    from matplotlib.figure import Figure

__all__ = ["overlaps_figure", "weights_figure", "phase_diagram_figure", "plot_dataset"]

_COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown")
_AXIS_LABELS = {"noise": "noise variance η", "tau_d": "discriminator rate τ", "tau_g": "generator rate τ̃"}
_PHASE_COLOURS = {"failure": "#d9d9d9", "convergence": "#a6dba0", "oscillation": "#fdb863", "mode-collapse": "#c2a5cf"}


def _overlap_panel(axes, ds: xr.Dataset, name: str, label: str, diagonal: bool) -> None:
    times = ds["time"].values
    d = ds.sizes["feature"]
    for i in range(d):
        select = {"feature": i, "feature2": i} if diagonal else {"feature": i}
        colour = _COLOURS[i % len(_COLOURS)]
        ode = ds[f"{name}_ode"].isel(select).values
        mean = ds[f"{name}_mean"].isel(select).values
        std = ds[f"{name}_std"].isel(select).values
        axes.plot(times, ode, color=colour, lw=1.5, label=f"ODE, feature {i + 1}")
        step = max(1, len(times) // 40)
        axes.errorbar(
            times[::step], mean[::step], yerr=std[::step], fmt="o", ms=3, color=colour, alpha=0.8,
            elinewidth=0.8, label=f"simulation mean ± std, feature {i + 1}",
        )
    axes.set_xlabel("time t = k/n")
    axes.set_ylabel(label)


def overlaps_figure(ds: xr.Dataset) -> Figure:
    """Overlaps P_ii, q_i, r_i vs time: simulation mean ± std (dots) over the ODE (lines).

    Parameters
    ----------
    ds : xarray.Dataset
        A dataset from :func:`rdnet.gan_dynamics.run.run_dataset` (system "gan-dynamics").

    Returns
    -------
    matplotlib.figure.Figure
    """
    figure = new_figure(width=12, height=4)
    axes = figure.subplots(1, 3)
    _overlap_panel(axes[0], ds, "P", "P_ii = u_iᵀ v_i", True)
    _overlap_panel(axes[1], ds, "q", "q_i = u_iᵀ w", False)
    _overlap_panel(axes[2], ds, "r", "r_i = v_iᵀ w", False)
    for i, value in enumerate(np.atleast_1d(ds["critical_overlap"].values)):
        if np.isfinite(value):
            axes[0].axhline(value, color=_COLOURS[i % len(_COLOURS)], ls=":", lw=1,
                            label=f"P_c (linear theory), feature {i + 1}")
    axes[0].legend(fontsize=7, loc="best")
    parameters = ds.attrs.get("parameters", "")
    n = ds.attrs.get("dimension", "?")
    figure.suptitle(
        f"solvable GAN, n = {n}, {ds.sizes['replica']} replicas; linear theory: "
        f"{ds.attrs.get('linear_phase', '?')}, ODE: {ds.attrs.get('ode_phase', '?')}",
        fontsize=10,
    )
    del parameters
    return figure


def weights_figure(ds: xr.Dataset) -> Figure:
    """Histograms of the scaled discriminator weights sqrt(n)·w_i at the snapshot times.

    One panel per snapshot; coordinates are pooled over replicas and split by the sign of the
    first feature's coordinate, which shows the drift the feature imprints on the weights.
    """
    n = float(ds.attrs.get("dimension", ds.sizes["coordinate"]))
    snapshots = ds.sizes["snapshot_time"]
    figure = new_figure(width=3.6 * snapshots, height=3.4)
    axes = np.atleast_1d(figure.subplots(1, snapshots, sharey=True))
    feature = ds["feature_vectors"].isel(feature=0).values
    for k, ax in enumerate(axes):
        weights = np.sqrt(n) * ds["discriminator_weights"].isel(snapshot_time=k).values  # (replica, coordinate)
        positive = np.broadcast_to(feature > 0, weights.shape)
        bins = np.linspace(-4.5, 4.5, 61)
        ax.hist(weights[positive], bins=bins, density=True, alpha=0.6, label="u_1,i > 0")
        ax.hist(weights[~positive], bins=bins, density=True, alpha=0.6, label="u_1,i < 0")
        ax.set_title(f"t = {float(ds['snapshot_time'][k]):.3g}", fontsize=9)
        ax.set_xlabel("√n · w_i")
    axes[0].set_ylabel("density")
    axes[0].legend(fontsize=7)
    figure.suptitle("discriminator weights (microscopic state)", fontsize=10)
    return figure


def phase_diagram_figure(
    x_name: str,
    x_values: np.ndarray,
    y_name: str,
    y_values: np.ndarray,
    ode_codes: np.ndarray,
    boundaries: dict[str, np.ndarray],
    *,
    title: str = "",
) -> Figure:
    """ODE-classified phases (coloured cells) with the linear-theory boundaries drawn over them.

    Parameters
    ----------
    x_name, y_name : str
        Axis parameters ("noise", "tau_d", "tau_g").
    x_values, y_values : ndarray
        Grid values.
    ode_codes : ndarray of int, shape (len(y), len(x))
        Indices into :data:`rdnet.gan_dynamics.phases.PHASES`.
    boundaries : dict
        Label -> field on a fine grid ``(fine_y, fine_x)``, zero on a boundary; must contain the
        keys "fine_x" and "fine_y" with the fine grid's values.
    title : str

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.colors import ListedColormap
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from rdnet.gan_dynamics.phases import PHASES

    figure = new_figure(width=10, height=5)
    ax = figure.subplots()
    cmap = ListedColormap([_PHASE_COLOURS[p] for p in PHASES])
    ax.pcolormesh(x_values, y_values, ode_codes, cmap=cmap, vmin=-0.5, vmax=len(PHASES) - 0.5, shading="nearest")
    handles = [Patch(color=_PHASE_COLOURS[p], label=f"ODE: {p}") for p in PHASES if np.any(ode_codes == PHASES.index(p))]
    styles = ["-", "--", "-.", ":"]
    fine_x, fine_y = boundaries["fine_x"], boundaries["fine_y"]
    for k, (label, field) in enumerate((key, value) for key, value in boundaries.items() if not key.startswith("fine_")):
        if np.nanmin(field) < 0 < np.nanmax(field):
            ax.contour(fine_x, fine_y, field, levels=[0.0], colors="k", linestyles=styles[k % 4], linewidths=1.5)
            handles.append(Line2D([], [], color="k", ls=styles[k % 4], label=label))
    ax.set_xlabel(_AXIS_LABELS.get(x_name, x_name))
    ax.set_ylabel(_AXIS_LABELS.get(y_name, y_name))
    ax.set_title(title, fontsize=10)
    ax.legend(handles=handles, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    return figure


def plot_dataset(ds: xr.Dataset, out_path: str | Path) -> list[Path]:
    """Draw the figures of a gan-dynamics dataset (what ``rdnet plot`` calls).

    Writes the overlaps figure to ``out_path`` and the weight histograms beside it
    (``<stem>-weights<suffix>``).

    Returns
    -------
    list of Path
        The files written.
    """
    out_path = Path(out_path)
    written = [save_figure(overlaps_figure(ds), out_path)]
    if "discriminator_weights" in ds:
        weights_path = out_path.with_name(f"{out_path.stem}-weights{out_path.suffix}")
        written.append(save_figure(weights_figure(ds), weights_path))
    return written
