"""Grad mode: one module-level flag read on every op's hot path (core: Tensor reads it; torch.autograd.grad_mode
re-exports it)."""
import functools
import inspect

# A one-element list so the hot path reads it without a function call.
GRAD_ENABLED = [True]


def is_grad_enabled():
    return GRAD_ENABLED[0]


class _GradModeContext:
    """Base for no_grad / enable_grad / set_grad_enabled: usable as a context manager and a decorator."""
    _mode = True

    def __enter__(self):
        self._prev = GRAD_ENABLED[0]
        GRAD_ENABLED[0] = self._mode
        return self

    def __exit__(self, *exc):
        GRAD_ENABLED[0] = self._prev
        return False

    def __call__(self, fn):
        mode = self._mode
        if inspect.isgeneratorfunction(fn):
            @functools.wraps(fn)
            def gen_wrapper(*args, **kwargs):
                # the mode holds while the generator body runs, not while its consumer does
                gen = fn(*args, **kwargs)
                value = None
                while True:
                    prev = GRAD_ENABLED[0]
                    GRAD_ENABLED[0] = mode
                    try:
                        item = gen.send(value)
                    except StopIteration as stop:
                        return stop.value
                    finally:
                        GRAD_ENABLED[0] = prev
                    value = yield item
            return gen_wrapper

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            prev = GRAD_ENABLED[0]
            GRAD_ENABLED[0] = mode
            try:
                return fn(*args, **kwargs)
            finally:
                GRAD_ENABLED[0] = prev
        return wrapper

    def clone(self):
        return type(self)()


class no_grad(_GradModeContext):
    _mode = False

    def __new__(cls, orig_func=None):
        # `@no_grad` without parentheses decorates directly, as in PyTorch.
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)

    def __init__(self, orig_func=None):
        pass


class enable_grad(no_grad):
    _mode = True


class inference_mode(_GradModeContext):
    def __new__(cls, mode=True):
        if callable(mode):
            return cls()(mode)
        return super().__new__(cls)

    def __init__(self, mode=True):
        self._mode = not mode


class set_grad_enabled(_GradModeContext):
    def __init__(self, mode):
        self._prev = GRAD_ENABLED[0]
        self._mode = bool(mode)
        GRAD_ENABLED[0] = self._mode  # takes effect as a plain function call too, like PyTorch

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        GRAD_ENABLED[0] = self._prev
        return False

    def clone(self):
        return set_grad_enabled(self._mode)
