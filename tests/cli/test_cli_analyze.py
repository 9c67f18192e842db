"""Tests of ``rdnet analyze`` through click's CliRunner on small files written here."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner

from rdnet.cli.main import cli
from rdnet.analysis import HOMOGENEITY_KEYS, LABEL_KEYS, MORPHOLOGY_KEYS

WAVELENGTHS = (4.0, 8.0, 16.0)  # of u at the three snapshots, in cells (dx = 1 m)


@pytest.fixture
def pattern_file(tmp_path, rng):
    """u: stripes whose wavelength changes over time; v: white noise; loss: a time series."""
    x = np.arange(32.0)
    u = np.stack([2.0 + np.cos(2 * np.pi * x / lam)[None, :] * np.ones((16, 1)) for lam in WAVELENGTHS])
    ds = xr.Dataset(
        {
            "u": (("time", "y", "x"), u, {"units": "1", "long_name": "activator"}),
            "v": (("time", "y", "x"), rng.normal(size=(3, 16, 32)), {"units": "1", "long_name": "noise"}),
            "loss": (("time",), [3.0, 2.0, 1.0]),
        },
        coords={
            "time": ("time", [0.0, 5.0, 10.0], {"units": "s"}),
            "y": ("y", np.arange(16.0), {"units": "m"}),
            "x": ("x", x, {"units": "m"}),
        },
    )
    path = tmp_path / "run.nc"
    ds.to_netcdf(path, engine="netcdf4")
    return path


def run(*args):
    return CliRunner().invoke(cli, ["analyze", *map(str, args)])


def test_table_shows_every_spatial_variable_at_the_last_snapshot(pattern_file):
    result = run(pattern_file, "--surrogates", 19)
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert lines[0].split()[:2] == ["variable", "time"]
    assert [line.split()[0] for line in lines[1:]] == ["u", "v"]
    u_row = lines[1].split()
    assert u_row[1] == "10" and float(u_row[2]) == pytest.approx(16.0)


def test_json_has_the_metric_keys_and_the_right_values(pattern_file):
    result = run(pattern_file, "--json", "--var", "u", "--time", 0, "--surrogates", 19)
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert list(document) == ["u"]
    metrics = document["u"]
    assert tuple(key for key in metrics if not key.endswith(("_reason", "_evidence"))) == (
        *HOMOGENEITY_KEYS, *MORPHOLOGY_KEYS, *LABEL_KEYS
    )
    assert metrics["dominant_wavelength"] == pytest.approx(4.0)
    assert metrics["morans_i"] == pytest.approx((math.cos(2 * math.pi / 4) + 1) / 2)
    assert metrics["coefficient_of_variation"] == pytest.approx(1 / math.sqrt(2) / 2.0)
    assert metrics["surrogate_p_value"] == pytest.approx(1 / 20)


def test_json_names_the_morphology_and_the_regime_of_stripes(pattern_file):
    result = run(pattern_file, "--json", "--var", "u", "--time", 0, "--surrogates", 39)
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)["u"]
    # 8 bands of width 2 cells around the torus (wavelength 4 on 32 cells): chi = 0, area 1/2
    assert metrics["euler_characteristic"] == 0
    assert metrics["components"] == 8
    assert metrics["area_fraction"] == pytest.approx(0.5)
    assert metrics["mean_component_size"] == pytest.approx(2 * 16)  # m^2
    assert metrics["orientation_order"] == pytest.approx(1.0, abs=1e-6)
    assert metrics["regime"] == "stripes"
    assert metrics["regime_evidence"]["stripe_fraction"] == pytest.approx(1.0)
    assert metrics["time_behaviour"] == "undetermined"  # 3 snapshots


def test_time_behaviour_of_a_travelling_wave(tmp_path):
    x = np.arange(32.0)
    times = np.arange(12.0)
    u = np.stack([np.cos(2 * np.pi * (x - 0.5 * t) / 8)[None, :] * np.ones((8, 1)) for t in times])
    ds = xr.Dataset({"u": (("time", "y", "x"), u)}, coords={"time": times, "y": np.arange(8.0), "x": x})
    path = tmp_path / "wave.nc"
    ds.to_netcdf(path, engine="netcdf4")
    result = run(path, "--json", "--surrogates", 0)
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)["u"]
    assert metrics["time_behaviour"] == "travelling"
    assert metrics["time_behaviour_evidence"]["velocity"] == pytest.approx([0.0, 0.5], abs=1e-3)
    table = run(path, "--surrogates", 0)
    assert table.stdout.split()[-1] == "travelling"


def test_json_with_time_all_gives_a_list_per_snapshot(pattern_file):
    result = run(pattern_file, "--json", "--time", "all", "--surrogates", 0)
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert [m["dominant_wavelength"] for m in document["u"]] == pytest.approx(list(WAVELENGTHS))
    assert len(document["v"]) == 3
    assert document["u"][0]["surrogate_p_value"] is None  # skipped test: NaN -> null


def test_out_writes_spectra_over_time(pattern_file, tmp_path):
    out = tmp_path / "spectra.nc"
    result = run(pattern_file, "--time", "all", "--out", out, "--surrogates", 0)
    assert result.exit_code == 0, result.output
    spectra = xr.open_dataset(out)
    assert spectra["u_spectrum"].dims == ("time", "wavenumber")
    np.testing.assert_allclose(spectra["time"].values, [0.0, 5.0, 10.0])
    # Parseval: each spectrum sums to the variance of a unit cosine, 1/2
    np.testing.assert_allclose(spectra["u_spectrum"].sum("wavenumber").values, 0.5)
    peaks = spectra["wavenumber"].values[spectra["u_spectrum"].argmax("wavenumber").values]
    np.testing.assert_allclose(1 / peaks, WAVELENGTHS)
    np.testing.assert_allclose(spectra["u_dominant_wavelength"].values, WAVELENGTHS)
    assert spectra.attrs["system"] == "spectra"
    assert json.loads(spectra.attrs["parameters"])["variables"] == ["u", "v"]
    assert json.loads(spectra.attrs["parameters"])["source_system"] == "external"
    from rdnet.dataset import open_dataset

    open_dataset(out).close()  # the spectra file is itself a valid rdnet file
    spectra.close()


@pytest.mark.parametrize("shape", [(12, 12, 12), (1, 64)])
def test_out_and_table_give_per_volume_and_per_length_units_on_3d_and_1d_grids(tmp_path, shape):
    """Per-area metrics of a 3-D grid were labelled 1/mm^2 and mm^2 (they are per volume and volumes), of a
    1-D grid (64 x 1) the same (per length, lengths). The high phase is one block of half the grid, 0.5 mm cells."""
    dims = ("z", "y", "x")[-len(shape):]
    field = np.zeros(shape)
    field[..., : shape[-1] // 2] = 1.0
    coords = {dim: (dim, (np.arange(n) + 0.5) * 0.5, {"units": "mm"}) for dim, n in zip(dims, shape)}
    source = tmp_path / "grid.nc"
    xr.Dataset({"v": (dims, field, {"units": "1"})}, coords=coords).to_netcdf(source)
    out = tmp_path / "spectra.nc"
    result = run(source, "--out", out, "--surrogates", 0)
    assert result.exit_code == 0, result.output
    ndim = sum(n > 1 for n in shape)
    size = 0.5 * np.prod([n * 0.5 for n in shape if n > 1])  # half the grid's length or volume, mm or mm^3
    with xr.open_dataset(out, decode_times=False) as spectra:
        assert spectra["v_mean_component_size"].attrs["units"] == ("mm" if ndim == 1 else "mm^3")
        assert float(spectra["v_mean_component_size"]) == pytest.approx(size)
        assert spectra["v_euler_characteristic"].attrs["units"] == ("1/mm" if ndim == 1 else "1/mm^3")
        assert spectra["v_boundary_length"].attrs["units"] == "1/mm"
        if ndim == 1:  # one interval on a ring 32 mm long
            assert float(spectra["v_euler_characteristic"]) == pytest.approx(1 / 32)
    header = next(line for line in result.output.splitlines() if line.startswith("variable"))
    assert ("comp.size [mm]" if ndim == 1 else "comp.size [mm^3]") in header


@pytest.mark.parametrize(("length", "written"), [("pixel", "1"), ("cells", "1"), ("mm", "mm")])
def test_out_writes_units_udunits_parses_for_a_grid_in_pixels_or_cells(pattern_file, tmp_path, length, written):
    """Another tool's grid in 'pixel' or 'cells' (not UDUNITS) gave '1/pixel', 'pixel^2', which the CF checker
    rejects: such lengths are counts of cells, written as units 1 with the file's word in length_units."""
    cf_units = pytest.importorskip("cf_units")
    source = tmp_path / f"grid_in_{length}.nc"
    with xr.open_dataset(pattern_file) as ds:
        ds.assign_coords(x=ds["x"].assign_attrs(units=length), y=ds["y"].assign_attrs(units=length)).to_netcdf(source)
    out = tmp_path / "spectra.nc"
    result = run(source, "--var", "u", "--out", out, "--surrogates", 0)
    assert result.exit_code == 0, result.output
    with xr.open_dataset(out, decode_times=False) as spectra:
        for name in spectra.variables:
            if "units" in spectra[name].attrs:
                cf_units.Unit(spectra[name].attrs["units"])  # raises ValueError for a unit UDUNITS does not know
        assert spectra["wavenumber"].attrs["units"] == ("1" if written == "1" else "1/mm")
        assert spectra["u_dominant_wavelength"].attrs["units"] == written
        expected = {"u_boundary_length": "1/mm", "u_euler_characteristic": "1/mm^2", "u_mean_component_size": "mm^2"}
        for key, units in expected.items():
            assert spectra[key].attrs["units"] == ("1" if written == "1" else units)
            assert spectra[key].attrs.get("length_units") == (length if written == "1" else None)
        assert "length_units" not in spectra["u_spectral_entropy"].attrs
        # the values stay in the file's lengths: the stripes' wavelength, 16 cells of x
        assert spectra["u_dominant_wavelength"].values.ravel().tolist() == pytest.approx([WAVELENGTHS[-1]])
        if written == "1":
            assert spectra["u_euler_characteristic"].attrs["long_name"].endswith(f"(in 1/{length}^2)")
            assert cf_units.Unit(f"1/{written}^2") == cf_units.Unit("1")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--var", "w"], "no variable 'w' in"),
        (["--var", "loss"], "variable 'loss' in"),
        (["--time", "3"], "--time 3 is out of range"),
        (["--time", "-4"], "--time -4 is out of range"),
        (["--time", "last"], "--time 'last': expected a snapshot index"),
        (["--overwrite"], "--overwrite applies only with --out"),  # it was ignored
        (["--surrogates", "0", "--seed", "3"], "--seed seeds the surrogates; it cannot apply with --surrogates 0"),
    ],
)
def test_bad_options_give_one_clear_line(pattern_file, args, message):
    result = run(pattern_file, *args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_bad_files_give_one_clear_line(tmp_path):
    missing = run(tmp_path / "nothing.nc")
    assert missing.exit_code == 2 and "no such file" in missing.output
    text = tmp_path / "notes.nc"
    text.write_text("not a netcdf file")
    garbage = run(text)
    assert garbage.exit_code == 2 and "Traceback" not in garbage.output


def test_existing_out_is_refused_before_any_work(pattern_file, tmp_path):
    out = tmp_path / "spectra.nc"
    out.write_text("keep me")
    result = run(pattern_file, "--out", out)
    assert result.exit_code == 2 and "exists" in result.output
    assert out.read_text() == "keep me"


def test_nan_field_is_reported(tmp_path):
    values = np.ones((8, 8))
    values[0, 0] = np.nan
    ds = xr.Dataset({"u": (("y", "x"), values)}, coords={"y": np.arange(8.0), "x": np.arange(8.0)})
    path = tmp_path / "nan.nc"
    ds.to_netcdf(path, engine="netcdf4")
    result = run(path)
    assert result.exit_code == 2
    assert "cannot analyse 'u'" in result.output and "NaN" in result.output


def test_help_has_examples():
    result = CliRunner().invoke(cli, ["analyze", "--help"])
    assert result.exit_code == 0
    assert "rdnet analyze gs.nc --var v --time all" in result.output


def test_integer_labels_are_left_out_by_default_but_can_be_named(pattern_file):
    import xarray as xr

    with xr.open_dataset(pattern_file) as ds:
        ds = ds.load()
    ds["neuron_index"] = (("y", "x"), np.arange(16 * 32).reshape(16, 32), {"long_name": "index j of the neuron"})
    ds["count"] = (("time", "y", "x"), np.arange(3 * 16 * 32).reshape(3, 16, 32) % 7, {"long_name": "cells counted"})
    path = pattern_file.with_name("labels.nc")
    ds.to_netcdf(path, engine="netcdf4")
    result = run(path, "--json", "--surrogates", 0)
    assert result.exit_code == 0, result.output
    assert list(json.loads(result.stdout)) == ["u", "v", "count"]  # an integer field is still a field
    named = run(path, "--json", "--surrogates", 0, "--var", "neuron_index")
    assert named.exit_code == 0 and list(json.loads(named.stdout)) == ["neuron_index"]


def test_a_foreign_file_warns_in_one_clean_line(pattern_file):
    result = run(pattern_file, "--surrogates", 0)
    assert result.exit_code == 0
    assert result.stderr.splitlines() == [
        f"warning: {pattern_file}: not written by rdnet (missing attributes: rdnet_schema, system, model, parameters, "
        "rdnet_version, created, history, Conventions); analysing it under the minimum convention"
    ]


@pytest.mark.parametrize("command", ["analyze", "compare", "plot"])
def test_a_field_declaring_a_huge_extra_dim_is_refused_before_it_is_loaded(tmp_path, command):
    # a corrupt/foreign NetCDF-4 file: v(a, y, x) with a = 2**31 - 1 never written, so the file is
    # tiny but reading v would produce 2**32 fill values (32 GiB); before the guard a 1-D (y = 1)
    # field like this was loaded whole and the process was killed for memory
    import netCDF4

    path = tmp_path / "huge.nc"
    with netCDF4.Dataset(path, "w", format="NETCDF4") as nc:
        for name, size in (("a", 2**31 - 1), ("y", 1), ("x", 2)):
            nc.createDimension(name, size)
        for name, size in (("y", 1), ("x", 2)):
            nc.createVariable(name, "f8", (name,))[:] = np.arange(size)
        nc.createVariable("v", "f8", ("a", "y", "x"))
    arguments = {"analyze": ["analyze", path], "compare": ["compare", path, path, "--surrogates", "3"],
                 "plot": ["plot", path, "--out", tmp_path / "f.png"]}[command]  # fmt: skip
    result = CliRunner().invoke(cli, [str(a) for a in arguments])
    assert result.exit_code != 0
    assert "values per snapshot" in result.output and "more than the 268435456" in result.output, result.output
    assert "Traceback" not in result.output and result.output.count("Error:") == 1


@pytest.mark.parametrize("command", [["analyze", "{file}"], ["compare", "{file}", "{file}"]])
def test_a_negative_surrogate_seed_is_refused_by_name(pattern_file, command):
    """--seed -1 once reached numpy as 'cannot analyse ...: expected non-negative integer'."""
    arguments = [part.format(file=pattern_file) for part in command]
    result = CliRunner().invoke(cli, [*arguments, "--seed", "-1"])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit), result.output
    assert "'--seed'" in result.output and "x>=0" in result.output, result.output
    assert "Traceback" not in result.output


def _numpy_morans_i(field: np.ndarray, *, wrap: bool) -> float:
    """Moran's I with rook neighbours, the pairs across the edges only when ``wrap``."""
    deviation = field - field.mean()
    products, pairs = 0.0, 0
    for axis in (0, 1):
        if wrap:
            products += np.sum(deviation * np.roll(deviation, 1, axis=axis))
            pairs += deviation.size
        else:
            n = deviation.shape[axis]
            first, second = np.take(deviation, range(n - 1), axis=axis), np.take(deviation, range(1, n), axis=axis)
            products += np.sum(first * second)
            pairs += first.size
    return deviation.size / pairs * products / np.sum(deviation**2)


def test_a_run_on_a_bounded_grid_is_analysed_as_bounded_by_default(tmp_path):
    # a ramp u = x: read as periodic, the wrap joins its two ends and Moran's I falls from 0.953 to 0.88;
    # the default read every file as periodic, a no-flux run too
    model = tmp_path / "ramp.toml"
    model.write_text('name = "ramp"\nspecies = ["u"]\n[diffusion]\nu = 0\n[reaction]\nu = "0*u"\n'
                     '[initial]\nu = "x"\n')  # fmt: skip
    ramp = np.tile(np.arange(24.0) + 0.5, (6, 1))
    for boundary, wrap in (("no-flux", False), ("periodic", True)):
        run = tmp_path / f"{boundary}.nc"
        simulate = CliRunner().invoke(cli, ["simulate", "--model-file", str(model), "--size", "24x6", "--steps", "1",
                                            "--dt", "0.1", "--boundary", boundary, "--quiet", "--out", str(run)])  # fmt: skip
        assert simulate.exit_code == 0, simulate.output
        result = CliRunner().invoke(cli, ["analyze", str(run), "--var", "u", "--surrogates", "0", "--json"])
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["u"]["morans_i"] == pytest.approx(_numpy_morans_i(ramp, wrap=wrap), rel=1e-12)


@pytest.mark.parametrize("command", [["analyze", "{file}", "--var", "u"], ["compare", "{file}", "{file}", "--var", "u"]])
def test_too_few_surrogates_give_an_undetermined_regime_and_one_note(pattern_file, command):
    """19 surrogates cannot reach p < 0.05 (smallest p = 1/20): u's stripes were called homogeneous."""
    arguments = [part.format(file=pattern_file) for part in command]
    result = CliRunner().invoke(cli, [*arguments, "--surrogates", "19", "--time", "0"][: None if command[0] == "analyze" else -2])
    assert result.exit_code == 0, result.output
    notes = [line for line in result.stderr.splitlines() if line.startswith("note:")]
    assert len(notes) == 1 and "smallest p-value is 1/20" in notes[0] and "use 20 or more" in notes[0]
    assert "undetermined" in result.stdout and "homogeneous" not in result.stdout
    if command[0] == "analyze":  # JSON stays alone on stdout, the reason inside it
        document = CliRunner().invoke(cli, [*arguments, "--surrogates", "19", "--time", "0", "--json"])
        assert "note:" not in document.stderr and json.loads(document.stdout)["u"]["regime"] == "undetermined"
        assert "smallest p-value is 1/20" in json.loads(document.stdout)["u"]["regime_reason"]
