"""Tests of the commands on a 3-D run (dims time, z, y, x): analyze, compare, info, plot, animate.

The file's v is a plane wave built in :func:`engine_datasets.volume_dataset`; every expected
number below follows from that construction.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner
from engine_datasets import classic_dataset, volume_dataset

from rdnet.cli.main import cli
from rdnet.dataset import open_dataset, write_dataset

#: The run: (nz, ny, nx) = (8, 12, 16) with spacings (0.5, 1, 0.5) m; v = cos(2π k·r), mode numbers
#: (1, 2, 4), so k = (1/4, 1/6, 1/2) per m: |k| = 7/12 per m, on the centre of the 7th shell (Δk = 1/12).
SHAPE, SPACING, MODES = (8, 12, 16), (0.5, 1.0, 0.5), (1, 2, 4)
WAVELENGTH = 12 / 7
#: Cells per wavelength along each axis, n/m: 8, 6 and 4.
CELLS_PER_WAVELENGTH = (8, 6, 4)


@pytest.fixture
def volume_file(rng, tmp_path):
    dataset = volume_dataset(rng, shape=SHAPE, spacing=SPACING, modes=MODES)
    return write_dataset(dataset, tmp_path / "cube.nc", system="classic", model="gray-scott", parameters={"seed": 1})


def invoke(*args):
    return CliRunner().invoke(cli, [str(arg) for arg in args], catch_exceptions=False)


def test_analyze_measures_the_three_dimensional_wave(volume_file):
    result = invoke("analyze", volume_file, "--var", "v", "--json", "--surrogates", "19")
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)["v"]
    assert metrics["dominant_wavelength"] == pytest.approx(WAVELENGTH, rel=1e-9)
    assert metrics["spectral_entropy"] == pytest.approx(0.0, abs=1e-9)
    assert metrics["anisotropy"] == pytest.approx(1.0, abs=1e-9)  # one wavevector direction: lamellae
    # lag-one autocorrelation along each axis is cos(2π/cells per wavelength); Moran's I their mean
    expected_moran = sum(math.cos(2 * math.pi / cells) for cells in CELLS_PER_WAVELENGTH) / 3
    assert metrics["morans_i"] == pytest.approx(expected_moran, rel=1e-9)
    assert metrics["surrogate_p_value"] == pytest.approx(1 / 20)


def test_analyze_out_writes_the_spherical_shell_spectrum(volume_file, tmp_path):
    out = tmp_path / "spectra.nc"
    result = invoke("analyze", volume_file, "--var", "v", "--time", "all", "--surrogates", "0", "--out", out)
    assert result.exit_code == 0, result.output
    spectra = open_dataset(out)["v_spectrum"]
    source = xr.open_dataset(volume_file)["v"]
    # Parseval over the volume: each snapshot's shells sum to its variance
    np.testing.assert_allclose(spectra.sum("wavenumber"), source.var(dim=("z", "y", "x")), rtol=1e-10)
    assert float(spectra.wavenumber[7]) == pytest.approx(1 / WAVELENGTH)


def test_compare_a_volume_with_a_plane(volume_file, rng, tmp_path):
    plane = write_dataset(classic_dataset(rng, size=16), tmp_path / "gs.nc", system="classic", model="gray-scott",
                          parameters={"seed": 1})  # fmt: skip
    result = invoke("compare", volume_file, plane, "--var", "v", "--json", "--surrogates", "9")
    assert result.exit_code == 0, result.output
    records = {record["file"]: record for record in json.loads(result.stdout)}
    assert records["cube.nc"]["grid"] == "8x12x16" and records["gs.nc"]["grid"] == "16x16"
    assert records["cube.nc"]["dominant_wavelength"] == pytest.approx(WAVELENGTH, rel=1e-9)
    assert records["gs.nc"]["dominant_wavelength"] == pytest.approx(8.0, rel=0.05)  # the plane's stripes


def test_info_describes_the_three_dimensional_grid(volume_file):
    result = invoke("info", volume_file)
    assert result.exit_code == 0, result.output
    assert "grid: 8 x 12 x 16 (z y x), spacing 0.5 x 1 x 0.5 [m]" in result.output


def test_plot_draws_the_mid_plane_and_names_it(volume_file, tmp_path):
    from rdnet.plotting.dataset import dataset_figures

    out = tmp_path / "cube.png"
    result = invoke("plot", volume_file, "--var", "v", "--out", out)
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    dataset = open_dataset(volume_file)
    ((_, figure),) = dataset_figures(dataset, "cube.nc", variables=["v"], time_index=None, kind="auto")
    image_axes = next(axes for axes in figure.axes if axes.images)
    np.testing.assert_array_equal(image_axes.images[0].get_array(), dataset["v"].values[-1, 4])  # nz // 2 = 4
    assert image_axes.get_title().endswith("(snapshot 2)\nz = 2 m (index 4 of 8)")  # z = 4 · 0.5 m
    ((_, figure),) = dataset_figures(dataset, "cube.nc", variables=["v"], time_index=0, kind="auto", z_index=-1)
    image_axes = next(axes for axes in figure.axes if axes.images)
    np.testing.assert_array_equal(image_axes.images[0].get_array(), dataset["v"].values[0, 7])
    dataset.close()


@pytest.mark.parametrize(
    ("command", "plane", "fragment"),
    [
        ("plot", True, "z index 8 is out of range: v has 8 points along z"),
        ("plot", False, "--z-index applies to 3-D fields"),
        ("animate", True, "z index -9 is out of range"),
        ("animate", False, "--z-index applies to 3-D fields"),
    ],
)
def test_a_z_index_that_cannot_apply_is_one_line_exit_2_and_writes_nothing(volume_file, rng, tmp_path, command, plane, fragment):
    if plane:
        source, index = volume_file, ("8" if command == "plot" else "-9")
    else:
        source = write_dataset(classic_dataset(rng, size=8), tmp_path / "gs.nc", system="classic", model="gray-scott",
                               parameters={"seed": 1})  # fmt: skip
        index = "0"
    out = tmp_path / ("figure.png" if command == "plot" else "movie.gif")
    result = invoke(command, source, "--var", "v", "--z-index", index, "--out", out)
    assert result.exit_code == 2
    assert fragment in result.output and result.output.strip().count("\n") == 0
    assert not out.exists()


def test_animate_a_volume_writes_one_frame_per_snapshot(volume_file, tmp_path):
    from PIL import Image

    out = tmp_path / "cube.gif"
    result = invoke("animate", volume_file, "--var", "v", "--z-index", "0", "--out", out, "--quiet")
    assert result.exit_code == 0, result.output
    with Image.open(out) as movie:
        assert movie.n_frames == 3
