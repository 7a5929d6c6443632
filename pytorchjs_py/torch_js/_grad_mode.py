"""Grad mode: one module-level flag read on every op's hot path (core: Tensor reads it; torch.autograd.grad_mode
re-exports it)."""
import functools
import inspect

# A one-element list so the hot path reads it without a function call.
GRAD_ENABLED = [True]
# Inference mode: storage allocated while it is on makes inference tensors (Tensor.is_inference)
INFERENCE_MODE = [False]
# Anomaly detection: [enabled, check_nan] (nodes keep their forward stack; backward checks outputs for NaN)
ANOMALY_MODE = [False, True]


def is_grad_enabled():
    return GRAD_ENABLED[0]


class _GradModeContext:
    """Base for no_grad / enable_grad / set_grad_enabled: usable as a context manager and a decorator."""
    _mode = True

    def _switch(self):
        """Set this context's mode; return what _restore needs to undo it."""
        prev = GRAD_ENABLED[0]
        GRAD_ENABLED[0] = self._mode
        return prev

    def _restore(self, prev):
        GRAD_ENABLED[0] = prev

    def __enter__(self):
        self._prev = self._switch()
        return self

    def __exit__(self, *exc):
        self._restore(self._prev)
        return False

    def __call__(self, fn):
        if inspect.isgeneratorfunction(fn):
            @functools.wraps(fn)
            def gen_wrapper(*args, **kwargs):
                # the mode holds while the generator body runs, not while its consumer does
                gen = fn(*args, **kwargs)
                value = None
                while True:
                    prev = self._switch()
                    try:
                        item = gen.send(value)
                    except StopIteration as stop:
                        return stop.value
                    finally:
                        self._restore(prev)
                    value = yield item
            return gen_wrapper

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            prev = self._switch()
            try:
                return fn(*args, **kwargs)
            finally:
                self._restore(prev)
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
        self.mode = mode
        self._mode = not mode

    def _switch(self):
        prev = GRAD_ENABLED[0], INFERENCE_MODE[0]
        GRAD_ENABLED[0] = self._mode
        INFERENCE_MODE[0] = bool(self.mode)
        return prev

    def _restore(self, prev):
        GRAD_ENABLED[0], INFERENCE_MODE[0] = prev

    def clone(self):
        return type(self)(self.mode)


def is_inference_mode_enabled():
    return INFERENCE_MODE[0]


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
