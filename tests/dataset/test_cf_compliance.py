"""Every kind of file rdnet writes passes the IOOS CF checker (``compliance-checker --test cf:1.10``).

The checker is the ecosystem's own tool, run here on a small file of each kind: 0 errors
(its high-priority findings) and 0 warnings (medium). Files written by rdnet before the CF
encoding (``tests/data/*_v1.nc``, written by the code of the time) stay readable.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from rdnet.cli.main import cli
from rdnet.dataset import open_dataset

pytest.importorskip("compliance_checker")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

DATA = Path(__file__).parents[1] / "data"
TRAIN = ["--neurons", "16", "--samples", "8", "--input-dim", "12", "--outputs", "2", "--steps", "6", "--quiet"]


def rdnet(*arguments):
    result = CliRunner().invoke(cli, list(arguments))
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """One small file of every kind rdnet writes."""
    folder = tmp_path_factory.mktemp("kinds")

    def path(name):
        return str(folder / name)

    rdnet("simulate", "--size", "8", "--steps", "20", "--snapshot-every", "10", "--out", path("simulate_2d.nc"),
          "--quiet")
    rdnet("simulate", "--model", "brusselator", "--size", "16x1", "--steps", "10", "--out", path("simulate_1d.nc"),
          "--quiet")
    rdnet("simulate", "--model", "brusselator", "--size", "6x6x6", "--steps", "10", "--out", path("simulate_3d.nc"),
          "--quiet")
    rdnet("simulate", "--size", "8", "--steps", "10", "--param", "F=0.02+0.04*x/Lx", "--out", path("field.nc"),
          "--quiet")
    rdnet("train", *TRAIN, "--out", path("train_supervised.nc"))
    rdnet("train", *TRAIN, "--adversary", "--out", path("train_adversarial.nc"))
    rdnet("analyze", path("simulate_2d.nc"), "--surrogates", "0", "--out", path("analyze.nc"))
    rdnet("stability", "--network", path("train_adversarial.nc"), "--eigenvalues", "2", "--jacobian", "reaction",
          "--out", path("stability_modes.nc"))
    rdnet("gan-dynamics", "-n", "50", "-T", "1", "-R", "2", "--records", "3", "--out", path("gan_dynamics.nc"))
    _sweep_summary(folder)
    return folder


def _sweep_summary(folder: Path) -> None:
    """The summary of a sweep (its writer, without running the points on Dask)."""
    from rdnet.dataset import write_dataset
    from rdnet.sweep import build_summary, plan_sweep

    plan = plan_sweep("simulate", {"F": [0.03, 0.04]}, {"size": 8}, folder / "sweep")
    (folder / "sweep").mkdir()
    results = [{"name": task.name, "index": task.index, "status": "ok", "wall_time": 1.0, "regime": "spots",
                "time_behaviour": "stationary", "dominant_wavelength": 2.0, "field_units": "1",
                "length_units": "1", "model": "gray-scott", "variable": "v"} for task in plan.tasks]  # fmt: skip
    write_dataset(build_summary(plan, results), folder / "sweep_summary.nc", system="sweep", model="gray-scott",
                  parameters={"command": "simulate"})  # fmt: skip


KINDS = ["simulate_2d.nc", "simulate_1d.nc", "simulate_3d.nc", "field.nc", "train_supervised.nc",
         "train_adversarial.nc", "analyze.nc", "stability_modes.nc", "gan_dynamics.nc", "sweep_summary.nc"]  # fmt: skip


def cf_findings(path: Path, report: Path) -> dict:
    from compliance_checker.runner import CheckSuite, ComplianceChecker

    CheckSuite.load_all_available_checkers()
    ComplianceChecker.run_checker(str(path), ["cf:1.10"], 0, "normal", output_filename=str(report),
                                  output_format="json")  # fmt: skip
    return json.loads(report.read_text())["cf:1.10"]


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_of_file_has_no_cf_error_or_warning(files, kind, tmp_path):
    findings = cf_findings(files / kind, tmp_path / "report.json")
    problems = [message for group in ("high_priorities", "medium_priorities") for item in findings[group]
                for message in item["msgs"]]  # fmt: skip
    assert findings["high_count"] == 0 and findings["medium_count"] == 0, problems


def test_model_time_is_said_to_be_dimensionless_in_the_file(files):
    with open_dataset(files / "simulate_2d.nc") as ds:
        time = ds["time"].attrs
        assert time["standard_name"] == "time" and time["units"].startswith("seconds since 1970-01-01")
        assert "dimensionless" in time["long_name"] and "nominal" in time["comment"]
        assert ds["reaction_u"].attrs["units"] == "1/s" and ds["reaction_u"].attrs["model_units"] == "1/time"
        assert ds.attrs["title"] and ds.attrs["source"].startswith("rdnet ")
        # the values are the model times, not seconds of a date: snapshots every 10 steps of dt
        parameters = json.loads(ds.attrs["parameters"])
        np.testing.assert_allclose(ds["time"].values, np.arange(3) * 10 * parameters["dt"])


OLD_FILES = ["classic_v1.nc", "classic_3d_v1.nc", "spectra_v1.nc", "gan_dynamics_v1.nc", "prd_stability_v1.nc",
             "sweep_summary_v1.nc", "prd_adversarial_v1.nc", "prd_supervised_norms_v1.nc"]  # fmt: skip


@pytest.mark.parametrize("name", OLD_FILES)
def test_files_written_before_the_cf_encoding_stay_readable(name):
    with open_dataset(DATA / name) as ds:
        assert ds.attrs["rdnet_schema"] == "1.0"
    rdnet("info", str(DATA / name))


def test_an_older_classic_file_is_analysed_and_continued_to_a_later_end(tmp_path):
    old = tmp_path / "classic_v1.nc"
    shutil.copy(DATA / old.name, old)
    rdnet("analyze", str(old), "--surrogates", "0")
    with open_dataset(old) as ds:
        steps = json.loads(ds.attrs["parameters"])["steps"]
        before = ds["v"].values.copy()
    rdnet("simulate", "--resume", str(old), "--steps", str(2 * steps), "--quiet")
    with open_dataset(old) as ds:
        assert ds.sizes["time"] == 2 * before.shape[0] - 1
        np.testing.assert_array_equal(ds["v"].values[: before.shape[0]], before)
        assert ds["time"].attrs["standard_name"] == "time"  # rewritten with today's encoding


def test_cf_length_units_keeps_only_lengths_udunits_reads():
    """A grid length is written as it is only where UDUNITS (cf_units, the checker's parser) reads it as a
    length; another tool's 'pixel' or 'cells' is written as 1."""
    cf_units = pytest.importorskip("cf_units")
    from rdnet.dataset.cf import cf_length_units

    prefixes = ["", "k", "c", "m", "u", "µ", "n", "p", "Y", "y", "da"]
    names = ["", "kilo", "centi", "milli", "micro", "nano", "deka", "hecto", "yocto"]
    kept = [f"{p}m" for p in prefixes] + [f"{n}{m}" for n in names for m in ("meter", "metre", "meters", "metres")]
    kept += ["micron", "angstrom", "in", "inch", "ft", "feet", "yd", "mile", "au", "parsec"]
    for units in kept:
        assert cf_length_units(units) == units
        assert cf_units.Unit(units).is_convertible("m"), units
    for units in ["pixel", "pixels", "px", "cells", "grid units", "", "1", "m2", "1/m", "mm^2", "s", "decameter"]:
        assert cf_length_units(units) == "1", units
        cf_units.Unit(cf_length_units(units))
