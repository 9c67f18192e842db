"""The stability analysis of a network run's file: spectra at its snapshots, modes on the grid, the Turing reading.

:func:`analyse_network_run` rebuilds the chosen snapshots of a run (:mod:`rdnet.prd.snapshots`),
computes the leading spectrum of each asked-for Jacobian (:mod:`rdnet.prd.stability`), draws
every leading eigenvector on the neuron grid with its dominant wavelength and surrogate p-value,
and measures the pattern the run actually formed there (``displacement_u``) with the same
functions. :func:`modes_dataset` turns the result into an rdnet dataset (system
``prd-stability``) whose fields live on the run's neuron grid, so ``rdnet plot``, ``analyze``
and ``compare`` read it like any run.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from rdnet.errors import ConfigError
from rdnet.prd import stability
from rdnet.prd.stability import JACOBIANS, Spectrum

__all__ = ["SYSTEM", "JACOBIAN_SYMBOLS", "ModeSummary", "SnapshotStability", "NetworkStability",
           "analyse_network_run", "modes_dataset", "mode_variable"]

#: the ``system`` attribute of a modes dataset
SYSTEM = "prd-stability"
#: how the Jacobians are written in text and figures
JACOBIAN_SYMBOLS = {"reaction": "J_R", "frozen": "J_RD", "game": "J_game"}


@dataclass
class ModeSummary:
    """One leading eigenvector of one Jacobian at one snapshot.

    Attributes
    ----------
    rank : int
        1 for the eigenvalue of largest real part.
    eigenvalue : complex
    label : str
        ``unstable``, ``neutral`` or ``stable``.
    dominant_wavelength : float
        In grid cells (NaN for a mode that is the same on every neuron).
    surrogate_p_value : float
    critic_share : float
        Fraction of the mode's squared norm in the critic (game only).
    grid : ModeOnGrid
    """

    rank: int
    eigenvalue: complex
    label: str
    dominant_wavelength: float
    surrogate_p_value: float
    critic_share: float
    grid: stability.ModeOnGrid

    def to_dict(self) -> dict:
        """JSON-ready (no grid)."""
        return {
            "rank": self.rank,
            "eigenvalue": [float(self.eigenvalue.real), float(self.eigenvalue.imag)],
            "label": self.label,
            "dominant_wavelength": _finite_or_none(self.dominant_wavelength),
            "surrogate_p_value": _finite_or_none(self.surrogate_p_value),
            "critic_share": self.critic_share,
            "participation_neurons": self.grid.participation,
        }


@dataclass
class SnapshotStability:
    """The analysis of one snapshot.

    Attributes
    ----------
    index : int
        Snapshot index in the run's file.
    time : float
        Gradient-flow time t.
    spectra : dict
        Jacobian name to :class:`~rdnet.prd.stability.Spectrum`.
    modes : dict
        Jacobian name to its list of :class:`ModeSummary`, one per leading eigenvalue.
    reading : list of str
        The Turing reading (:func:`~rdnet.prd.stability.turing_reading`).
    pattern_wavelength, pattern_p_value : float
        Dominant wavelength and surrogate p-value of the run's ``displacement_u`` at this snapshot.
    """

    index: int
    time: float
    spectra: dict[str, Spectrum]
    modes: dict[str, list[ModeSummary]]
    reading: list[str]
    pattern_wavelength: float
    pattern_p_value: float

    def to_dict(self) -> dict:
        """JSON-ready: per Jacobian the spectrum's summary with its modes."""
        jacobians = {}
        for kind, spectrum in self.spectra.items():
            summary = spectrum.to_dict()
            summary["modes"] = [mode.to_dict() for mode in self.modes[kind]]
            jacobians[kind] = summary
        return {
            "snapshot": self.index,
            "time": self.time,
            "jacobians": jacobians,
            "turing_reading": self.reading,
            "pattern": {"variable": "displacement_u", "dominant_wavelength": _finite_or_none(self.pattern_wavelength),
                        "surrogate_p_value": _finite_or_none(self.pattern_p_value)},
        }


@dataclass
class NetworkStability:
    """The analysis of a run's snapshots.

    Attributes
    ----------
    path : str
    model : str
        ``supervised`` or ``adversarial``.
    critic_source : str
        ``none``, ``run`` (the snapshots' own critic) or ``trained N steps against the snapshot``.
    cells : (H, W) int array
    snapshots : list of SnapshotStability
    parameters : dict
        The settings of the analysis.
    """

    path: str
    model: str
    critic_source: str
    cells: np.ndarray
    snapshots: list[SnapshotStability] = field(default_factory=list)
    parameters: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """The JSON document of ``rdnet stability --network --json``."""
        return {
            "file": self.path,
            "model": self.model,
            "critic": self.critic_source,
            "settings": self.parameters,
            "snapshots": [snapshot.to_dict() for snapshot in self.snapshots],
        }


def _finite_or_none(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def analyse_network_run(
    path: str | os.PathLike,
    *,
    snapshots: int | str = -1,
    jacobians: Sequence[str] | str = "all",
    count: int = 6,
    rtol: float = stability.NEUTRAL_RTOL,
    accuracy: float = stability.EIGEN_ACCURACY,
    train_critic: int | None = None,
    n_surrogates: int = 99,
    seed: int = 0,
    progress: Callable[[str, int], None] | None = None,
) -> NetworkStability:
    """Linearise a network run at its snapshots and draw the leading modes on its neuron grid.

    Parameters
    ----------
    path : path
        A file written by ``rdnet train``.
    snapshots : int or "all"
        A snapshot index (negative counts from the end) or every snapshot.
    jacobians : sequence of str or "all"
        Any of :data:`~rdnet.prd.stability.JACOBIANS`; ``all`` takes those the run allows
        (a supervised run without ``train_critic``: ``reaction`` only).
    count : int
        Leading eigenvalues per Jacobian.
    rtol, accuracy : float
        See :func:`~rdnet.prd.stability.leading_spectrum`.
    train_critic : int, optional
        For a supervised run: train a WGAN-GP critic for this many updates against each
        snapshot's generator (from the initialisation an adversarial run of the same seed
        draws, with the run's critic settings), so the adversary can be switched on at the
        supervised state. Refused for an adversarial run (its snapshots carry their critic).
    n_surrogates, seed : int
        Of the surrogate test of each mode and of the formed pattern.
    progress : callable, optional
        ``progress(label, products)`` after each Jacobian–vector product.

    Returns
    -------
    NetworkStability

    Raises
    ------
    DatasetError
        The file is not a network run, or lacks what the asked-for Jacobians need.
    ConfigError
        An option that does not apply to this run.
    """
    from rdnet.prd.snapshots import open_network_run

    kinds = _jacobians(jacobians)
    with open_network_run(path) as run:
        if train_critic is not None and run.adversarial:
            raise ConfigError("--train-critic applies to a supervised run; an adversarial run's snapshots carry their own critic")
        if train_critic is not None and train_critic < 1:
            raise ConfigError(f"--train-critic must be at least 1 update, got {train_critic}")
        critic_available = run.adversarial or train_critic is not None
        if jacobians == "all":
            kinds = list(JACOBIANS) if critic_available else ["reaction"]
            if run.adversarial and not run.has_critic:
                kinds = ["reaction"]
        elif not critic_available and any(kind != "reaction" for kind in kinds):
            raise ConfigError(
                f"{run.path.name} is a supervised run: the {', '.join(k for k in kinds if k != 'reaction')} "
                "Jacobian needs a critic; add --train-critic STEPS to train one against the snapshot"
            )
        indices = list(range(run.count)) if snapshots == "all" else [run.snapshot_index(int(snapshots))]
        result = NetworkStability(
            path=str(path), model="adversarial" if run.adversarial else "supervised",
            critic_source=_critic_source(run.adversarial, train_critic, needs_critic=kinds != ["reaction"]),
            cells=run.cells,
            parameters={"jacobians": kinds, "eigenvalues": count, "rtol": rtol, "accuracy": accuracy,
                        "train_critic": train_critic, "surrogates": n_surrogates, "seed": seed},
        )  # fmt: skip
        initial_critic = run.initial_critic() if train_critic is not None and kinds != ["reaction"] else None
        for index in indices:
            state = run.state(index, with_critic=run.adversarial and kinds != ["reaction"])
            if initial_critic is not None:
                training = run.spec.training
                critic, preconditioner = stability.best_response_critic(
                    state, initial_critic, steps=train_critic, lr=training.critic_lr,
                    optimizer=training.critic_optimizer, betas=training.critic_betas, eps=training.adam_eps, seed=seed,
                )  # fmt: skip
                state = stability.with_critic(state, critic, preconditioner)
            spectra, modes = {}, {}
            for kind in kinds:
                label = f"{JACOBIAN_SYMBOLS[kind]} at snapshot {index}"
                report = None if progress is None else (lambda products, label=label: progress(label, products))
                spectrum = stability.leading_spectrum(state, kind, count=count, rtol=rtol, accuracy=accuracy,
                                                      seed=seed, progress=report)  # fmt: skip
                spectra[kind] = spectrum
                modes[kind] = _modes(spectrum, run.cells, n_surrogates=n_surrogates, seed=seed)
            pattern_wavelength, pattern_p_value = stability.field_pattern(
                run.dataset["displacement_u"].isel(time=index).values, n_surrogates=n_surrogates, seed=seed)
            result.snapshots.append(SnapshotStability(
                index=index, time=float(run.times[index]), spectra=spectra, modes=modes,
                reading=stability.turing_reading(spectra),
                pattern_wavelength=pattern_wavelength, pattern_p_value=pattern_p_value,
            ))  # fmt: skip
    return result


def _jacobians(jacobians: Sequence[str] | str) -> list[str]:
    if jacobians == "all":
        return list(JACOBIANS)
    kinds = [jacobians] if isinstance(jacobians, str) else list(jacobians)
    unknown = [kind for kind in kinds if kind not in JACOBIANS]
    if unknown or not kinds:
        raise ConfigError(f"unknown Jacobian {', '.join(unknown) or '(none)'}; choose from: {', '.join(JACOBIANS)}, all")
    return list(dict.fromkeys(kinds))


def _critic_source(adversarial: bool, train_critic: int | None, *, needs_critic: bool) -> str:
    if not needs_critic:
        return "none"
    if adversarial:
        return "run"
    return f"trained {train_critic} steps against the snapshot"


def _modes(spectrum: Spectrum, cells: np.ndarray, *, n_surrogates: int, seed: int) -> list[ModeSummary]:
    modes = []
    for rank, (value, label) in enumerate(zip(spectrum.eigenvalues, spectrum.labels), start=1):
        grid = stability.mode_on_grid(spectrum.eigenvectors[:, rank - 1], spectrum.layout, cells,
                                      imaginary=spectrum.kind == "game")
        wavelength, p_value = stability.mode_pattern(grid, n_surrogates=n_surrogates, seed=seed)
        modes.append(ModeSummary(rank=rank, eigenvalue=complex(value), label=str(label),
                                 dominant_wavelength=wavelength, surrogate_p_value=p_value,
                                 critic_share=grid.critic_share, grid=grid))  # fmt: skip
    return modes


def mode_variable(rank: int, kind: str, part: str = "") -> str:
    """Name of a mode's field in a modes dataset: ``mode1_frozen``, ``mode1_frozen_u_norm``, ..."""
    return f"mode{rank}_{kind}" + (f"_{part}" if part else "")


def modes_dataset(result: NetworkStability):
    """The analysis as an rdnet dataset: every leading mode as fields on the neuron grid, per snapshot.

    Variables (``K`` = each Jacobian, ``i`` = rank 1 … count; ``time`` = the snapshots analysed):

    - ``mode<i>_<K>`` (time, component, y, x): the signed per-neuron perturbation (coefficients of
      δu_j in an orthonormal basis of the inputs' span, then δv_j; real then imaginary parts),
      float32; its spectrum is the mode's;
    - ``mode<i>_<K>_u_norm``, ``mode<i>_<K>_v_norm`` (time, y, x): ‖δu_j‖ and ‖δv_j‖;
    - ``eigenvalue_real_<K>``, ``eigenvalue_imag_<K>``, ``dominant_wavelength_<K>``,
      ``surrogate_p_value_<K>``, ``participation_<K>`` (time, rank); ``max_real_part_<K>``, ``tolerance_<K>``,
      ``unstable_count_<K>``, ``neutral_count_<K>`` (time);
    - ``snapshot`` (time): the snapshot index in the run; ``pattern_wavelength``, ``pattern_p_value``
      (time): the run's ``displacement_u`` measured the same way; ``neuron_index`` (y, x).

    Returns
    -------
    xarray.Dataset
    """
    import xarray as xr

    snapshots = result.snapshots
    if not snapshots:
        raise ConfigError("no snapshot was analysed")
    height, width = result.cells.shape
    kinds = list(snapshots[0].spectra)
    coords = {
        "time": ("time", [s.time for s in snapshots], {"units": "1", "long_name": "gradient-flow time t = step * lr"}),
        "y": ("y", np.arange(height, dtype=float), {"units": "1", "long_name": "neuron grid row"}),
        "x": ("x", np.arange(width, dtype=float), {"units": "1", "long_name": "neuron grid column"}),
    }
    variables = {
        "snapshot": (("time",), np.array([s.index for s in snapshots]), {"long_name": "snapshot index in the run", "units": "1"}),
        "pattern_wavelength": (("time",), np.array([s.pattern_wavelength for s in snapshots]),
                               {"long_name": "dominant wavelength of the run's displacement_u (grid cells)", "units": "1"}),
        "pattern_p_value": (("time",), np.array([s.pattern_p_value for s in snapshots]),
                            {"long_name": "surrogate p-value of the run's displacement_u", "units": "1"}),
        "neuron_index": (("y", "x"), result.cells, {"long_name": "index j of the neuron at this grid cell", "units": "1"}),
    }
    for kind in kinds:
        symbol = JACOBIAN_SYMBOLS[kind]
        spectra = [s.spectra[kind] for s in snapshots]
        count = min(spectrum.eigenvalues.size for spectrum in spectra)
        per_mode = [[s.modes[kind][i] for s in snapshots] for i in range(count)]
        eigenvalues = np.array([spectrum.eigenvalues[:count] for spectrum in spectra])
        rank_series = {
            f"eigenvalue_real_{kind}": (eigenvalues.real, f"Re of the leading eigenvalues of {symbol}"),
            f"eigenvalue_imag_{kind}": (eigenvalues.imag, f"Im of the leading eigenvalues of {symbol}"),
            f"dominant_wavelength_{kind}": (np.array([[m.dominant_wavelength for m in s.modes[kind][:count]] for s in snapshots]),
                                            f"dominant wavelength of each leading mode of {symbol} (grid cells)"),
            f"surrogate_p_value_{kind}": (np.array([[m.surrogate_p_value for m in s.modes[kind][:count]] for s in snapshots]),
                                          f"surrogate p-value of each leading mode of {symbol}"),
            f"participation_{kind}": (np.array([[m.grid.participation for m in s.modes[kind][:count]] for s in snapshots]),
                                      f"neurons carrying each leading mode of {symbol} (participation ratio)"),
        }  # fmt: skip
        for name, (values, long_name) in rank_series.items():
            variables[name] = (("time", "rank"), values, {"long_name": long_name, "units": "1"})
        series = {
            f"max_real_part_{kind}": ([s.max_real_part for s in spectra], f"max Re lambda of {symbol}"),
            f"tolerance_{kind}": ([s.tolerance for s in spectra], f"neutral tolerance of {symbol}"),
            f"unstable_count_{kind}": ([s.unstable_count for s in spectra], f"unstable leading eigenvalues of {symbol}"),
            f"neutral_count_{kind}": ([s.neutral_count for s in spectra], f"neutral leading eigenvalues of {symbol}"),
        }
        for name, (values, long_name) in series.items():
            variables[name] = (("time",), np.asarray(values), {"long_name": long_name, "units": "1"})
        for rank, modes in enumerate(per_mode, start=1):
            component_dim = f"component_{kind}"
            variables[mode_variable(rank, kind)] = (
                ("time", component_dim, "y", "x"), np.stack([m.grid.components for m in modes]).astype(np.float32),
                {"long_name": f"mode {rank} of {symbol}: per-neuron perturbation (input-basis coefficients of du_j, "
                              "then dv_j)", "units": "1"},
            )  # fmt: skip
            variables[mode_variable(rank, kind, "u_norm")] = (
                ("time", "y", "x"), np.stack([m.grid.u_norm for m in modes]),
                {"long_name": f"mode {rank} of {symbol}: ||du_j||", "units": "1"})
            if snapshots[0].spectra[kind].layout.names.count("v"):
                variables[mode_variable(rank, kind, "v_norm")] = (
                    ("time", "y", "x"), np.stack([m.grid.v_norm for m in modes]),
                    {"long_name": f"mode {rank} of {symbol}: ||dv_j||", "units": "1"})
    dataset = xr.Dataset({name: xr.Variable(*spec) for name, spec in variables.items()},
                         coords={name: xr.Variable(*spec) for name, spec in coords.items()})  # fmt: skip
    dataset.attrs.update(source=result.path, critic=result.critic_source)
    return dataset
