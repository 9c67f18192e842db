"""Time rdnet.analysis against peers measured in the same run (prints ratios)."""
import time
import numpy as np
import xarray as xr
from scipy import stats
from rdnet import analysis

def best(f, repeat=5):
    times = []
    for _ in range(repeat):
        t = time.perf_counter(); f(); times.append(time.perf_counter() - t)
    return min(times)

rng = np.random.default_rng(0)
for n in (128, 512):
    stack = rng.normal(size=(16, n, n))
    def peer():  # the common recipe: FFT per field + scipy binned_statistic (sum) on |k|
        k = np.hypot(*np.meshgrid(np.fft.fftfreq(n), np.fft.fftfreq(n), indexing="ij")).ravel()
        edges = (np.arange(int(k.max() * n) + 2) - 0.5) / n
        for f in stack:
            p = np.abs(np.fft.fft2(f - f.mean())) ** 2 / n**4
            stats.binned_statistic(k, p.ravel(), "sum", bins=edges)
    ours = best(lambda: analysis.radial_power_spectrum(stack))
    theirs = best(peer)
    print(f"radial spectrum 16x{n}^2: rdnet {ours*1e3:.1f} ms, binned_statistic loop {theirs*1e3:.1f} ms, ratio {theirs/ours:.2f}x")
    lazy = xr.DataArray(stack, dims=("time", "y", "x")).chunk({"time": 4})
    t_lazy = best(lambda: analysis.radial_power_spectrum(lazy).compute(), 3)
    print(f"  dask-chunked (4 per chunk, 2 cores): {t_lazy*1e3:.1f} ms, ratio eager/dask {ours/t_lazy:.2f}")
field = rng.normal(size=(256, 256))
t_all = best(lambda: analysis.homogeneity_metrics(field, n_surrogates=99), 3)
t_spec = best(lambda: analysis.radial_power_spectrum(field), 5)
print(f"homogeneity_metrics 256^2 with 99 surrogates: {t_all*1e3:.0f} ms = {t_all/t_spec:.0f}x one spectrum ({t_spec*1e3:.1f} ms)")

# 3-D fields (dims z, y, x): the same recipe over 3-D wavevectors (spherical shells)
n = 64
volumes = xr.DataArray(rng.normal(size=(4, n, n, n)), dims=("time", "z", "y", "x"))
def peer_3d():  # the common recipe in 3-D: fftn per field + binned_statistic (sum) on |k|
    k = np.sqrt(sum(c**2 for c in np.meshgrid(*[np.fft.fftfreq(n)] * 3, indexing="ij"))).ravel()
    edges = (np.arange(int(k.max() * n) + 2) - 0.5) / n
    for f in volumes.values:
        p = np.abs(np.fft.fftn(f - f.mean())) ** 2 / n**6
        stats.binned_statistic(k, p.ravel(), "sum", bins=edges)
ours = best(lambda: analysis.radial_power_spectrum(volumes), 3)
theirs = best(peer_3d, 3)
print(f"radial spectrum 4x{n}^3: rdnet {ours*1e3:.1f} ms, fftn + binned_statistic loop {theirs*1e3:.1f} ms, ratio {theirs/ours:.2f}x")
one = volumes.isel(time=0)
t_all = best(lambda: analysis.homogeneity_metrics(one, n_surrogates=99), 3)
t_none = best(lambda: analysis.homogeneity_metrics(one, n_surrogates=0), 3)
print(f"homogeneity_metrics {n}^3: {t_all*1e3:.0f} ms with 99 surrogates, {t_none*1e3:.0f} ms without")
