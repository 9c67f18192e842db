"""3-D runs, parameters that vary in space, initial conditions beyond the presets, time-dependent reactions."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

import rdnet
from rdnet.cli.main import cli
from rdnet.errors import ConfigError
from rd_classic.grids import Grid, parse_size
from rd_classic.models import get_model
from rd_classic.run import MemoryObserver, build_config, run_simulation


def test_sizes_parse_to_stored_shapes():
    assert parse_size("64x32x16") == (16, 32, 64)  # nx x ny x nz -> (nz, ny, nx)
    assert parse_size("64x32x1") == (32, 64)  # one layer is a 2-D grid
    assert parse_size("512x1") == (1, 512)
    with pytest.raises(ConfigError, match="at least 3 cells along each axis"):
        Grid((2, 8, 8), 1.0)


def test_3d_run_writes_time_z_y_x_with_physical_coordinates(tmp_path):
    out = tmp_path / "cube.nc"
    result = CliRunner().invoke(cli, ["simulate", "--model", "brusselator", "--size", "8x6x5", "--dx", "0.5",
                                      "--steps", "10", "--snapshot-every", "5", "--quiet", "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    ds = rdnet.open_dataset(out)
    assert ds["u"].dims == ("time", "z", "y", "x") and ds.sizes == {"time": 3, "z": 5, "y": 6, "x": 8}
    np.testing.assert_allclose(ds["z"].values, (np.arange(5) + 0.5) * 0.5)
    assert "axis" not in ds["z"].attrs and ds["z"].attrs["units"]  # CF tools take axis Z for a vertical coordinate
    assert json.loads(ds.attrs["parameters"])["size"] == [5, 6, 8]


def test_3d_pure_diffusion_decays_at_the_7_point_laplacian_eigenvalue():
    # a mode cos(qx x) cos(qy y) cos(qz z) is an eigenvector of the 7-point Laplacian with eigenvalue
    # -(4/dx^2) (sin^2(qx dx/2) + sin^2(qy dx/2) + sin^2(qz dx/2)); Euler multiplies it by 1 + dt D mu per step
    grid = Grid((6, 8, 10), 1.0)
    values = grid.expression_values()
    q = [2 * np.pi / length for length in (values["Lx"], values["Ly"], values["Lz"])]
    mode = np.cos(q[0] * values["x"]) * np.cos(q[1] * values["y"]) * np.cos(q[2] * values["z"])
    mu = -4 * sum(np.sin(qi / 2) ** 2 for qi in q)
    model = get_model("linear", Du=0.2, Dv=0.1)
    for backend in ("numba", "torch"):
        from rd_classic.integrators import make_stepper

        stepper = make_stepper(model, grid, dt=0.5, backend=backend)
        stepper.set_state(mode, mode)
        stepper.advance(20)
        u, v = stepper.get_state()
        np.testing.assert_allclose(u, mode * (1 + 0.5 * 0.2 * mu) ** 20, atol=1e-13)
        np.testing.assert_allclose(v, mode * (1 + 0.5 * 0.1 * mu) ** 20, atol=1e-13)


# -- parameters that vary in space ------------------------------------------------------------------


def test_a_parameter_expression_in_x_is_used_cell_by_cell(tmp_path):
    # linear reaction u' = a u with a = -x/Lx (no diffusion): every cell decays at its own rate
    config = build_config("linear", parameters={"a": "-x/Lx", "Du": 0.0, "Dv": 0.0}, size="16x4", steps=10,
                          snapshot_every=10, dt=0.1, initial_condition="noise")  # fmt: skip
    memory = MemoryObserver()
    run_simulation(config, observers=[memory])
    x = config.grid.coordinates()[1]
    rate = -x / config.grid.lengths[1]
    u0, u1 = memory.fields["u"]
    np.testing.assert_allclose(u1, u0 * (1 + 0.1 * rate[None, :]) ** 10, rtol=1e-12)
    np.testing.assert_allclose(memory.fields["reaction_u"][-1], rate[None, :] * u1, rtol=1e-12)
    assert config.to_parameters()["parameter_fields"] == {"a": "-x/Lx"}


def test_a_parameter_field_read_from_netcdf_is_stored_and_resumed(tmp_path):
    import xarray as xr

    from rd_classic.observers import ClassicDatasetObserver, load_resume_point
    from rd_classic.run import SimulationInterrupted

    ramp = np.linspace(0.02, 0.05, 12)[None, :] * np.ones((10, 1))
    coordinates = {"y": np.arange(10) + 0.5, "x": np.arange(12) + 0.5}  # the convention's minimum
    xr.Dataset({"F": (("y", "x"), ramp)}, coords=coordinates).to_netcdf(tmp_path / "ramp.nc")
    options = dict(parameters={"F": f"@{tmp_path / 'ramp.nc'}:F", "Du": 0.16, "Dv": 0.08}, size="12x10", dx=1.0,
                   steps=30, snapshot_every=10, initial_condition="pearson")  # fmt: skip
    config = build_config("gray-scott", **options)
    np.testing.assert_array_equal(config.parameter_fields["F"].values, ramp)
    whole = tmp_path / "whole.nc"
    run_simulation(config, observers=[ClassicDatasetObserver(whole)])
    np.testing.assert_array_equal(rdnet.open_dataset(whole)["parameter_F"].values, ramp)

    class Stop:
        def snapshot(self, step, time, fields):
            if step == 10:
                raise KeyboardInterrupt

    cut = tmp_path / "cut.nc"
    with pytest.raises(SimulationInterrupted):
        run_simulation(config, observers=[ClassicDatasetObserver(cut), Stop()])
    (tmp_path / "ramp.nc").unlink()  # the partial file keeps the field
    resumed, state, step = load_resume_point(f"{cut}.partial")
    run_simulation(resumed, observers=[ClassicDatasetObserver(resume_from=f"{cut}.partial")], state=state, start_step=step)
    np.testing.assert_array_equal(rdnet.open_dataset(whole)["v"].values, rdnet.open_dataset(cut)["v"].values)


@pytest.mark.parametrize(
    "value,message",
    [
        ("abc", "needs a number"),
        ("x +", "cannot parse"),
        ("__import__('os')", "calls to '__import__'"),
        ("-0.01 + 0*x", "gray-scott needs F >= 0"),
        ("@nosuch.nc:F", "file not found"),
        ("@nosuch.nc", "@FILE.nc:VARIABLE"),
    ],
)
def test_bad_parameter_fields_are_refused(value, message, tmp_path):
    with pytest.raises(ConfigError, match=message):
        build_config("gray-scott", parameters={"F": value}, size="16", steps=5)


def test_a_diffusion_parameter_cannot_vary_in_space():
    with pytest.raises(ConfigError, match="sets the diffusion coefficient of u and cannot vary in space"):
        build_config("gray-scott", parameters={"Du": "1e-5*(1 + x)"}, size="16", steps=5)


# -- initial conditions --------------------------------------------------------------------------


MODEL_WITH_INITIAL = """
name = "waves"
species = ["u", "v"]
[parameters]
a = 1.0
[diffusion]
u = 0.0
v = 0.0
[reaction]
u = "0*u"
v = "0*v"
[initial]
u = "1 + 0.1*sin(2*pi*x/Lx)*cos(2*pi*y/Ly)"
v = "a*exp(-((x - Lx/2)**2 + (y - Ly/2)**2))"
"""


def test_the_initial_table_is_evaluated_at_the_cell_centres(tmp_path):
    from rd_classic.models import load_model_file

    (tmp_path / "waves.toml").write_text(MODEL_WITH_INITIAL)
    declaration = load_model_file(tmp_path / "waves.toml")
    config = build_config(declaration, size="20x10", dx=0.5, steps=1, snapshot_every=1)
    assert config.initial_condition == "expr"  # a file with [initial] starts from it by default
    memory = MemoryObserver()
    run_simulation(config, observers=[memory])
    y, x = config.grid.coordinates()
    lx, ly = 10.0, 5.0
    np.testing.assert_allclose(memory.fields["u"][0], 1 + 0.1 * np.sin(2 * np.pi * x / lx)[None, :]
                               * np.cos(2 * np.pi * y / ly)[:, None], rtol=1e-15)  # fmt: skip
    np.testing.assert_allclose(memory.fields["v"][0], np.exp(-((x[None, :] - 5) ** 2 + (y[:, None] - 2.5) ** 2)),
                               rtol=1e-14)  # fmt: skip
    (tmp_path / "noisy.toml").write_text(MODEL_WITH_INITIAL + "noise = 0.01\n")
    config = build_config(load_model_file(tmp_path / "noisy.toml"), size="20x10", steps=1, seed=3)
    memory = MemoryObserver()
    run_simulation(config, observers=[memory])
    y, x = config.grid.coordinates()  # dx = 1: Lx = 20, Ly = 10
    rng = np.random.default_rng(3)
    expected_u = 1 + 0.1 * np.sin(2 * np.pi * x / 20)[None, :] * np.cos(2 * np.pi * y / 10)[:, None]
    np.testing.assert_allclose(memory.fields["u"][0], expected_u + 0.01 * rng.uniform(-1, 1, (10, 20)), rtol=1e-14)


def test_the_initial_table_reads_a_field_valued_parameter_cell_by_cell(tmp_path):
    # v = a*exp(...) with a = 1 + x/Lx given as a field: each cell's v is its own a times the bump
    # (it took a's scalar default 1 everywhere)
    from rd_classic.models import load_model_file

    (tmp_path / "waves.toml").write_text(MODEL_WITH_INITIAL)
    config = build_config(load_model_file(tmp_path / "waves.toml"), parameters={"a": "1 + x/Lx"}, size="12x6",
                          steps=1, snapshot_every=1)  # fmt: skip
    memory = MemoryObserver()
    run_simulation(config, observers=[memory])
    y, x = config.grid.coordinates()
    a = 1 + x / 12.0
    bump = np.exp(-((x[None, :] - 6) ** 2 + (y[:, None] - 3) ** 2))
    np.testing.assert_allclose(memory.fields["v"][0], a[None, :] * bump, rtol=1e-14)


def test_initial_from_a_dataset_and_from_an_image(tmp_path):
    from PIL import Image

    first = tmp_path / "first.nc"
    CliRunner().invoke(cli, ["simulate", "--model", "schnakenberg", "--size", "16x12", "--steps", "10", "--quiet",
                             "--out", str(first)])  # fmt: skip
    config = build_config("schnakenberg", size="16x12", steps=5, initial_condition=f"@{first}")
    memory = MemoryObserver()
    run_simulation(config, observers=[memory])
    last = rdnet.open_dataset(first)
    np.testing.assert_array_equal(memory.fields["u"][0], last["u"].values[-1])
    np.testing.assert_array_equal(memory.fields["v"][0], last["v"].values[-1])
    swapped = build_config("schnakenberg", size="16x12", steps=5, initial_condition=f"@{first}:v,u")
    memory = MemoryObserver()
    run_simulation(swapped, observers=[memory])
    np.testing.assert_array_equal(memory.fields["u"][0], last["v"].values[-1])
    # a 4 x 2 image, white top-left: resampled to 16 x 12 by nearest neighbour, flipped so that y points up
    pixels = np.zeros((2, 4), np.uint8)
    pixels[0, 0] = 255
    Image.fromarray(pixels).save(tmp_path / "mark.png")
    config = build_config("gray-scott", size="16x12", steps=5, initial_condition=f"@{tmp_path / 'mark.png'}")
    memory = MemoryObserver()
    run_simulation(config, observers=[memory])
    v0 = memory.fields["v"][0]
    assert v0[6:, :4].min() == pytest.approx(1.0) and v0[:6].max() == 0.0 and v0[:, 4:].max() == 0.0
    np.testing.assert_array_equal(memory.fields["u"][0], 1.0)  # the other species at the state (1, 0)


@pytest.mark.parametrize(
    "spec,message",
    [
        ("sunrise", "unknown initial condition 'sunrise'"),
        ("@", "give a file after @"),
        ("@x.nc:u", "name one variable per species"),
        ("@x.png:w", "'w' is not a species"),
        ("@missing.nc", "file not found"),
        ("expr", "needs an [initial] table"),
    ],
)
def test_bad_initial_conditions_are_refused(spec, message, tmp_path):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        config = build_config("gray-scott", size="16", steps=5, initial_condition=spec)
        run_simulation(config)


def test_pearson_needs_two_species():
    with pytest.raises(ConfigError, match="pearson initial condition is for two-species models"):
        build_config("extended-brusselator", size="16", steps=5, initial_condition="pearson")


def test_a_time_dependent_reaction_sees_the_stage_times():
    # u' = cos(t) (no diffusion): RK4 integrates the quadrature exactly to O(dt^4), so u(T) = sin(T)
    from rd_classic.integrators import make_stepper
    from rd_classic.model_file import parse_model_text

    declaration = parse_model_text('name = "clock"\nspecies = ["u"]\n[parameters]\n[diffusion]\nu = 0\n'
                                   '[reaction]\nu = "cos(t)"\n')  # fmt: skip
    model = get_model(declaration)
    errors = []
    for steps in (20, 40):
        for backend in ("numba", "torch"):
            stepper = make_stepper(model, Grid((1, 4), 1.0), dt=2.0 / steps, integrator="rk4", backend=backend)
            stepper.set_state(np.zeros((1, 4)))
            stepper.advance(steps)
            errors.append(np.abs(stepper.get_state()[0] - np.sin(2.0)).max())
    assert max(errors[:2]) < 1e-6 and max(errors[2:]) < max(errors[:2]) / 12  # fourth order


@pytest.mark.parametrize("reads", ["initial", "param", "model_file"])
def test_a_run_never_writes_over_a_file_it_reads_even_with_overwrite(tmp_path, reads):
    """--initial @run.nc --out run.nc --overwrite replaced the run it started from (rdnet analyze,
    plot, compare refuse this); so did a field's file and the model file itself."""
    import rd_classic
    from rdnet.errors import ConfigError

    source = tmp_path / "run.nc"
    rd_classic.simulate(model="linear", size=8, steps=1, param={"a": "0.1*x/Lx"}, out=source, quiet=True)
    model_file = tmp_path / "linear.toml"
    model_file.write_text(rd_classic.models.builtin_declaration("linear").text)
    options = {"initial": dict(model="linear", initial=f"@{source}", out=source),
               "param": dict(model="linear", param={"a": f"@{source}:parameter_a"}, out=source),
               "model_file": dict(model_file=model_file, out=model_file)}[reads]  # fmt: skip
    before = {path: path.read_bytes() for path in (source, model_file)}
    with pytest.raises(ConfigError, match="is the input file .*never writes over a file it reads"):
        rd_classic.simulate(size=8, steps=1, overwrite=True, quiet=True, **options)
    assert {path: path.read_bytes() for path in (source, model_file)} == before


def test_a_16_bit_grey_image_keeps_its_levels(tmp_path):
    # a 16-bit PNG (microscopy, scientific cameras) was converted to 8-bit RGB, which clips every level above
    # 255 of 65535 to white: a ramp 0 .. 65535 came out as 0 .. 1 only in its first 0.4 %
    from PIL import Image

    from rd_classic.field_files import read_grey_image

    levels = np.linspace(0, 65535, 8 * 8).round().astype(np.uint16).reshape(8, 8)
    Image.fromarray(levels).save(tmp_path / "ramp16.png")
    grey = read_grey_image(tmp_path / "ramp16.png", (8, 8), what="--initial")
    np.testing.assert_allclose(grey, np.flipud(levels) / 65535.0, rtol=0, atol=1e-12)
