"""Pattern analysis: spectra, homogeneity metrics, morphology and labels of spatial fields.

One module per concept: :mod:`~rdnet.analysis.fields` (field plumbing: spacing,
components, running a kernel), :mod:`~rdnet.analysis.spectral_grid` (the wavevectors and
radial bins of a grid), :mod:`~rdnet.analysis.spectra`, :mod:`~rdnet.analysis.real_space`
(the real-space homogeneity metrics), :mod:`~rdnet.analysis.surrogates`,
:mod:`~rdnet.analysis.homogeneity` (all metrics in one pass),
:mod:`~rdnet.analysis.morphology` (Minkowski functionals, components, orientation order,
defects), :mod:`~rdnet.analysis.regime` (the regime label),
:mod:`~rdnet.analysis.temporal` (temporal spectrum, pattern velocity, decorrelation
time, the time-behaviour label), :mod:`~rdnet.analysis.steady_state` (steady-state
detection for long runs) and :mod:`~rdnet.analysis.metric_names` (the metric lists). The public names below are
imported from this package (``from rdnet.analysis import radial_power_spectrum``);
each module is loaded when one of its names is first used.

Every function takes a field whose **last two dims are** ``(y, x)`` — a numpy array
or an :class:`xarray.DataArray`, eager or dask-backed — and returns xarray objects
with physical coordinates. A DataArray whose dim before ``(y, x)`` is named ``z`` is a
**3-D field** ``(..., z, y, x)`` and is measured over its 3-D wavevectors and
neighbours (a numpy array's leading axes are always independent fields). Grid
spacing comes from the DataArray's ``z``/``y``/``x`` coordinates (they must be
uniform) or from ``dx=``/``dy=``/``dz=`` (which win over the coordinates when given;
default 1). Fields are treated as **periodic** by default, as on the simulators'
grids; ``window="hann"`` (spectral functions) and ``periodic=False`` (real-space
functions) handle non-periodic fields.

Leading dims
    On a DataArray, every leading dim other than ``"time"`` is by default a
    **component** dim (``component_dims=`` overrides): a field with dims
    ``("time", "feature", "y", "x")`` is analysed as one vector-valued field per
    time, its power summed over ``feature``. Other leading dims are independent
    fields, kept in the result. On a numpy array the leading axes are independent
    fields named ``dim_0, dim_1, ...`` (pass ``component_dims=("dim_0",)`` to make
    one a component axis).

Dask
    The work runs through :func:`xarray.apply_ufunc` with ``dask="parallelized"``:
    a chunked ``(time, y, x)`` array is processed chunk by chunk (each chunk holds
    whole ``(y, x)`` planes; spatial chunks are merged first) and never loaded whole.
    Results stay lazy until computed.

1-D fields
    A field with one point along y (a row, e.g. a 1-D run's ``(time, 1, x)``) or along
    x (a column) is a 1-D field: the spectra are over the one axis (``|k| = |k_x|``),
    Moran's I uses the line's two neighbours (a ring when periodic) and the correlation
    length the lags along the line, up to half its length; the spacing of the
    one-point axis is ignored. Orientation is not defined on a line, so
    :func:`angular_spectrum` and :func:`anisotropy` are NaN, and so are the rotation
    scores and the mirror across the line (a trivial identity) in
    :func:`symmetry_scores`; the mirror along the line is scored.

3-D fields
    The radial spectrum bins ``|k|`` of the 3-D wavevector in spherical shells (Parseval
    holds), Moran's I uses the 6 rook neighbours, the correlation length spherical
    shells of lags, the surrogates shuffle voxels. :func:`anisotropy` is the largest
    eigenvalue of the wavevectors' order tensor (in 2-D the same number as the
    doubled-angle vector strength; in 3-D the nematic order parameter: lamellae 1,
    tubes 1/4, isotropic 0). :func:`angular_spectrum` is NaN (a direction in space takes
    two angles). :func:`symmetry_scores` act in the ``(y, x)`` planes (mirrors
    ``x → −x``, ``y → −y``; rotations about an axis parallel to z).

Defined results
    A field containing NaN or infinite values raises ``ValueError("field contains
    NaN or infinite values ...")`` (on dask input: when computed). A constant field
    (no spatial variation) has a zero spectrum; the metrics that are ratios to the
    variance are then undefined and returned as NaN (dominant wavelength, spectral
    entropy, anisotropy, Moran's I, correlation length, symmetry scores), while the
    coefficient of variation is 0, the distance from its own mean is 0, and the
    surrogate p-value is 1 (no evidence of structure). See ``docs/analysis.md``.

Examples
--------
>>> import numpy as np
>>> from rdnet.analysis import dominant_wavelength, morans_i
>>> x = np.arange(64)
>>> stripes = np.cos(2 * np.pi * x / 16)[None, :].repeat(32, axis=0)
>>> round(float(dominant_wavelength(stripes)), 6)
16.0
>>> bool(np.isclose(float(morans_i(stripes)), (np.cos(2 * np.pi / 16) + 1) / 2))
True
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rdnet.lazy import lazy_exports

__all__ = [
    "HOMOGENEITY_KEYS",
    "SYMMETRIES",
    "SurrogateResult",
    "radial_power_spectrum",
    "dominant_wavelength",
    "spectral_entropy",
    "angular_spectrum",
    "anisotropy",
    "coefficient_of_variation",
    "morans_i",
    "correlation_length",
    "symmetry_scores",
    "distance_from_reference",
    "surrogate_test",
    "homogeneity_metrics",
    "MORPHOLOGY_KEYS",
    "morphology_metrics",
    "minkowski_curves",
    "component_sizes",
    "periodic_label",
    "orientation_order",
    "REGIMES",
    "Regime",
    "classify_regime",
    "pattern_regime",
    "pattern_summary",
    "TIME_BEHAVIOURS",
    "TimeBehaviour",
    "classify_time_behaviour",
    "time_behaviour",
    "temporal_spectrum",
    "pattern_velocity",
    "decorrelation_time",
    "SteadyStateDetector",
]

#: Public name -> the module defining it.
_EXPORTS = {
    "HOMOGENEITY_KEYS": ".metric_names",
    "LENGTH_METRICS": ".metric_names",
    "WINDOWS": ".spectral_grid",
    "MAX_RADIAL_BINS": ".spectral_grid",
    "radial_power_spectrum": ".spectra",
    "dominant_wavelength": ".spectra",
    "spectral_entropy": ".spectra",
    "angular_spectrum": ".spectra",
    "anisotropy": ".spectra",
    "SYMMETRIES": ".real_space",
    "coefficient_of_variation": ".real_space",
    "morans_i": ".real_space",
    "correlation_length": ".real_space",
    "symmetry_scores": ".real_space",
    "distance_from_reference": ".real_space",
    "SurrogateResult": ".surrogates",
    "surrogate_test": ".surrogates",
    "homogeneity_metrics": ".homogeneity",
    "MORPHOLOGY_KEYS": ".metric_names",
    "MORPHOLOGY_DETAIL_KEYS": ".metric_names",
    "LABEL_KEYS": ".metric_names",
    "THRESHOLDS": ".morphology",
    "morphology_metrics": ".morphology",
    "minkowski_curves": ".morphology",
    "component_sizes": ".morphology",
    "periodic_label": ".morphology",
    "orientation_order": ".morphology",
    "REGIMES": ".regime",
    "Regime": ".regime",
    "classify_regime": ".regime",
    "pattern_regime": ".regime",
    "pattern_summary": ".regime",
    "is_pattern": ".regime",
    "MIN_PATTERN_SURROGATES": ".regime",
    "check_pattern_surrogates": ".regime",
    "TIME_BEHAVIOURS": ".temporal",
    "MIN_SNAPSHOTS": ".temporal",
    "TimeBehaviour": ".temporal",
    "classify_time_behaviour": ".temporal",
    "time_behaviour": ".temporal",
    "temporal_spectrum": ".temporal",
    "pattern_velocity": ".temporal",
    "decorrelation_time": ".temporal",
    "SteadyStateDetector": ".steady_state",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:  # pragma: no cover - what the names are, for type checkers and IDEs
    from rdnet.analysis.homogeneity import homogeneity_metrics
    from rdnet.analysis.metric_names import HOMOGENEITY_KEYS, LENGTH_METRICS  # noqa: F401
    from rdnet.analysis.metric_names import LABEL_KEYS, MORPHOLOGY_DETAIL_KEYS, MORPHOLOGY_KEYS  # noqa: F401
    from rdnet.analysis.morphology import (  # noqa: F401
        THRESHOLDS,
        component_sizes,
        minkowski_curves,
        morphology_metrics,
        orientation_order,
        periodic_label,
    )
    from rdnet.analysis.regime import REGIMES, Regime, classify_regime, is_pattern, pattern_regime, pattern_summary  # noqa: F401
    from rdnet.analysis.regime import MIN_PATTERN_SURROGATES, check_pattern_surrogates  # noqa: F401
    from rdnet.analysis.steady_state import SteadyStateDetector
    from rdnet.analysis.temporal import (  # noqa: F401
        MIN_SNAPSHOTS,
        TIME_BEHAVIOURS,
        TimeBehaviour,
        classify_time_behaviour,
        decorrelation_time,
        pattern_velocity,
        temporal_spectrum,
        time_behaviour,
    )
    from rdnet.analysis.real_space import (
        SYMMETRIES,
        coefficient_of_variation,
        correlation_length,
        distance_from_reference,
        morans_i,
        symmetry_scores,
    )
    from rdnet.analysis.spectra import (
        angular_spectrum,
        anisotropy,
        dominant_wavelength,
        radial_power_spectrum,
        spectral_entropy,
    )
    from rdnet.analysis.spectral_grid import MAX_RADIAL_BINS, WINDOWS  # noqa: F401
    from rdnet.analysis.surrogates import SurrogateResult, surrogate_test
