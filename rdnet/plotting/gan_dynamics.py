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
_PHASE_COLOURS = {"failure": "#d9d9d9", "convergence": "#a6dba0", "oscillation": "#fdb863", "mode-collapse": "#c2a5cf",
                  "undetermined": "#ffffff"}


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
    from rdnet.gan_dynamics.phases import ode_phase_summary

    n = ds.attrs.get("dimension", "?")
    figure.suptitle(
        f"solvable GAN, n = {n}, {ds.sizes['replica']} replicas\nphase: linear theory "
        f"{ds.attrs.get('linear_phase', '?')}; long-horizon ODE {ode_phase_summary(ds.attrs)}",
        fontsize=10,
    )
    return figure


def _snapshot_colours(count: int) -> list:
    """Grey for the first snapshot, then blue, red (viridis when there are more than three)."""
    import matplotlib

    palettes = {1: ["tab:red"], 2: ["0.55", "tab:red"], 3: ["0.55", "tab:blue", "tab:red"]}
    if count in palettes:
        return palettes[count]
    return [matplotlib.colormaps["viridis"](value) for value in np.linspace(0.0, 0.85, count)]


def _snapshot_overlap(ds: xr.Dataset, name: str, time: float, select: dict) -> float:
    """Ensemble-mean overlap ``<name>_mean`` at the record time nearest to a snapshot."""
    return float(ds[f"{name}_mean"].sel(time=time, method="nearest").isel(select).values)


def weights_figure(ds: xr.Dataset, *, max_points: int = 4000) -> Figure:
    """The microscopic state: each weight coordinate against each planted feature's coordinate.

    One panel per (vector, feature) pair: rows are the discriminator w and the generator's columns
    v_1..v_d, columns the planted features u_1..u_d. Each dot is one coordinate i (pooled over the
    replicas, at most ``max_points`` per snapshot), at (√n·u_k,i, √n·x_i), coloured by snapshot time.
    A unit vector x with overlap u_kᵀx = m is m·u_k plus an independent remainder, so the cloud
    lies along the line of slope m (dashed, last snapshot): flat when x has not learnt feature k,
    tilted towards the diagonal when it has. For d > 1 this shows which features the generator
    learnt (mode collapse: one tilted panel on the diagonal, one flat). The title of each panel
    gives the ensemble-mean overlap at the first and last snapshot. In oscillating runs replicas
    carry either sign of w, so its cloud is an X.

    Parameters
    ----------
    ds : xarray.Dataset
        A gan-dynamics dataset with ``discriminator_weights``, ``generator_weights`` and
        ``feature_vectors``.
    max_points : int
        Dots per snapshot and panel (a random subset; all if fewer).

    Returns
    -------
    matplotlib.figure.Figure
    """
    n = float(ds.attrs.get("dimension", ds.sizes["coordinate"]))
    d = ds.sizes["feature"]
    snapshot_times = ds["snapshot_time"].values
    colours = _snapshot_colours(len(snapshot_times))
    scale = np.sqrt(n)
    features = scale * ds["feature_vectors"].values  # (coordinate, feature)
    rows = [("w", "discriminator w", "q", lambda k: {"feature": k},
             lambda s: ds["discriminator_weights"].isel(snapshot_time=s).values)]
    for j in range(d):
        rows.append((f"v_{j + 1}", f"generator column v_{j + 1}", "P", lambda k, j=j: {"feature": k, "feature2": j},
                     lambda s, j=j: ds["generator_weights"].isel(snapshot_time=s, feature=j).values))
    figure = new_figure(width=3.6 * d + 0.8, height=3.1 * len(rows) + 0.6)
    axes = np.asarray(figure.subplots(len(rows), d, squeeze=False, sharex=True, sharey=True))
    rng = np.random.default_rng(0)
    lambdas = _feature_strengths(ds, d)
    limit = 4.0
    for row, (symbol, description, overlap_name, select, weights_at) in enumerate(rows):
        for k in range(d):
            ax = axes[row, k]
            for s, time in enumerate(snapshot_times):
                y = scale * weights_at(s)  # (replica, coordinate)
                x = np.broadcast_to(features[:, k], y.shape)
                pick = rng.permutation(y.size)[:max_points]
                ax.scatter(x.ravel()[pick], y.ravel()[pick], s=2, color=colours[s], alpha=0.35, linewidths=0,
                           rasterized=True, label=f"t = {float(time):.3g}")
            first = _snapshot_overlap(ds, overlap_name, float(snapshot_times[0]), select(k))
            last = _snapshot_overlap(ds, overlap_name, float(snapshot_times[-1]), select(k))
            line = np.array([-limit, limit])
            ax.plot(line, last * line, color="k", ls="--", lw=1)
            ax.set_title(f"u_{k + 1}ᵀ{symbol}: {first:.2f} → {last:.2f}", fontsize=9)
            ax.set_xlim(-limit, limit)
            ax.set_ylim(-limit, limit)
            ax.set_aspect("equal")
            if row == len(rows) - 1:
                ax.set_xlabel(f"√n · u_{k + 1},i  (feature {k + 1}{lambdas[k]})")
            if k == 0:
                ax.set_ylabel(f"√n · {symbol},i  ({description})")
    handles = [
        _legend_handle(colour, f"t = {float(time):.3g}", marker="o") for colour, time in zip(colours, snapshot_times)
    ]
    handles.append(_legend_handle("k", "slope = ensemble-mean overlap at the last time", ls="--"))
    figure.legend(handles=handles, loc="outside lower center", ncol=len(handles), fontsize=8, frameon=False)
    figure.suptitle(
        f"microscopic state: every weight coordinate i (n = {int(n)}, {ds.sizes['replica']} replicas pooled) "
        "against the planted features\npanel titles: overlap (ensemble mean) at the first → last snapshot",
        fontsize=10,
    )
    return figure


def _legend_handle(colour, label: str, *, marker: str | None = None, ls: str = "none"):
    """A legend entry: a marker or a line in ``colour``."""
    from matplotlib.lines import Line2D

    return Line2D([], [], color=colour, marker=marker, ls=ls if marker is None else "none", label=label)


def _feature_strengths(ds: xr.Dataset, d: int) -> list[str]:
    """", λ = 3" per feature, from the ``feature_strength`` coordinate or the parameters ("" when unknown)."""
    import json

    if "feature_strength" in ds.coords:
        return [f", λ = {float(value):g}" for value in ds["feature_strength"].values]
    try:
        lambdas = json.loads(ds.attrs.get("parameters", "{}"))["lambda_real"]
        return [f", λ = {float(value):g}" for value in lambdas][:d] + [""] * max(0, d - len(lambdas))
    except (ValueError, KeyError, TypeError):
        return [""] * d


def phase_diagram_figure(
    x_name: str,
    x_values: np.ndarray,
    y_name: str,
    y_values: np.ndarray,
    ode_codes: np.ndarray,
    boundaries: dict[str, np.ndarray],
    *,
    title: str = "",
    informative_fixed_point: np.ndarray | None = None,
) -> Figure:
    """ODE-classified phases (coloured cells) with the linear-theory boundaries drawn over them.

    "undetermined" cells (still moving at the horizon's cap) are white with a black dot; cells whose
    oscillation phase is an informative fixed point rather than a cycle carry a "+".

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
    informative_fixed_point : ndarray of bool, shape (len(y), len(x)), optional
        Cells that settled at an informative fixed point (:meth:`OdePhaseGrid.has_behaviour`).

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
    handles = [
        Patch(facecolor=_PHASE_COLOURS[p], edgecolor="0.3" if p == "undetermined" else _PHASE_COLOURS[p],
              label="ODE: undetermined (still moving at the cap)" if p == "undetermined" else f"ODE: {p}")
        for p in PHASES if np.any(ode_codes == PHASES.index(p))
    ]
    X, Y = np.meshgrid(x_values, y_values)
    undetermined = ode_codes == PHASES.index("undetermined")
    if undetermined.any():
        ax.plot(X[undetermined], Y[undetermined], ".", color="k", ms=3, ls="none")
    if informative_fixed_point is not None and np.any(informative_fixed_point):
        ax.plot(X[informative_fixed_point], Y[informative_fixed_point], "+", color="0.35", ms=4, mew=0.8, ls="none")
        handles.append(Line2D([], [], marker="+", color="0.35", ls="none",
                              label="ODE: informative fixed point\n(oscillation phase without a cycle)"))
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
