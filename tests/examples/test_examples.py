"""Each example under examples/ runs in --quick mode and its outputs hold what the science says.

The expectations come from the paper's theorems and from linear stability theory, not
from the scripts' own output: an adversary moves the weights further from their start
than supervision alone (Theorems 1 and 2), a Turing pattern's wavelength sits near the
fastest-growing linear mode, Pearson's pattern classes are not homogeneous.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pandas as pd
import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def assert_png(path: Path) -> None:
    assert path.read_bytes()[:8] == PNG_MAGIC, path


NAMES = ("compare_spectra", "paper_distance_from_init", "paper_filters", "turing_wavelength", "pearson_gallery", "regime_gallery")


def test_the_comparison_examples_exist():
    assert set(NAMES) <= {path.stem for path in EXAMPLES.glob("*.py")}


@pytest.mark.parametrize("name", NAMES)
def test_example_explains_its_usage(name, capsys):
    with pytest.raises(SystemExit) as stop:
        load(name).main(["--help"])
    assert stop.value.code == 0
    assert "--quick" in capsys.readouterr().out


# Each example runs several simulations or trainings: minutes in --quick mode on 2
# busy cores, so they run with ``pytest -m slow``.


@pytest.mark.slow
def test_compare_spectra(tmp_path):
    load("compare_spectra").main([str(tmp_path), "--quick"])
    assert_png(tmp_path / "spectra.png")
    table = pd.read_csv(tmp_path / "metrics.csv")
    gray_scott = table[(table["file"] == "gray_scott") & (table["variable"] == "v")].iloc[0]
    assert gray_scott["surrogate_p_value"] <= 0.05  # a Turing pattern is spatial structure
    displacement = table[table["variable"] == "displacement_u"].set_index("file")
    assert set(displacement.index) == {"supervised", "adversarial"}


@pytest.mark.slow
def test_paper_distance_from_init(tmp_path):
    summary = load("paper_distance_from_init").main([str(tmp_path), "--quick"])
    assert_png(tmp_path / "distance_from_init.png")
    assert json.loads((tmp_path / "distance_from_init.json").read_text()) == summary
    # Theorem 2 vs Theorem 1: the adversary keeps the weights moving, for every seed
    for supervised, adversarial in zip(summary["supervised"], summary["adversarial"]):
        assert adversarial["final_distance_u"] > supervised["final_distance_u"]
    assert summary["supervised_mean_final_distance_u"] > 0


@pytest.mark.slow
def test_paper_filters(tmp_path):
    summary = load("paper_filters").main([str(tmp_path), "--quick"])
    assert_png(tmp_path / "filters.png")
    assert_png(tmp_path / "displacement.png")
    assert summary["adversarial_mean_displacement_u"] > summary["supervised_mean_displacement_u"] > 0


@pytest.mark.slow
def test_turing_wavelength(tmp_path):
    summary = load("turing_wavelength").main([str(tmp_path), "--quick"])
    assert_png(tmp_path / "turing_wavelength.png")
    assert len(summary["models"]) >= 3  # schnakenberg, gierer-meinhardt, brusselator, ...
    assert "gray-scott" in summary["skipped"]  # u = 1, v = 0 is linearly stable
    for name, row in summary["models"].items():
        # within 25% or one radial bin of the 64² grid, whichever is larger
        tolerance = max(0.25 * row["predicted_wavelength"], 1.5 * row["wavelength_resolution"])
        assert abs(row["measured_wavelength"] - row["predicted_wavelength"]) <= tolerance, name


@pytest.mark.slow
def test_pearson_gallery(tmp_path):
    summary = load("pearson_gallery").main([str(tmp_path), "--quick"])
    assert_png(tmp_path / "pearson_gallery.png")
    for name, row in summary.items():
        assert row["coefficient_of_variation_v"] > 0.1, name  # a pattern, not the homogeneous state


@pytest.mark.slow
def test_regime_gallery(tmp_path):
    summary = load("regime_gallery").main([str(tmp_path), "--quick"])
    assert_png(tmp_path / "regime_gallery.png")
    # the published classes: Pearson's theta and The Well's maze are labyrinths, lambda and The Well's
    # spots are spots
    labels = {name: row["regime"] for name, row in summary.items()}
    assert labels == {"Well: maze": "stripes", "Well: spots": "spots", "Pearson: theta": "stripes", "Pearson: lambda": "spots"}
