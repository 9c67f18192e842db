"""Benchmark: the generated kernels of models with many species, with and without LLVM's vectoriser limit raised.

LLVM leaves a loop scalar when proving that the rows it reads and writes do not overlap takes
more run-time checks than ``vectorize-memory-check-threshold`` allows (128 by default), and
the number of checks grows with the square of the species count;
:data:`rd_classic.kernels_numba.LLVM_OPTIONS` raises the limit. This script times, for
Gray-Scott, the extended Brusselator and rings of ``N`` species (``s_i' = a s_(i+1) s_i -
s_i^3 + D lap s_i``, written as model files), explicit Euler (passes of 2 steps, and one step
per pass) and the fused RK4 step, in cell-species updates per second, once in a process with
the library's options and once in a process with none (``LLVM_OPTIONS = ()``), each compiling
into empty kernel and numba caches; it prints the first compilation's seconds too.

Usage::

    python benchmarks/bench_many_species.py                     # 512², rings of 5 and 8 species
    python benchmarks/bench_many_species.py --size 256 --rings 5,6,8,12
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see bench_classic.py


def ring_model(n_species: int) -> str:
    """The model file of a ring of ``n_species`` species, each fed by the next."""
    names = [f"s{i}" for i in range(n_species)]
    lines = [f'name = "ring-{n_species}"', f'description = "{n_species} species in a ring"',
             "species = [" + ", ".join(f'"{name}"' for name in names) + "]", "[parameters]", "a = { value = 0.1 }",
             "D = { value = 0.2 }", "[diffusion]", *(f'{name} = "D"' for name in names), "[reaction]",
             *(f'{name} = "a*s{(i + 1) % n_species}*{name} - {name}**3"' for i, name in enumerate(names)),
             "[[steady_states]]", *(f'{name} = "0"' for name in names)]  # fmt: skip
    return "\n".join(lines) + "\n"


def measure(models: list[str], n: int, rounds: int) -> dict:
    """Rates (cell-species updates/s, median of ``rounds``) and first-call seconds of each model's steppers."""
    import numpy as np

    from rd_classic.grids import Grid
    from rd_classic.integrators import EXPLICIT_SCHEMES, NumbaExplicitStepper
    from rd_classic.models import get_model, load_model_file

    results = {}
    for name in models:
        model = get_model(load_model_file(name)) if name.endswith(".toml") else get_model(name)
        grid = Grid((n, n), 1.0)
        rng = np.random.default_rng(0)
        fields = [value + 0.01 * rng.uniform(size=grid.shape) for value in model.homogeneous_state()]
        for dtype in ("float64", "float32"):
            variants = {"euler": dict(scheme="euler"), "euler one step": dict(scheme="euler", steps_per_pass=1),
                        "rk4 one pass": dict(scheme="rk4", fuse_stages=True)}  # fmt: skip
            for label, options in variants.items():
                start = time.perf_counter()
                stepper = NumbaExplicitStepper(model, grid, EXPLICIT_SCHEMES[options.pop("scheme")], dt=1e-3,
                                               dtype=dtype, **options)  # fmt: skip
                stepper.set_state(*fields)
                stepper.advance(2)
                compile_seconds = time.perf_counter() - start
                steps = max(2, int(2e7 / (n * n * model.n_species)))
                rates = []
                for _ in range(rounds):
                    start = time.perf_counter()
                    stepper.advance(steps)
                    rates.append(steps * n * n * model.n_species / (time.perf_counter() - start))
                results[f"{model.name} {dtype} {label}"] = (float(np.median(rates)), compile_seconds)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--rings", default="5,8", help="species counts of the ring models")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--child", choices=["library", "none"], help=argparse.SUPPRESS)
    parser.add_argument("--models", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        if args.child == "none":
            import rd_classic.kernels_numba as kernels_numba

            kernels_numba.LLVM_OPTIONS = ()
        print(json.dumps(measure(args.models.split(","), args.size, args.rounds)))
        return
    folder = Path(tempfile.mkdtemp(prefix="rdnet-many-species-"))
    models = ["gray-scott", "extended-brusselator"]
    for count in (int(text) for text in args.rings.split(",")):
        path = folder / f"ring-{count}.toml"
        path.write_text(ring_model(count))
        models.append(str(path))
    results = {}
    for options in ("none", "library"):
        environment = dict(os.environ, RDNET_KERNEL_CACHE=str(folder / f"kernels-{options}"),
                           NUMBA_CACHE_DIR=str(folder / f"numba-{options}"))  # fmt: skip
        output = subprocess.run([sys.executable, __file__, "--child", options, "--models", ",".join(models), "--size",
                                 str(args.size), "--rounds", str(args.rounds)], env=environment, capture_output=True,
                                text=True, check=True).stdout  # fmt: skip
        results[options] = json.loads(output.splitlines()[-1])
    from rd_classic.kernels_numba import LLVM_OPTIONS

    print(f"{args.size}², cell-species updates/s (median of {args.rounds}) and first-call seconds; LLVM options none "
          f"vs the library's {LLVM_OPTIONS}; load {os.getloadavg()[0]:.2f}")  # fmt: skip
    for key, (rate, seconds) in results["library"].items():
        before, before_seconds = results["none"][key]
        print(f"  {key:>46}: {before:.2e} -> {rate:.2e} ({rate / before:.2f}x); compiled in {before_seconds:.1f} -> "
              f"{seconds:.1f} s")  # fmt: skip


if __name__ == "__main__":
    main()
