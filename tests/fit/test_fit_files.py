"""Reading targets (datasets, .npy, PNG), refusing bad ones, and the fit's result file."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr
from PIL import Image

from rdnet.dataset import write_dataset
from rdnet.errors import ConfigError
from rdnet.fit.files import read_target, target_file
from rdnet.fit.run import check_target


def _pattern(rng, shape=(24, 32)):
    return np.sin(np.arange(shape[1]) / 2.0)[None, :] * np.cos(np.arange(shape[0]) / 3.0)[:, None] + 0.1 * rng.random(shape)


def _dataset(tmp_path, values, *, dx=0.5, boundary="periodic", name="run.nc"):
    ny, nx = values.shape[-2:]
    ds = xr.Dataset({"u": (("time", "y", "x"), np.stack([values * 0 + 1, values * 2])),
                     "v": (("time", "y", "x"), np.stack([values * 0 + 3, values]))},
                    coords={"time": [0.0, 1.0], "y": (np.arange(ny) + 0.5) * dx, "x": (np.arange(nx) + 0.5) * dx})  # fmt: skip
    return write_dataset(ds, tmp_path / name, system="classic", model="gray-scott",
                         parameters={"boundary": boundary})  # fmt: skip


def test_a_dataset_field_is_read_with_its_spacing_and_snapshot(tmp_path, rng):
    values = _pattern(rng)
    path = _dataset(tmp_path, values)
    target = read_target(f"{path}:u@-1")
    np.testing.assert_array_equal(target.values, 2 * values)
    assert target.dx == pytest.approx(0.5) and target.periodic and not target.standardise
    np.testing.assert_array_equal(read_target(str(path), variable="v").values, values)
    with pytest.raises(ConfigError, match="constant"):  # the first snapshot of v is 3 everywhere
        read_target(f"{path}:v@0")
    assert not read_target(str(_dataset(tmp_path, values, boundary="no-flux", name="bounded.nc")), variable="v").periodic


def test_npy_and_png_targets(tmp_path, rng):
    values = _pattern(rng)
    np.save(tmp_path / "a.npy", values)
    target = read_target(str(tmp_path / "a.npy"))
    np.testing.assert_array_equal(target.values, values)
    assert target.dx is None and not target.periodic
    grey = np.zeros((20, 30), dtype=np.uint8)
    grey[:5] = 255  # a white band along the image's top
    Image.fromarray(grey).save(tmp_path / "a.png")
    image = read_target(str(tmp_path / "a.png"))
    assert image.standardise and image.values.shape == (20, 30)
    assert image.values[-1].min() == pytest.approx(1.0) and image.values[0].max() == 0.0  # the top row is the largest y


def test_resampling_keeps_the_extent_and_refuses_another_aspect_ratio(tmp_path, rng):
    values = np.tile(np.cos(2 * np.pi * (np.arange(64) + 0.5) / 16), (32, 1))  # wavelength 16 cells
    path = _dataset(tmp_path, values, dx=0.25)
    target = read_target(f"{path}:v", size=(16, 32))
    assert target.values.shape == (16, 32) and target.dx == pytest.approx(0.5)
    # the wavelength in length units is kept: 16 cells of 0.25 -> 8 cells of 0.5
    np.testing.assert_allclose(target.values[0], np.cos(2 * np.pi * (np.arange(32) + 0.5) / 8), atol=0.1)
    with pytest.raises(ConfigError, match="aspect ratio"):
        read_target(f"{path}:v", size=(32, 32))


@pytest.mark.parametrize("bad, message", [
    (np.zeros((4, 20, 20)), "2-D"),
    (np.zeros((5, 40)), "2-D field of at least 8x8"),
    (np.where(np.eye(16) > 0, np.nan, 1.0), "NaN"),
    (np.full((16, 16), 0.25), "constant"),
])  # fmt: skip
def test_bad_targets_are_refused(tmp_path, bad, message):
    np.save(tmp_path / "bad.npy", bad)
    with pytest.raises(ConfigError, match=message):
        read_target(str(tmp_path / "bad.npy"))


def test_bad_files_are_refused(tmp_path, rng):
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ConfigError, match="cannot read it as a NumPy array"):
        read_target(str(tmp_path / "objects.npy"))
    Image.fromarray(np.full((16, 16), 128, dtype=np.uint8)).save(tmp_path / "flat.png")
    with pytest.raises(ConfigError, match="constant"):
        read_target(str(tmp_path / "flat.png"))
    (tmp_path / "text.png").write_text("not an image")
    with pytest.raises(ConfigError, match="cannot read it as an image"):
        read_target(str(tmp_path / "text.png"))
    path = _dataset(tmp_path, _pattern(rng))
    with pytest.raises(ConfigError, match="no variable 'w'"):
        read_target(f"{path}:w")
    with pytest.raises(ConfigError, match="several fields"):
        read_target(str(path))
    with pytest.raises(ConfigError, match="give FILE.nc"):
        read_target(str(tmp_path / "pattern.txt"))
    with pytest.raises(ConfigError, match="not found"):
        read_target(str(tmp_path / "missing.nc:v"))
    assert target_file(f"{path}:v@3") == path


def test_check_target_accepts_a_singleton_leading_dim(rng):
    values = _pattern(rng)
    np.testing.assert_array_equal(check_target(values[None]), values)
