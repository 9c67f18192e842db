"""benchmarks/bench_gpu.py runs without a GPU: it says so, and its CPU path measures and agrees."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_gpu.py"


def _run(monkeypatch, capsys, *arguments: str) -> str:
    spec = importlib.util.spec_from_file_location("bench_gpu", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(sys, "argv", [str(SCRIPT), *arguments])
    module.main()
    return capsys.readouterr().out


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA device")
def test_without_a_cuda_device_it_says_so_and_measures_nothing(monkeypatch, capsys):
    out = _run(monkeypatch, capsys)
    assert out.startswith("no CUDA device")
    assert "cell updates/s" not in out


@pytest.mark.slow
def test_cpu_path_prints_every_part_and_the_backends_agree(monkeypatch, capsys):
    out = _run(monkeypatch, capsys, "--device", "cpu", "--quick")
    for part in ("triad bandwidth", "stepper fused float64", "ETDRK4 step", "supervised", "adversarial", "agreement"):
        assert part in out
    rates = [float(value) for value in re.findall(r"stepper (?:un)?fused float\d\d:\s+(\S+)", out)]
    assert len(rates) == 4 and all(rate > 0 for rate in rates)
    # torch (unfused and fused by torch.compile) and numba integrate the same equations: float64 runs
    # agree to rounding, float32 to its epsilon
    agreements = dict(re.findall(r"Gray-Scott (\w+(?: \w*fused)? float\d\d) \d+², \d+ steps: (\S+)", out))
    for run in ("euler unfused float64", "euler fused float64", "rk4 fused float64", "etdrk4 float64"):
        assert float(agreements[run]) < 1e-12
    assert float(agreements["euler fused float32"]) < 1e-5
