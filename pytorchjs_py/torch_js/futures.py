"""torch_js.futures (torch.futures): PyTorch's Future, for a runtime with one thread.

Nothing in torch_js runs in the background (torch.jit.fork runs its function at once), so a Future is completed by
whoever holds it: set_result / set_exception, or the function fork ran. Callbacks (then, add_done_callback) run
when it completes, or at once on a completed one, as PyTorch's do. Waiting on a Future nobody has completed could
only hang a single thread; wait() raises a RuntimeError saying so instead.
"""

from ._storage import device

__all__ = ["Future", "collect_all", "wait_all"]

_PENDING = object()


class Future:
    """torch.futures.Future: a value (or an exception) set once, and the callbacks waiting for it."""

    def __init__(self, *, devices=None):
        self._devices = [device(d) for d in (devices or [])]
        self._result = _PENDING
        self._exception = None
        self._callbacks = []

    def done(self):
        return self._result is not _PENDING or self._exception is not None

    def wait(self):
        if not self.done():
            raise RuntimeError("Future.wait(): this Future has no result and nothing can complete it: torch_js runs "
                               "one thread, so a Future is completed by set_result/set_exception (torch.jit.fork "
                               "completes its Future before returning it)")
        return self.value()

    def value(self):
        if self._exception is not None:
            raise self._exception
        if self._result is _PENDING:
            raise RuntimeError("Future.value(): the Future is not completed yet (call it after wait() or in a "
                               "callback)")
        return self._result

    def _complete(self):
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback(self)

    def set_result(self, result):
        if self.done():
            raise RuntimeError("Attempting to mark a completed Future as complete again. Note that a Future can "
                               "only be marked completed once.")
        self._result = result
        self._complete()

    def set_exception(self, result):
        if not isinstance(result, Exception):
            raise AssertionError(f"{result} is of type {type(result)}, not an Exception.")
        if self.done():
            raise RuntimeError("Attempting to mark a completed Future as complete again. Note that a Future can "
                               "only be marked completed once.")
        self._exception = result
        self._complete()

    def add_done_callback(self, callback):
        if self.done():
            callback(self)
        else:
            self._callbacks.append(callback)

    def then(self, callback):
        """A new Future completed with callback(self)'s value (or the error it raised) once this one completes."""
        chained = Future(devices=self._devices)

        def run(fut):
            try:
                chained.set_result(callback(fut))
            except Exception as e:   # noqa: BLE001  (PyTorch hands the callback's error to the chained Future)
                chained.set_exception(RuntimeError(
                    f"Got the following error when running the callback: {type(e).__name__}: {e}"))
        self.add_done_callback(run)
        return chained

    def __repr__(self):
        return f"<torch.jit.Future object at {id(self):#x}>"


def collect_all(futures):
    """A Future completed with the list of `futures` once every one of them has completed."""
    combined = Future()
    remaining = [len(futures)]

    def one_done(_):
        remaining[0] -= 1
        if remaining[0] == 0:
            combined.set_result(list(futures))
    if not futures:
        combined.set_result([])
    for fut in futures:
        fut.add_done_callback(one_done)
    return combined


def wait_all(futures):
    """The values of `futures` (the first error among them raised)."""
    return [fut.wait() for fut in collect_all(futures).wait()]
