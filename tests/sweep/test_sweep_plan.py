"""Sweep plans of ``rdnet.sweep.plan_sweep``: the library's checks, before anything runs (no cluster needed)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from rdnet.errors import ConfigError
from rdnet.sweep import plan_sweep


def test_each_point_gets_the_fixed_options_and_its_own_values_as_engine_keywords(tmp_path):
    plan = plan_sweep("simulate", {"F": np.array([0.02, 0.03]), "seed": range(2)},
                      {"size": 16, "param": {"k": 0.06}}, tmp_path / "sweep")  # fmt: skip
    assert [task.name for task in plan.tasks] == ["F=0.02_seed=0", "F=0.02_seed=1", "F=0.03_seed=0", "F=0.03_seed=1"]
    last = plan.tasks[-1].options
    # a model parameter joins the fixed ones; an option of the engine is a keyword of its own
    assert last == {"size": 16, "param": {"k": 0.06, "F": 0.03}, "seed": 1}
    assert type(last["param"]["F"]) is float and type(last["seed"]) is int  # numpy values made plain
    assert plan.tasks[0].options["param"] == {"k": 0.06, "F": 0.02}  # the fixed mapping is not shared
    assert pickle.loads(pickle.dumps(plan.tasks[0])) == plan.tasks[0]  # what Dask sends to a worker
    assert plan.axes[0].units == "1/time" and plan.model == "gray-scott"


def test_train_points_take_hyphenated_option_names(tmp_path):
    plan = plan_sweep("train", {"adversary-weight": [0.0, 1.0]}, {"steps": 5}, tmp_path / "sweep")
    assert [task.options for task in plan.tasks] == [{"steps": 5, "adversary_weight": 0.0},
                                                     {"steps": 5, "adversary_weight": 1.0}]  # fmt: skip
    assert plan.axes[0].dim == "adversary_weight" and plan.model == "prd"


@pytest.mark.parametrize(
    ("command", "grid", "fixed", "fragment"),
    [
        ("simulate", {}, {}, "at least one parameter axis"),
        ("simulate", {"seed": [0, 1]}, {"seed": 3}, "both swept and fixed"),
        ("simulate", {"F": [0.01]}, {"param": {"F": 0.02}}, "both swept and fixed"),
        ("simulate", {"G": [1.0]}, {}, "no parameter 'G'"),
        ("simulate", {"F": [0.01]}, {"out": "x.nc"}, "cannot be given to the points"),
        ("simulate", {"F": [0.01]}, {"colour": "red"}, "unknown option 'colour'"),
        ("simulate", {"out": ["a", "b"]}, {}, "cannot be swept"),
        ("simulate", {"F": [0.01, 0.01]}, {}, "repeats a value"),
        ("simulate", {"F": []}, {}, "no values"),
        ("train", {"F": [0.01]}, {}, "train has no option 'F'"),
        ("relax", {"F": [0.01]}, {}, "cannot sweep 'relax'"),
        # each was a TypeError or AttributeError from inside Python, or (NaN) a sweep of failed points
        ("simulate", 3, {}, "grid must map names to lists of values"),
        ("simulate", "F=0.01:0.02:2", {}, "grid must map names to lists of values"),
        ("simulate", {"F": 0.01}, {}, r"the values of axis F must be a list, e.g. \[0.03, 0.04\], got 0.01"),
        ("simulate", {"F": [float("nan"), 0.01]}, {}, "holds a value that is not finite"),
        ("simulate", {"F": [0.01]}, 3, "fixed must map option names to values"),
    ],
)
def test_a_bad_sweep_is_one_config_error_before_anything_is_written(tmp_path, command, grid, fixed, fragment):
    with pytest.raises(ConfigError, match=fragment) as caught:
        plan_sweep(command, grid, fixed, tmp_path / "sweep")
    assert "\n" not in str(caught.value) and "--" not in str(caught.value)  # the library quotes no CLI flag
    assert not (tmp_path / "sweep").exists()


def test_an_unknown_format_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="format"):
        plan_sweep("simulate", {"F": [0.01]}, {}, tmp_path / "sweep", format="hdf4")


def test_a_sweep_folder_that_is_not_a_path_is_refused():
    with pytest.raises(ConfigError, match="the sweep's folder must be a str or os.PathLike, got 3"):
        plan_sweep("simulate", {"F": [0.01]}, {}, 3)


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"workers": 0}, "workers must be a positive integer, got 0"),  # was every core
        ({"workers": 1.5}, "workers must be a positive integer, got 1.5"),  # was a TypeError from distributed
        ({"threads_per_point": 0}, "threads_per_point must be a positive integer, got 0"),
        ({"scheduler": 3}, "scheduler must be an address"),
        ({"progress": "no"}, "progress must be True or False, got 'no'"),
    ],
)
def test_bad_execution_options_are_refused_before_any_folder_or_worker(tmp_path, options, fragment):
    from rdnet.sweep import run_sweep

    with pytest.raises(ConfigError, match=fragment):
        run_sweep("simulate", {"F": [0.01]}, {"size": 8, "steps": 1}, out=tmp_path / "sweep",
                  echo=lambda line: None, **{"progress": False, **options})  # fmt: skip
    assert not (tmp_path / "sweep").exists()
