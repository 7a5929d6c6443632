"""Warnings from ops and torch.nn.functional name the user's line (where PyTorch's, raised from its C++ ops or
its Python functions, point), not a line inside torch_js: the op registry's wrapper sits between them."""
import warnings

import pytest

import torch_js as tj
import torch_js.nn.functional as F

CALLS = [
    ("meshgrid", lambda: tj.meshgrid(tj.arange(2), tj.arange(2)), "torch.meshgrid: in an upcoming release"),
    ("cross", lambda: tj.cross(tj.zeros(3), tj.zeros(3)), "Using torch.cross without specifying the dim arg"),
    ("softmax", lambda: F.softmax(tj.zeros(3)), "Implicit dimension choice for softmax has been deprecated"),
    ("grid_sample", lambda: F.grid_sample(tj.zeros(1, 1, 2, 2), tj.zeros(1, 1, 1, 2)),
     "Default grid_sample and affine_grid behavior has changed"),
    ("std", lambda: tj.zeros(1).std(), "std(): degrees of freedom is <= 0"),
    ("mse_loss", lambda: F.mse_loss(tj.zeros(2, 1), tj.zeros(2)), "Using a target size (torch.Size([2]))"),
    ("upsample", lambda: F.upsample(tj.zeros(1, 1, 2), scale_factor=2),
     "`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` instead."),
    ("upsample_bilinear", lambda: F.upsample_bilinear(tj.zeros(1, 1, 2, 2), scale_factor=2),
     "`nn.functional.upsample_bilinear` is deprecated."),
    ("T of 3-D", lambda: tj.zeros(2, 3, 4).T, "The use of `x.T` on tensors of dimension other than 2"),
    ("tensor(tensor)", lambda: tj.tensor(tj.ones(2)), "To copy construct from a tensor, it is recommended to use "
     "sourceTensor.detach().clone() or sourceTensor.detach().clone().requires_grad_(True), rather than "
     "torch.tensor(sourceTensor)."),
    ("new_tensor(tensor)", lambda: tj.ones(1).new_tensor(tj.ones(2)), "rather than tensor.new_tensor(sourceTensor)."),
    ("chain_matmul", lambda: tj.chain_matmul(tj.ones(2, 2), tj.ones(2, 2)),
     "torch.chain_matmul is deprecated and will be removed in a future PyTorch release. Use torch.linalg.multi_dot"),
]


@pytest.mark.parametrize("name,call,text", CALLS, ids=[c[0] for c in CALLS])
def test_warning_names_the_callers_line(name, call, text):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    assert [str(w.message) for w in caught if text in str(w.message)], [str(w.message) for w in caught]
    w = next(w for w in caught if text in str(w.message))
    assert w.filename == __file__


def test_once_per_process_warnings_and_their_order():
    """torch.lu's deprecation is PyTorch's TORCH_WARN_ONCE (every time under set_warn_always(True)); stft warns of
    the missing window before refusing a real output without return_complex."""
    tj.set_warn_always(True)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            tj.lu(tj.eye(2))
            tj.lu(tj.eye(2))
            tj.zeros(3).scatter(0, tj.tensor([0, 1]), tj.ones(2), reduce="add")
    finally:
        tj.set_warn_always(False)
    assert [str(w.message).split("\n")[0] for w in caught] == ["torch.lu is deprecated in favor of "
                                                               "torch.linalg.lu_factor / torch.linalg.lu_factor_ex "
                                                               "and will be removed in a future PyTorch release."] * 2 + [
        "The reduce argument of torch.scatter with Tensor src is deprecated and will be removed in a future PyTorch "
        "release. Use torch.scatter_reduce instead for more reduction options."]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(RuntimeError, match="stft requires the return_complex parameter"):
            tj.stft(tj.ones(64), 16)
    assert [str(w.message)[:30] for w in caught] == ["A window was not provided. A r"]
