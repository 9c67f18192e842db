"""Parameter axes (their text form), point names and sweep plans of ``rdnet.sweep`` (no cluster needed)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rdnet.sweep.axes import ParameterAxis, parse_axis, point_names, split_axis_spec
from rdnet.errors import ConfigError


def test_inclusive_linspace_hits_both_ends_and_decimal_steps():
    # 0.040, 0.050, 0.060, 0.070: written by hand, not computed
    assert parse_axis("k=0.04:0.07:4").values == (0.04, 0.05, 0.06, 0.07)
    assert parse_axis("F=0.010:0.070:7").values == (0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07)


def test_integer_range_is_python_range():
    axis = parse_axis("seed=0:16", value_type="int")
    assert axis.values == tuple(range(16))
    assert all(type(value) is int for value in axis.values)


def test_integer_linspace_of_whole_values_is_allowed():
    assert parse_axis("steps=100:400:4", value_type="int").values == (100, 200, 300, 400)


def test_comma_lists_keep_order_and_types():
    assert parse_axis("adversary-weight=0,0.5,1").values == (0.0, 0.5, 1.0)
    assert parse_axis("seed=3", value_type="int").values == (3,)
    assert parse_axis("integrator=euler,rk4", value_type="str", choices=["euler", "rk4", "etdrk4"]).values == (
        "euler",
        "rk4",
    )
    assert parse_axis("adversary=false,true", value_type="bool").values == (False, True)


@pytest.mark.parametrize(
    ("spec", "value_type", "fragment"),
    [
        ("F", "float", "NAME=START:STOP:COUNT"),
        ("F=", "float", "NAME=START:STOP:COUNT"),
        ("=0.1", "float", "not a parameter name"),
        ("F k=0.1", "float", "not a parameter name"),
        ("F=0.01:0.07", "float", "needs a count"),
        ("F=0.01:0.07:x", "float", "COUNT must be a whole number"),
        ("F=0.01:0.07:0", "float", "at least 2"),
        ("F=0.01:0.07:1", "float", "at least 2"),
        ("F=0.01:0.02:0.07:3", "float", "START:STOP:COUNT"),
        ("F=a,b", "float", "not a number"),
        ("F=0.1,,0.2", "float", "empty item"),
        ("F=0.1,inf", "float", "finite"),
        ("F=0.1,0.1", "float", "repeated"),
        ("seed=1.5,2", "int", "not a whole number"),
        ("seed=0:10:4", "int", "non-whole values"),
        ("seed=5:5", "int", "STOP must exceed START"),
        ("integrator=euler,leapfrog", "str", "not one of"),
        ("integrator=a:b:3", "str", "comma list"),
        ("adversary=maybe", "bool", "not true or false"),
    ],
)
def test_malformed_grids_are_one_clear_config_error(spec, value_type, fragment):
    choices = ["euler", "rk4", "etdrk4"] if value_type == "str" else None
    with pytest.raises(ConfigError, match=fragment) as caught:
        parse_axis(spec, value_type=value_type, choices=choices)
    assert "\n" not in str(caught.value)


@settings(max_examples=200, deadline=None)
@given(
    start=st.floats(-1e3, 1e3, allow_nan=False),
    width=st.floats(1e-6, 1e3, allow_nan=False),
    count=st.integers(2, 60),
)
def test_linspace_grid_has_count_values_from_start_to_stop_evenly(start, width, count):
    stop = start + width
    values = parse_axis(f"p={start!r}:{stop!r}:{count}").values
    assert len(values) == count
    assert values[0] == pytest.approx(start, rel=1e-12, abs=1e-12)
    assert values[-1] == pytest.approx(stop, rel=1e-12, abs=1e-12)
    steps = [b - a for a, b in zip(values, values[1:])]
    assert max(steps) - min(steps) <= 1e-9 * max(1.0, abs(start), abs(stop))


def test_split_axis_spec():
    assert split_axis_spec(" adversary-weight = 0,1 ") == ("adversary-weight", "0,1")


def test_point_names_are_unique_c_ordered_and_carry_their_values():
    axes = [ParameterAxis("F", (0.01, 0.02)), ParameterAxis("k", (0.04, 0.05, 0.06))]
    points = point_names(axes)
    assert [name for name, _, _ in points] == [
        "F=0.01_k=0.04",
        "F=0.01_k=0.05",
        "F=0.01_k=0.06",
        "F=0.02_k=0.04",
        "F=0.02_k=0.05",
        "F=0.02_k=0.06",
    ]
    assert [index for _, index, _ in points] == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]
    assert points[4][2] == {"F": 0.02, "k": 0.05}


def test_point_names_add_digits_only_where_needed():
    axis = ParameterAxis("F", (0.0350000, 0.0350001, 0.0350002))
    names = [name for name, _, _ in point_names([axis])]
    assert len(set(names)) == 3
    assert names[0] == "F=0.035"  # shortest form that tells the values apart
    # a name read back gives the value to the precision needed to tell them apart
    assert [float(name.split("=")[1]) for name in names] == list(axis.values)


def test_point_names_do_not_depend_on_the_rest_of_the_grid():
    """An extended grid reuses the names (and so the files) of the points already run."""
    small = {name for name, _, _ in point_names([ParameterAxis("F", (0.01, 0.02))])}
    large = {name for name, _, _ in point_names([ParameterAxis("F", (0.01, 0.015, 0.02))])}
    assert small <= large


def test_string_values_are_made_file_safe():
    names = [name for name, _, _ in point_names([ParameterAxis("dataset", ("idx:/data/mnist", "digits"))])]
    assert names == ["dataset=idx--data-mnist", "dataset=digits"]
    assert all("/" not in name for name in names)


def test_float_values_pass_exactly_to_the_engine(tmp_path):
    from rdnet.sweep import plan_sweep

    axis = parse_axis("F=0.01:0.07:24")
    plan = plan_sweep("simulate", [axis], {"size": 8}, tmp_path / "sweep")
    assert [task.options["param"]["F"] for task in plan.tasks] == list(axis.values)
    assert all(type(task.options["param"]["F"]) is float for task in plan.tasks)


def _summary(pattern, wavelength, dims, coords):
    import numpy as np
    import xarray as xr

    pattern = np.asarray(pattern, dtype=np.int8)
    return xr.Dataset(
        {
            "pattern": (dims, pattern),
            "dominant_wavelength": (dims, np.asarray(wavelength, dtype=float), {"units": "length"}),
            "surrogate_p_value": (dims, np.where(pattern == 1, 0.01, 0.5)),
        },
        coords=coords,
        attrs={"model": "gray-scott", "system": "sweep"},
    )


def test_ensemble_points_take_the_majority_label_of_their_seeds():
    from rdnet.plotting.phase_diagram import _reduce_ensemble

    # 3 values of F x 3 seeds: 2 of 3 pattern, 1 of 3 pattern, all failed
    ds = _summary(
        [[1, 1, 0], [0, 1, 0], [-1, -1, -1]],
        [[10.0, 14.0, float("nan")], [float("nan"), 7.0, float("nan")], [float("nan")] * 3],
        ("F", "seed"),
        {"F": [0.02, 0.03, 0.04], "seed": [0, 1, 2]},
    )
    reduced = _reduce_ensemble(ds, ["seed"])
    assert reduced["label"].values.tolist() == [1, 0, -1]
    assert reduced["wavelength"].values[0] == 12.0  # mean over the seeds with a pattern


@pytest.mark.parametrize(
    ("dims", "coords", "shape"),
    [
        (("F", "k"), {"F": [0.02, 0.03], "k": [0.05, 0.06, 0.07]}, (2, 3)),
        (("F",), {"F": [0.02, 0.03, 0.04]}, (3,)),
        (("size", "seed"), {"size": ["32", "64"], "seed": [0, 1]}, (2, 2)),
        (("seed",), {"seed": [0, 1, 2]}, (3,)),
    ],
)
def test_phase_diagram_draws_maps_lines_and_ensembles(tmp_path, dims, coords, shape, rng):
    import numpy as np

    from rdnet.plotting.phase_diagram import plot_dataset

    pattern = rng.integers(-1, 2, size=shape)
    pattern.flat[0] = 1
    ds = _summary(pattern, rng.uniform(5, 20, size=shape), dims, coords)
    out = plot_dataset(ds, tmp_path / "phase.png")
    assert out.read_bytes()[:4] == b"\x89PNG"
    assert np.isfinite(ds["dominant_wavelength"]).all()


def test_phase_diagram_refuses_three_swept_parameters(tmp_path):
    from rdnet.plotting.phase_diagram import plot_dataset

    ds = _summary([[[1, 0]]], [[[5.0, 6.0]]], ("F", "k", "Du"), {"F": [0.1], "k": [0.2], "Du": [1, 2]})
    with pytest.raises(ConfigError, match="at most 2 swept parameters"):
        plot_dataset(ds, tmp_path / "phase.png")


@pytest.mark.parametrize("dims, coords, shape", [(("F", "k"), {"F": [0.02, 0.03], "k": [0.05, 0.06]}, (2, 2)),
                                                 (("F",), {"F": [0.02, 0.03]}, (2,))])  # fmt: skip
def test_a_dimensionless_wavelength_is_labelled_in_grid_length_units(dims, coords, shape):
    """CF writes a dimensionless length as units "1"; the axis said only 'dominant wavelength'."""
    import numpy as np

    from rdnet.plotting.phase_diagram import phase_diagram_figure

    ds = _summary(np.ones(shape), np.full(shape, 12.0), dims, coords)
    ds["dominant_wavelength"].attrs["units"] = "1"
    figure = phase_diagram_figure(ds)
    labels = [axes.get_ylabel() for axes in figure.axes]
    assert "dominant wavelength [grid length units]" in labels
