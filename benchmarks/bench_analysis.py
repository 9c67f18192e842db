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
