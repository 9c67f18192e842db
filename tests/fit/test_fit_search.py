"""The searches on a tiny fit: every method lowers the loss, the gradient search never raises it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rdnet.fit.run import build_fit_config, run_fit
from rdnet.fit.simulation import BatchedSimulator, SimulationSetup


def _tiny(method: str, **options):
    """Schnakenberg on 16² cells (dx = 2) for 4 time units, Dv hidden at 25: config and target."""
    config = build_fit_config("schnakenberg", fit=["Dv"], bounds={"Dv": (10.0, 40.0)}, shape=(16, 16), dx=2.0,
                              time=4.0, method=method, starts=options.pop("starts", 2), iterations=3, screen=4,
                              uncertainty_replicates=3, dtype="float64", **options)  # fmt: skip
    hidden = BatchedSimulator(SimulationSetup(**{**config.setup.__dict__,
                                                 "model": config.model.with_parameters(Dv=25.0)}))  # fmt: skip
    with torch.no_grad():
        target = hidden.observed(hidden.run(hidden.initial_states([{}], [42]), {}))[0].numpy()
    return config, target


@pytest.mark.parametrize("method", ["gradient", "nelder-mead"])
def test_each_method_ends_no_worse_than_it_started_and_the_gradient_search_never_rises(method):
    config, target = _tiny(method)
    result = run_fit(config, target)
    for start in result.starts:
        assert start.loss <= start.history[0] + 1e-15
        if method == "gradient":
            assert np.all(np.diff(start.history) <= 1e-15)
    assert result.loss == min(start.loss for start in result.starts)
    low, high = result.config.space.low[0], result.config.space.high[0]
    assert low <= result.values[0] <= high
    assert result.uncertainty.interval_low[0] <= result.values[0] <= result.uncertainty.interval_high[0]


def test_differential_evolution_keeps_the_best_of_its_population():
    config, target = _tiny("de", starts=5)
    result = run_fit(config, target)
    assert len(result.starts) == 5
    for start in result.starts:
        assert np.all(np.diff(start.history) <= 1e-15)  # each member's best so far
    assert result.loss <= min(start.history[0] for start in result.starts)


def test_a_parameter_the_loss_does_not_reach_gets_a_zero_gradient_and_is_reported_unidentifiable():
    # b's term is 0*z0: sympy drops it, so the loss has no autograd graph to z0 and backward() raised
    # "element 0 of tensors does not require grad" (a traceback from rdnet fit)
    from rd_classic.model_file import parse_model_text
    from rd_classic.models import builtin_declaration

    text = builtin_declaration("schnakenberg").text.replace("[parameters]", "[parameters]\nz0 = 1.0", 1)
    text = text.replace('u = "a - u + u**2*v"', 'u = "a - u + u**2*v + 0*z0"', 1)
    assert '0*z0' in text
    config, target = _tiny("gradient")
    config = build_fit_config(parse_model_text(text), fit=["z0"], bounds={"z0": (0.5, 2.0)}, shape=(16, 16),
                              dx=2.0, time=4.0, starts=2, iterations=2, screen=4, uncertainty_replicates=3,
                              dtype="float64", parameters={"Dv": 25.0})  # fmt: skip
    result = run_fit(config, target)
    assert all(np.all(np.diff(start.history) == 0) for start in result.starts)  # nothing to descend
    assert result.uncertainty.interval_low[0] == 0.5 and result.uncertainty.interval_high[0] == 2.0
