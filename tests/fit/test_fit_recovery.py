"""Recovery of hidden parameters from one simulated pattern grown from other noise (slow: whole fits).

Truth is independent of the fit: the target is a run at known parameters from a seed
(99, 98) that none of the fit's runs uses.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rdnet.fit.run import build_fit_config, run_fit
from rdnet.fit.simulation import BatchedSimulator, SimulationSetup

pytestmark = pytest.mark.slow


def _target(config, hidden: dict[str, float], seed: int) -> np.ndarray:
    setup = SimulationSetup(**{**config.setup.__dict__, "model": config.model.with_parameters(**hidden)})
    simulator = BatchedSimulator(setup)
    with torch.no_grad():
        return simulator.observed(simulator.run(simulator.initial_states([{}], [seed]), {}))[0].double().numpy()


def test_a_hidden_feed_and_kill_rate_of_gray_scott_spots_is_recovered_within_5_percent():
    """Pearson's λ (spots), 64², t = 2000: about a minute on 2 cores."""
    hidden = {"F": 0.034, "k": 0.065}
    config = build_fit_config("gray-scott", fit=["F", "k"], bounds={"F": (0.0255, 0.0452), "k": (0.0605, 0.0696)},
                              shape=(64, 64), time=2000.0, starts=4, iterations=10)  # fmt: skip
    result = run_fit(config, _target(config, hidden, seed=99))
    for name, value in zip(result.names, result.values):
        assert value == pytest.approx(hidden[name], rel=0.05), name


@pytest.mark.parametrize("seed", [99, 98])
def test_a_turing_models_diffusion_ratio_is_recovered_within_5_percent_and_the_interval_covers_it(seed):
    """Schnakenberg's Dv/Du (Du = 1) from its spots' wavelength, two seeded targets: under a minute each."""
    config = build_fit_config("schnakenberg", fit=["Dv"], bounds={"Dv": (10.0, 40.0)}, shape=(32, 32), dx=2.0,
                              time=60.0, starts=2, iterations=10, uncertainty_replicates=8)  # fmt: skip
    result = run_fit(config, _target(config, {"Dv": 20.0}, seed=seed))
    assert result.values[0] == pytest.approx(20.0, rel=0.05)
    assert result.uncertainty.interval_low[0] <= 20.0 <= result.uncertainty.interval_high[0]
    assert result.uncertainty.interval_high[0] - result.uncertainty.interval_low[0] < 0.2 * 20.0
