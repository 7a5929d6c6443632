"""What the torch.distributions oracle tests share (tests/test_distributions.py, tests/test_distributions_more.py):
a parameter built in either library, a distribution built from a case, and value comparison with NaN/inf exact."""
import math

import torch_js
import torch_js.distributions as JD
from optional_torch import torch

TD = torch.distributions if torch is not None else None


class P:
    """A tensor parameter, built in either library."""

    def __init__(self, value, dtype="float64"):
        self.value, self.dtype = value, dtype


def build(lib, name, kw, dtype=None):
    """lib's distribution `name` with parameters kw (P values as tensors of `dtype`, else of their own dtype)."""
    mod = JD if lib is torch_js else TD
    args = {k: (lib.tensor(v.value, dtype=getattr(lib, dtype or v.dtype)) if isinstance(v, P) else v)
            for k, v in kw.items()}
    return getattr(mod, name)(**args)


def values(x):
    if isinstance(x, (int, float)):
        return [float(x)]
    return [float(v) for v in x.detach().reshape(-1).tolist()]


def close(got, want, rtol=1e-12, atol=1e-12):
    a, b = values(got), values(want)
    assert len(a) == len(b), (a, b)
    for x, y in zip(a, b):
        if math.isnan(y) or math.isinf(y):
            assert (math.isnan(x) and math.isnan(y)) or x == y, (a, b)
        else:
            assert abs(x - y) <= atol + rtol * abs(y), (a, b)
