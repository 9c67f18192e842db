"""``rdnet train`` when a run blows up, and options that would otherwise be silently ignored."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from rdnet.cli.main import cli

SMALL = ["train", "--neurons", "16", "--samples", "8", "--input-dim", "8", "--outputs", "1", "--steps", "5", "--threads", "1",
         "--quiet"]


def invoke(*arguments: str):
    return CliRunner().invoke(cli, list(arguments))


def error_line(result, exit_code: int) -> str:
    """The one ``Error:`` line of a clean failure."""
    assert result.exit_code == exit_code, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "Traceback" not in result.output, result.output
    return errors[0]


def test_divergence_keeps_the_partial_file_and_says_what_to_do_with_it(tmp_path):
    out = tmp_path / "a.nc"
    partial, checkpoint = Path(f"{out}.partial"), Path(f"{out}.partial.npz")
    diverging = ["train", "--steps", "50", "--neurons", "16", "--samples", "20", "--lr", "1e4", "--threads", "1"]
    message = error_line(invoke(*diverging, "--out", str(out)), 1)
    assert "the generator blew up" in message and "try a smaller --lr than 10000" in message
    assert f"partial file kept: {partial}" in message
    assert f"inspect it with rdnet info {partial}" in message and "delete it" in message
    assert partial.exists() and checkpoint.exists() and not out.exists()
    assert invoke("info", str(partial)).exit_code == 0  # it can be inspected

    # a rerun is refused, with the way to start afresh
    good = ["train", "--steps", "5", "--neurons", "16", "--samples", "20", "--threads", "1", "--quiet"]
    refusal = error_line(invoke(*good, "--out", str(out)), 2)
    assert str(partial) in refusal and "to start afresh, delete it or pass --overwrite" in refusal
    assert "rdnet train --resume" in refusal

    # both ways named work
    assert invoke(*good, "--out", str(out), "--overwrite").exit_code == 0
    assert out.exists() and not partial.exists() and not checkpoint.exists()
    out.unlink()
    assert invoke(*diverging, "--out", str(out)).exit_code == 1
    partial.unlink()
    checkpoint.unlink()
    assert invoke(*good, "--out", str(out)).exit_code == 0


def test_critic_divergence_names_the_critic_and_its_learning_rate(tmp_path):
    """The audit's case: L_sup stays finite while the critic's values become NaN."""
    out = tmp_path / "b.nc"
    result = invoke("train", "--adversary", "--critic-optimizer", "gd", "--critic-lr", "0.1", "--neurons", "256",
                    "--outputs", "1", "--steps", "10", "--threads", "1", "--quiet", "--out", str(out))  # fmt: skip
    message = error_line(result, 1)
    assert "the critic blew up" in message and "is finite" in message
    assert "try a smaller --critic-lr than 0.1 or --critic-optimizer adam" in message
    assert "--lr than" not in message.replace("--critic-lr than", "")
    assert Path(f"{out}.partial").exists() and not out.exists()


def test_generator_thrown_off_by_a_blown_up_critic_blames_the_critic(tmp_path):
    """The critic explodes (finite, ‖∇g‖ ~ 1e40) at step 0; the generator's L_sup is infinite at step 1."""
    out = tmp_path / "c.nc"
    result = invoke(*SMALL, "--adversary", "--critic-optimizer", "gd", "--critic-lr", "1", "--out", str(out))
    message = error_line(result, 1)
    assert "at step 1" in message and "the critic blew up at the step before" in message
    assert "try a smaller --critic-lr than 1" in message


def test_divergence_before_the_first_snapshot_keeps_nothing(tmp_path):
    out = tmp_path / "d.nc"
    result = invoke(*SMALL, "--adversary", "--critic-optimizer", "gd", "--critic-lr", "10", "--out", str(out))
    message = error_line(result, 1)
    assert "at step 0" in message and "the critic blew up" in message and "no partial file kept" in message
    assert list(tmp_path.iterdir()) == []
    assert invoke(*SMALL, "--out", str(out)).exit_code == 0  # nothing blocks the rerun


def test_supervised_divergence_names_the_generator(tmp_path):
    message = error_line(invoke(*SMALL, "--lr", "1e4", "--out", str(tmp_path / "e.nc")), 1)
    assert "the generator blew up (L_sup = inf); try a smaller --lr than 10000" in message


def test_divergence_from_a_huge_adversary_weight_names_that_weight(tmp_path):
    # β = 1e300 multiplies the critic's gradient in the generator's update: the learning rate is not the cause
    arguments = [*SMALL, "--adversary", "--adversary-weight", "1e300", "--out", str(tmp_path / "b.nc")]
    message = error_line(invoke(*arguments), 1)
    assert "blew up" in message and "--adversary-weight than 1e+300" in message


def test_a_non_finite_adversary_weight_is_refused_without_the_reason_for_negative_ones(tmp_path):
    message = error_line(invoke(*SMALL, "--adversary-weight", "nan", "--out", str(tmp_path / "n.nc")), 2)
    assert "adversary weight must be a finite number" in message and "reverse" not in message


def test_snapshot_every_zero_is_refused(tmp_path):
    out = tmp_path / "f.nc"
    message = error_line(invoke(*SMALL, "--snapshot-every", "0", "--out", str(out)), 2)
    assert "--snapshot-every must be at least 1, got 0" in message
    assert not out.exists() and not Path(f"{out}.partial").exists()


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_batch_size_applies_to_sgd_and_adam(tmp_path, optimizer):
    assert invoke(*SMALL, "--optimizer", optimizer, "--batch-size", "4", "--out", str(tmp_path / "g.nc")).exit_code == 0


def test_batch_size_with_full_batch_gd_is_refused(tmp_path):
    out = tmp_path / "h.nc"
    message = error_line(invoke(*SMALL, "--optimizer", "gd", "--batch-size", "4", "--out", str(out)), 2)
    assert "--batch-size 4 applies only to --optimizer sgd or adam" in message
    assert not out.exists()
    # the default invocation (gd, no --batch-size) still runs
    assert invoke(*SMALL, "--out", str(out)).exit_code == 0


@pytest.mark.parametrize("message", [
    "[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't allocate memory: you tried to allocate "
    "627200000000 bytes. Error code 12 (Cannot allocate memory)",  # 'rdnet train --neurons 100000000', torch 2.13
    "CUDA out of memory. Tried to allocate 20.00 GiB",
])  # fmt: skip
def test_torch_running_out_of_memory_is_one_line(tmp_path, monkeypatch, message):
    """torch's allocators raise RuntimeError, not MemoryError: '--neurons 100000000' ended in a traceback."""
    import rdnet.prd.one_call

    def allocate(*arguments, **options):
        raise RuntimeError(message)

    monkeypatch.setattr(rdnet.prd.one_call, "run", allocate)
    line = error_line(invoke(*SMALL, "--out", str(tmp_path / "t.nc")), 1)
    assert line == "Error: out of memory: try fewer --neurons or --samples, or --save norms"
    assert not (tmp_path / "t.nc").exists()


def test_another_runtime_error_is_not_called_out_of_memory(tmp_path, monkeypatch):
    import rdnet.prd.one_call

    def fail(*arguments, **options):
        raise RuntimeError("mat1 and mat2 shapes cannot be multiplied")

    monkeypatch.setattr(rdnet.prd.one_call, "run", fail)
    result = invoke(*SMALL, "--out", str(tmp_path / "t.nc"))
    assert isinstance(result.exception, RuntimeError)
