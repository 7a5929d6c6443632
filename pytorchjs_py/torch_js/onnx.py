"""torch.onnx in torch_js: exporting is not available (it traces the model into an ONNX graph with PyTorch's
exporter, which torch_js does not have)."""

__all__ = ["export", "is_in_onnx_export"]


def export(model, args=(), f=None, **kwargs):
    raise RuntimeError("torch.onnx.export is not available in torch_js: it has no ONNX exporter. Save the weights "
                       "with torch.save(model.state_dict(), ...) and export from a PyTorch installation.")


def is_in_onnx_export():
    return False
