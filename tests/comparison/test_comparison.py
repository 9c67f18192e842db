"""Tests of rdnet.comparison: matching variables by role and measuring them alike.

The datasets are built here with known patterns (stripes of a chosen wavelength,
structureless noise), so every expected number comes from the construction, not
from the code under test (the builders are in tests/engine_datasets.py).
"""

from __future__ import annotations

import numpy as np
import pytest
from engine_datasets import classic_dataset, prd_dataset

from rdnet.comparison import (
    build_entries,
    compute_spectra,
    format_table,
    match_variables,
    metrics_table,
    table_records,
    unique_labels,
)
from rdnet.dataset.vocabulary import resolve_role, select_snapshot
from rdnet.errors import ConfigError

# ----------------------------------------------------------------- matching


def test_species_are_matched_across_systems_by_default(rng):
    matches = match_variables([classic_dataset(rng), prd_dataset(rng)])
    assert [(m.role, m.names) for m in matches] == [("u", ("u", "u")), ("v", ("v", "v"))]


def test_norm_stands_in_for_a_tensor_the_network_did_not_store(rng):
    classic, prd = classic_dataset(rng), prd_dataset(rng)
    assert resolve_role(prd, "reaction_u") == "reaction_u_norm"
    assert resolve_role(prd_dataset(rng, full_reaction=True), "reaction_u") == "reaction_u"
    matches = match_variables([classic, prd], ["reaction"])
    # reaction_v exists in the classic file only: the group keeps the shared role
    assert [(m.role, m.names) for m in matches] == [("reaction_u", ("reaction_u", "reaction_u_norm"))]


def test_explicit_pairing_names_one_variable_per_file(rng):
    matches = match_variables([classic_dataset(rng), prd_dataset(rng)], ["v,displacement_u"])
    assert matches[0].names == ("v", "displacement_u")
    assert matches[0].role == "v/displacement_u"


@pytest.mark.parametrize(
    ("request_", "fragment"),
    [
        (["w"], "file 2 has no variable 'w'"),
        (["v,u,u"], "names 3 variables but 2 files"),
        (["v,nothing"], "no spatial variable 'nothing'"),
        (["diffusion"], "no role of group 'diffusion'"),
    ],
)
def test_bad_requests_name_what_exists(rng, request_, fragment):
    classic = classic_dataset(rng).drop_vars("reaction_u")
    classic["w"] = classic["v"]
    with pytest.raises(ConfigError, match=fragment) as caught:
        match_variables([classic, prd_dataset(rng)], request_)
    assert "\n" not in str(caught.value)


def test_no_shared_role_is_a_clear_error(rng):
    first = classic_dataset(rng)[["v"]].rename({"v": "a"})
    second = classic_dataset(rng)[["v"]].rename({"v": "b"})
    with pytest.raises(ConfigError, match="share no spatial variable.*file 1: a; file 2: b"):
        match_variables([first, second])


def test_unique_labels_number_repeats():
    assert unique_labels(["a.nc", "b.nc", "a.nc"]) == ["a.nc", "b.nc", "a.nc (2)"]


# ----------------------------------------------------------------- measuring


@pytest.mark.parametrize(("spacing", "wavelength"), [(0.5, 8.0), (1.0, 8.0), (0.25, 4.0)])
def test_metrics_find_the_built_in_wavelength_in_physical_units_and_cells(rng, spacing, wavelength):
    dataset = classic_dataset(rng, spacing=spacing, wavelength=wavelength)
    entries = build_entries([dataset], ["gs"], match_variables([dataset], ["v"]), time_index=-1)
    table = metrics_table(entries, n_surrogates=19)
    row = table.iloc[0]
    assert row["dominant_wavelength"] == pytest.approx(wavelength, rel=0.05)
    assert row["dominant_wavelength_cells"] == pytest.approx(wavelength / spacing, rel=0.05)
    assert row["time"] == 20.0 and row["time_index"] == 2
    assert row["surrogate_p_value"] <= 0.05  # stripes: structure far beyond shuffled copies


def test_a_dataset_read_by_plain_xarray_reports_model_time(rng, tmp_path):
    # an rdnet file's model time 20 is written as 20 s after a nominal 1970-01-01; plain
    # xarray.open_dataset decodes it to a datetime64, which is still time 20 (not 2e10 ns)
    import xarray as xr
    from rdnet.dataset import write_dataset

    run = classic_dataset(rng)
    run["time"].attrs = {"long_name": "model time"}  # dimensionless, as rd_classic writes it
    path = write_dataset(run, tmp_path / "gs.nc", system="classic", model="gray-scott", parameters={})
    with xr.open_dataset(path) as dataset:
        assert dataset["time"].dtype.kind == "M"
        entries = build_entries([dataset], ["gs"], match_variables([dataset], ["v"]), time_index=-1)
    assert entries[0].time == 20.0


def test_stripes_and_noise_differ_in_significance_and_entropy(rng):
    classic, prd = classic_dataset(rng), prd_dataset(rng)
    labels = ["gs.nc", "net.nc"]
    entries = build_entries([classic, prd], labels, match_variables([classic, prd], ["v"]))
    table = metrics_table(entries, n_surrogates=19).set_index("file")
    assert table.loc["gs.nc", "surrogate_p_value"] <= 0.05
    assert table.loc["net.nc", "surrogate_p_value"] > 0.05  # independent ±1 signs: no structure
    # a plane wave puts its variance into one ring; white noise spreads it over all rings
    assert table.loc["gs.nc", "spectral_entropy"] < table.loc["net.nc", "spectral_entropy"]


def test_morphology_and_regime_sit_beside_the_spectra_for_both_systems(rng):
    classic, prd = classic_dataset(rng), prd_dataset(rng)
    entries = build_entries([classic, prd], ["gs.nc", "net.nc"], match_variables([classic, prd], ["v"]))
    table = metrics_table(entries, n_surrogates=39).set_index("file")
    gs = table.loc["gs.nc"]
    # four stripes of 8 m on a 32 m torus: four bands around it, chi = 0, half the area, full order
    assert (gs["components"], gs["euler_characteristic"]) == (4, 0)
    assert gs["area_fraction"] == pytest.approx(0.5, abs=0.03)
    assert gs["mean_component_size"] == pytest.approx(4.0 * 32.0, rel=0.06)  # m^2
    assert gs["orientation_order"] > 0.9 and gs["regime"] == "stripes"
    assert table.loc["net.nc", "regime"] == "homogeneous"  # independent signs: nothing beyond chance
    text = format_table(table.reset_index())
    assert "euler_characteristic" in text and "stripes" in text


def test_spectra_put_a_plane_wave_at_its_wavenumber_and_at_the_right_fraction_of_nyquist(rng):
    spacing, wavelength = 0.5, 8.0
    dataset = classic_dataset(rng, spacing=spacing, wavelength=wavelength)
    entries = build_entries([dataset], ["gs"], match_variables([dataset], ["v"]))
    (spectrum,) = compute_spectra(entries, n_surrogates=9)
    assert spectrum.power.sum() == pytest.approx(1.0)
    peak = int(np.argmax(spectrum.power))
    assert spectrum.wavenumber[peak] == pytest.approx(1 / wavelength, rel=0.05)
    assert spectrum.nyquist == pytest.approx(1 / (2 * spacing))
    assert spectrum.wavenumber[peak] / spectrum.nyquist == pytest.approx(2 * spacing / wavelength, rel=0.05)
    assert spectrum.power[peak] > 0.9  # the wave holds nearly all the variance (noise is 1%)
    assert spectrum.power[peak] > spectrum.band_high[peak]
    assert spectrum.length_units == "m"


def test_component_fields_are_measured_as_a_sum_of_power(rng):
    prd = prd_dataset(rng)
    entries = build_entries([prd], ["net"], match_variables([prd], ["u"]))
    assert entries[0].field.dims == ("feature", "y", "x")
    (spectrum,) = compute_spectra(entries, normalize=False, n_surrogates=9)
    field = entries[0].field.values
    variance_sum = float(sum(np.var(component) for component in field))
    assert spectrum.power.sum() == pytest.approx(variance_sum, rel=1e-6)  # Parseval, power adds over components


def test_table_output_forms(rng):
    classic, prd = classic_dataset(rng), prd_dataset(rng)
    entries = build_entries([classic, prd], ["gs.nc", "net.nc"], match_variables([classic, prd]))
    table = metrics_table(entries, n_surrogates=9)
    assert list(table["file"]) == ["gs.nc", "net.nc", "gs.nc", "net.nc"]
    assert list(table["role"]) == ["u", "u", "v", "v"]
    text = format_table(table)
    assert text.count("role: ") == 2 and "dominant_wavelength_cells" in text
    records = table_records(table)
    assert all(isinstance(value, (str, int, float, type(None))) for record in records for value in record.values())


def test_grids_in_convertible_units_are_compared_in_the_first_files_units(rng):
    from rdnet.comparison import to_common_length_units

    metres = classic_dataset(rng, spacing=0.5, wavelength=8.0)
    centimetres = classic_dataset(rng, spacing=0.5, wavelength=8.0)
    centimetres = centimetres.assign_coords(
        {dim: (dim, centimetres[dim].values * 100.0, {**centimetres[dim].attrs, "units": "cm"}) for dim in ("y", "x")}
    )
    matches = match_variables([metres, centimetres], ["v"])
    entries = build_entries([metres, centimetres], ["m.nc", "cm.nc"], matches)
    assert [str(entry.field["x"].attrs["units"]) for entry in entries] == ["m", "m"]
    np.testing.assert_allclose(entries[1].field["x"].values, metres["x"].values)
    table = metrics_table(entries, n_surrogates=5)
    assert list(table["dominant_wavelength"]) == pytest.approx([8.0, 8.0], rel=0.05)
    assert list(table["spacing"]) == pytest.approx([0.5, 0.5]) and list(table["length_units"]) == ["m", "m"]
    assert "dominant_wavelength [m]" in format_table(table)
    assert to_common_length_units(entries) == entries  # already common: unchanged


def test_grids_in_units_that_do_not_convert_are_left_alone_with_a_warning(rng):
    from rdnet.comparison import ComparisonWarning

    metres, cells = classic_dataset(rng), prd_dataset(rng)
    matches = match_variables([metres, cells], ["v"])
    with pytest.warns(ComparisonWarning, match=r"length units differ and do not convert \(gs: m, net: 1\)"):
        entries = build_entries([metres, cells], ["gs", "net"], matches)
    table = metrics_table(entries, n_surrogates=5)
    text = format_table(table)
    assert "dominant_wavelength [length units]" in text
    assert any(line.split("  ")[0] == "length units" and line.split()[-2:] == ["m", "1"] for line in text.splitlines())


def test_integer_labels_are_not_default_fields(rng):
    from rdnet.dataset.vocabulary import is_label_variable

    dataset = prd_dataset(rng)
    dataset["neuron_index"] = (("y", "x"), np.arange(144).reshape(12, 12), {"long_name": "index j of the neuron"})
    dataset["mask"] = (("y", "x"), np.zeros((12, 12), dtype=bool))
    dataset["counts"] = (("y", "x"), np.ones((12, 12), dtype=int), {"long_name": "cells counted"})
    assert is_label_variable(dataset["neuron_index"]) and is_label_variable(dataset["mask"])
    assert not is_label_variable(dataset["counts"]) and not is_label_variable(dataset["displacement_u"])
    other = dataset.drop_vars(["u", "v"])  # no species: the shared spatial variables are compared
    names = {name for match in match_variables([other, other.copy()]) for name in match.names}
    assert "neuron_index" not in names and "mask" not in names and "counts" in names


def test_a_non_spatial_variable_is_named_as_such_and_a_static_field_has_no_snapshot_3(rng):
    from rdnet.dataset.vocabulary import missing_variable_message

    dataset = prd_dataset(rng)
    assert missing_variable_message(dataset, "net.nc", "distance_u").startswith(
        "variable 'distance_u' in net.nc is not a spatial field (dims ('step',), need last dims y, x)"
    )
    with pytest.raises(ConfigError, match="net.nc has no variable 'distance_u'|not a spatial field"):
        match_variables([dataset], ["distance_u"], labels=["net.nc"])
    static = dataset["displacement_u"].isel(time=0, drop=True)
    assert select_snapshot(static, -1)[1] == 0
    with pytest.raises(ConfigError, match=r"--time 3: net.nc: 'displacement_u' has no time dimension"):
        select_snapshot(static, 3, label="net.nc")


def _stripes(wavelength: float = 8.0):
    import xarray as xr

    x = np.arange(32.0)
    values = np.cos(2 * np.pi * x / wavelength)[None, None, :] * np.ones((3, 16, 1))
    return xr.Dataset({"v": (("time", "y", "x"), values)}, coords={"time": [0.0, 1.0, 2.0], "y": np.arange(16.0), "x": x})


def test_one_label_short_is_refused_not_a_dataset_dropped():
    """build_entries([a, b], ["a"], ...) zipped the second dataset away without a word."""
    from rdnet.comparison import build_entries, match_variables

    datasets = [_stripes(), _stripes(4.0)]
    matches = match_variables(datasets)
    with pytest.raises(ConfigError, match="give one label per dataset: 1 labels for 2 datasets"):
        build_entries(datasets, ["a"], matches)
    with pytest.raises(ConfigError, match="give one label per dataset"):
        match_variables(datasets, labels=["a"])


@pytest.mark.parametrize("index", [1.5, "-1", True])  # TypeError from xarray; '<=' not supported; snapshot 1
def test_a_snapshot_index_must_be_an_integer(index):
    with pytest.raises(ConfigError, match="must be a snapshot index"):
        select_snapshot(_stripes()["v"], index)


def test_arguments_of_the_wrong_type_are_refused_naming_them():
    from rdnet.comparison import build_entries, compute_spectra, grid_spacing, match_variables

    with pytest.raises(TypeError, match="datasets must be a list of xarray.Dataset"):
        match_variables(_stripes())  # iterated over its variable names: an AttributeError
    entries = build_entries([_stripes()], ["a"], match_variables([_stripes()]))
    with pytest.raises(TypeError, match="normalize must be True or False"):
        compute_spectra(entries, n_surrogates=3, normalize="no")  # "no" normalised
    field = _stripes()["v"].assign_coords(x=np.arange(32.0) ** 1.5)
    with pytest.raises(ValueError, match="uniformly spaced"):
        grid_spacing(field)  # was its first step, 1.0
