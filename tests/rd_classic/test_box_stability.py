"""Linear stability in a finite box: the modes its boundary conditions allow, against simulations."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import scipy.fft
from click.testing import CliRunner

from rdnet.cli.main import cli
from rdnet.errors import ConfigError
from rd_classic.boundaries import resolve_boundary_conditions
from rd_classic.grids import Grid
from rd_classic.integrators import make_stepper
from rd_classic.models import get_model
from rd_classic.stability import box_axis_kinds, box_modes, growth_rate, turing_analysis


def test_box_modes_are_the_allowed_wavenumbers_with_their_growth_rates():
    model = get_model("schnakenberg")
    modes = box_modes(model, (20.0, 7.0), ("no-flux", "dirichlet"))
    for numbers, q, rate in zip(modes.modes, modes.wavenumbers, modes.rates):
        expected = math.hypot(math.pi * numbers[0] / 20.0, math.pi * (numbers[1] + 1) / 7.0)
        assert q == pytest.approx(expected, rel=1e-12)
        assert rate == pytest.approx(growth_rate(model, expected)[0], rel=1e-12)
    assert np.all(np.diff(modes.rates) <= 0)  # fastest first
    periodic = box_modes(model, (10.0,), ("periodic",))
    np.testing.assert_allclose(np.sort(periodic.wavenumbers)[:3], 2 * np.pi * np.arange(3) / 10.0)
    mixed = box_modes(model, (10.0,), ("dirichlet-no-flux",))
    np.testing.assert_allclose(np.sort(mixed.wavenumbers)[:3], np.pi * (np.arange(3) + 0.5) / 10.0)


def _noisy_box_run(length, n, time, rng):
    model = get_model("schnakenberg")
    grid = Grid((1, n), length / n)
    u_star, v_star = model.homogeneous_state()
    stepper = make_stepper(model, grid, dt=0.1, integrator="etdrk4",
                           boundary=resolve_boundary_conditions(model.species, [], specifications="no-flux"))  # fmt: skip
    stepper.set_state(u_star + 1e-6 * rng.standard_normal(grid.shape), v_star + 1e-6 * rng.standard_normal(grid.shape))
    amplitudes = []
    for _ in range(2):
        stepper.advance(round(time / 2 / 0.1))
        u, _ = stepper.get_state()
        amplitudes.append(np.abs(scipy.fft.dct(u[0] - u_star, type=2, norm="ortho")))
    return model, amplitudes


def test_a_noisy_no_flux_box_grows_its_fastest_allowed_cosine_mode_at_its_rate(rng):
    # L = 20: the fastest wavelength 12.9 does not fit; the box's modes are q = pi m / 20 and m = 3 is fastest
    model, (early, late) = _noisy_box_run(20.0, 64, 40.0, rng)
    predicted = box_modes(model, (20.0,), ("no-flux",))
    assert tuple(predicted.modes[0]) == (3,) and predicted.growing == 4
    assert int(np.argmax(late)) == 3
    measured = math.log(late[3] / early[3]) / 20.0
    assert late.max() < 0.1  # still the linear regime
    assert measured == pytest.approx(predicted.rates[0], rel=0.01)


def test_a_box_too_small_for_the_band_has_no_growing_mode(rng):
    # Schnakenberg is Turing unstable (band 0.27 < q < 0.82) but a no-flux box of length 2 admits
    # only q = 0, 1.57, ...: nothing grows and the noise decays
    model, (early, late) = _noisy_box_run(2.0, 16, 40.0, rng)
    assert turing_analysis(model).turing_unstable
    assert box_modes(model, (2.0,), ("no-flux",)).growing == 0
    assert late.max() < early.max()


def test_the_kinds_of_a_box_come_from_the_conditions():
    species, parameters = ("u", "v"), ()
    conditions = resolve_boundary_conditions(species, parameters, specifications=["no-flux", "u.y=periodic",
                                                                                 "v.y=periodic", "dirichlet 1"])  # fmt: skip
    assert box_axis_kinds(conditions, 2) == ("dirichlet", "dirichlet")
    conditions = resolve_boundary_conditions(species, parameters, specifications=["no-flux", "u.y=periodic",
                                                                                 "v.y=periodic", "u.x-=dirichlet 2",
                                                                                 "v.x-=dirichlet 0"])  # fmt: skip
    assert box_axis_kinds(conditions, 2) == ("dirichlet-no-flux", "periodic")
    with pytest.raises(ConfigError, match="different kinds"):
        box_axis_kinds(resolve_boundary_conditions(species, parameters, specifications=["no-flux", "u=dirichlet 1"]), 1)
    with pytest.raises(ConfigError, match="Robin"):
        box_axis_kinds(resolve_boundary_conditions(species, parameters, specifications=["robin 1 1 0"]), 1)


def _leading_box_rate(model, length, n, alphas):
    """The largest growth rate of the assembled linear operator, each species with its own ghost coefficients."""
    u_star, v_star = model.homogeneous_state()
    jacobian = np.asarray(model.jacobian(u_star, v_star), dtype=float)
    dx = length / n
    laplacians = []
    for low, high in alphas:
        matrix = np.diag(np.full(n, -2.0)) + np.diag(np.ones(n - 1), 1) + np.diag(np.ones(n - 1), -1)
        matrix[0, 0] += low
        matrix[-1, -1] += high
        laplacians.append(matrix / dx**2)
    eye = np.eye(n)
    operator = np.block([[jacobian[0, 0] * eye + model.diffusion[0] * laplacians[0], jacobian[0, 1] * eye],
                         [jacobian[1, 0] * eye, jacobian[1, 1] * eye + model.diffusion[1] * laplacians[1]]])  # fmt: skip
    return float(np.max(np.linalg.eigvals(operator).real))


def test_a_mixed_axis_must_have_the_same_orientation_for_every_species():
    # u Dirichlet at x- and no-flux at x+ (sines), v the other way round (cosines): the wavenumbers are the same,
    # but the reaction couples u's sine to v's cosine, so no mode is shared; the assembled operator's leading rate
    # (0.536 for Schnakenberg in a box of 20) is not the shared-mode list's 0.251. The listing was given anyway.
    model = get_model("schnakenberg")
    same = _leading_box_rate(model, 20.0, 200, [(-1.0, 1.0), (-1.0, 1.0)])
    assert box_modes(model, (20.0,), ("dirichlet-no-flux",)).rates[0] == pytest.approx(same, rel=1e-3)
    opposite = _leading_box_rate(model, 20.0, 200, [(-1.0, 1.0), (1.0, -1.0)])
    assert opposite > 1.5 * same
    species, parameters = ("u", "v"), ()
    aligned = ["u.x-=dirichlet 1", "u.x+=no-flux", "v.x-=dirichlet 0.9", "v.x+=no-flux"]
    conditions = resolve_boundary_conditions(species, parameters, specifications=aligned)
    assert box_axis_kinds(conditions, 1) == ("dirichlet-no-flux",)
    crossed = ["u.x-=dirichlet 1", "u.x+=no-flux", "v.x-=no-flux", "v.x+=dirichlet 0.9"]
    with pytest.raises(ConfigError, match="different kinds of condition along x"):
        box_axis_kinds(resolve_boundary_conditions(species, parameters, specifications=crossed), 1)


def test_stability_command_lists_the_box_modes():
    result = CliRunner().invoke(cli, ["stability", "--model", "schnakenberg", "--box", "20", "--boundary", "no-flux",
                                      "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    box = json.loads(result.output)["states"][0]["box"]
    assert box["kinds"] == ["no-flux"] and box["growing_modes"] == 4 and box["fastest_modes"][0]["mode"] == [3]
    refused = CliRunner().invoke(cli, ["stability", "--model", "schnakenberg", "--boundary", "no-flux"])
    assert refused.exit_code == 2 and "--box" in refused.output


@pytest.mark.parametrize("box", ["1e300", "1e6x1e6"])
def test_a_box_with_too_many_modes_is_refused_in_one_line(box):
    # 1e300 made numpy's arange fail ("Maximum allowed size exceeded"), 1e6 x 1e6 asked for ~3e11 modes
    result = CliRunner().invoke(cli, ["stability", "--model", "schnakenberg", "--box", box])
    assert result.exit_code == 2, result.output
    assert "give a smaller box" in result.output and len(result.output.strip().splitlines()) == 1, result.output


def test_a_large_box_still_counts_its_growing_modes():
    # no-flux square of side L: mode (n, m) has q² = (π/L)² (n² + m²); it grows inside the band
    model = get_model("schnakenberg")
    band = turing_analysis(model).unstable_band
    side = 600.0
    n, m = np.meshgrid(np.arange(2000), np.arange(2000), indexing="ij")
    q = math.pi / side * np.hypot(n, m)
    expected = int(np.sum((q > band[0]) & (q < band[1])))
    assert box_modes(model, (side, side), ("no-flux", "no-flux")).growing == expected


def test_a_periodic_box_counts_the_fourier_modes_of_both_signs():
    # on a periodic axis the modes are exp(2 pi i m x / L) for every integer m: m and -m (cos and sin) are
    # two modes, and in 2-D (m, n) and (m, -n) point in different directions. Only m, n >= 0 were counted.
    model = get_model("schnakenberg")
    low, high = turing_analysis(model).unstable_band
    side = 60.0
    m = np.arange(-200, 201)
    q1 = 2 * math.pi * np.abs(m) / side
    assert box_modes(model, (side,), ("periodic",)).growing == int(np.sum((q1 > low) & (q1 < high)))
    mm, nn = np.meshgrid(m, m, indexing="ij")
    q2 = 2 * math.pi * np.hypot(mm, nn) / side
    assert box_modes(model, (side, side), ("periodic", "periodic")).growing == int(np.sum((q2 > low) & (q2 < high)))
    # a periodic axis beside a no-flux one: cos(pi k y / L) for k >= 0 times the Fourier modes in x
    k = np.arange(0, 401)
    mm, kk = np.meshgrid(m, k, indexing="ij")
    q3 = np.hypot(2 * math.pi * mm / side, math.pi * kk / side)
    mixed = box_modes(model, (side, side), ("periodic", "no-flux"))
    assert mixed.growing == int(np.sum((q3 > low) & (q3 < high)))
