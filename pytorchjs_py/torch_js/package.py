"""torch_js.package (torch.package): not available. torch.package writes and reads archives of Python code with
pickled models through its own importer; torch_js cannot (its models are saved as state_dicts)."""

__all__ = ["PackageExporter", "PackageImporter", "PackagingError", "EmptyMatchError"]


class PackagingError(Exception):
    pass


class EmptyMatchError(Exception):
    pass


def _unavailable(name):
    return RuntimeError(f"torch.package.{name} is not available in torch_js: save the weights with "
                        "torch.save(model.state_dict(), f) and keep the model's code beside them")


class PackageExporter:
    def __init__(self, *args, **kwargs):
        raise _unavailable("PackageExporter")


class PackageImporter:
    def __init__(self, *args, **kwargs):
        raise _unavailable("PackageImporter")
