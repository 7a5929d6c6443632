"""Strided iteration spaces on the Python side: coalescing dims and splitting work into bounded pieces.

Both backends use `coalesce` to bring a high-rank call within their kernels' dimension limit; the CPU backend
uses `pieces` to split a long kernel call into calls of bounded work, so that Python can deliver a
KeyboardInterrupt between them (CPython runs signal handlers between bytecodes, and Pyodide polls its
interrupt buffer at the same points).

`coalesce` is wasm_ext/iter.h's `tjs_iter_init` rule, step for step: drop size-1 dims, merge a dim into the
one before it when the pair is contiguous for every operand (`stride[d-1] == shape[d] * stride[d]`, which also
merges broadcast dims). Coalescing is idempotent, so a kernel handed a coalesced shape walks exactly the rows it
would have walked: the same elements, in the same order, through the same loops.

`pieces` splits a coalesced space into consecutive row-major boxes. A kernel computes each element of a box as
it computes it in the whole (every wasm_ext strided kernel treats elements independently, in row-major order),
so a split call writes the same bits in the same order. The innermost dim is split only at multiples of 64
elements and never into a piece of one element, so no row changes its SIMD body / scalar tail split, nor the
inner stride a kernel sees.
"""
import itertools

ALIGN = 64   # innermost-dim split points are multiples of this (>= every SIMD width in wasm_ext)


def coalesce(shape, strides):
    """(shape, per-operand strides) -> the coalesced (shape, strides), lists; a 0-d or all-ones shape gives ([], ...).
    A size-0 dim is kept (the space is empty)."""
    out_shape = []
    out_st = [[] for _ in strides]
    for d, s in enumerate(shape):
        if s == 1:
            continue
        if out_shape:
            for prev, st in zip(out_st, strides):
                if prev[-1] != s * st[d]:
                    break
            else:
                out_shape[-1] *= s
                for prev, st in zip(out_st, strides):
                    prev[-1] = st[d]
                continue
        out_shape.append(s)
        for prev, st in zip(out_st, strides):
            prev.append(st[d])
    return out_shape, out_st


def numel(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def pieces(shape, strides, limit):
    """Split the (coalesced, non-empty) space `shape` into consecutive row-major boxes of about `limit` elements
    at most (a box is never smaller than one innermost row slice of ALIGN elements). Yields
    (box shape, box strides per operand, element offset per operand); a box is a suffix of the dims, its first dim
    possibly a range."""
    nd = len(shape)
    if nd == 0 or numel(shape) <= limit:
        yield list(shape), [list(st) for st in strides], [0] * len(strides)
        return
    # dims k+1.. go whole into every box; dim k is cut into ranges of `step`; dims ..k-1 are looped over
    k, inner = nd - 1, 1
    while k > 0 and inner * shape[k] <= limit:
        inner *= shape[k]
        k -= 1
    n = shape[k]
    step = max(1, limit // inner)
    if k == nd - 1:
        step = max(ALIGN, step - step % ALIGN)
    cuts = list(range(0, n, step)) + [n]
    if len(cuts) > 2 and cuts[-1] - cuts[-2] == 1:
        del cuts[-2]   # no one-element box in any dim: the kernel would drop the dim and see other strides
    sub_st = [list(st[k:]) for st in strides]
    tail = list(shape[k + 1:])
    for idx in itertools.product(*(range(s) for s in shape[:k])):
        base = [sum(i * st[d] for d, i in enumerate(idx)) for st in strides]
        for j0, j1 in zip(cuts, cuts[1:]):
            yield [j1 - j0] + tail, sub_st, [b + j0 * st[k] for b, st in zip(base, strides)]
