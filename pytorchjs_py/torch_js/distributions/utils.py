"""torch.distributions.utils: broadcasting of parameters, logits <-> probs, lazy properties, triangular packing."""
import functools
import numbers

from ._torch import D, F, Size, T, Tensor, broadcast, enable_grad

__all__ = ["broadcast_all", "logits_to_probs", "clamp_probs", "probs_to_logits", "lazy_property",
           "tril_matrix_to_vec", "vec_to_tril_matrix"]

euler_constant = 0.57721566490153286060   # Euler-Mascheroni


def broadcast_all(*values):
    """Tensors broadcast together; numbers become tensors of the first tensor's dtype and device (the default dtype
    when there is none)."""
    if not all(isinstance(v, (Tensor, numbers.Number)) for v in values):
        raise ValueError("Input arguments must all be instances of Number, torch.Tensor or objects implementing "
                         "__torch_function__.")
    if not all(isinstance(v, Tensor) for v in values):
        like = next((v for v in values if isinstance(v, Tensor)), None)
        options = (dict(dtype=like.dtype, device=like.device) if like is not None
                   else dict(dtype=D.get_default_dtype()))
        values = [v if isinstance(v, Tensor) else T.tensor(v, **options) for v in values]
    return broadcast(*values)


def _standard_normal(shape, dtype, device):
    """N(0, 1) draws as torch.empty(shape).normal_() makes them (the generator's order for that shape)."""
    return T.empty(shape, dtype=dtype, device=device).normal_()


def _sum_rightmost(value, dim):
    """value with its `dim` rightmost dims summed out."""
    if dim == 0:
        return value
    return value.reshape(tuple(value.shape[:-dim]) + (-1,)).sum(-1)


def logits_to_probs(logits, is_binary=False):
    if is_binary:
        return T.sigmoid(logits)
    return F.softmax(logits, dim=-1)


def clamp_probs(probs):
    """probs clamped into [eps, 1 - eps], eps the dtype's machine epsilon."""
    eps = D.finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs, is_binary=False):
    ps = clamp_probs(probs)
    if is_binary:
        return T.log(ps) - T.log1p(-ps)
    return T.log(ps)


class lazy_property:
    """A non-data descriptor computing the value (with grad enabled) on first access and storing it on the
    instance."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        functools.update_wrapper(self, wrapped)

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return _lazy_property_and_property(self.wrapped)
        with enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


class _lazy_property_and_property(lazy_property, property):
    """What a lazy_property looks like on the class: a property for documentation tools, a lazy_property for
    argument validation (which skips parameters not yet computed)."""

    def __init__(self, wrapped):
        property.__init__(self, wrapped)


def _tril_mask(n, diag, device):
    rows = T.arange(n, device=device)
    return rows < rows.view(-1, 1) + (diag + 1)


def tril_matrix_to_vec(mat, diag=0):
    """The lower-triangular elements (on and below diagonal `diag`) of the last two dims, in row order."""
    n = mat.shape[-1]
    if diag < -n or diag >= n:
        raise ValueError(f"diag ({diag}) provided is outside [{-n}, {n - 1}].")
    return mat[..., _tril_mask(n, diag, mat.device)]


def vec_to_tril_matrix(vec, diag=0):
    """The inverse of tril_matrix_to_vec: a (batched) square matrix, zero above diagonal `diag`."""
    # the positive root of n^2 + (1 + 2 diag) n - |diag| (diag + 1) - 2 len = 0
    n = (-(1 + 2 * diag) + ((1 + 2 * diag) ** 2 + 8 * vec.shape[-1] + 4 * abs(diag) * (diag + 1)) ** 0.5) / 2
    eps = D.finfo(vec.dtype).eps
    if round(n) - n > eps:
        raise ValueError(f"The size of last dimension is {vec.shape[-1]} which cannot be expressed as the lower "
                         "triangular part of a square D x D matrix.")
    n = round(n)
    mat = vec.new_zeros(tuple(vec.shape[:-1]) + (n, n))
    mat[..., _tril_mask(n, diag, vec.device)] = vec
    return mat


def _size(shape):
    return shape if isinstance(shape, Size) else Size(shape)


def _is_number(x):
    # PyTorch's _Number: int or float (bool included, as an int)
    return isinstance(x, (int, float))


def _params_batch_shape(raw, broadcasted):
    """The batch shape of a distribution built from `raw` parameters: () when they are all Python numbers, the
    broadcast shape otherwise."""
    return Size() if all(_is_number(v) for v in raw) else broadcasted.size()


def _expanded(self, cls, batch_shape, _instance, names, event_shape=None):
    """Distribution.expand for distributions whose parameters are plain attributes of shape batch_shape (+
    event_shape): a new instance with each parameter expanded, no validation."""
    new = self._get_checked_instance(cls, _instance)
    batch_shape = _size(batch_shape)
    event_shape = Size() if event_shape is None else _size(event_shape)
    for name in names:
        setattr(new, name, getattr(self, name).expand(Size(tuple(batch_shape) + tuple(event_shape))))
    super(cls, new).__init__(batch_shape, event_shape, validate_args=False)
    new._validate_args = self._validate_args
    return new


def _expanded_probs_logits(self, cls, batch_shape, _instance, param_shape, extra=()):
    """expand() for distributions parameterized by probs or logits (whichever was given or already computed),
    plus the plain attributes in `extra`."""
    new = self._get_checked_instance(cls, _instance)
    batch_shape = _size(batch_shape)
    for name in ("probs", "logits"):
        if name in self.__dict__:
            setattr(new, name, getattr(self, name).expand(param_shape(batch_shape)))
            new._param = getattr(new, name)
    for name in extra:
        setattr(new, name, getattr(self, name).expand(batch_shape))
    return new, batch_shape


def _one_of_probs_logits(probs, logits):
    if (probs is None) == (logits is None):
        raise ValueError("Either `probs` or `logits` must be specified, but not both.")
