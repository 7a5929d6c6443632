"""Random tensors drawn from PyTorch's own CPU streams (mt19937 + PyTorch's transformations, _generator.py).

Values are generated on the CPU in memory order, exactly as PyTorch does, then moved to the target device:
a seeded notebook gives PyTorch's numbers on every device."""
import bisect
import math

from .. import _dtype as D
from .._generator import default_generator
from .._grad_mode import no_grad
from .._storage import CPU, META
from .._tensor import Tensor, _empty, _empty_strided
from ..backends.complex_data import real_view
from ._registry import NOT_DIFFERENTIABLE, register
from ._util import broadcast_shapes, check, dense_strides, not_implemented_for
from . import inplace as _ip
from .creation import _like_tensor, device_arg, size_arg, tensor, with_requires_grad

_HALF = (D.float16, D.bfloat16)


def _gen(generator):
    return default_generator if generator is None else generator


def _addr(t):
    return t._storage.ptr + t._offset * t._dtype.itemsize


def _fill(t, draw):
    """Run draw(cpu_contiguous_tensor) and write the values into t (any device, any layout). A meta tensor has no
    values to write: nothing is drawn (PyTorch's meta kernels leave the generator as it was)."""
    if not t.numel() or t._storage.device is META:
        return t
    d = t._dtype
    work_dtype = D.float32 if d in _HALF else d
    dense = t.is_contiguous() or dense_strides(t) is not None
    if t._storage.device is CPU and dense and work_dtype is d:
        draw(t)  # PyTorch fills dense tensors in memory order
    else:
        tmp = _empty_strided(t._shape, dense_strides(t) if dense else None, work_dtype, CPU)
        draw(tmp)
        with no_grad():
            t.copy_(tmp)
    t._storage.version += 1
    return t


def uniform_(self, a=0.0, b=1.0, *, generator=None):
    if not self._dtype.is_floating_point:
        raise not_implemented_for("check_uniform_bounds", self._dtype)
    check(a <= b, f"uniform_ expects to return a [from, to) range, but found from={a} > to={b}")
    g = _gen(generator)
    return _fill(self, lambda t: g.fill_uniform(_addr(t), t.numel(), t._dtype.code, float(a), float(b)))


def normal_(self, mean=0.0, std=1.0, *, generator=None):
    if self._dtype.is_complex:   # PyTorch's: the float view, each part with half the variance
        normal_(real_view(self), mean, std / math.sqrt(2), generator=generator)
        return self
    if not self._dtype.is_floating_point and self.numel():   # an empty tensor never reaches the kernel
        raise not_implemented_for("normal_kernel_cpu", self._dtype)
    check(std >= 0.0, f"normal expects std >= 0.0, but found std {std}")
    g = _gen(generator)
    vectorized = self.is_contiguous()
    return _fill(self, lambda t: g.fill_normal(_addr(t), t.numel(), t._dtype.code, float(mean), float(std),
                                               vectorized))


def random_(self, from_=None, to=None, *, generator=None):
    g = _gen(generator)
    if from_ is None and to is None:
        return _fill(self, lambda t: g.fill_random_bits(_addr(t), t.numel(), t._dtype.code))
    if to is None:
        from_, to = 0, from_
    return _fill_int(self, from_, to, g)


def _fill_int(t, low, high, g):
    check(low < high, f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    if t._storage.device is META:
        return t
    tmp = _empty_strided(t._shape, dense_strides(t), D.int64, CPU)   # memory order, as _fill
    g.fill_randint(_addr(tmp), tmp.numel(), int(low), int(high))
    with no_grad():
        t.copy_(tmp)
    return t


def exponential_(self, lambd=1.0, *, generator=None):
    check(self._dtype.is_floating_point or not self.numel(), lambda: "Exponential distribution is a continuous probability distribution. "
          f"dtype must be a floating point but you specified {D.scalar_type_name(self._dtype)}")
    g = _gen(generator)
    return _fill(self, lambda t: g.fill_exponential(_addr(t), t.numel(), float(lambd), t._dtype.code))


def bernoulli_(self, p=0.5, *, generator=None):
    g = _gen(generator)
    if isinstance(p, Tensor):
        r = bernoulli(p.expand(self._shape).to(D.float64 if p._dtype is D.float64 else D.float32), generator=g)
        with no_grad():
            return self.copy_(r)
    def draw(t):
        if t._dtype in (D.float32, D.float64):
            g.fill_bernoulli_scalar(_addr(t), t.numel(), float(p), t._dtype.code)
        else:
            tmp = _empty(t._shape, D.float64, CPU)
            g.fill_bernoulli_scalar(_addr(tmp), tmp.numel(), float(p), D.float64.code)
            t.copy_(tmp)
    return _fill(self, draw)


def bernoulli(input, p=None, *, generator=None, out=None):
    g = _gen(generator)
    if p is not None:
        return bernoulli_(_empty(input._shape, input._dtype, input._storage.device), p, generator=g)
    if not input._dtype.is_floating_point and input.numel():
        raise not_implemented_for("bernoulli_tensor_cpu_p_", input._dtype)
    probs = input.detach()
    if probs._storage.device is not CPU:
        probs = probs.cpu()
    check(bool(((probs >= 0) & (probs <= 1)).all()), "Expected p_in >= 0 && p_in <= 1 to be true, but got false.")
    work = probs if probs._dtype in (D.float32, D.float64) else probs.to(D.float32)
    work = work.contiguous()
    res = _empty(work._shape, work._dtype, CPU)
    g.fill_bernoulli_tensor(_addr(res), _addr(work), work.numel(), work._dtype.code)
    r = res.to(input._dtype).to(input._storage.device)
    return _ip.write_out(out, r) if out is not None else r


def _dtype_or_default(dtype):
    return dtype or D.get_default_dtype()


def _sampled(name, sizes, size, dtype, device, out):
    """The tensor rand/randn fill: out= resized to the size (its dtype is the result's), else a new one."""
    shape = size_arg(sizes, name, size)
    if out is None:
        return _empty(shape, _dtype_or_default(dtype), device_arg(device))
    check(dtype is None or dtype == out._dtype, lambda: f"{name}: dtype {dtype} does not match out's {out._dtype}")
    return out.resize_(shape)


def rand(*sizes, size=None, generator=None, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    t = _sampled("rand", sizes, size, dtype, device, out)
    return with_requires_grad(uniform_(t, 0.0, 1.0, generator=generator), requires_grad)


def randn(*sizes, size=None, generator=None, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    t = _sampled("randn", sizes, size, dtype, device, out)
    return with_requires_grad(normal_(t, 0.0, 1.0, generator=generator), requires_grad)


# The *_like samplers fill a tensor laid out like their input (PyTorch's empty_like keeps a dense input's strides),
# in memory order: rand_like of a transposed tensor draws what PyTorch's does.
def rand_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    t = _like_tensor(input, dtype, device, memory_format)
    return with_requires_grad(uniform_(t, 0.0, 1.0), requires_grad)


def randn_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    t = _like_tensor(input, dtype, device, memory_format)
    return with_requires_grad(normal_(t, 0.0, 1.0), requires_grad)


def randint(low=None, high=None, size=None, *, generator=None, dtype=None, device=None, requires_grad=False,
            out=None):
    # PyTorch's overloads: randint(high, size), randint(low, high, size), and the keyword forms of both
    if size is None:
        if high is None or isinstance(high, (tuple, list)):
            low, high, size = 0, low, high
        else:
            raise TypeError("randint() missing 1 required positional argument: 'size'")
    if low is None:
        low = 0
    if high is None:
        low, high = 0, low
    shape = size_arg((size if isinstance(size, int) else tuple(size),))
    # out= is filled in place, resized to the size, in its own dtype
    t = out.resize_(shape) if out is not None else _empty(shape, dtype or D.int64, device_arg(device))
    return with_requires_grad(_fill_int(t, low, high, _gen(generator)), requires_grad)


def randint_like(input, low, high=None, *, dtype=None, device=None, memory_format=None):
    if high is None:
        low, high = 0, low
    return _fill_int(_like_tensor(input, dtype, device, memory_format), low, high, _gen(None))


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False, out=None):
    # PyTorch allocates the result first (its negative-size error), unless given out= to resize
    check(n >= 0, lambda: f"n must be non-negative, got{n}" if out is not None else
          f"Trying to create tensor with negative dimension {n}: [{n}]")
    tmp = _empty((n,), D.int64, CPU)
    _gen(generator).randperm(_addr(tmp), n)
    if out is not None:
        return _ip.write_out(out, tmp.to(out._dtype))
    r = tmp if (dtype in (None, D.int64)) else tmp.to(dtype)
    return with_requires_grad(r.to(device_arg(device)), requires_grad)   # device_arg: None is the default device


def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None, device=None,
           requires_grad=False):
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        m = mean if isinstance(mean, Tensor) else None
        s = std if isinstance(std, Tensor) else None
        like = m if m is not None else s
        shape = like._shape if m is None or s is None else tuple(broadcast_shapes(m._shape, s._shape))
        z = normal_(_empty(shape, like._dtype, like._storage.device), 0.0, 1.0, generator=generator)
        return z * std + mean
    # the CPU when no device is given: torch.normal is not one of the factories the default device applies to
    t = _empty(size_arg((size if isinstance(size, int) else tuple(size),)), _dtype_or_default(dtype),
               device_arg(device) if device is not None else CPU)
    return with_requires_grad(normal_(t, mean, std, generator=generator), requires_grad)


def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    check(input._dtype.is_floating_point, lambda: "multinomial only supports floating-point dtypes for input, got: "
          f"{D.scalar_type_name(input._dtype)}")
    g = _gen(generator)
    probs = input.detach().to(D.float32)
    check(probs.dim() in (1, 2), "prob_dist must be 1 or 2 dim")
    check(num_samples > 0, "cannot sample n_sample <= 0 samples")
    rows = probs if probs.dim() == 2 else probs.unsqueeze(0)
    n_cat = rows._shape[1]
    check(replacement or num_samples <= n_cat, "cannot sample n_sample > prob_dist.size(-1) samples without "
                                               "replacement")
    check(bool((rows >= 0).all()) and bool(rows.isfinite().all()), "probability tensor contains either `inf`, `nan` "
                                                                    "or element < 0")
    check(n_cat == 0 or bool((rows.sum(1) > 0).all()), "invalid multinomial distribution (sum of probabilities <= 0)")
    out_rows = []
    for r in range(rows._shape[0]):
        p = rows[r].cpu()  # draws happen on the CPU generator, as in PyTorch
        if replacement and num_samples >= 2:
            cum = p.cumsum(0)
            cum = cum / cum[-1:]
            cum_l = cum.tolist()
            cum_l[-1] = 1.0
            u = _empty((num_samples,), D.float64, CPU)
            g.fill_uniform(_addr(u), num_samples, D.float64.code, 0.0, 1.0)
            out_rows.append([min(bisect.bisect_left(cum_l, v), n_cat - 1) for v in u.tolist()])
        else:
            q = exponential_(_empty((n_cat,), D.float32, CPU), 1.0, generator=g)
            q = p / q
            if num_samples == 1:
                out_rows.append([int(q.argmax().item())])
            else:
                out_rows.append(q.topk(num_samples).indices.tolist())
    res = (tensor(out_rows, dtype=D.int64, device=input._storage.device) if out_rows else
           _empty((0, num_samples), D.int64, input._storage.device))
    res = res if input.dim() == 2 else res[0]
    if out is not None:
        check(out._dtype is D.int64, lambda: f"multinomial expects Long tensor out, got: "
              f"{D.scalar_type_name(out._dtype)}")
        return _ip.write_out(out, res)
    return res


def manual_seed(seed):
    default_generator.manual_seed(seed)
    return default_generator


def seed():
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    return tensor(list(default_generator.get_state()), dtype=D.uint8)


def set_rng_state(new_state):
    data = bytes(new_state.tolist()) if isinstance(new_state, Tensor) else bytes(new_state)
    default_generator.set_state(data)


def _register_all():
    # drawn by the CPU generator (no backend primitive), then copied to the target device
    for name, fn, dtype in [("rand", rand, "factory"), ("randn", randn, "factory"), ("rand_like", rand_like, "same"),
                            ("randn_like", randn_like, "same"), ("randint", randint, "factory"),
                            ("randint_like", randint_like, "same"), ("randperm", randperm, "factory"),
                            ("normal", normal, "factory"), ("multinomial", multinomial, "index"),
                            ("bernoulli", bernoulli, "same")]:
        register(name, fn, "random", dtype=dtype, derivative=NOT_DIFFERENTIABLE,
                 method=name in ("bernoulli", "multinomial"), opinfo=())
    # in-place draws into an existing tensor (Tensor methods only)
    for name, fn in [("uniform_", uniform_), ("normal_", normal_), ("random_", random_),
                     ("exponential_", exponential_), ("bernoulli_", bernoulli_)]:
        register(name, fn, "random", dtype="same", derivative=NOT_DIFFERENTIABLE, function=False, opinfo=())


_register_all()
