"""Comparing the kernel keys that torch_js.webgpu.counter(kernels=True) lists (imports nothing: the webgpu tests
and the example tests that run on CPython too use it)."""


def same_kernels(replayed, eager):
    """Whether a graph replay ran the kernels of an eager step (kernel keys, counter(kernels=True)): the same kernels
    in order, by kind and tiling (a key's head, before its first '|'). Their operand lists may differ: an eager step
    inlines the value of a scalar filled before it (an immediate), which a capture reads from memory (an input), and
    a replay fills again, with a fill kernel, the fresh scalars that an eager step has the queue write."""
    def heads(keys):
        return [k.split("|")[0] for k in keys]
    return heads(k for k in replayed if not k.startswith("fill:")) == heads(eager)
