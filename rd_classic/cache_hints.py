"""Cache hints for the generated kernels: software prefetch of the cells a kernel reads soon.

Euler in passes of several steps (:func:`rd_classic.codegen`'s ``euler_steps``) reads each
row of the state from memory once per pass, when the wavefront of its first step reaches
it, and computes with it at once: the processor's own prefetchers fetch such a row, but
(measured in float32, one thread, 2048²) not early enough for the loads and the arithmetic to
overlap. :func:`prefetch_cells` asks for a row's cache lines ahead of time. A prefetch is a
hint: it never changes a value, faults or blocks; a kernel's results are the same with or
without it.
"""

from __future__ import annotations

from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

__all__ = ["prefetch_cells", "CACHE_LINE_BYTES"]

#: bytes of a cache line (x86-64 and the common arm64 cores)
CACHE_LINE_BYTES = 64
#: LLVM's locality hint: 2 keeps the lines in the outer caches (the L2 cache), not in the L1
#: cache where the rows being computed live (3, into L1, was 0.85x in float32)
_LOCALITY = 2


@intrinsic
def prefetch_cells(typingctx, row, start, stop):
    """Prefetch the cache lines holding ``row[start:stop]`` (``row`` a 1-D C-contiguous array).

    One prefetch instruction (LLVM's ``llvm.prefetch``, a read, data cache) per cache line;
    ``0 <= start <= stop <= len(row)`` is the caller's to ensure (no bounds check: a prefetch
    of any address is harmless, but the kernels ask only for their own rows).
    """
    if not (isinstance(row, types.Array) and row.ndim == 1 and row.layout == "C"):
        return None
    if not (isinstance(start, types.Integer) and isinstance(stop, types.Integer)):
        return None
    values_per_line = max(1, CACHE_LINE_BYTES * 8 // row.dtype.bitwidth)
    signature = types.void(row, start, stop)

    def codegen(context, builder, signature, args):
        array = context.make_array(signature.args[0])(context, builder, args[0])
        first = context.cast(builder, args[1], signature.args[1], types.intp)
        last = context.cast(builder, args[2], signature.args[2], types.intp)
        byte_pointer = ir.IntType(8).as_pointer()
        int32 = ir.IntType(32)
        prefetch = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [byte_pointer, int32, int32, int32]), "llvm.prefetch.p0")
        step = ir.Constant(first.type, values_per_line)
        with cgutils.for_range_slice(builder, first, last, step, inc=True) as (index, _):
            address = builder.bitcast(builder.gep(array.data, [index]), byte_pointer)
            # read (0), locality, data cache (1)
            builder.call(prefetch, [address, ir.Constant(int32, 0), ir.Constant(int32, _LOCALITY), ir.Constant(int32, 1)])
        return context.get_dummy_value()

    return signature, codegen
