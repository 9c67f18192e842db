"""The bad-input table: every row is one wrong input, run through the real CLI or the Python API.

A CLI row passes when the command exits with the documented code (2 for the
user's input, 1 for a run that failed), prints exactly one ``Error:`` line that
contains the expected words, prints no traceback, and leaves no file under the
final output name. A Python row passes when the call raises the documented
exception type with the expected words. ``docs/reliability.md`` lists the same
rows with the messages observed (regenerate it with
``PYTHONPATH=tests python -m hardening.test_bad_inputs`` from the repository root).
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from hardening.helpers import assert_clean_failure, command_available, invoke_rdnet


# ----------------------------------------------------------------------------- input files


def _write_good(path: Path, *, size: int = 8, times: int = 3) -> Path:
    import xarray as xr

    from rdnet.dataset import write_dataset

    rng = np.random.default_rng(5)
    ds = xr.Dataset(
        {name: (("time", "y", "x"), rng.random((times, size, size))) for name in ("u", "v")},
        coords={"time": np.arange(float(times)), "y": np.arange(float(size)), "x": np.arange(float(size))},
    )
    return write_dataset(ds, path, system="classic", model="gray-scott", parameters={"seed": 5})


def _write_corrupt_chunk(path: Path) -> Path:
    """A valid file whose data chunks of ``u`` are overwritten: the header reads, the data not."""
    import h5py

    _write_good(path, size=16)
    with h5py.File(path, "r") as handle:
        chunks = [handle["u"].id.get_chunk_info(index) for index in range(handle["u"].id.get_num_chunks())]
    data = bytearray(path.read_bytes())
    for info in chunks:  # one per snapshot (time is unlimited)
        data[info.byte_offset : info.byte_offset + info.size] = bytes(info.size)
    path.write_bytes(bytes(data))
    return path


def _write_raw(path: Path, build: Callable) -> Path:
    import netCDF4

    with netCDF4.Dataset(path, "w", format="NETCDF4") as nc:
        build(nc)
    return path


def _nonuniform(nc) -> None:
    nc.createDimension("y", 3)
    nc.createDimension("x", 3)
    nc.createVariable("y", "f8", ("y",))[:] = [0.0, 1.0, 2.0]
    nc.createVariable("x", "f8", ("x",))[:] = [0.0, 1.0, 5.0]
    nc.createVariable("u", "f8", ("y", "x"))[:] = np.ones((3, 3))


def _huge_coordinate(nc) -> None:
    nc.createDimension("y", 2**31 - 1)
    nc.createDimension("x", 4)
    nc.createVariable("y", "f8", ("y",), chunksizes=[1024])
    nc.createVariable("x", "f8", ("x",))[:] = np.arange(4.0)
    nc.createVariable("u", "f8", ("y", "x"), chunksizes=(1, 4))


def _one_by_one(nc) -> None:
    nc.createDimension("y", 1)
    nc.createDimension("x", 1)
    nc.createVariable("y", "f8", ("y",))[:] = [0.0]
    nc.createVariable("x", "f8", ("x",))[:] = [0.0]
    nc.createVariable("u", "f8", ("y", "x"))[:] = [[1.0]]
    nc.createVariable("v", "f8", ("y", "x"))[:] = [[1.0]]


def _time_not_first(nc) -> None:
    for name, size in (("time", 2), ("y", 2), ("x", 2)):
        nc.createDimension(name, size)
        nc.createVariable(name, "f8", (name,))[:] = np.arange(float(size))
    nc.createDimension("feature", 2)
    nc.createVariable("u", "f8", ("feature", "time", "y", "x"))[:] = np.zeros((2, 2, 2, 2))


def _bad_parameters(nc) -> None:
    _nonuniform(nc)
    nc.variables["x"][:] = [0.0, 1.0, 2.0]
    nc.setncattr("parameters", "{seed: 1")


def _flag_without_time(nc) -> None:
    _nonuniform(nc)
    nc.variables["x"][:] = [0.0, 1.0, 2.0]
    nc.createDimension("k", 2)
    nc.createVariable("snapshot_complete", "i1", ("k",))[:] = [1, 1]


def make_inputs(folder: Path) -> None:
    """Every input file the rows refer to, in ``folder``."""
    import h5py
    import xarray as xr

    (folder / "notes.txt").write_text("these are notes, not data\n")
    with h5py.File(folder / "plain.h5", "w") as handle:
        handle["a"] = np.arange(4)
    xr.Dataset({"loss": (("step",), np.arange(5.0))}).to_netcdf(folder / "nospatial.nc", engine="netcdf4")
    good = _write_good(folder / "good.nc")
    (folder / "truncated.nc").write_bytes(good.read_bytes()[:3000])
    (folder / "empty.nc").write_bytes(b"")
    _write_corrupt_chunk(folder / "corrupt-chunk.nc")
    _write_raw(folder / "nonuniform.nc", _nonuniform)
    _write_raw(folder / "huge.nc", _huge_coordinate)
    _write_raw(folder / "one-cell.nc", _one_by_one)
    _write_raw(folder / "time-not-first.nc", _time_not_first)
    _write_raw(folder / "bad-parameters.nc", _bad_parameters)
    _write_raw(folder / "bad-flag.nc.partial", _flag_without_time)
    (folder / "idx").mkdir()
    (folder / "idx" / "train-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x03\x00\x00\x00\x02")  # truncated
    (folder / "idx" / "train-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x02\x01\x02")
    (folder / "readonly").mkdir()
    (folder / "readonly").chmod(0o555)
    from rd_classic.models import builtin_declaration

    noisy = builtin_declaration("schnakenberg").text + '\n[noise]\nv = "0.01"\n'  # a fit cannot honour it
    (folder / "noisy-model.toml").write_text(noisy)
    huge_power = builtin_declaration("schnakenberg").text.replace("u**2*v", "u**(2**60)*v", 1)  # sympy hung on it
    (folder / "huge-power.toml").write_text(huge_power)
    negative = builtin_declaration("schnakenberg").text.replace('u = "Du"', 'u = "-Du"', 1)  # `models` showed it
    (folder / "negative-diffusion.toml").write_text(negative)
    unused = builtin_declaration("schnakenberg").text.replace("[parameters]", "[parameters]\nz0 = 1.0", 1)
    (folder / "unused-parameter.toml").write_text(unused)  # a fit of z0 died in autograd
    for name in ("figure.png", "movie.gif", "metrics.csv"):  # earlier outputs a command must not replace silently
        (folder / name).write_bytes(b"an earlier output")


# ----------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class Row:
    """One bad input: what is run, and what must come of it."""

    label: str
    arguments: tuple[str, ...]
    exit_code: int = 2
    words: str = ""
    final: str | None = None
    needs_root_bypass: bool = False
    marks: tuple = field(default_factory=tuple)

    @property
    def command(self) -> str:
        return self.arguments[0]


S = ("simulate", "--size", "16", "--steps", "20", "--quiet")
T = ("train", "--neurons", "16", "--steps", "5", "--samples", "8", "--input-dim", "8", "--quiet")
T_DATASET = ("train", "--neurons", "16", "--steps", "5", "--samples", "8", "--quiet")  # --input-dim is synthetic's
G = ("gan-dynamics", "--dim", "50", "--time", "1", "--replicas", "1", "--records", "3")

CLI_ROWS = [
    # simulate: names
    Row("unknown model", (*S, "--model", "nosuch", "--out", "x.nc"), words="unknown model", final="x.nc"),
    Row("unknown preset", (*S, "--preset", "nosuch", "--out", "x.nc"), words="unknown preset", final="x.nc"),
    Row("unknown model parameter", (*S, "--param", "G=0.1", "--out", "x.nc"), words="no parameter 'G'", final="x.nc"),
    # simulate: malformed values
    Row("--param without '='", (*S, "--param", "F", "--out", "x.nc"), words="NAME=VALUE", final="x.nc"),
    Row("--param not a number", (*S, "--param", "F=abc", "--out", "x.nc"), words="needs a number", final="x.nc"),
    Row("--param NaN", (*S, "--param", "F=nan", "--out", "x.nc"), words="finite", final="x.nc"),
    Row("--param infinite", (*S, "--param", "k=inf", "--out", "x.nc"), words="finite", final="x.nc"),
    Row("--param given twice", (*S, "--param", "F=0.03", "--param", "F=0.05", "--out", "x.nc"), words="given twice",
        final="x.nc"),
    Row("--size zero", ("simulate", "--size", "0", "--out", "x.nc"), words="positive", final="x.nc"),
    Row("--size negative", ("simulate", "--size", "-5", "--out", "x.nc"), words="positive", final="x.nc"),
    Row("--size malformed", ("simulate", "--size", "12xq", "--out", "x.nc"), words="512x256", final="x.nc"),
    Row("--steps zero", ("simulate", "--size", "16", "--steps", "0", "--out", "x.nc"), words="positive", final="x.nc"),
    Row("--steps negative", ("simulate", "--size", "16", "--steps", "-3", "--out", "x.nc"), words="positive", final="x.nc"),
    Row("--dt zero", (*S, "--dt", "0", "--out", "x.nc"), words="positive", final="x.nc"),
    Row("--dt NaN", (*S, "--dt", "nan", "--out", "x.nc"), words="finite", final="x.nc"),
    Row("--dx zero", (*S, "--dx", "0", "--out", "x.nc"), words="positive", final="x.nc"),
    Row("unstable explicit --dt", (*S, "--dt", "100", "--out", "x.nc"), words="largest stable dt", final="x.nc"),
    Row("--snapshot-every zero", (*S, "--snapshot-every", "0", "--out", "x.nc"), words="positive", final="x.nc"),
    Row("--snapshots zero", (*S, "--snapshots", "0", "--out", "x.nc"), words="positive", final="x.nc"),
    Row("--snapshots more than --steps", (*S, "--snapshots", "30", "--out", "x.nc"), words="30 snapshot intervals cannot be "
        "evenly spaced over the run's 20 steps", final="x.nc"),
    Row("--snapshots not dividing --steps", (*S, "--snapshots", "7", "--out", "x.nc"), words="7 snapshot intervals",
        final="x.nc"),
    Row("--snapshots 10**12", (*S[:3], "--snapshots", str(10**12), "--out", "x.nc"), words="cannot be evenly spaced",
        final="x.nc"),
    Row("empty --initial", (*S, "--initial", "", "--out", "x.nc"), words="initial condition", final="x.nc"),
    Row("--allow-unstable without --dt", (*S, "--allow-unstable", "--out", "x.nc"), words="cannot apply without a dt",
        final="x.nc"),
    Row("--snapshots with --snapshot-every", (*S, "--snapshots", "5", "--snapshot-every", "3", "--out", "x.nc"),
        words="not both", final="x.nc"),
    Row("--steps with --time", (*S, "--time", "5", "--out", "x.nc"), words="either", final="x.nc"),
    Row("unknown --device", (*S, "--device", "tpu", "--out", "x.nc"), words="device", final="x.nc"),
    Row("unknown option", (*S, "--nosuchoption"), words="No such option"),
    # simulate: output paths
    Row("output folder missing", (*S, "--out", "missing/x.nc"), words="does not exist", final="missing/x.nc"),
    Row("output folder read-only", (*S, "--out", "readonly/x.nc"), words="not writable", final="readonly/x.nc",
        needs_root_bypass=True),
    Row("output file exists", (*S, "--out", "good.nc"), words="--overwrite"),
    Row("output path is a folder", (*S, "--out", "idx"), words="folder"),
    # simulate: resume
    Row("--resume missing file", ("simulate", "--resume", "nosuch.nc.partial"), words="not found"),
    Row("--resume a file not written by simulate", ("simulate", "--resume", "good.nc"), words="cannot rebuild the run",
        final=None),
    Row("--resume a text file", ("simulate", "--resume", "notes.txt"), words="not a NetCDF file"),
    # train
    Row("train: non-square --neurons", (*T, "--neurons", "10", "--out", "t.nc"), words="square", final="t.nc"),
    Row("train: zero --neurons", (*T, "--neurons", "0", "--out", "t.nc"), words="", final="t.nc"),
    Row("train: malformed --grid", (*T, "--grid", "4by4", "--out", "t.nc"), words="grid", final="t.nc"),
    Row("train: unknown --dataset", (*T, "--dataset", "cifar", "--out", "t.nc"), words="dataset", final="t.nc"),
    Row("train: NaN --adversary-weight", (*T, "--adversary-weight", "nan", "--out", "t.nc"), words="finite number",
        final="t.nc"),
    Row("train: missing IDX folder", (*T_DATASET, "--dataset", "idx:nosuch", "--out", "t.nc"), words="nosuch", final="t.nc"),
    Row("train: truncated IDX file", (*T_DATASET, "--dataset", "idx:idx", "--out", "t.nc"), words="truncated", final="t.nc"),
    Row("train: --lr NaN", (*T, "--lr", "nan", "--out", "t.nc"), words="learning rate", final="t.nc"),
    Row("train: --lr negative", (*T, "--lr", "-1", "--out", "t.nc"), words="learning rate", final="t.nc"),
    Row("train: --steps zero", (*T, "--steps", "0", "--out", "t.nc"), words="steps", final="t.nc"),
    Row("train: --samples zero", (*T, "--samples", "0", "--out", "t.nc"), words="samples", final="t.nc"),
    Row("train: output exists", (*T, "--out", "good.nc"), words="--overwrite"),
    Row("train: output folder missing", (*T, "--out", "missing/t.nc"), words="does not exist", final="missing/t.nc"),
    Row("stability: --box whose species' mixed axis is oriented differently",
        ("stability", "--model", "schnakenberg", "--box", "20", "--boundary", "u.x-=dirichlet 1", "--boundary",
         "u.x+=no-flux", "--boundary", "v.x-=no-flux", "--boundary", "v.x+=dirichlet 0.9"),
        words="different kinds of condition along x"),
    Row("noise amplitude not finite at t = 0", (*S, "--noise", "u=log(t)", "--out", "x.nc"),
        words="not finite at t = 0"),
    Row("rk45 float32 with rtol below float32 rounding",
        (*S[:3], "--time", "1", "--integrator", "rk45", "--dtype", "float32", "--rtol", "1e-9", "--out", "x.nc"),
        words="below what float32 can resolve", final="x.nc"),
    Row("train: --resume a text file", ("train", "--resume", "notes.txt"), words="partial"),
    # gan-dynamics
    Row("gan-dynamics: negative noise", (*G, "--noise", "-1", "--out", "g.nc"), words="noise", final="g.nc"),
    Row("gan-dynamics: zero dim", (*G, "--dim", "0", "--out", "g.nc"), words="dim", final="g.nc"),
    Row("gan-dynamics: malformed --lambda", (*G, "--lambda", "a,b", "--out", "g.nc"), words="lambda", final="g.nc"),
    Row("gan-dynamics: NaN --lambda", (*G, "--lambda", "nan", "--out", "g.nc"), words="finite", final="g.nc"),
    Row("gan-dynamics: features vs lambda", (*G, "-d", "3", "--lambda", "1,2", "--out", "g.nc"), words="--lambda",
        final="g.nc"),
    Row("gan-dynamics: output exists", (*G, "--out", "good.nc"), words="--overwrite"),
    # readers: analyze / compare / info
    Row("analyze: text file", ("analyze", "notes.txt"), words="not a NetCDF file"),
    Row("analyze: empty file", ("analyze", "empty.nc"), words="empty"),
    Row("analyze: HDF5 file that is not NetCDF", ("analyze", "plain.h5"), words="no spatial field"),
    Row("analyze: NetCDF without spatial dims", ("analyze", "nospatial.nc"), words="no spatial field"),
    Row("analyze: truncated NetCDF", ("analyze", "truncated.nc"), words="cannot read"),
    Row("analyze: missing file", ("analyze", "missing.nc"), words="no such file"),
    Row("analyze: unknown variable", ("analyze", "good.nc", "--var", "nosuch"), words="nosuch"),
    Row("analyze: snapshot out of range", ("analyze", "good.nc", "--time", "99"), words="out of range"),
    Row("analyze: non-uniform x", ("analyze", "nonuniform.nc"), words="uniformly spaced"),
    Row("analyze: time not the first dim", ("analyze", "time-not-first.nc"), words="first dim"),
    Row("analyze: parameters not JSON", ("analyze", "bad-parameters.nc"), words="JSON"),
    Row("analyze: huge declared coordinate", ("analyze", "huge.nc"), words="declares"),
    Row("analyze: corrupt data chunk", ("analyze", "corrupt-chunk.nc"), words="corrupt-chunk.nc"),
    Row("analyze: 1 x 1 grid", ("analyze", "one-cell.nc"), words="at least 2 points"),
    Row("analyze: --out exists", ("analyze", "good.nc", "--out", "good.nc"), words="--overwrite"),
    Row("compare: one file not NetCDF", ("compare", "good.nc", "notes.txt"), words="not a NetCDF file"),
    Row("compare: bad figure suffix", ("compare", "good.nc", "good.nc", "--out", "x.txt"), words=".png",
        final="x.txt"),
    Row("compare: --json with --csv", ("compare", "good.nc", "good.nc", "--json", "--csv"), words="exclusive"),
    Row("compare: 1 x 1 grid", ("compare", "good.nc", "one-cell.nc"), words="one-cell.nc"),
    Row("compare: corrupt data chunk", ("compare", "good.nc", "corrupt-chunk.nc"), words="corrupt-chunk.nc"),
    Row("info: text file", ("info", "notes.txt"), words="not a NetCDF file"),
    # an empty value is a value: refused, never read as the option left out
    Row("stability: empty --preset", ("stability", "--preset", ""), words="unknown preset ''"),
    Row("stability: empty --critical", ("stability", "--critical", "", "--bracket", "0", "1"), words="no parameter ''"),
    Row("stability: empty --plot", ("stability", "--plot", ""), words="unsupported image type"),
    Row("animate: empty --var", ("animate", "good.nc", "--var", "", "--out", "m.gif"), words="no variable ''",
        final="m.gif"),
    Row("analyze: empty --out", ("analyze", "good.nc", "--out", "", "--surrogates", "0"), words="folder"),
    Row("models: empty NAME", ("models", ""), words="unknown model ''"),
    Row("models: empty --model-file", ("models", "--model-file", ""), words="is a folder"),
    Row("analyze: a line break in the file name", ("analyze", "a\nb.nc"), words="no such file: a\\nb.nc"),
    Row("compare: a line break in --var", ("compare", "good.nc", "good.nc", "--var", "u\nv"), words="'u\\nv'"),
    # outputs: an existing file needs --overwrite; an input is never an output
    Row("analyze: --out is its input, with --overwrite", ("analyze", "good.nc", "--out", "good.nc", "--overwrite"),
        words="is the input file"),
    Row("compare: --out exists", ("compare", "good.nc", "good.nc", "--out", "figure.png"), words="--overwrite"),
    Row("compare: --table exists", ("compare", "good.nc", "good.nc", "--table", "metrics.csv"), words="--overwrite"),
    Row("plot: --out exists", ("plot", "good.nc", "--out", "figure.png"), words="--overwrite"),
    Row("animate: --out exists", ("animate", "good.nc", "--out", "movie.gif"), words="--overwrite"),
    Row("plot: --time on a file without time", ("plot", "one-cell.nc", "--time", "4", "--out", "x.png"),
        words="no time dimension", final="x.png"),
    # click's own usage errors: one line too
    Row("compare: --time not a number", ("compare", "good.nc", "good.nc", "--time", "x"), words="not a valid integer"),
    Row("plot: --out missing", ("plot", "good.nc"), words="Missing option '--out'"),
    Row("analyze: --surrogates negative", ("analyze", "good.nc", "--surrogates", "-1"), words="--surrogates"),
    Row("stability: a model file with a huge power", ("stability", "--model-file", "huge-power.toml"),
        words="the constant exponent 1.15292e+18 is too large"),
    Row("models: a model file with a negative diffusion", ("models", "--model-file", "negative-diffusion.toml"),
        words="diffusion coefficient of u (-Du) must be >= 0"),
    # fit
    Row("fit: a model file with noise", ("fit", "--model-file", "noisy-model.toml", "--params", "b", "--target",
                                         "good.nc:u", "--out", "f.nc"), words="[noise] table", final="f.nc"),
    Row("fit: empty --initial", ("fit", "--model", "schnakenberg", "--params", "b", "--target", "good.nc:u", "--initial",
                                 "", "--out", "f.nc"), words="not ''", final="f.nc"),
    Row("fit: a parameter nothing uses", ("fit", "--model-file", "unused-parameter.toml", "--params", "z0",
                                          "--target", "good.nc:u", "--out", "f.nc"),
        words="z0 appears in none of schnakenberg's reaction, diffusion or initial expressions", final="f.nc"),
    # demo
    Row("demo: empty --out", ("demo", "--quick", "--quiet", "--out", ""), words="give the demo's folder a name"),
    Row("demo: negative --seed", ("demo", "--quick", "--quiet", "--seed", "-1", "--out", "d"), words="--seed must be",
        final="d"),
    # sweep
    Row("sweep: --grid not a number", ("sweep", "simulate", "--grid", "F=abc", "--out", "sw"), words="not a number"),
    Row("sweep: --grid COUNT 1", ("sweep", "simulate", "--grid", "F=0.1:0.2:1", "--out", "sw"), words="COUNT"),
    Row("sweep: --grid malformed", ("sweep", "simulate", "--grid", "nosuch", "--out", "sw"), words="NAME="),
    Row("sweep: --grid repeated value", ("sweep", "simulate", "--grid", "F=0.01,0.01", "--out", "sw"),
        words="repeated"),
    Row("sweep: --out parent missing", ("sweep", "simulate", "--grid", "seed=0:2", "--out", "missing/sw"),
        words="does not exist", final="missing/sw"),
    Row("sweep: --workers with --scheduler",
        ("sweep", "simulate", "--grid", "seed=0:2", "--workers", "1", "--scheduler", "tcp://127.0.0.1:1", "--out", "sw"),
        words="cannot go with"),
    Row("sweep: empty --scheduler", ("sweep", "simulate", "--grid", "seed=0:2", "--scheduler", "", "--out", "sw"),
        words="Dask scheduler '': cannot connect"),
    Row("sweep: --scheduler without a port", ("sweep", "simulate", "--grid", "seed=0:2", "--scheduler", "tcp://nosuch",
                                              "--out", "sw"), words="cannot connect"),
    Row("sweep: empty --out", ("sweep", "simulate", "--grid", "seed=0:2", "--size", "16", "--steps", "20", "--out", ""),
        words="give the sweep's folder a name"),
    Row("sweep: --out is a file", ("sweep", "simulate", "--grid", "seed=0:2", "--out", "notes.txt"), words="file"),
    Row("train: --snapshot-every zero", (*T, "--snapshot-every", "0", "--out", "t.nc"), words="--snapshot-every",
        final="t.nc"),
    Row("train: --threads 10**12", (*T, "--threads", str(10**12), "--out", "t.nc"), words="CPUs of this machine",
        final="t.nc"),
    Row("train: --threads beyond the CPUs", (*T, "--threads", str((os.cpu_count() or 1) + 1), "--out", "t.nc"),
        words="CPUs of this machine", final="t.nc"),
    Row("stability --network: --out and --plot the same file", ("stability", "--network", "good.nc", "--out", "m.png",
                                                               "--plot", "m.png"), words="name the same file", final="m.png"),
    Row("stability --network: --threads 10**12", ("stability", "--network", "good.nc", "--threads", str(10**12)),
        words="CPUs of this machine"),
    Row("train: --batch-size with gd", (*T, "--batch-size", "4", "--out", "t.nc"), words="applies only to",
        final="t.nc"),
    Row("train: generator diverges", (*T, "--lr", "1e4", "--out", "t.nc"), exit_code=1,
        words="partial file kept", final="t.nc"),
    Row("train: critic diverges", (*T, "--adversary", "--critic-optimizer", "gd", "--critic-lr", "1", "--out", "t.nc"),
        exit_code=1, words="--critic-lr", final="t.nc"),
    Row("train: an earlier run's partial file", (*T, "--out", "bad-flag.nc"), words="to start afresh",
        final="bad-flag.nc"),
]


def _python_rows() -> list[tuple[str, Callable[[Path], object], type, str]]:
    """(label, call, exception type, words) of the Python API rows."""
    from rd_classic import simulate
    from rdnet.analysis import dominant_wavelength, morans_i
    from rdnet.dataset import StreamingWriter, VariableSpec, open_dataset, write_dataset
    from rdnet.errors import ConfigError, DatasetError

    def writer(path, **overrides):
        arguments = dict(
            system="classic", model="m", parameters={"seed": 0}, coords={"y": (np.arange(2.0), {}), "x": (np.arange(2.0), {})},
            variables={"u": VariableSpec(("time", "y", "x"), "u", "1")},
        )  # fmt: skip
        arguments.update(overrides)
        return StreamingWriter(path, **arguments)

    def tiny():
        import xarray as xr

        return xr.Dataset({"u": (("y", "x"), np.ones((2, 2)))}, coords={"y": [0.0, 1.0], "x": [0.0, 1.0]})

    def resume_past_end(folder):
        w = writer(folder / "r.nc")
        w.append(0.0, {"u": np.zeros((2, 2))})
        return StreamingWriter.resume(w.abort(), records=5)

    return [
        ("open_dataset: text file", lambda f: open_dataset(f / "notes.txt"), DatasetError, "not a NetCDF file"),
        ("open_dataset: a folder", lambda f: open_dataset(f / "idx"), DatasetError, "folder"),
        ("open_dataset: missing file", lambda f: open_dataset(f / "missing.nc"), DatasetError, "no such file"),
        ("open_dataset: HDF5, not NetCDF", lambda f: open_dataset(f / "plain.h5"), DatasetError, "no spatial field"),
        ("open_dataset: huge declared coordinate", lambda f: open_dataset(f / "huge.nc"), DatasetError, "declares"),
        ("open_dataset: partial file whose flag has no time dim", lambda f: open_dataset(f / "bad-flag.nc.partial"),
         DatasetError, "snapshot_complete"),
        ("open_dataset: non-uniform coordinate", lambda f: open_dataset(f / "nonuniform.nc"), DatasetError, "uniformly"),
        ("StreamingWriter: NaN parameter", lambda f: writer(f / "w.nc", parameters={"F": float("nan")}), ConfigError,
         "not finite"),
        ("StreamingWriter: existing output", lambda f: writer(f / "good.nc"), ConfigError, "--overwrite"),
        ("StreamingWriter: missing folder", lambda f: writer(f / "missing" / "w.nc"), ConfigError, "does not exist"),
        ("StreamingWriter.resume: not a .partial", lambda f: StreamingWriter.resume(f / "good.nc"), DatasetError,
         "partial"),
        ("StreamingWriter.resume: past the last snapshot", resume_past_end, DatasetError, "complete snapshots"),
        ("write_dataset: existing output", lambda f: write_dataset(tiny(), f / "good.nc", system="classic", model="m",
                                                                   parameters={}), ConfigError, "--overwrite"),
        # was a ZeroDivisionError from inside numpy.fft
        ("dominant_wavelength: a (0, 8) field", lambda f: dominant_wavelength(np.zeros((0, 8))), ValueError,
         "empty along y"),
        # "no" is truthy: was measured as periodic without a word
        ("morans_i: periodic='no'", lambda f: morans_i(np.eye(8), periodic="no"), TypeError,
         "periodic must be True or False"),
        # "no" is truthy: accepted a dt beyond the stability limit
        ("rd_classic.simulate: allow_unstable='no'", lambda f: simulate(model="linear", size=8, steps=2, dt=10.0,
                                                                         allow_unstable="no"),
         ConfigError, "allow_unstable must be True or False"),
        ("rd_classic.simulate: param not a mapping", lambda f: simulate(model="linear", size=8, steps=2, param=3),
         ConfigError, "parameters must map names to values"),
        # "no" is truthy: replaced the existing file
        ("write_dataset: overwrite='no'", lambda f: write_dataset(tiny(), f / "good.nc", system="classic", model="m",
                                                                  parameters={}, overwrite="no"),
         ConfigError, "overwrite must be True or False"),
        ("write_dataset: a DataArray", lambda f: write_dataset(tiny()["u"], f / "w.nc", system="classic", model="m",
                                                               parameters={}), TypeError, "expected an xarray.Dataset"),
        ("write_dataset: parameters not a mapping", lambda f: write_dataset(tiny(), f / "w.nc", system="classic",
                                                                            model="m", parameters=3),
         ConfigError, "parameters must map names to values"),
        ("write_dataset: output path not a path", lambda f: write_dataset(tiny(), 3, system="classic", model="m",
                                                                          parameters={}),
         ConfigError, "output path must be a str or os.PathLike"),
        ("open_dataset: not a path", lambda f: open_dataset(3), TypeError, "needs a file name"),
    ]  # fmt: skip


# ----------------------------------------------------------------------------- the tests


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("inputs")
    make_inputs(folder)
    yield folder
    (folder / "readonly").chmod(0o755)


@pytest.fixture
def workdir_with_inputs(inputs, tmp_path) -> Path:
    """A fresh copy of the input files, so no row sees another row's leftovers."""
    folder = tmp_path / "run"
    shutil.copytree(inputs, folder)
    (folder / "readonly").chmod(0o555)
    yield folder
    (folder / "readonly").chmod(0o755)


def _cli_param(row: Row):
    marks = list(row.marks)
    if not command_available(row.command):
        marks.append(pytest.mark.xfail(strict=False, reason=f"rdnet {row.command} not yet available"))
    if row.needs_root_bypass and hasattr(os, "geteuid") and os.geteuid() == 0:
        marks.append(pytest.mark.skip(reason="root writes into read-only folders; run as a normal user"))
    return pytest.param(row, id=row.label, marks=marks)


@pytest.mark.parametrize("row", [_cli_param(row) for row in CLI_ROWS])
def test_cli_bad_input(row: Row, workdir_with_inputs: Path):
    outcome = invoke_rdnet(list(row.arguments), cwd=workdir_with_inputs)
    finals = [workdir_with_inputs / row.final] if row.final else []
    assert_clean_failure(outcome, exit_code=row.exit_code, final_paths=finals)
    assert row.words in outcome.error_lines[0], outcome.describe()


@pytest.mark.parametrize("index", range(len(_python_rows())), ids=[row[0] for row in _python_rows()])
def test_python_bad_input(index: int, workdir_with_inputs: Path):
    label, call, error_type, words = _python_rows()[index]
    with pytest.raises(error_type) as caught:
        call(workdir_with_inputs)
    message = str(caught.value)
    assert words in message and "\n" not in message, f"{label}: {message!r}"
    assert not list(workdir_with_inputs.glob("w.nc*")), f"{label}: left a file behind"


def test_table_is_large_enough():
    assert len(CLI_ROWS) + len(_python_rows()) >= 30
    assert len({row.label for row in CLI_ROWS}) == len(CLI_ROWS)


# ----------------------------------------------------------------------------- docs table


def markdown_table(folder: Path) -> str:
    """Run every row and format what was observed (for docs/reliability.md)."""
    lines = ["| # | Input | Command | Observed message | Exit |", "|---|---|---|---|---|"]
    for number, row in enumerate(CLI_ROWS, 1):
        run_folder = folder / f"row{number}"
        shutil.copytree(folder / "inputs", run_folder)
        try:
            outcome = invoke_rdnet(list(row.arguments), cwd=run_folder)
            message = outcome.error_lines[0] if outcome.error_lines else "(no error line)"
            code = str(outcome.exit_code)
        except AssertionError as error:
            message, code = f"TRACEBACK: {str(error).split(': ', 1)[-1][:160]}", "1"
        command = "rdnet " + " ".join(row.arguments)
        message = message.replace(f"{run_folder}/", "").replace("|", "/")
        lines.append(f"| {number} | {row.label} | `{command}` | {message} | {code} |")
    for number, (label, call, error_type, _) in enumerate(_python_rows(), len(CLI_ROWS) + 1):
        run_folder = folder / f"py{number}"
        shutil.copytree(folder / "inputs", run_folder)
        try:
            call(run_folder)
            message = "(no error)"
        except Exception as error:  # noqa: BLE001 - reporting what happened
            message = f"{type(error).__name__}: {error}"
        message = message.replace(f"{run_folder}/", "").replace("|", "/")
        lines.append(f"| {number} | {label} | Python API | {message} | - |")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    import tempfile

    with tempfile.TemporaryDirectory() as temporary:
        base = Path(temporary)
        (base / "inputs").mkdir()
        make_inputs(base / "inputs")
        print(markdown_table(base))
        (base / "inputs" / "readonly").chmod(0o755)
        sys.exit(0)
