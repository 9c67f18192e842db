"""Tests of ``rdnet compare``, ``rdnet plot`` and ``rdnet animate`` through the real click group."""

from __future__ import annotations

import io
import json
import shutil

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from rdnet.cli.main import cli
from rdnet.dataset import write_dataset
from engine_datasets import classic_dataset, prd_dataset

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
        (["--overwrite"], "--overwrite applies only with --out or --table"),  # they were ignored
        (["--absolute"], "--absolute applies only with --out"),
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
    assert result.exit_code == 2 and "has no variable 'w'" in result.output


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
    for name in ("gray_scott.nc", "supervised.nc", "adversarial.nc", "metrics.csv", "metrics.json", "training.csv"):
        assert (tmp_path / name).is_file(), name
    assert (tmp_path / "spectra.png").read_bytes()[:8] == PNG_MAGIC
    assert str(tmp_path / "spectra.png") in result.stdout
    table = pd.read_csv(tmp_path / "metrics.csv")
    gray_scott_v = table[(table["file"] == "gray_scott.nc") & (table["role"] == "v")].iloc[0]
    assert gray_scott_v["surrogate_p_value"] <= 0.05  # a Turing pattern is structure beyond chance
    # Theorems 1 and 2: from the same start, the adversary moves the hidden weights further
    with open_dataset(tmp_path / "supervised.nc") as supervised, open_dataset(tmp_path / "adversarial.nc") as adversarial:
        assert float(adversarial["distance_u"][-1]) > float(supervised["distance_u"][-1])
        # training.csv and metrics.json report the runs' own numbers (read here straight from the files)
        training = pd.read_csv(tmp_path / "training.csv").set_index("run")
        for run, dataset in (("supervised", supervised), ("adversarial", adversarial)):
            assert training.loc[run, "distance_u"] == pytest.approx(float(dataset["distance_u"][-1]))
            assert training.loc[run, "loss_sup"] == pytest.approx(float(dataset["loss_sup"][-1]))
            assert training.loc[run, "mean_displacement_u"] == pytest.approx(float(dataset["displacement_u"][-1].mean()))
    assert json.loads((tmp_path / "metrics.json").read_text())["training"]["adversarial"]["distance_u"] == pytest.approx(
        training.loc["adversarial", "distance_u"]
    )
    assert "mean_displacement_u" in result.stdout
    # the stability panel: the network's leading growth rates beside the classic dispersion relation
    assert (tmp_path / "stability.png").read_bytes()[:8] == PNG_MAGIC
    stability = json.loads((tmp_path / "metrics.json").read_text())["stability"]
    assert set(stability["snapshots"][-1]["jacobians"]) == {"reaction", "frozen"}
    assert "reaction + diffusion, critic frozen (J_RD)" in result.stdout


# ----------------------------------------------------------------------------- outputs: never replaced by surprise


def _foreign_wave(path, *, units: str, scale: float):
    """A plane wave of wavelength 4 m on a 0.25 m grid, its coordinates in ``units`` (1 m = ``scale`` units)."""
    import xarray as xr

    x = np.arange(64) * 0.25
    field = np.cos(2 * np.pi * x / 4.0)[None, :] * np.ones((64, 1)) + 0.01 * np.cos(2 * np.pi * x / 16.0)[:, None]
    coords = {name: (name, x * scale, {"units": units}) for name in ("y", "x")}
    xr.Dataset({"v": (("y", "x"), field)}, coords=coords).to_netcdf(path, engine="netcdf4")
    return path


@pytest.mark.parametrize(
    ("command", "existing"),
    [
        (["compare", "{gs}", "{sup}", "--out", "{dir}/spectra.png"], "spectra.png"),
        (["compare", "{gs}", "{sup}", "--table", "{dir}/metrics.csv"], "metrics.csv"),
        (["plot", "{gs}", "--out", "{dir}/gs.png"], "gs.png"),
        (["plot", "{adv}", "--out", "{dir}/adv.png"], "adv-series.png"),  # a sibling figure
        (["animate", "{gs}", "--var", "v", "--out", "{dir}/movie.gif"], "movie.gif"),
        (["animate", "{gs}", "--var", "v", "--out", "{dir}/movie.mp4"], "movie.gif" if not shutil.which("ffmpeg") else "movie.mp4"),
    ],
)
def test_output_commands_refuse_an_existing_file_unless_overwrite(files, tmp_path, command, existing):
    arguments = [argument.format(dir=tmp_path, **files) for argument in command]
    target = tmp_path / existing
    target.write_bytes(b"precious")
    before = sorted(p.name for p in tmp_path.iterdir())
    refused = invoke(*arguments, "--surrogates", "5") if arguments[0] == "compare" else invoke(*arguments)
    assert refused.exit_code == 2, refused.output
    lines = refused.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: output file exists: {target}") and "--overwrite" in lines[0]
    assert target.read_bytes() == b"precious" and sorted(p.name for p in tmp_path.iterdir()) == before  # nothing else written
    replaced = invoke(*arguments, "--overwrite", *(["--surrogates", "5"] if arguments[0] == "compare" else []))
    assert replaced.exit_code == 0, replaced.output
    assert target.read_bytes() != b"precious"
    assert not [p.name for p in tmp_path.iterdir() if ".part" in p.name]  # no temporary file left


def test_analyze_refuses_to_write_over_its_own_input_even_with_overwrite(files, tmp_path):
    before = (tmp_path / "gs.nc").read_bytes()
    result = invoke("analyze", files["gs"], "--out", files["gs"], "--overwrite", "--surrogates", "0")
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"Error: --out {files['gs']} is the input file {files['gs']}: choose another name "
        "(rdnet never writes over a file it reads, --overwrite included)"
    ]
    assert (tmp_path / "gs.nc").read_bytes() == before


def test_an_output_that_is_an_input_under_another_name_is_refused(files, tmp_path):
    import os

    alias = tmp_path / "alias.png"
    os.link(files["gs"], alias)  # the same file as gs.nc
    result = invoke("plot", files["gs"], "--out", alias, "--overwrite")
    assert result.exit_code == 2 and "is the input file" in result.output
    assert (tmp_path / "gs.nc").read_bytes()[:4] == b"\x89HDF"


def test_animate_ctrl_c_is_one_line_exit_130_and_leaves_no_movie(files, tmp_path, monkeypatch):
    from matplotlib.animation import PillowWriter

    calls = []

    def interrupted(writer, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(PillowWriter, "grab_frame", interrupted)
    result = invoke("animate", files["gs"], "--var", "v", "--out", tmp_path / "movie.gif", "--quiet")
    assert result.exit_code == 130
    assert result.output.strip().splitlines() == [f"interrupted after 1 of 3 frames: no movie written to {tmp_path / 'movie.gif'}"]
    assert not [p for p in tmp_path.iterdir() if "movie" in p.name]


# ----------------------------------------------------------------------------- what files hold


def test_compare_converts_length_units_and_labels_lengths_with_them(tmp_path):
    metres = _foreign_wave(tmp_path / "m.nc", units="m", scale=1.0)
    millimetres = _foreign_wave(tmp_path / "mm.nc", units="mm", scale=1000.0)
    result = invoke("compare", metres, millimetres, "--var", "v", "--json", "--surrogates", "5", "--out", tmp_path / "k.png")
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    assert [r["dominant_wavelength"] for r in records] == pytest.approx([4.0, 4.0])  # not 4 and 4000
    assert [r["length_units"] for r in records] == ["m", "m"]
    assert records[0]["correlation_length"] == pytest.approx(records[1]["correlation_length"])
    text = invoke("compare", metres, millimetres, "--var", "v", "--surrogates", "5").stdout
    assert "dominant_wavelength [m]" in text and "correlation_length [m]" in text and "dx=0.25 m" in text


def test_compare_warns_once_in_one_line_when_units_do_not_convert(tmp_path):
    metres = _foreign_wave(tmp_path / "m.nc", units="m", scale=1.0)
    pixels = _foreign_wave(tmp_path / "px.nc", units="pixel", scale=4.0)
    result = invoke("compare", metres, pixels, "--var", "v", "--surrogates", "5")
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if "length units" in line]
    assert warnings == [
        "warning: the files' length units differ and do not convert (m.nc: m, px.nc: pixel): the physical wavenumber "
        "axis and the lengths in the table (dominant_wavelength, correlation_length) mix units; compare "
        "k / k_Nyquist and dominant_wavelength_cells instead"
    ]
    assert "length units" in result.stdout  # the table says each file's units


def test_plot_draws_a_spectra_file_from_analyze(files, tmp_path):
    spectra = tmp_path / "spectra.nc"
    assert invoke("analyze", files["gs"], "--time", "all", "--out", spectra, "--surrogates", "0").exit_code == 0
    out = tmp_path / "spectra.png"
    result = invoke("plot", spectra, "--out", out)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"figure: {out}" and out.read_bytes()[:8] == PNG_MAGIC
    assert "share no spatial variable" not in result.output
    one = invoke("plot", spectra, "--var", "v", "--time", "1", "--out", tmp_path / "one.png")
    assert one.exit_code == 0, one.output
    unknown = invoke("plot", spectra, "--var", "w", "--out", tmp_path / "w.png")
    assert unknown.exit_code == 2 and "no spectrum of 'w'" in unknown.output


def test_plot_names_a_variable_that_exists_but_is_not_spatial(files, tmp_path, rng):
    result = invoke("plot", files["adv"], "--var", "distance_u", "--out", tmp_path / "a.png")
    assert result.exit_code == 2
    assert "variable 'distance_u' in adv.nc is not a spatial field (dims ('step',), need last dims y, x)" in result.output
    assert "no variable" not in result.output


@pytest.mark.parametrize("command", [["plot", "{wave}", "--out", "{dir}/w.png"], ["compare", "{wave}", "{wave}"]])
def test_time_on_a_file_without_time_is_an_error_not_ignored(tmp_path, command):
    wave = _foreign_wave(tmp_path / "wave.nc", units="m", scale=1.0)
    arguments = [argument.format(dir=tmp_path, wave=wave) for argument in command]
    result = invoke(*arguments, "--time", "3")
    assert result.exit_code == 2
    assert "Error: --time 3: wave.nc: 'v' has no time dimension (one field, no snapshots); use 0 or -1" in result.output
    assert invoke(*arguments, "--time", "0", *(["--overwrite"] if arguments[0] == "plot" else [])).exit_code == 0


def test_compare_measures_a_one_dimensional_run_along_its_line(files, tmp_path):
    """A 1-D run (1 x n, as rdnet simulate --size nx1 writes it) is compared, as rdnet analyze measures it,
    along its line (it was refused as 'needs at least 2 along y and x')."""
    import xarray as xr

    x = (np.arange(64) + 0.5) * 0.5
    line = xr.Dataset({"v": (("time", "y", "x"), np.cos(2 * np.pi * x / 8.0)[None, None, :], {"units": "1"})},
                      coords={"time": [0.0], "y": ("y", [0.25], {"units": "m"}), "x": ("x", x, {"units": "m"})})  # fmt: skip
    path = write_dataset(line, tmp_path / "line.nc", system="classic", model="brusselator", parameters={"seed": 1})
    result = invoke("compare", files["gs"], path, "--var", "v", "--json", "--surrogates", "19")
    assert result.exit_code == 0, result.output
    rows = {row["file"]: row for row in json.loads(result.output)}
    assert rows["line.nc"]["dominant_wavelength"] == pytest.approx(8.0, rel=1e-6)


def test_animate_by_default_skips_a_label_variable_listed_first(tmp_path):
    """A modes file (rdnet stability --network --out) lists neuron_index (y, x) before its fields:
    the default field is the first measured one, as for plot, analyze and compare."""
    import xarray as xr
    from PIL import Image

    index = np.arange(16, dtype=np.int64).reshape(4, 4)
    field = np.stack([np.cos(2 * np.pi * np.arange(4) / 4 + phase)[None, :].repeat(4, 0) for phase in (0, 1, 2)])
    dataset = xr.Dataset(
        {"neuron_index": (("y", "x"), index, {"long_name": "index j of the neuron at this grid cell"}),
         "mode1_reaction": (("time", "y", "x"), field, {"long_name": "leading mode"})},
        coords={"time": [0.0, 1.0, 2.0], "y": np.arange(4.0), "x": np.arange(4.0)},
    )
    path = write_dataset(dataset, tmp_path / "modes.nc", system="prd-stability", model="adversarial", parameters={})
    out = tmp_path / "m.gif"
    result = invoke("animate", path, "--out", out, "--quiet")
    assert result.exit_code == 0, result.output
    with Image.open(out) as movie:
        assert movie.n_frames == 3


def test_per_area_metrics_of_3d_files_are_labelled_per_volume(tmp_path):
    """compare gave a 12^3 grid in mm euler_characteristic [1/mm^2] and mean_component_size [mm^2] (a
    volume: half the 6 mm cube, 108 mm^3); 'analyze' already labelled them 1/mm^3 and mm^3."""
    import xarray as xr

    field = np.zeros((12, 12, 12))
    field[..., :6] = 1.0
    coords = {dim: (dim, (np.arange(12) + 0.5) * 0.5, {"units": "mm"}) for dim in ("z", "y", "x")}
    paths = [tmp_path / "a.nc", tmp_path / "b.nc"]
    for path in paths:
        xr.Dataset({"v": (("z", "y", "x"), field, {"units": "1"})}, coords=coords).to_netcdf(path)
    result = invoke("compare", *map(str, paths), "--var", "v", "--surrogates", "19")
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.output.splitlines() if line.strip()}
    assert "[1/mm^3]" in lines["euler_characteristic"] and "[mm^3]" in lines["mean_component_size"]
    assert float(lines["mean_component_size"].split()[-1]) == pytest.approx(108.0)
