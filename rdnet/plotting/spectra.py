"""Radial power spectra of several datasets on one figure, with the surrogate significance band.

Each compared role (``u``, ``v``, ``reaction_u`` ...) gets a row of two panels: the
left one against the wavenumber in physical units (cycles per unit length of each
grid), the right one against the wavenumber relative to each grid's Nyquist
wavenumber ``1 / (2 dx)``, so grids of different size and spacing line up. The
shaded band around each curve holds the spectra of spatially shuffled copies of the
field (no spatial structure): a curve above its band has structure beyond chance.
Each file has its own colour, line style and marker, so identical curves stay
visible on top of each other; a constant field (no spectrum) is named in the legend.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from rdnet.plotting import new_figure

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr
    from matplotlib.figure import Figure

    from rdnet.comparison import ComparisonSpectrum

__all__ = ["spectra_figure", "spectra_file_figure", "log_axis_ticks", "FILE_STYLES"]

#: (line style, marker) of the 1st, 2nd, ... file: dashes and open markers keep equal curves visible.
FILE_STYLES: tuple[tuple[str | tuple, str], ...] = (
    ("-", "o"),
    ("--", "s"),
    (":", "^"),
    ("-.", "D"),
    ((0, (5, 1, 1, 1, 1, 1)), "v"),
    ((0, (1, 3)), "P"),
)


def _positive(values: np.ndarray) -> np.ndarray:
    """Values with non-positive entries masked (log axes cannot show them)."""
    values = np.asarray(values, dtype=float)
    return np.where(values > 0, values, np.nan)


def log_axis_ticks(axis, low: float, high: float) -> None:
    """Readable ticks on a log axis spanning ``[low, high]`` (positive).

    matplotlib labels the minor ticks of a log axis spanning less than a decade with
    ``2×10⁻¹ 3×10⁻¹ ...``, which run into each other. Here minor ticks are never
    labelled; the major ticks are the decades when the axis spans two decades or
    more, else 1-2-5 (or 1 to 9 below half a decade) times a power of ten, labelled
    as plain numbers.

    Parameters
    ----------
    axis : matplotlib.axis.Axis
        ``axes.xaxis`` or ``axes.yaxis`` of a log-scaled axes.
    low, high : float
        The data range shown.
    """
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    decades = np.log10(high / low) if low > 0 and high > low else 0.0
    if decades < 2.0:
        subs = (1.0, 2.0, 5.0) if decades >= 0.5 else tuple(float(sub) for sub in range(1, 10))
        axis.set_major_locator(LogLocator(base=10.0, subs=subs))
        axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:.3g}"))
    axis.set_minor_formatter(NullFormatter())


def _log_power_axis(axes, values: np.ndarray) -> None:
    """Log y scale showing eight decades below the peak of ``values`` (positive, finite), not round-off."""
    axes.set_yscale("log")
    bottom = max(float(values.min()), 1e-8 * float(values.max())) / 2
    axes.set_ylim(bottom=bottom)
    log_axis_ticks(axes.yaxis, bottom, float(values.max()))


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
    styles = {label: FILE_STYLES[index % len(FILE_STYLES)] for index, label in enumerate(labels)}

    figure = new_figure(width=11.0, height=3.3 * len(roles) + (0.4 if title else 0.0))
    grid = figure.subplots(len(roles), 2, squeeze=False)
    units = sorted({spectrum.length_units for spectrum in spectra})
    physical_units = units[0] if len(units) == 1 else None
    normalized = all(spectrum.normalized for spectrum in spectra)

    for row, role in enumerate(roles):
        physical_axes, relative_axes = grid[row]
        row_spectra = [s for s in spectra if s.entry.role == role]
        for spectrum in row_spectra:
            colour = colours[spectrum.entry.label]
            line_style, marker = styles[spectrum.entry.label]
            name = spectrum.entry.label
            if spectrum.entry.variable != role:
                name += f" [{spectrum.entry.variable}]"
            if spectrum.constant:
                label = f"{name}  (constant: no spectrum)"
            else:
                label = f"{name}  (p = {spectrum.p_value:.2g})"
            for axes, scale in ((physical_axes, 1.0), (relative_axes, 1.0 / spectrum.nyquist)):
                k = spectrum.wavenumber * scale
                keep = k > 0
                if not spectrum.constant:
                    axes.fill_between(
                        k[keep],
                        _positive(spectrum.band_low[keep]),
                        _positive(spectrum.band_high[keep]),
                        color=colour,
                        alpha=0.18,
                        linewidth=0,
                    )
                axes.plot(
                    k[keep],
                    _positive(spectrum.power[keep]),
                    color=colour,
                    linestyle=line_style,
                    linewidth=1.6,
                    marker=marker,
                    markersize=5,
                    markerfacecolor="none",
                    markevery=max(1, int(np.count_nonzero(keep)) // 12),
                    label=label,
                )
        row_values = np.concatenate([s.power[s.wavenumber > 0] for s in row_spectra])
        row_values = row_values[np.isfinite(row_values) & (row_values > 0)]
        physical_k = np.concatenate([s.wavenumber[s.wavenumber > 0] for s in row_spectra if not s.constant] or [np.array([])])
        if physical_k.size:  # log axes need something positive to show
            physical_axes.set_xscale("log")  # grids of very different spacing share this axis
            log_axis_ticks(physical_axes.xaxis, float(physical_k.min()), float(physical_k.max()))
        if not row_values.size:  # every field of the row is constant
            for axes in (physical_axes, relative_axes):
                axes.text(0.5, 0.5, "constant field(s): no spectrum", transform=axes.transAxes,
                          ha="center", va="center", fontsize=9, color="0.3")  # fmt: skip
                axes.set_yticks([])
            physical_axes.set_xticks([])
        for axes in (physical_axes, relative_axes):
            if row_values.size:
                _log_power_axis(axes, row_values)
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


def spectra_file_figure(
    dataset: xr.Dataset,
    *,
    variables: Sequence[str] | None = None,
    time_index: int | None = None,
    max_curves: int = 6,
    title: str | None = None,
) -> Figure:
    """Draw the spectra stored by ``rdnet analyze --out`` (a ``system = "spectra"`` file).

    One panel per analysed variable (``<name>_spectrum``): the radial power spectrum
    on log-log axes at up to ``max_curves`` snapshots spread over the run (the last
    one included), coloured from early (dark) to late (light), with the dominant
    wavelength of the last one drawn as a line when the file holds it.

    Parameters
    ----------
    dataset : xarray.Dataset
        A spectra file.
    variables : sequence of str, optional
        Names of analysed variables (``v``) or of their spectra (``v_spectrum``);
        default every spectrum in the file.
    time_index : int, optional
        Draw only this snapshot (negative counts from the end).
    max_curves : int, optional
        Most snapshots drawn per panel.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ConfigError
        When a named variable has no spectrum in the file, or the snapshot index is out of range.
    """
    import matplotlib as mpl

    from rdnet.errors import ConfigError
    from rdnet.dataset.cf import model_time_units
    from rdnet.analysis.fields import _model_times
    from rdnet.plotting import axis_label
    from rdnet.plotting.network import mosaic_indices

    available = [str(name) for name in dataset.data_vars if str(name).endswith("_spectrum")]
    if variables:
        names = []
        for name in variables:
            spectrum = name if name.endswith("_spectrum") else f"{name}_spectrum"
            if spectrum not in available:
                analysed = ", ".join(n.removesuffix("_spectrum") for n in available) or "none"
                raise ConfigError(f"this spectra file holds no spectrum of {name!r}; analysed variables: {analysed}")
            names.append(spectrum)
    else:
        names = available
    if not names:
        raise ConfigError("this spectra file holds no <variable>_spectrum to draw")

    count = len(names)
    columns = min(count, 2)
    rows = -(-count // columns)
    figure = new_figure(width=6.2 * columns, height=3.4 * rows + (0.4 if title else 0.0))
    grid = figure.subplots(rows, columns, squeeze=False)
    colour_map = mpl.colormaps["viridis"]
    for number, name in enumerate(names):
        axes = grid[number // columns][number % columns]
        spectrum = dataset[name]
        variable = name.removesuffix("_spectrum")
        k = np.asarray(spectrum["wavenumber"].values, dtype=float)
        keep = k > 0
        if "time" in spectrum.dims:
            total = spectrum.sizes["time"]
            if time_index is not None:
                if not -total <= time_index < total:
                    raise ConfigError(f"--time {time_index} is out of range: the file has {total} snapshots (use 0..{total - 1}, or -1 for the last)")
                chosen = [time_index % total]
            else:
                chosen = [int(i) for i in mosaic_indices(total, max_curves)]
        else:
            if time_index not in (None, 0, -1):
                raise ConfigError(f"--time {time_index}: the spectra have no time dimension (one spectrum per variable); use 0 or -1")
            total, chosen = 1, [None]
        time_units = model_time_units(dataset["time"].attrs) if "time" in dataset.coords else ""
        shown = []
        for order, index in enumerate(chosen):
            values = np.asarray((spectrum if index is None else spectrum.isel(time=index)).values, dtype=float)
            if index is None:
                label = variable
            else:
                time = float(_model_times(dataset["time"].values[index]))
                label = f"t = {time:.5g}{' ' + time_units if time_units else ''} (#{index})"
            colour = colour_map(0.9 * order / max(1, len(chosen) - 1)) if len(chosen) > 1 else "C0"
            positive = _positive(values[keep])
            finite = np.isfinite(positive)
            shown.append(positive[finite])
            axes.plot(k[keep], positive, color=colour, linewidth=1.8 if order == len(chosen) - 1 else 1.1,
                      label=label if finite.any() else f"{label} (constant: no spectrum)")  # fmt: skip
        shown_values = np.concatenate(shown) if shown else np.array([])
        drawn = shown_values.size > 0
        wavelength_name = f"{variable}_dominant_wavelength"
        if wavelength_name in dataset and drawn:
            wavelengths = np.atleast_1d(np.asarray(dataset[wavelength_name].values, dtype=float))
            last = wavelengths[chosen[-1] if chosen[-1] is not None else 0]
            if np.isfinite(last) and last > 0:
                axes.axvline(1.0 / last, color="0.4", linestyle=":", linewidth=1.0,
                             label=f"1 / dominant wavelength ({last:.3g})")  # fmt: skip
        if drawn:
            axes.set_xscale("log")
            log_axis_ticks(axes.xaxis, float(k[keep].min()), float(k[keep].max()))
            _log_power_axis(axes, shown_values)
        else:
            axes.text(0.5, 0.5, "constant field: no spectrum", transform=axes.transAxes, ha="center", va="center")
        units = str(spectrum["wavenumber"].attrs.get("units", "1"))
        axes.set_xlabel("wavenumber k [cycles per unit length]" if units in ("", "1") else f"wavenumber k [{units}]")
        axes.set_ylabel(axis_label("power per bin", spectrum.attrs.get("units")))
        axes.set_title(f"{variable}: radial power spectrum" + (f" ({len(chosen)} of {total} snapshots)" if total > 1 else ""),
                       fontsize=10, loc="left")  # fmt: skip
        axes.grid(True, which="major", alpha=0.3)
        axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
    for index in range(count, rows * columns):
        grid[index // columns][index % columns].set_visible(False)
    if title:
        figure.suptitle(title, fontsize=11)
    return figure
