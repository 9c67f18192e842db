"""Tests of ``rdnet compare``, ``rdnet plot`` and ``rdnet animate`` through the real click group."""

from __future__ import annotations

import io
import json
import shutil

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from cli.main import cli
from rdnet.dataset import write_dataset
from test_comparison import classic_dataset, prd_dataset

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def files(rng, tmp_path):
    """A stripes run (wavelength 8 m on a 0.5 m grid) and two network runs, written as rdnet files."""
    paths = {}
    paths["gs"] = write_dataset(classic_dataset(rng), tmp_path / "gs.nc", system="classic", model="gray-scott", parameters={"seed": 1})
    paths["sup"] = write_dataset(prd_dataset(rng), tmp_path / "sup.nc", system="prd", model="supervised", parameters={"seed": 1})
    paths["adv"] = write_dataset(
        prd_dataset(rng, adversarial=True), tmp_path / "adv.nc", system="prd", model="adversarial", parameters={"seed": 1}
    )
    return {key: str(value) for key, value in paths.items()}


def invoke(*args):
    result = CliRunner().invoke(cli, [str(arg) for arg in args], catch_exceptions=False)
    return result


def test_compare_json_reports_each_file_and_role(files):
    result = invoke("compare", files["gs"], files["sup"], "--json", "--surrogates", "19")
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    assert [(r["file"], r["role"]) for r in records] == [("gs.nc", "u"), ("sup.nc", "u"), ("gs.nc", "v"), ("sup.nc", "v")]
    stripes = next(r for r in records if r["file"] == "gs.nc" and r["role"] == "v")
    assert stripes["dominant_wavelength"] == pytest.approx(8.0, rel=0.05)  # built in: 8 m
    assert stripes["dominant_wavelength_cells"] == pytest.approx(16.0, rel=0.05)  # 8 m / 0.5 m


def test_compare_csv_and_saved_table_and_figure(files, tmp_path):
    figure, table = tmp_path / "spectra.png", tmp_path / "metrics.csv"
    result = invoke(
        "compare", files["gs"], files["sup"], files["adv"], "--var", "v", "--csv", "--out", figure, "--table", table, "--surrogates", "9"
    )
    assert result.exit_code == 0, result.output
    printed = pd.read_csv(io.StringIO(result.stdout))
    assert list(printed["file"]) == ["gs.nc", "sup.nc", "adv.nc"]
    saved = pd.read_csv(table)
    np.testing.assert_allclose(saved["dominant_wavelength"], printed["dominant_wavelength"])
    assert figure.read_bytes()[:8] == PNG_MAGIC


def test_compare_text_table_names_every_file(files):
    result = invoke("compare", files["sup"], files["adv"], "--var", "reaction_u", "--surrogates", "9")
    assert result.exit_code == 0, result.output
    assert "role: reaction_u" in result.stdout
    assert "sup.nc [reaction_u_norm]" in result.stdout and "adv.nc [reaction_u_norm]" in result.stdout


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--json", "--csv"], "exclusive"),
        (["--time", "7"], "--time 7 is out of range"),
        (["--var", "w"], "has no variable 'w'"),
        (["--out", "spectra.jpeg"], "unsupported file type .jpeg"),
        (["--out", "missing/spectra.png"], "does not exist"),
        (["--table", "m.xlsx"], "unsupported file type .xlsx"),
    ],
)
def test_compare_bad_input_is_one_line_exit_2_and_writes_nothing(files, tmp_path, monkeypatch, extra, fragment):
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    result = invoke("compare", files["gs"], files["sup"], *extra)
    assert result.exit_code == 2
    assert fragment in result.output
    assert result.output.strip().count("\n") == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_compare_missing_file(files):
    result = invoke("compare", files["gs"], "nothing.nc")
    assert result.exit_code == 2 and "no such file: nothing.nc" in result.output


def test_plot_classic_writes_the_field_figure(files, tmp_path):
    out = tmp_path / "gs.png"
    result = invoke("plot", files["gs"], "--out", out)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"figure: {out}"
    assert out.read_bytes()[:8] == PNG_MAGIC


def test_plot_network_writes_fields_filters_and_series(files, tmp_path):
    out = tmp_path / "adv.png"
    result = invoke("plot", files["adv"], "--out", out)
    assert result.exit_code == 0, result.output
    for path in (out, tmp_path / "adv-filters.png", tmp_path / "adv-series.png"):
        assert path.read_bytes()[:8] == PNG_MAGIC, path


def test_plot_filters_need_a_square_input(rng, tmp_path):
    path = write_dataset(prd_dataset(rng, d_in=10), tmp_path / "r.nc", system="prd", model="supervised", parameters={"seed": 0})
    result = invoke("plot", path, "--kind", "filters", "--out", tmp_path / "f.png")
    assert result.exit_code == 2 and "square input dimension" in result.output
    assert not (tmp_path / "f.png").exists()


def test_animate_writes_one_frame_per_snapshot(files, tmp_path):
    from PIL import Image

    out = tmp_path / "movie.mp4"
    result = invoke("animate", files["gs"], "--var", "v", "--out", out, "--quiet")
    assert result.exit_code == 0, result.output
    written = out if shutil.which("ffmpeg") else out.with_suffix(".gif")
    assert f"movie: {written}" in result.output
    if written.suffix == ".gif":
        with Image.open(written) as movie:
            assert movie.n_frames == 3


def test_animate_refuses_an_unknown_variable(files, tmp_path):
    result = invoke("animate", files["gs"], "--var", "w", "--out", tmp_path / "m.gif")
    assert result.exit_code == 2 and "has no field 'w'" in result.output


def test_demo_refuses_to_overwrite_an_earlier_demo_before_running(tmp_path):
    (tmp_path / "gray_scott.nc").write_bytes(b"")
    result = invoke("demo", "--quick", "--out", tmp_path)
    assert result.exit_code == 2
    assert "already holds a demo (gray_scott.nc); add --overwrite" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gray_scott.nc"]


def test_demo_refuses_a_file_as_its_folder(tmp_path):
    target = tmp_path / "file"
    target.write_text("x")
    result = invoke("demo", "--quick", "--out", target)
    assert result.exit_code == 2


@pytest.mark.slow
def test_demo_quick_runs_end_to_end(tmp_path):
    from rdnet.dataset import open_dataset

    result = invoke("demo", "--quick", "--quiet", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    for name in ("gray_scott.nc", "supervised.nc", "adversarial.nc", "metrics.csv", "metrics.json"):
        assert (tmp_path / name).is_file(), name
    assert (tmp_path / "spectra.png").read_bytes()[:8] == PNG_MAGIC
    assert str(tmp_path / "spectra.png") in result.stdout
    table = pd.read_csv(tmp_path / "metrics.csv")
    gray_scott_v = table[(table["file"] == "gray_scott.nc") & (table["role"] == "v")].iloc[0]
    assert gray_scott_v["surrogate_p_value"] <= 0.05  # a Turing pattern is structure beyond chance
    # Theorems 1 and 2: from the same start, the adversary moves the hidden weights further
    with open_dataset(tmp_path / "supervised.nc") as supervised, open_dataset(tmp_path / "adversarial.nc") as adversarial:
        assert float(adversarial["distance_u"][-1]) > float(supervised["distance_u"][-1])
