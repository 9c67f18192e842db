"""``rdnet fit``: a small fit end to end, its result file and figure, and one error line for each bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

import rdnet
from rdnet.cli.main import cli

#: a small, short Gray-Scott fit (16x16 cells, 40 steps of dt = 1)
SMALL = ["--size", "16", "--time", "40", "--dt", "1", "--starts", "1", "--iterations", "1", "--replicates", "1",
         "--uncertainty-runs", "2", "--quiet"]  # fmt: skip


@pytest.fixture
def target(tmp_path):
    """A smooth 16x16 pattern saved as .npy."""
    y, x = np.mgrid[0:16, 0:16]
    path = tmp_path / "target.npy"
    np.save(path, 0.2 + 0.1 * np.cos(2 * np.pi * x / 8) * np.cos(2 * np.pi * y / 8))
    return path


def test_a_small_fit_writes_a_result_file_that_plot_draws(tmp_path, target):
    out = tmp_path / "fit.nc"
    result = CliRunner().invoke(cli, ["fit", "--params", "F,k", "--target", str(target), "--bounds", "F=0.03:0.05",
                                      "--bounds", "k=0.058:0.064", *SMALL, "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    with rdnet.open_dataset(out) as ds:
        assert ds.attrs["system"] == "fit" and list(ds["parameter"].values) == ["F", "k"]
        fitted = ds["fitted_value"].values
        assert np.all((fitted >= [0.03, 0.058]) & (fitted <= [0.05, 0.064]))
        assert np.all(ds["interval_low"].values <= fitted) and np.all(fitted <= ds["interval_high"].values)
        np.testing.assert_allclose(ds["target"].values, np.load(target))
        assert ds["fit_v"].shape == (16, 16) and ds["loss_history"].sizes["start"] == 1
        parameters = json.loads(ds.attrs["parameters"])
        assert parameters["fitted"] == ["F", "k"] and parameters["target"] == str(target)
    figure = tmp_path / "fit.png"
    drawn = CliRunner().invoke(cli, ["plot", str(out), "--out", str(figure)])
    assert drawn.exit_code == 0, drawn.output
    assert figure.stat().st_size > 10_000


@pytest.mark.parametrize("arguments, message", [
    (["--params", "F,q"], "has no parameter 'q'"),
    (["--params", "F", "--bounds", "F=0.05:0.01"], "bounds of F are impossible"),
    (["--params", "F", "--bounds", "F=-0.05:0.01"], "bounds are impossible: at the corner F=-0.05"),
    (["--params", "F", "--bounds", "F=0.01"], "NAME=LOW:HIGH"),
    (["--params", "F", "--bounds", "k=0.05:0.06"], "not fitted"),
    (["--params", "F", "--method", "de", "--starts", "0"], "starts must be an integer >= 1"),
    (["--params", "F", "--size", "16x32"], "aspect ratio"),
    (["--params", "F", "--initial", "@x.nc"], "draws its initial conditions from seeds"),
    (["--params", "F", "--model", "schnakenberg", "--model-file", "x.toml"], "not both"),
    (["--params", "F", "--method", "de", "--window", "5"], "cannot apply to --method de"),
    (["--params", "F", "--method", "nelder-mead", "--checkpoint-every", "4"], "cannot apply to --method nelder-mead"),
])  # fmt: skip
def test_bad_input_is_one_error_line_and_exit_2(tmp_path, target, arguments, message):
    out = tmp_path / "fit.nc"
    result = CliRunner().invoke(cli, ["fit", "--target", str(target), *arguments, "--out", str(out), "--quiet"])
    assert result.exit_code == 2, result.output
    assert message in result.output and len(result.output.strip().splitlines()) == 1, result.output
    assert not out.exists()


@pytest.mark.parametrize("content, message", [
    (np.full((16, 16), 1.0), "constant"),
    (np.full((16, 16), np.nan), "NaN"),
    (np.zeros((3, 16, 16)), "2-D"),
])  # fmt: skip
def test_bad_targets_are_one_error_line(tmp_path, content, message):
    np.save(tmp_path / "bad.npy", content)
    result = CliRunner().invoke(cli, ["fit", "--params", "F", "--target", str(tmp_path / "bad.npy"),
                                      "--out", str(tmp_path / "fit.nc")])  # fmt: skip
    assert result.exit_code == 2 and message in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_an_existing_output_or_the_target_itself_is_refused_before_any_work(tmp_path, target):
    out = tmp_path / "fit.nc"
    out.write_text("keep me")
    result = CliRunner().invoke(cli, ["fit", "--params", "F", "--target", str(target), "--out", str(out)])
    assert result.exit_code == 2 and "exists" in result.output and out.read_text() == "keep me"
    result = CliRunner().invoke(cli, ["fit", "--params", "F", "--target", str(target), "--out", str(target),
                                      "--overwrite"])  # fmt: skip
    assert result.exit_code == 2 and "is the input file" in result.output


def test_help_has_examples():
    result = CliRunner().invoke(cli, ["fit", "--help"])
    assert result.exit_code == 0 and "Examples:" in result.output and "rdnet fit --params F,k" in result.output


def test_a_fit_whose_runs_grow_no_pattern_says_so(tmp_path, target):
    """Gray-Scott above k ~ 0.07 has only the uniform state (u, v) = (1, 0): every run decays to it."""
    out = tmp_path / "fit.nc"
    result = CliRunner().invoke(cli, ["fit", "--params", "k", "--target", str(target), "--bounds", "k=0.09:0.1",
                                      "--param", "F=0.01", *[a for a in SMALL if a != "--quiet"], "--time", "400",
                                      "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "grows no pattern" in result.output


def test_a_target_snapshot_out_of_range_is_named_as_the_target_s_index(tmp_path, target):
    # --time is the fit's model time: an @INDEX beyond the file's snapshots must not be called "--time 5"
    import xarray as xr

    from rdnet.dataset import write_dataset

    values = np.load(target)
    dataset = xr.Dataset({"v": (("time", "y", "x"), np.stack([values, values]))},
                         coords={"time": [0.0, 1.0], "y": np.arange(16) + 0.5, "x": np.arange(16) + 0.5})  # fmt: skip
    path = write_dataset(dataset, tmp_path / "run.nc", system="classic", model="gray-scott", parameters={})
    out = tmp_path / "fit.nc"
    result = CliRunner().invoke(cli, ["fit", "--params", "F", "--target", f"{path}:v@5", *SMALL, "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "snapshot 5 is out of range" in result.output and "@0..@1" in result.output, result.output
    assert "--time" not in result.output and len(result.output.strip().splitlines()) == 1, result.output
    assert not out.exists()


def test_the_step_limit_of_a_position_dependent_reaction_includes_the_reaction(tmp_path, target):
    # -k u + sin(2πx/Lx) has no homogeneous state; its Jacobian is -k everywhere, so on the fit's periodic
    # 2-D grid (dx = 1) Euler needs dt <= 2 / (k + 8 D) = 2/158 at k = 150 (diffusion alone allowed 0.25,
    # and the simulated runs grew to a loss of 6e16)
    model = tmp_path / "forced.toml"
    model.write_text('name = "forced-decay"\nspecies = ["u"]\n[parameters]\nk = 100.0\n[diffusion]\nu = 1.0\n'
                     '[reaction]\nu = "-k*u + sin(2*pi*x/Lx)"\n[initial]\nu = "0"\nnoise = 0.01\n')  # fmt: skip
    out = tmp_path / "fit.nc"
    result = CliRunner().invoke(cli, ["fit", "--model-file", str(model), "--params", "k", "--bounds", "k=50:150",
                                      "--target", str(target), "--initial", "expr", "--dt", "0.1", "--time", "1",
                                      "--quiet", "--out", str(out)])  # fmt: skip
    assert result.exit_code == 2, result.output
    assert f"largest stable dt there is {2 / 158:.6g}" in result.output, result.output
    assert not out.exists()
