"""Figures of the network's linear stability: what each panel shows, with labelled axes."""

from __future__ import annotations

import numpy as np
import xarray as xr

from rdnet.plotting.stability import dispersion_comparison_figure, jacobians_in, stability_figure


def _modes(times: int) -> xr.Dataset:
    """A modes dataset (as rdnet stability --network --out writes it) with known numbers."""
    rng = np.random.default_rng(0)
    data = {"pattern_wavelength": (("time",), np.full(times, 4.0))}
    for kind, rate in (("reaction", 1e-7), ("frozen", 0.03)):
        data[f"eigenvalue_real_{kind}"] = (("time", "rank"), rate * np.linspace(1, 0.5, 3)[None, :].repeat(times, 0))
        data[f"dominant_wavelength_{kind}"] = (("time", "rank"), np.full((times, 3), 2.0))
        data[f"max_real_part_{kind}"] = (("time",), np.full(times, rate))
        data[f"tolerance_{kind}"] = (("time",), np.full(times, 1e-6))
        data[f"mode1_{kind}_u_norm"] = (("time", "y", "x"), rng.random((times, 4, 4)))
    coords = {"time": np.arange(times, dtype=float), "y": np.arange(4.0), "x": np.arange(4.0)}
    return xr.Dataset(data, coords=coords)


def test_one_snapshot_shows_growth_against_wavenumber_and_each_leading_mode():
    modes = _modes(1)
    assert jacobians_in(modes) == ["reaction", "frozen"]
    figure = stability_figure(modes, title="t")
    dispersion, *fields = [axes for axes in figure.axes if axes.get_label() != "<colorbar>"]
    assert "wavenumber" in dispersion.get_xlabel() and "Re λ" in dispersion.get_ylabel()
    assert dispersion.get_yscale() == "symlog"
    growth = np.concatenate([line.get_ydata() for line in dispersion.lines if line.get_marker() not in ("None", "")])
    np.testing.assert_allclose(np.sort(growth), np.sort(np.r_[1e-7 * np.linspace(1, 0.5, 3), 0.03 * np.linspace(1, 0.5, 3)]))
    assert any("J_RD mode 1" in axes.get_title() for axes in fields)


def test_several_snapshots_show_max_growth_through_training():
    figure = stability_figure(_modes(3))
    growth, wavelength = figure.axes[:2]
    assert growth.get_xlabel().startswith("gradient-flow time") and "max Re λ" in growth.get_ylabel()
    drawn = {line.get_label(): line.get_ydata() for line in growth.lines}
    np.testing.assert_allclose(drawn["J_RD: reaction + diffusion, critic frozen"], [0.03] * 3)
    assert "wavelength" in wavelength.get_ylabel()


def test_the_comparison_puts_the_classic_dispersion_beside_the_network():
    k = np.linspace(0, 1, 50)
    figure = dispersion_comparison_figure({"state (1, 0)": (k, -k**2)}, _modes(1), classic_fastest_wavelength=None)
    classic, network = figure.axes[:2]
    np.testing.assert_allclose(classic.lines[0].get_ydata(), -k**2)
    assert "k = q/2π" in classic.get_xlabel() and "wavenumber" in network.get_xlabel()
