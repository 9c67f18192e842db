"""The ``.rd`` accessor: pattern analysis from a Dataset or DataArray.

Importing this module registers ``.rd`` on :class:`xarray.Dataset` and
:class:`xarray.DataArray`. Each method only picks the variable and delegates to
:mod:`rdnet.analysis`; keyword options are passed through unchanged.

Examples
--------
>>> import numpy as np, xarray as xr
>>> import rdnet.accessor  # registers .rd
>>> x = np.arange(32.0)
>>> ds = xr.Dataset({"v": (("y", "x"), np.cos(2 * np.pi * x / 8)[None, :] * np.ones((16, 1)))},
...                 coords={"y": np.arange(16.0), "x": x})
>>> float(ds.rd.dominant_wavelength("v"))
8.0
>>> ds["v"].rd.homogeneity(n_surrogates=0)["morans_i"] == ds.rd.homogeneity("v", n_surrogates=0)["morans_i"]
True
"""

from __future__ import annotations

from typing import Any

import xarray as xr

from rdnet import analysis
from rdnet.dataset.convention import spatial_variables

__all__ = ["RdDataArrayAccessor", "RdDatasetAccessor"]


@xr.register_dataarray_accessor("rd")
class RdDataArrayAccessor:
    """``da.rd``: the functions of :mod:`rdnet.analysis` applied to this field.

    The field's last dims are ``(y, x)``, or ``(z, y, x)`` for a 3-D field; see
    :mod:`rdnet.analysis` for the options.
    """

    def __init__(self, data_array: xr.DataArray) -> None:
        self._field = data_array

    def spectrum(self, **options: Any) -> xr.DataArray:
        """Radial power spectrum; see :func:`rdnet.analysis.radial_power_spectrum`."""
        return analysis.radial_power_spectrum(self._field, **options)

    def angular_spectrum(self, **options: Any) -> xr.DataArray:
        """Power by orientation; see :func:`rdnet.analysis.angular_spectrum`."""
        return analysis.angular_spectrum(self._field, **options)

    def dominant_wavelength(self, **options: Any) -> xr.DataArray:
        """See :func:`rdnet.analysis.dominant_wavelength`."""
        return analysis.dominant_wavelength(self._field, **options)

    def spectral_entropy(self, **options: Any) -> xr.DataArray:
        """See :func:`rdnet.analysis.spectral_entropy`."""
        return analysis.spectral_entropy(self._field, **options)

    def anisotropy(self, **options: Any) -> xr.DataArray:
        """See :func:`rdnet.analysis.anisotropy`."""
        return analysis.anisotropy(self._field, **options)

    def coefficient_of_variation(self, **options: Any) -> xr.DataArray:
        """See :func:`rdnet.analysis.coefficient_of_variation`."""
        return analysis.coefficient_of_variation(self._field, **options)

    def morans_i(self, **options: Any) -> xr.DataArray:
        """See :func:`rdnet.analysis.morans_i`."""
        return analysis.morans_i(self._field, **options)

    def correlation_length(self, **options: Any) -> xr.DataArray:
        """See :func:`rdnet.analysis.correlation_length`."""
        return analysis.correlation_length(self._field, **options)

    def symmetry(self, **options: Any) -> xr.DataArray:
        """Mirror and rotation scores; see :func:`rdnet.analysis.symmetry_scores`."""
        return analysis.symmetry_scores(self._field, **options)

    def distance(self, reference: Any = None, **options: Any) -> xr.DataArray:
        """See :func:`rdnet.analysis.distance_from_reference`."""
        return analysis.distance_from_reference(self._field, reference, **options)

    def surrogate_test(self, **options: Any) -> analysis.SurrogateResult:
        """See :func:`rdnet.analysis.surrogate_test`."""
        return analysis.surrogate_test(self._field, **options)

    def homogeneity(self, **options: Any) -> dict[str, Any]:
        """All scalar metrics; see :func:`rdnet.analysis.homogeneity_metrics`."""
        return analysis.homogeneity_metrics(self._field, **options)

    def morphology(self, **options: Any) -> dict[str, Any]:
        """Minkowski functionals, components, order, defects; see :func:`rdnet.analysis.morphology_metrics`."""
        return analysis.morphology_metrics(self._field, **options)

    def minkowski_curves(self, **options: Any) -> xr.Dataset:
        """Minkowski functionals over thresholds; see :func:`rdnet.analysis.minkowski_curves`."""
        return analysis.minkowski_curves(self._field, **options)

    def regime(self, **options: Any) -> analysis.Regime:
        """The regime label of one field; see :func:`rdnet.analysis.pattern_regime`."""
        return analysis.pattern_regime(self._field, **options)

    def time_behaviour(self, **options: Any) -> analysis.TimeBehaviour:
        """The time-behaviour label of a series; see :func:`rdnet.analysis.time_behaviour`."""
        return analysis.time_behaviour(self._field, **options)

    def pattern_velocity(self, **options: Any) -> xr.Dataset:
        """Velocity between snapshots; see :func:`rdnet.analysis.pattern_velocity`."""
        return analysis.pattern_velocity(self._field, **options)


@xr.register_dataset_accessor("rd")
class RdDatasetAccessor:
    """``ds.rd``: pattern analysis of the dataset's spatial variables, chosen by name.

    Every method takes the variable name first, e.g. ``ds.rd.spectrum("v")``, and
    otherwise matches the same method of ``ds["v"].rd``.
    """

    def __init__(self, dataset: xr.Dataset) -> None:
        self._dataset = dataset

    @property
    def spatial_variables(self) -> list[str]:
        """Names of the data variables whose last two dims are ``y``, ``x`` (see :func:`rdnet.dataset.spatial_variables`)."""
        return spatial_variables(self._dataset)

    def _field(self, name: str) -> RdDataArrayAccessor:
        if name not in self._dataset.data_vars:
            valid = ", ".join(self.spatial_variables) or "none"
            raise KeyError(f"no variable {name!r} in the dataset; spatial variables: {valid}")
        return self._dataset[name].rd

    def spectrum(self, name: str, **options: Any) -> xr.DataArray:
        """Radial power spectrum of variable ``name``."""
        return self._field(name).spectrum(**options)

    def angular_spectrum(self, name: str, **options: Any) -> xr.DataArray:
        """Power by orientation of variable ``name``."""
        return self._field(name).angular_spectrum(**options)

    def dominant_wavelength(self, name: str, **options: Any) -> xr.DataArray:
        """Dominant wavelength of variable ``name``."""
        return self._field(name).dominant_wavelength(**options)

    def spectral_entropy(self, name: str, **options: Any) -> xr.DataArray:
        """Spectral entropy of variable ``name``."""
        return self._field(name).spectral_entropy(**options)

    def anisotropy(self, name: str, **options: Any) -> xr.DataArray:
        """Anisotropy of variable ``name``."""
        return self._field(name).anisotropy(**options)

    def coefficient_of_variation(self, name: str, **options: Any) -> xr.DataArray:
        """Coefficient of variation of variable ``name``."""
        return self._field(name).coefficient_of_variation(**options)

    def morans_i(self, name: str, **options: Any) -> xr.DataArray:
        """Moran's I of variable ``name``."""
        return self._field(name).morans_i(**options)

    def correlation_length(self, name: str, **options: Any) -> xr.DataArray:
        """Correlation length of variable ``name``."""
        return self._field(name).correlation_length(**options)

    def symmetry(self, name: str, **options: Any) -> xr.DataArray:
        """Mirror and rotation scores of variable ``name``."""
        return self._field(name).symmetry(**options)

    def distance(self, name: str, reference: Any = None, **options: Any) -> xr.DataArray:
        """RMS distance of variable ``name`` from ``reference`` (default: its spatial mean)."""
        return self._field(name).distance(reference, **options)

    def surrogate_test(self, name: str, **options: Any) -> analysis.SurrogateResult:
        """Surrogate test of variable ``name``."""
        return self._field(name).surrogate_test(**options)

    def homogeneity(self, name: str, **options: Any) -> dict[str, Any]:
        """All scalar metrics of variable ``name``."""
        return self._field(name).homogeneity(**options)

    def morphology(self, name: str, **options: Any) -> dict[str, Any]:
        """Morphology of variable ``name``."""
        return self._field(name).morphology(**options)

    def minkowski_curves(self, name: str, **options: Any) -> xr.Dataset:
        """Minkowski functionals of variable ``name`` over thresholds."""
        return self._field(name).minkowski_curves(**options)

    def regime(self, name: str, *, time: int = -1, **options: Any) -> analysis.Regime:
        """The regime label of variable ``name`` at snapshot ``time`` (default the last)."""
        field = self._field(name)._field
        return (field.isel(time=time) if "time" in field.dims else field).rd.regime(**options)

    def time_behaviour(self, name: str, **options: Any) -> analysis.TimeBehaviour:
        """The time-behaviour label of variable ``name`` over its snapshots."""
        return self._field(name).time_behaviour(**options)

    def pattern_velocity(self, name: str, **options: Any) -> xr.Dataset:
        """Velocity of variable ``name`` between snapshots."""
        return self._field(name).pattern_velocity(**options)

    def plot(self, *variables: str, time: int | None = None, kind: str = "auto", z_index: int | None = None,
             out: str | None = None) -> Any:  # fmt: skip
        """The figure ``rdnet plot`` draws of this dataset (its ``--out`` figure).

        Parameters
        ----------
        *variables : str
            Fields to draw (default: the roles u and v).
        time : int, optional
            Snapshot index (negative counts from the end); default the last.
        kind : {"auto", "fields", "filters", "series"}
            As ``rdnet plot --kind``; see :func:`rdnet.plotting.dataset.dataset_figures`.
        z_index : int, optional
            The ``(y, x)`` plane drawn of 3-D fields; default the mid-plane.
        out : str or path-like, optional
            Also save the figure there (``.png``, ``.pdf``, ``.svg``; written atomically).

        Returns
        -------
        matplotlib.figure.Figure

        Examples
        --------
        >>> figure = ds.rd.plot("v", time=0)  # doctest: +SKIP
        >>> ds.rd.plot(kind="series", out="losses.png")  # doctest: +SKIP
        """
        from rdnet.plotting import save_figure
        from rdnet.plotting.dataset import dataset_figures

        figures = dataset_figures(self._dataset, str(self._dataset.attrs.get("model", "dataset")),
                                  variables=list(variables) or None, time_index=time, kind=kind, z_index=z_index)
        figure = figures[0][1]
        if out is not None:
            save_figure(figure, out)
        return figure
