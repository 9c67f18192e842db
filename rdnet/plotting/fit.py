"""The figure of a fit's result file (``rdnet fit --out FIT.nc``): target and fit side by side, with spectra."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr
    from matplotlib.figure import Figure

__all__ = ["fit_figure"]


def fit_figure(dataset: xr.Dataset, *, title: str | None = None) -> Figure:
    """Target and a run at the fit as images, their radial spectra, and the fitted values with intervals.

    Parameters
    ----------
    dataset : xarray.Dataset
        A result file of ``rdnet fit`` (``system = "fit"``).
    title : str, optional
        The figure's title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from rdnet.analysis import radial_power_spectrum
    from rdnet.dataset.convention import parameters_of
    from rdnet.plotting import new_figure
    from rdnet.plotting.fields import draw_field
    from rdnet.plotting.spectra import _log_power_axis, _positive

    parameters = parameters_of(dataset)
    observed = str(dataset.attrs.get("observed_species", "v"))
    target = dataset["target"].load()
    fitted = dataset[f"fit_{observed}"].load()
    window = None if parameters.get("periodic_statistics", True) else "hann"
    figure = new_figure(width=15, height=4.4)
    panels = figure.subplots(1, 3)
    draw_field(panels[0], target, title="target")
    draw_field(panels[1], fitted, title=f"{observed} at the fit (other noise)")
    spectra = {}
    for label, field in (("target", target), ("fit", fitted)):
        values = np.asarray(field.values, dtype=np.float64)
        if parameters.get("standardise"):
            values = (values - values.mean()) / max(float(values.std()), 1e-300)
        spectra[label] = radial_power_spectrum(values, dx=float(parameters.get("dx", 1.0)), window=window)
    positive = []
    for label, spectrum in spectra.items():
        wavenumber = spectrum["wavenumber"].values[1:]
        power = spectrum.values[1:]
        panels[2].plot(wavenumber, _positive(power), label=label, lw=1.5 if label == "target" else 1.0)
        positive.append(power[power > 0])
    values = np.concatenate(positive) if positive else np.ones(1)
    if values.size:
        _log_power_axis(panels[2], values)
    panels[2].set_xlabel("wavenumber k (cycles per model length unit)")
    panels[2].set_ylabel("power S(k) (field units²)" if not parameters.get("standardise") else "power S(k) (standardised)")
    panels[2].set_title("radially summed power spectra", fontsize=10)
    panels[2].legend(fontsize=9)
    lines = []
    for index, name in enumerate(dataset["parameter"].values):
        value = float(dataset["fitted_value"].values[index])
        low, high = float(dataset["interval_low"].values[index]), float(dataset["interval_high"].values[index])
        lines.append(f"{name} = {value:.4g} [{low:.4g}, {high:.4g}]")
    result = json.loads(dataset.attrs.get("fit_result", "{}"))
    level = result.get("level")
    heading = f"fit ({level:.0%} intervals)" if isinstance(level, float) else "fit"
    panels[2].text(0.02, 0.02, heading + "\n" + "\n".join(lines), transform=panels[2].transAxes, fontsize=8,
                   va="bottom", family="monospace", bbox={"facecolor": "white", "alpha": 0.8, "lw": 0})  # fmt: skip
    if title:
        figure.suptitle(title, fontsize=11)
    return figure
