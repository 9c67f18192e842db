"""Named parameter sets and initial conditions.

A :class:`Preset` fixes a model's parameters and a run set-up that shows its pattern
(grid spacing, duration, initial condition). Gray-Scott has Pearson's classes
(Pearson, Science 261:189, 1993, Fig. 3), at the representative (F, k) points of
R. Munafo's xmorphia catalogue (mrob.com/pub/comp/xmorphia/pearson-classes.html; its
lower-F example where it gives two, except beta and lambda: the higher-F one), with
one departure: zeta's k is 0.060, not 0.061, because Pearson's single seed square dies
at the catalogue point; plus two popular named points. Every other model has a
Turing-unstable ``default``. See ``docs/classic.md`` for the table and the reasons.

Initial conditions (:data:`INITIAL_CONDITIONS`):

``pearson``
    ``u = 1, v = 0`` with a central square of 20 × 20 cells (at most half the grid
    side) at ``u = 1/2, v = 1/4``, then uniform noise of ±1 % (Pearson 1993: "a
    20 by 20 mesh point area located symmetrically about the center of the grid").
``noise``
    The model's homogeneous state plus uniform noise of ±1 % of its magnitude (±0.01
    where a species is 0): seeds a Turing instability from all wavenumbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rdnet.errors import ConfigError

from rd_classic.models import MODELS, ReactionDiffusionModel

__all__ = ["Preset", "PRESETS", "get_preset", "preset_names", "default_preset", "INITIAL_CONDITIONS", "initial_state"]

#: initial condition names
INITIAL_CONDITIONS = ("pearson", "noise")
#: side of Pearson's initial square, in cells
PEARSON_SEED_CELLS = 20


@dataclass(frozen=True)
class Preset:
    """A named run set-up for one model.

    Parameters
    ----------
    name, model
        Preset and model names.
    parameters
        Model parameters that differ from the model's defaults.
    description, source
        What the pattern looks like, and where the values come from.
    dx, dt
        Grid spacing, and the time step (``None``: 80 % of the explicit stability limit).
    time
        Duration that shows the pattern forming on the default 256² grid.
    initial_condition
        One of :data:`INITIAL_CONDITIONS`.
    """

    name: str
    model: str
    parameters: dict[str, float] = field(default_factory=dict)
    description: str = ""
    source: str = ""
    dx: float = 1.0
    dt: float | None = None
    time: float = 100.0
    initial_condition: str = "noise"


_PEARSON = "Pearson 1993 (Science 261:189) Fig. 3 class; (F, k) from Munafo's xmorphia catalogue"
_PEARSON_SETUP = dict(model="gray-scott", dx=2.5 / 256, dt=1.0, time=10000.0, initial_condition="pearson")


_ZETA = (
    "Pearson 1993 Fig. 3 class zeta; Munafo's catalogue point (0.022, 0.061) with k lowered by 0.001: there "
    "Pearson's single seed square pulsates and dies by t ~ 700 (any seed size, Euler or RK4, dx = 2.5/256 or "
    "1/143); at k = 0.060 it forms zeta's pulsating spots with local die-outs"
)


def _pearson(name: str, F: float, k: float, description: str, source: str = _PEARSON) -> Preset:
    return Preset(name=name, parameters={"F": F, "k": k}, description=description, source=source, **_PEARSON_SETUP)


_ALL = [
    _pearson("alpha", 0.010, 0.047, "chaotic spots and waves"),
    _pearson("beta", 0.026, 0.051, "chaotic, negative spots"),
    _pearson("gamma", 0.022, 0.051, "stripes and fluctuating spots"),
    _pearson("delta", 0.030, 0.055, "hexagonal spots and stripes"),
    _pearson("epsilon", 0.018, 0.055, "chaotic spots"),
    _pearson("zeta", 0.022, 0.060, "pulsating spots with local die-outs", _ZETA),
    _pearson("eta", 0.034, 0.063, "worms and loops"),
    _pearson("theta", 0.030, 0.057, "stripes (labyrinth)"),
    _pearson("iota", 0.046, 0.0594, "negative stripes"),
    _pearson("kappa", 0.050, 0.063, "worms (stripes growing from the square)"),
    _pearson("lambda", 0.034, 0.065, "stable spots that divide"),
    _pearson("mu", 0.046, 0.065, "worms and spots"),
    Preset(name="mitosis", parameters={"F": 0.0367, "k": 0.0649},
           description="self-replicating spots (Pearson's lambda region); the default",
           source="K. Sims, 'Reaction-Diffusion Tutorial' (karlsims.com/rd.html)", **_PEARSON_SETUP),  # fmt: skip
    Preset(name="coral", parameters={"F": 0.0545, "k": 0.062}, description="coral-like growing stripes",
           source="K. Sims, 'Reaction-Diffusion Tutorial' (karlsims.com/rd.html)", **_PEARSON_SETUP),  # fmt: skip
    Preset(name="default", model="schnakenberg", description="spots (Turing unstable, fastest wavelength 12.9)",
           source="Murray, Mathematical Biology II, §2.4 (a=0.1, b=0.9, d=20)", dx=1.0, time=100.0),
    Preset(name="default", model="gierer-meinhardt", description="spots (Turing unstable, fastest wavelength 14.9)",
           source="Murray, Mathematical Biology II, §2.4", dx=1.0, time=100.0),
    Preset(name="default", model="brusselator", description="spots/stripes (Turing unstable, fastest wavelength 6.7)",
           source="Turing condition b > (1 + a sqrt(Du/Dv))^2, Hopf stable b < 1 + a^2", dx=0.5, time=50.0),
    Preset(name="default", model="fitzhugh-nagumo", description="labyrinth stripes (fastest wavelength 12.1)",
           source="VisualPDE FitzHugh-Nagumo Turing example (form)", dx=1.0, time=100.0),
    Preset(name="default", model="linear", description="pure diffusion of noise", source="test problem",
           dx=1.0, time=10.0),
]

#: (model, preset name) -> Preset
PRESETS: dict[tuple[str, str], Preset] = {(preset.model, preset.name): preset for preset in _ALL}
#: the preset used when none is named
DEFAULT_PRESETS = {"gray-scott": "mitosis"} | {name: "default" for name in MODELS if name != "gray-scott"}


def preset_names(model: str) -> list[str]:
    """Names of the presets of a model."""
    return [name for (owner, name) in PRESETS if owner == model]


def get_preset(model: str, name: str) -> Preset:
    """Look up a preset; :class:`ConfigError` lists the model's presets if unknown."""
    if model not in MODELS:
        raise ConfigError(f"unknown model {model!r}; valid models: {', '.join(sorted(MODELS))}")
    try:
        return PRESETS[(model, name)]
    except KeyError:
        raise ConfigError(f"unknown preset {name!r} for {model}; valid presets: {', '.join(preset_names(model))}") from None


def default_preset(model: str) -> Preset:
    """The preset used for ``model`` when none is named."""
    return get_preset(model, DEFAULT_PRESETS.get(model, "default"))


def initial_state(
    name: str, model: ReactionDiffusionModel, shape: tuple[int, int], *, seed: int, noise: float = 0.01
) -> tuple[np.ndarray, np.ndarray]:
    """Build an initial condition (float64 arrays of ``shape``).

    Parameters
    ----------
    name
        One of :data:`INITIAL_CONDITIONS`.
    model
        The model (its homogeneous state is used by ``noise``).
    shape
        ``(ny, nx)``.
    seed
        Seed of the noise (``numpy.random.default_rng``).
    noise
        Relative noise amplitude.
    """
    rng = np.random.default_rng(seed)
    ny, nx = shape
    if name == "pearson":
        u = np.ones(shape)
        v = np.zeros(shape)
        # Pearson's 20 x 20 mesh points (so the seed keeps its physical size at the
        # preset's dx on any grid), at most half the side on small grids
        side_x = max(2, min(PEARSON_SEED_CELLS, nx // 2))
        side_y = max(1, min(PEARSON_SEED_CELLS, ny // 2)) if ny > 1 else 1
        y0, x0 = (ny - side_y) // 2, (nx - side_x) // 2
        u[y0 : y0 + side_y, x0 : x0 + side_x] = 0.5
        v[y0 : y0 + side_y, x0 : x0 + side_x] = 0.25
        u += noise * rng.uniform(-1.0, 1.0, shape) * u
        v += noise * rng.uniform(-1.0, 1.0, shape) * np.where(v > 0, v, 1.0)
        np.clip(v, 0.0, None, out=v)
        return u, v
    if name == "noise":
        u_star, v_star = model.homogeneous_state()
        scale_u = abs(u_star) if u_star != 0 else 1.0
        scale_v = abs(v_star) if v_star != 0 else 1.0
        u = u_star + noise * scale_u * rng.uniform(-1.0, 1.0, shape)
        v = v_star + noise * scale_v * rng.uniform(-1.0, 1.0, shape)
        return u, v
    raise ConfigError(f"unknown initial condition {name!r}; valid: {', '.join(INITIAL_CONDITIONS)}")
