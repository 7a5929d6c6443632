"""torch_js.export (torch.export): not available in the browser.

torch.export traces a model into a graph program (with TorchDynamo and FakeTensors) to hand to AOT compilers and
other runtimes; torch_js has neither the tracer nor a consumer for its output. The functions raise a RuntimeError
that says so; Dim and the dynamic-shape markers exist so a program builds its export arguments before failing
where it exports.
"""

__all__ = ["export", "export_for_training", "save", "load", "Dim", "ExportedProgram", "ShapesCollection",
           "unflatten", "draft_export"]


def _unavailable(name):
    return RuntimeError(f"torch.export.{name} is not available in the browser: torch_js has no graph tracer "
                        "(TorchDynamo/FakeTensor) to export a model with. Save the weights with "
                        "torch.save(model.state_dict(), f) and export from a PyTorch installation.")


def export(mod, args=(), kwargs=None, *, dynamic_shapes=None, strict=False, preserve_module_call_signature=(),
           **options):
    raise _unavailable("export")


def export_for_training(mod, args=(), kwargs=None, *, dynamic_shapes=None, strict=False,
                        preserve_module_call_signature=()):
    raise _unavailable("export_for_training")


def draft_export(mod, args=(), kwargs=None, *, dynamic_shapes=None, **options):
    raise _unavailable("draft_export")


def save(ep, f, *, extra_files=None, opset_version=None, pickle_protocol=2):
    raise _unavailable("save")


def load(f, *, extra_files=None, expected_opset_version=None):
    raise _unavailable("load")


def unflatten(module, flat_args_adapter=None):
    raise _unavailable("unflatten")


class ExportedProgram:
    """What torch.export.export returns in PyTorch; torch_js never makes one."""

    def __init__(self, *args, **kwargs):
        raise _unavailable("ExportedProgram")


class _DimHint:
    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"DimHint({self.name})"


class _Dim:
    """A named dimension of dynamic_shapes (its range), as PyTorch's Dim describes one."""

    def __init__(self, name, min=None, max=None):
        self.__name__ = name
        self.min = 0 if min is None else min
        self.max = max

    def __repr__(self):
        return f"Dim('{self.__name__}', min={self.min}, max={self.max})"


class _DimFactory:
    AUTO = _DimHint("AUTO")
    STATIC = _DimHint("STATIC")
    DYNAMIC = _DimHint("DYNAMIC")

    def __call__(self, name, *, min=None, max=None):
        if min is not None and max is not None and not min <= max:
            raise AssertionError(f"Cannot create Dim with inconsistent min={min}, max={max}")
        return _Dim(name, min, max)


Dim = _DimFactory()


class ShapesCollection:
    """Collects dynamic_shapes per tensor (shapes[tensor] = {0: Dim(...)})."""

    def __init__(self):
        self._shapes = {}

    def __setitem__(self, tensor, shape):
        self._shapes[id(tensor)] = shape

    def __getitem__(self, tensor):
        return self._shapes.setdefault(id(tensor), {})

    def dynamic_shapes(self, m, args, kwargs=None):
        return self._shapes
