"""Noise: the counter-based normals, Euler–Maruyama and Milstein against analytic truth, reproducibility, resume."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

import rdnet
from rdnet.errors import ConfigError
from rd_classic.grids import Grid
from rd_classic.integrators import make_stepper
from rd_classic.model_file import parse_model_text
from rd_classic.models import get_model
from rd_classic.noise import resolve_noise
from rd_classic.random_numbers import standard_normals

GBM_MODEL = """
name = "gbm"
species = ["X"]
[parameters]
mu = 1.0
s = 0.5
[diffusion]
X = 0.0
[reaction]
X = "mu*X"
[noise]
X = "s*X"
"""


def _gbm(**values):
    return get_model(parse_model_text(GBM_MODEL), **values)


def _noise(model, *specifications):
    return resolve_noise(model.species, model.parameter_names(), declared=model.declaration.noise,
                         specifications=list(specifications) or None)  # fmt: skip


# -- the numbers ---------------------------------------------------------------------------


def test_counter_based_numbers_are_standard_normal_and_independent():
    values = standard_normals(7, 3, 0, (400, 500))
    flat = values.ravel()
    assert abs(flat.mean()) < 4 / math.sqrt(flat.size)
    assert abs(flat.var() - 1) < 4 * math.sqrt(2 / flat.size)
    assert stats.kstest(flat, "norm").pvalue > 1e-3
    # the tails: P(|Z| > 3) within 4 sigma of its binomial spread
    p = 2 * stats.norm.sf(3)
    assert abs(np.mean(np.abs(flat) > 3) - p) < 4 * math.sqrt(p / flat.size)
    limit = 4 / math.sqrt(flat.size)
    for other in (standard_normals(7, 4, 0, values.shape), standard_normals(7, 3, 1, values.shape),
                  standard_normals(8, 3, 0, values.shape)):  # next step, next species, next seed  # fmt: skip
        assert abs(np.corrcoef(flat, other.ravel())[0, 1]) < limit
    assert abs(np.corrcoef(values[:, :-1].ravel(), values[:, 1:].ravel())[0, 1]) < limit  # neighbouring cells
    assert abs(np.corrcoef(values[:-1].ravel(), values[1:].ravel())[0, 1]) < limit  # neighbouring rows
    np.testing.assert_array_equal(values, standard_normals(7, 3, 0, (400, 500)))


def test_noisy_steps_give_the_same_bits_for_any_thread_count_and_on_torch(rng):
    import numba

    model = get_model("gray-scott", F=0.035, k=0.065, Du=0.16, Dv=0.08)
    noise = _noise(model, "u=0.01*u", "v=0.02*(1 + v)")
    grid = Grid((9, 14), 1.0)
    fields = (1 - 0.5 * rng.uniform(size=grid.shape), 0.25 * rng.uniform(size=grid.shape))
    results = {}
    threads = numba.get_num_threads()
    for integrator in ("euler", "milstein"):
        for count in sorted({1, threads}):
            numba.set_num_threads(count)
            try:
                stepper = make_stepper(model, grid, dt=0.5, integrator=integrator, noise=noise, seed=5)
                stepper.set_state(*fields)
                stepper.advance(30)
            finally:
                numba.set_num_threads(threads)
            results[integrator, count] = stepper.get_state()
        for a, b in zip(results[integrator, 1], results[integrator, threads]):
            np.testing.assert_array_equal(a, b)
        torch_stepper = make_stepper(model, grid, dt=0.5, integrator=integrator, noise=noise, seed=5, backend="torch")
        torch_stepper.set_state(*fields)
        torch_stepper.advance(30)
        for a, b in zip(results[integrator, 1], torch_stepper.get_state()):
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)  # the same numbers, other rounding order


def test_a_pair_and_an_unpaired_species_draw_the_same_numbers_on_numba_and_torch_in_3d(rng):
    # three noisy species: the first two draw together in the kernel's cell loop, the third alone from its row buffer
    model = get_model("extended-brusselator")
    noise = _noise(model, "u=0.01", "v=0.02*v", "w=0.03")
    grid = Grid((5, 6, 7), 1.0)
    fields = tuple(value + 0.01 * rng.standard_normal(grid.shape) for value in (3.0, 3.0, 6.0))
    states = []
    for backend in ("numba", "torch"):
        stepper = make_stepper(model, grid, dt=1e-3, integrator="euler", noise=noise, seed=9, backend=backend)
        stepper.set_state(*fields)
        stepper.advance(4)
        states.append(stepper.get_state())
    for a, b, start in zip(*states, fields):
        assert np.std(a - start) > 1e-4  # the noise moved every species
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


@pytest.mark.parametrize("integrator", ["euler", "milstein"])
def test_noisy_steps_in_passes_draw_the_numbers_of_single_steps(integrator, rng):
    """Euler-Maruyama (Milstein) in passes of several steps over memory (``noisy_euler_steps``) against one step
    per pass: every step draws its own numbers (a pair of species in the cell loop, an unpaired third from its
    row buffer), so the runs agree to rounding (the kernels contract a few products differently)."""
    from rd_classic.integrators import EXPLICIT_SCHEMES, NumbaExplicitStepper

    model = get_model("extended-brusselator")
    noise = _noise(model, "u=0.01", "v=0.02*v", "w=0.03")
    grid = Grid((21, 10), 1.0, "no-flux")
    fields = tuple(value + 0.01 * rng.standard_normal(grid.shape) for value in (3.0, 3.0, 6.0))
    scheme = EXPLICIT_SCHEMES["euler"]
    ends = []
    for steps_per_pass in (3, 1):
        stepper = NumbaExplicitStepper(model, grid, scheme, dt=1e-3, dtype="float64", noise=noise, seed=4,
                                       milstein=integrator == "milstein", steps_per_pass=steps_per_pass)  # fmt: skip
        stepper.set_state(*fields, step=2)
        stepper.advance(10)  # three passes and a single step
        ends.append(stepper.get_state())
    for passes, single, start in zip(*ends, fields):
        assert np.std(passes - start) > 1e-4  # the noise moved every species
        np.testing.assert_allclose(passes, single, rtol=1e-13, atol=0)


# -- against analytic truth ----------------------------------------------------------------


def _ou_spectrum(a, diffusion, sigma, n, dt, samples, spacing, seed):
    """Mean |û_k|² (unitary 2-D DFT) of ``u' = -a u + D lap u + sigma xi`` on an n x n periodic grid, dx = 1."""
    model = get_model("linear", a=-a, d=-1.0, Du=diffusion, Dv=diffusion)
    grid = Grid((n, n), 1.0)
    stepper = make_stepper(model, grid, dt=dt, integrator="euler", noise=_noise(model, f"u={sigma}"), seed=seed)
    stepper.set_state(np.zeros(grid.shape), np.zeros(grid.shape))
    stepper.advance(10 * spacing)  # ten decorrelation times: stationary
    power = np.zeros((n, n // 2 + 1))
    for _ in range(samples):
        stepper.advance(spacing)
        power += np.abs(np.fft.rfft2(stepper.get_state()[0], norm="ortho")) ** 2
    return power / samples, grid


def _ou_theory(a, diffusion, sigma, n, dt):
    """Euler–Maruyama's stationary E|û_k|² of each mode: sigma² dt/dx² / (1 - (1 + dt λ_k)²), and the continuum value."""
    my = -4 * np.sin(np.pi * np.arange(n) / n) ** 2
    mx = -4 * np.sin(np.pi * np.arange(n // 2 + 1) / n) ** 2
    rate = -a + diffusion * (my[:, None] + mx[None, :])
    return sigma**2 * dt / (1 - (1 + dt * rate) ** 2), sigma**2 / (2 * -rate), rate


def _shell_ratios(measured, theory, rate, shells):
    edges = np.quantile(rate, np.linspace(0, 1, shells + 1))
    which = np.clip(np.searchsorted(edges, rate, side="right") - 1, 0, shells - 1)
    return np.array([np.mean((measured / theory)[which == shell]) for shell in range(shells)])


def test_ornstein_uhlenbeck_field_has_its_stationary_variance_per_fourier_mode():
    # every mode is an OU process of rate -λ_k; modes are pooled in shells of λ (equal theory
    # within a shell up to its width): each shell's mean of measured/theory within 5 %
    a, diffusion, sigma, n, dt = 1.0, 0.25, 0.3, 32, 0.2
    measured, _ = _ou_spectrum(a, diffusion, sigma, n, dt, samples=300, spacing=10, seed=2)
    theory, continuum, rate = _ou_theory(a, diffusion, sigma, n, dt)
    ratios = _shell_ratios(measured, theory, rate, 8)
    assert np.all(np.abs(ratios - 1) < 0.05), ratios
    # the scheme's variance is the continuum's up to Euler–Maruyama's O(dt λ) bias
    np.testing.assert_allclose(theory / continuum, 1 / (1 + dt * rate / 2), rtol=1e-12)


@pytest.mark.slow
def test_ornstein_uhlenbeck_variance_of_every_mode_within_5_percent():
    # each mode on its own (with its symmetric partners, which have the same λ)
    a, diffusion, sigma, n, dt = 1.0, 0.25, 0.3, 16, 0.2
    measured, _ = _ou_spectrum(a, diffusion, sigma, n, dt, samples=6000, spacing=10, seed=3)
    theory, _, rate = _ou_theory(a, diffusion, sigma, n, dt)
    groups = {}
    for index, value in np.ndenumerate(np.round(rate, 10)):
        groups.setdefault(value, []).append(index)
    for members in groups.values():
        ratio = np.mean([measured[i] / theory[i] for i in members])
        size = len(members) * (1 if any(i[1] in (0, n // 2) for i in members) else 2)
        if size * 6000 >= 6400 * 2:  # enough samples for a 5 % test at 4 sigma
            assert abs(ratio - 1) < 0.05, (members, ratio)


def test_euler_maruyama_is_weakly_first_order_on_geometric_brownian_motion():
    # E[X_T^2] of dX = mu X dt + s X dW is exp((2 mu + s^2) T); every cell (D = 0, dx = 1) is a path
    model = _gbm(mu=1.0, s=0.5)
    grid = Grid((1, 1 << 19), 1.0)
    exact = math.exp(2 * 1.0 + 0.25)
    errors = []
    for steps in (10, 20, 40):
        stepper = make_stepper(model, grid, dt=1.0 / steps, integrator="euler", noise=_noise(model), seed=steps)
        stepper.set_state(np.ones(grid.shape))
        stepper.advance(steps)
        errors.append(exact - np.mean(stepper.get_state()[0] ** 2))
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(np.abs(orders - 1.0) < 0.2), (errors, orders)


@pytest.mark.parametrize("integrator,order", [("milstein", 1.0), ("euler", 0.5)])
def test_strong_order_on_geometric_brownian_motion_against_the_exact_path(integrator, order):
    # the exact solution X0 exp((mu - s^2/2) T + s W_T) needs only the path's end W_T = sum of the
    # increments the scheme drew: sqrt(dt) * the counter-based numbers of every step
    mu, s = 0.5, 1.0
    model = _gbm(mu=mu, s=s)
    grid = Grid((1, 20000), 1.0)
    errors = []
    for steps in (16, 32, 64):
        dt = 1.0 / steps
        stepper = make_stepper(model, grid, dt=dt, integrator=integrator, noise=_noise(model), seed=11)
        stepper.set_state(np.ones(grid.shape))
        stepper.advance(steps)
        path_end = math.sqrt(dt) * sum(standard_normals(11, step, 0, grid.shape) for step in range(steps))
        exact = np.exp((mu - s**2 / 2) + s * path_end)
        errors.append(np.mean(np.abs(stepper.get_state()[0] - exact)))
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(np.abs(orders - order) < 0.15), (errors, orders)


@pytest.mark.parametrize("sigmas", [(0.2, 0.0), (0.2, 0.3)], ids=["one species alone", "two drawing together"])
def test_noise_increment_scales_with_dt_and_the_cell_volume(sigmas):
    # pure additive noise, no reaction, no diffusion: Var u(T) = sigma^2 T / dx^d on 1-D, 2-D and 3-D grids
    model = get_model("linear", Du=0.0, Dv=0.0)
    noise = _noise(model, *(f"{s}={sigma}" for s, sigma in zip("uv", sigmas) if sigma))
    for shape, dx in (((1, 40000), 0.5), ((200, 200), 0.5), ((34, 34, 34), 2.0)):
        grid = Grid(shape, dx)
        stepper = make_stepper(model, grid, dt=0.1, integrator="euler", noise=noise, seed=1)
        stepper.set_state(np.zeros(grid.shape), np.zeros(grid.shape))
        stepper.advance(10)
        for field, sigma in zip(stepper.get_state(), sigmas):
            variance = sigma**2 * 1.0 / dx**grid.ndim
            if sigma:
                assert np.var(field) == pytest.approx(variance, rel=5 * math.sqrt(2 / grid.n_cells))
            else:
                assert np.all(field == 0)
        if all(sigmas):  # drawn from one hash per cell, yet independent
            u, v = (field.ravel() for field in stepper.get_state())
            assert abs(np.corrcoef(u, v)[0, 1]) < 4 / math.sqrt(grid.n_cells)


# -- configuration, resume ------------------------------------------------------------------


@pytest.mark.parametrize("amplitude", ["c*sqrt(X)", "c*sqrt(max(X, 0))", "c*sqrt(abs(X))"])
@pytest.mark.parametrize("backend", ["numba", "torch"])
def test_milstein_with_square_root_noise_is_finite_where_the_species_is_zero(amplitude, backend):
    # g = c sqrt(X): ∂g/∂X = c/(2 sqrt X) is infinite at X = 0 but g ∂g/∂X = c²/2 is not; it was computed as
    # g * (∂g/∂X) = 0 * inf, so one Milstein step from a state with X = 0 (a species absent at the start, as
    # Gray-Scott's v) gave NaN where Euler-Maruyama ran. One step against the Milstein formula written out here.
    from rd_classic.random_numbers import noise_normals

    text = ('name = "sqrt"\nspecies = ["X"]\n[parameters]\nc = 0.3\n[diffusion]\nX = 0\n'
            f'[reaction]\nX = "1 - X"\n[noise]\nX = "{amplitude}"\n')  # fmt: skip
    model = get_model(parse_model_text(text))
    grid = Grid((4, 6), 0.5)
    start = np.zeros(grid.shape)
    start[1:3, 2:5] = np.linspace(0.1, 2.0, 6).reshape(2, 3)  # zero around a positive patch
    dt, c = 0.01, 0.3
    stepper = make_stepper(model, grid, dt=dt, integrator="milstein", noise=_noise(model), seed=9, backend=backend)
    stepper.set_state(start)
    stepper.advance(1)
    kick = math.sqrt(dt / grid.dx**2) * noise_normals(9, 0, [0], grid.shape)[0]
    expected = start + dt * (1 - start) + c * np.sqrt(start) * kick + 0.5 * (c * c / 2) * (kick**2 - dt / grid.dx**2)
    result = stepper.get_state()[0]
    assert np.all(np.isfinite(result))
    positive = start > 0  # at X = 0 max(X, 0) and abs(X) have no derivative (sympy takes Heaviside(0) = 1/2)
    exact = positive if amplitude != "c*sqrt(X)" else np.ones(grid.shape, bool)
    np.testing.assert_allclose(result[exact], expected[exact], rtol=1e-12, atol=1e-14)


def test_noise_options_are_checked():
    from rd_classic.run import build_config

    with pytest.raises(ConfigError, match="euler .Euler-Maruyama. or milstein"):
        build_config("schnakenberg", size="8", steps=2, integrator="rk4", noise=["u=0.01"])
    with pytest.raises(ConfigError, match="diagonal"):
        build_config("schnakenberg", size="8", steps=2, integrator="milstein", noise=["u=0.01*v"])
    with pytest.raises(ConfigError, match="has none"):
        build_config("schnakenberg", size="8", steps=2, integrator="milstein")
    with pytest.raises(ConfigError, match="not a species"):
        build_config("schnakenberg", size="8", steps=2, noise=["w=0.01"])
    with pytest.raises(ConfigError, match="not allowed"):
        build_config("schnakenberg", size="8", steps=2, noise=["u=__import__('os')"])
    config = build_config(parse_model_text(GBM_MODEL), size="8x1", steps=2, noise=["none"])
    assert config.noise is None
    assert build_config(parse_model_text(GBM_MODEL), size="8x1", steps=2).to_parameters()["noise_terms"] == {"X": "s*X"}


@pytest.mark.parametrize("amplitude,options", [
    ("log(t)", {}),                                # log 0 = -inf
    ("1/(x - 2.5)", {"dx": 1.0}),                  # a cell centre at x = 2.5 (cells at j + 1/2)
    ("0.1*sqrt(u - 2)", {"initial_condition": "expr"}),  # u = 1 + 0.1 sin(...) < 2 everywhere
])  # fmt: skip
def test_a_noise_amplitude_not_finite_at_the_start_is_refused_before_the_run(amplitude, options):
    # it was accepted, and the run stopped at its first step with "NaN/Inf appeared ... try a smaller dt", exit 1
    from rd_classic.run import build_config

    text = ('name = "one"\nspecies = ["u"]\n[diffusion]\nu = 1\n[reaction]\nu = "-u"\n'
            '[initial]\nu = "1 + 0.1*sin(2*pi*x/Lx)"\n[[steady_states]]\nu = "0"\n')  # fmt: skip
    with pytest.raises(ConfigError, match=r"noise of u: .* is not finite at t = 0 on the initial state"):
        build_config(parse_model_text(text), size="8x1", steps=2, noise=[f"u={amplitude}"], **options)
    assert build_config(parse_model_text(text), size="8x1", steps=2, noise=["u=log(t + 1)"]).noise is not None


class _InterruptAfter:
    def __init__(self, snapshots):
        self.left = snapshots

    def snapshot(self, step, time, fields):
        self.left -= 1
        if self.left == 0:
            raise KeyboardInterrupt


@pytest.mark.parametrize("integrator,dtype", [("euler", "float64"), ("milstein", "float32")])
def test_resumed_noisy_run_equals_the_uninterrupted_one_bit_for_bit(tmp_path, integrator, dtype):
    from rd_classic.observers import ClassicDatasetObserver, load_resume_point
    from rd_classic.run import SimulationInterrupted, build_config, run_simulation

    config = build_config("schnakenberg", size="16x12", steps=60, snapshot_every=10, integrator=integrator,
                          dtype=dtype, seed=4, noise=["u=0.02*u", "v=0.01"], boundary=["no-flux"])  # fmt: skip
    whole = tmp_path / "whole.nc"
    run_simulation(config, observers=[ClassicDatasetObserver(whole)])
    cut = tmp_path / "cut.nc"
    with pytest.raises(SimulationInterrupted):
        run_simulation(config, observers=[ClassicDatasetObserver(cut), _InterruptAfter(3)])
    partial = tmp_path / "cut.nc.partial"
    resumed_config, state, step = load_resume_point(partial)
    assert step == 20 and resumed_config.noise.to_json() == config.noise.to_json()
    run_simulation(resumed_config, observers=[ClassicDatasetObserver(resume_from=partial)], state=state, start_step=step)
    a, b = rdnet.open_dataset(whole), rdnet.open_dataset(cut)
    for name in ("u", "v", "reaction_u", "diffusion_v", "step", "time"):
        np.testing.assert_array_equal(a[name].values, b[name].values)
    assert np.std(a["u"].values[-1]) > 0  # the noise did something
