"""``--dtype float32``: the same run as float64, at float32's precision."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import xarray as xr
from click.testing import CliRunner

from rdnet.cli.main import cli
from rdnet.prd.run import RunSpec, prepare_run
from rdnet.prd.training import TrainingConfig, make_trainer

#: float32's unit roundoff
FLOAT32_ROUNDOFF = 2.0**-24


def _spec(dtype: str, adversary: bool = True) -> RunSpec:
    return RunSpec(samples=12, input_dim=40, outputs=3, grid_height=6, grid_width=6, dtype=dtype,
                   training=TrainingConfig(adversary=adversary, lr=0.1))  # fmt: skip


def test_a_float32_run_starts_from_the_float64_weights_rounded():
    single, double = prepare_run(_spec("float32")), prepare_run(_spec("float64"))
    pairs = [(single.X, double.X), (single.Y, double.Y), (single.state.generator.U, double.state.generator.U),
             (single.state.generator.V, double.state.generator.V), (single.state.critic.W, double.state.critic.W),
             (single.state.critic.a, double.state.critic.a)]  # fmt: skip
    for float32, float64 in pairs:
        assert float32.dtype == torch.float32
        assert torch.equal(float32, float64.to(torch.float32))


@pytest.mark.parametrize("adversary", [False, True])
def test_a_float32_run_follows_the_float64_run_to_float32_precision(adversary):
    """Ten steps: rounding of ~6e-8 per operation, amplified little over so few steps (the
    measured deviation at the rdnet train defaults is ~1e-7 at step 10, docs/benchmarks_prd.md)."""
    runs = [prepare_run(_spec(dtype, adversary)) for dtype in ("float32", "float64")]
    steps = [make_trainer(run.X, run.Y, run.spec.training) for run in runs]
    for _ in range(10):
        metrics = [step(run.state).metrics for step, run in zip(steps, runs)]
    (single, double) = (run.state.generator.U.to(torch.float64) for run in runs)
    moved = double - runs[1].state.initial_U
    deviation = float((single - double).abs().max() / moved.abs().max())
    assert deviation < 1e3 * FLOAT32_ROUNDOFF  # far closer than the distance travelled ...
    assert deviation > 1e3 * 2.0**-53  # ... yet not float64: the arithmetic did run in float32
    assert metrics[0]["loss_sup"] == pytest.approx(metrics[1]["loss_sup"], rel=1e3 * FLOAT32_ROUNDOFF)


def test_train_dtype_float32_writes_its_run(tmp_path):
    out = tmp_path / "single.nc"
    result = CliRunner().invoke(cli, ["train", "--samples", "8", "--input-dim", "12", "--neurons", "16", "--steps", "5",
                                          "--adversary", "--dtype", "float32", "--threads", "1", "--quiet",
                                          "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    with xr.open_dataset(out) as ds:
        assert json.loads(ds.attrs["parameters"])["dtype"] == "float32"
        assert np.isfinite(ds["loss_sup"].values).all()
