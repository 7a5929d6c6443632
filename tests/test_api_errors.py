"""The public API's argument errors (ops/_api.py) and the calls the fuzzer found wrong, against PyTorch's types and
messages; plus the kernel argument block under threads."""
import sys
import threading
import time

import pytest

import torch_js as T
from optional_torch import needs_torch, torch

# (expression, exception type, text the message contains): `T` is the library
CASES = [
    ("T.ger(T.ones(3), 2)", TypeError, "ger(): argument 'vec2' (position 2) must be Tensor, not int"),
    ("T.ones(3).ger(-1)", TypeError, "ger(): argument 'vec2' (position 1) must be Tensor, not int"),
    ("T.t(True)", TypeError, "t(): argument 'input' (position 1) must be Tensor, not bool"),
    ("T.tril(None)", TypeError, "tril(): argument 'input' (position 1) must be Tensor, not NoneType"),
    ("T.hstack((1, 1))", TypeError, "expected Tensor as element 0 in argument 0, but got int"),
    ("T.index_select(T.ones(2), 0, [1, 2])", TypeError, "argument 'index' (position 3) must be Tensor, not list"),
    ("T.cdist(2.5, T.ones(2, 3))", TypeError, "argument 'x1' (position 1) must be Tensor, not float"),
    ("T.nn.functional.layer_norm(2.5, (2,))", TypeError, "argument 'input' (position 1) must be Tensor"),
    ("T.amax(T.ones(2), keepdim=1.0)", TypeError, "amax(): argument 'keepdim' must be bool, not float"),
    ("T.diagonal(T.ones(2, 2), dim1=True)", TypeError, "diagonal(): argument 'dim1' must be int, not bool"),
    ("T.eye(2.0)", TypeError, "eye(): argument 'n' (position 1) must be int, not float"),
    ("T.linalg.eigh(T.eye(2), UPLO=1)", TypeError, "argument 'UPLO' must be str, not int"),
    ("T.zeros()", TypeError, 'zeros() missing 1 required positional arguments: "size"'),
    ("T.ones(2).new_zeros()", TypeError, 'new_zeros() missing 1 required positional arguments: "size"'),
    ("T.ones(2).expand()", TypeError, 'expand() missing 1 required positional arguments: "size"'),
    ("T.ones(2).view()", TypeError, "view() received an invalid combination of arguments"),
    ("T.abs(T.tensor([True]))", NotImplementedError, '"abs_cpu" not implemented for \'Bool\''),
    ("T.tensor([True]).relu_()", RuntimeError, "Boolean inputs not supported for relu"),
    ("T.ones(2, dtype=T.int64).uniform_()", NotImplementedError, '"check_uniform_bounds" not implemented for'),
    ("T.bernoulli(T.tensor([-1.0]))", RuntimeError, "Expected p_in >= 0 && p_in <= 1"),
    ("T.argmax(T.tensor([True]))", RuntimeError, "argmax(): does not support bool input"),
    ("T.softmax(T.ones(2), 0, out=T.empty(0, dtype=T.float64))", RuntimeError,
     "Expected out tensor to have dtype float, but got double instead"),
    ("T.isnan(T.ones(2), out=T.empty(2, dtype=T.bool))", TypeError, "unexpected keyword argument 'out'"),
    ("T.abs(T.tensor([1]), out=T.empty(1))", RuntimeError, "Found dtype Float but expected Long"),
    ("T.linalg.lu_factor(T.eye(2, dtype=T.int32))", NotImplementedError, '"lu_cpu" not implemented for \'Int\''),
    ("T.linalg.svd(T.eye(2, dtype=T.float16))", NotImplementedError, '"linalg_svd_cpu" not implemented for'),
    ("T.linalg.inv(T.eye(2, dtype=T.int32))", RuntimeError, "Expected a floating point or complex tensor"),
    ("T.tensor([1, 2]).__setitem__(T.tensor([[5]]), float('nan'))", RuntimeError,
     "value cannot be converted to type int64_t without overflow"),
    ("T.ones(4, 5)[T.tensor([0, 1, 2]), T.tensor([0, 1])]", IndexError,
     "shape mismatch: indexing tensors could not be broadcast together with shapes [3], [2]"),
    ("T.nn.functional.layer_norm(T.ones(2, 3), (3,), T.ones(3, dtype=T.float64))", RuntimeError,
     "mixed dtype (CPU): expect parameter to have scalar type of Float"),
    ("T.nn.functional.interpolate(T.ones(1, 1, 2))", ValueError, "either size or scale_factor should be defined"),
    ("T.nn.functional.pad(T.ones(1, 2, 2), (1, 1), 'bogus', 1.0)", NotImplementedError,
     "Unrecognised padding mode bogus"),
    # a GCN's message passing: index_add_ and scatter_add_ with a bad index or source
    ("T.zeros(5, 4).index_add_(0, T.tensor([0, 9]), T.ones(2, 4))", RuntimeError,
     "index 9 is out of bounds for dimension 0 with size 5"),
    ("T.zeros(5, 4).index_add(0, T.tensor([0, -1]), T.ones(2, 4))", RuntimeError,
     "index -1 is out of bounds for dimension 0 with size 5"),
    ("T.zeros(5).index_add(0, T.tensor([0, 9]), T.ones(2))", IndexError, "index out of range in self"),
    ("T.zeros(3, 2).index_add(0, T.tensor([0, 1]), T.ones(2, 2, dtype=T.float64))", RuntimeError,
     "index_add_(): self (Float) and source (Double) must have the same scalar type"),
    ("T.zeros(3).index_add(0, T.tensor([0., 1.]), T.ones(2))", RuntimeError,
     "index_add_(): Expected dtype int32/int64 for index but got: Float"),
    ("T.zeros(3).index_add(0, T.tensor([[0]]), T.ones(1))", IndexError,
     "index_add_(): Index is supposed to be a vector, but got dim: 2 with type: Long and size: [1, 1]"),
    ("T.zeros(()).index_add(0, T.tensor([0]), T.ones(1))", RuntimeError,
     "source tensor shape must match self tensor shape, excluding the specified dimension. Got self.shape = [] "
     "source.shape = [1]"),
    ("T.zeros(3).scatter_add_(0, T.tensor([0, 1]), T.ones(2, dtype=T.float64))", RuntimeError,
     "scatter(): Expected self.dtype to be equal to src.dtype"),
    ("T.zeros(3).scatter_add(0, T.tensor([0., 1.]), T.ones(2))", RuntimeError,
     "scatter(): Expected dtype int32/int64 for index"),
    ("T.zeros(3).scatter(0, T.tensor([[0]]), T.ones(2, dtype=T.float64))", RuntimeError,
     "scatter(): Expected self.dtype to be equal to src.dtype"),
    # NumPy's names are not taken where PyTorch's Python code (nn.functional, torch.split, Tensor.norm) reads the
    # arguments, nor beside the parameter's own name
    ("T.nn.functional.softmax(T.ones(2), axis=0)", TypeError, "got an unexpected keyword argument 'axis'"),
    ("T.split(T.ones(2), 1, axis=0)", TypeError, "got an unexpected keyword argument 'axis'"),
    ("T.ones(2).norm(dim=0, keepdims=True)", TypeError, "got an unexpected keyword argument 'keepdims'"),
    ("T.ones(2).sum(dim=0, axis=0)", TypeError, "sum() got an unexpected keyword argument 'axis'"),
    ("T.abs(input=T.ones(2), a=T.ones(2))", TypeError, "abs() got an unexpected keyword argument 'a'"),
    # tutorials' shape and dtype slips, in PyTorch's words
    ("T.bmm(T.ones(2, 3, 4), T.ones(3, 4, 5))", RuntimeError,
     "Expected size for first two dimensions of batch2 tensor to be: [2, 4] but got: [3, 4]."),
    ("T.ones(2, 3, 4) @ T.ones(5, 6)", RuntimeError, "mat1 and mat2 shapes cannot be multiplied (6x4 and 5x6)"),
    ("T.ones(2, 3, 4) @ T.ones(5)", RuntimeError, "size mismatch, got input (6), mat (6x4), vec (5)"),
    ("T.ones(2, 1, 3, 4) @ T.ones(3, 5, 6)", RuntimeError,
     "Expected size for first two dimensions of batch2 tensor to be: [6, 4] but got: [6, 5]."),
    ("T.ones(2, 3, 4) @ T.ones(3, 4, 6)", RuntimeError,
     "The size of tensor a (2) must match the size of tensor b (3) at non-singleton dimension 0"),
    ("T.nn.Embedding(5, 2)(T.tensor([5]))", IndexError, "index out of range in self"),
    ("T.zeros(5, 2).index_select(1, T.tensor([-1]))", RuntimeError,
     "INDICES element is out of DATA bounds, id=-1 axis_dim=2"),
    ("T.zeros(3).index_select(0, T.tensor([[0]]))", IndexError, "index_select(): Index is supposed to be a vector"),
    ("T.nn.functional.embedding(T.tensor([1]), T.ones(5, 2), padding_idx=7)", AssertionError,
     "Padding_idx must be within num_embeddings"),
    ("T.nn.functional.cross_entropy(T.ones(3, 4), T.tensor([0.0, 1.0, 2.0]))", RuntimeError,
     "expected target dtype to be Long or Byte, but got Float"),
    ("T.nn.functional.cross_entropy(T.ones(3, 4), T.zeros(3, 4, dtype=T.int64))", RuntimeError,
     "Expected floating point type for target with class probabilities, got Long"),
    ("T.nn.functional.cross_entropy(T.ones(3, 4), T.zeros(3, 4), ignore_index=1)", RuntimeError,
     "ignore_index is not supported for floating point target"),
    ("T.nn.functional.nll_loss(T.ones(3, 4), T.zeros(3, 1, dtype=T.int64))", RuntimeError,
     "0D or 1D target tensor expected, multi-target not supported"),
    ("T.nn.functional.nll_loss(T.ones(3, 4, 2), T.zeros(3, 1, dtype=T.int64))", RuntimeError,
     "Expected target size [3, 2], got [3, 1]"),
    ("T.nn.functional.nll_loss(T.ones(3, 4, 2, 2), T.zeros(3, 2, dtype=T.int64))", RuntimeError,
     "only batches of spatial targets supported (3D tensors) but got targets of dimension: 2"),
    ("T.nn.functional.nll_loss(T.ones(4), T.zeros(2, dtype=T.int64))", ValueError,
     "For 1D input, 1D target must have size 1, but got target size: 2"),
    ("T.nn.functional.binary_cross_entropy(T.full((2,), 0.5), T.tensor([1, 0]))", RuntimeError,
     "Found dtype Long but expected Float"),
    ("T.nn.functional.binary_cross_entropy_with_logits(T.zeros(2), T.tensor([1, 0]))", RuntimeError,
     "result type Float can't be cast to the desired output type Long"),
    ("T.nn.LSTM(4, 5)(T.ones(3, 2, 4), (T.zeros(1, 3, 5), T.zeros(1, 2, 5)))", RuntimeError,
     "Expected hidden[0] size (1, 2, 5), got [1, 3, 5]"),
    ("T.nn.LSTM(4, 5)(T.ones(3, 2, 4), (T.zeros(2, 5), T.zeros(1, 2, 5)))", RuntimeError,
     "For batched 3-D input, hx and cx should also be 3-D but got (2-D, 3-D) tensors"),
    ("T.nn.MultiheadAttention(8, 2)(T.ones(3, 8), T.ones(3, 8), T.ones(4, 8))", AssertionError,
     "key shape torch.Size([3, 1, 8]) does not match value shape torch.Size([4, 1, 8])"),
    ("T.zeros(2, requires_grad=True).resize_(3)", RuntimeError, "cannot resize variables that require grad"),
    ("T.zeros(2, 3).masked_fill(T.zeros(2, 3), 1)", RuntimeError,
     "masked_fill_ only supports boolean masks, but got mask with dtype float"),
    # a float64 batch (from numpy) into a float32 model
    ("T.nn.Linear(3, 2)(T.ones(2, 3, dtype=T.float64))", RuntimeError,
     "mat1 and mat2 must have the same dtype, but got Double and Float"),
    ("T.nn.functional.linear(T.ones(2, 3), T.ones(2, 3), T.ones(2, dtype=T.float64))", RuntimeError,
     "self and mat2 must have the same dtype, but got Double and Float"),
    ("T.nn.Conv2d(1, 2, 3)(T.ones(1, 1, 5, 5, dtype=T.float64))", RuntimeError,
     "Input type (double) and bias type (float) should be the same"),
    ("T.bmm(T.ones(2, 3, 4, dtype=T.float64), T.ones(2, 4, 5))", RuntimeError,
     "expected scalar type Double but found Float"),
    ("T.nn.GroupNorm(3, 4)", ValueError, "num_channels (4) must be divisible by num_groups (3)"),
    ("T.ones(2, 5).unflatten(-1, (2, 3))", RuntimeError,
     "unflatten: Provided sizes [2, 3] don't multiply up to the size of dim 1 (5) in the input tensor"),
    ("T.ones(2, 6).unflatten(1, ())", RuntimeError, "unflatten: sizes must be non-empty"),
    ("T.nn.functional.bilinear(T.ones(5, 2), T.ones(4, 3), T.ones(4, 2, 3))", RuntimeError,
     "bilinear(): input batch dimensions do not match at dim 0: got 5 and 4"),
    ("T.nn.functional.interpolate(T.ones(1, 1, 4, 4), size=(2, 2, 2))", ValueError,
     "spatial dimensions of [4, 4] and output size of (2, 2, 2). Please"),
    ("T.nn.functional.interpolate(T.ones(1, 1, 4, 4), scale_factor=[2, 2, 2])", ValueError,
     "Input and scale_factor must have the same number of spatial dimensions, but got input with spatial dimensions "
     "of [4, 4] and scale_factor of shape [2, 2, 2]."),
    ("T.nn.Upsample(scale_factor=2)(T.ones(2))", NotImplementedError,
     "(got 1D) for the modes: nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact "
     "(got nearest)"),
    ("T.optim.SGD([T.ones(1), 'a'], lr=0.1)", TypeError, "optimizer can only optimize Tensors, but one of the params "
     "is str"),
    ("T.utils.data.TensorDataset(T.ones(4, 2), T.ones(3))", AssertionError, "Size mismatch between tensors"),
    ("T.zeros(2, dtype='float32')", TypeError, "zeros(): argument 'dtype' must be torch.dtype, not str"),
    ("T.full((2,), 'a')", TypeError, "full(): argument 'fill_value' (position 2) must be Number, not str"),
    ("T.zeros(2, -1)", RuntimeError, "zeros: Dimension size must be non-negative."),
    ("T.randn(2, -1)", RuntimeError, "Trying to create tensor with negative dimension -1: [2, -1]"),
    ("T.randperm(-1)", RuntimeError, "Trying to create tensor with negative dimension -1: [-1]"),
    ("T.multinomial(T.tensor([0.0, 0.0]), 1)", RuntimeError,
     "invalid multinomial distribution (sum of probabilities <= 0)"),
    ("T.ones(2, 3).expand(4, 3, 2)", RuntimeError, "The expanded size of the tensor (2) must match the existing size "
     "(3) at non-singleton dimension 2.  Target sizes: [4, 3, 2].  Tensor sizes: [2, 3]"),
    ("~T.ones(2)", TypeError, "~ (operator.invert) is only implemented on integer and Boolean-type tensors"),
    ("T.ones(2, 3).repeat_interleave(T.tensor([1, 2]), dim=1)", RuntimeError,
     "repeats must have the same size as input along dim, but got repeats.size(0) = 2 and input.size(1) = 3"),
    ("T.where(T.ones(2) > 0, T.ones(2))", TypeError,
     "where() received an invalid combination of arguments - got (Tensor, Tensor), but expected one of:"),
    ("T.ones(2, dtype=T.int64, requires_grad=True)", RuntimeError,
     "Only Tensors of floating point and complex dtype can require gradients"),
    ("T.randint(3, (2,), requires_grad=True)", RuntimeError,
     "Only Tensors of floating point and complex dtype can require gradients"),
    ("T.ones(2, dtype=T.int64).requires_grad_()", RuntimeError,
     "only Tensors of floating point dtype can require gradients"),
    # a missing argument in the words of PyTorch's parser; torch.softmax (unlike F.softmax) takes no implicit dim
    ("T.ones(2).cumsum()", TypeError, 'cumsum() missing 1 required positional arguments: "dim"'),
    ("T.ones(2, 3).transpose()", TypeError, 'transpose() missing 2 required positional argument: "dim0", "dim1"'),
    ("T.softmax(T.ones(2))", TypeError, 'softmax() missing 1 required positional arguments: "dim"'),
    # the transposes' rank checks
    ("T.ones(2, 3, 4).H", RuntimeError,
     "tensor.H is only supported on matrices (2-D tensors). Got 3-D tensor. For batches of matrices, consider using "
     "tensor.mH"),
    ("T.ones(3).mH", RuntimeError, "tensor.mH is only supported on matrices or batches of matrices. Got 1-D tensor."),
    ("T.ones(3).mT", RuntimeError, "tensor.mT is only supported on matrices or batches of matrices. Got 1-D tensor."),
    ("T.ones(3).adjoint()", RuntimeError,
     "tensor.adjoint() is only supported on matrices or batches of matrices. Got 1-D tensor."),
    # a spatial transformer given an image size of the wrong rank: the size as given
    ("T.nn.functional.affine_grid(T.zeros(1, 2, 3), (1, 1, 4), align_corners=False)", NotImplementedError,
     "affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, respectively. Got size (1, 1, 4)."),
    ("T.nn.functional.affine_grid(T.zeros(1, 2, 3), (1, 1, 0, 2), align_corners=False)", ValueError,
     "Expected non-zero, positive output size. Got (1, 1, 0, 2)"),
]


@pytest.mark.parametrize("expr,exc,text", CASES, ids=[c[0] for c in CASES])
def test_error_type_and_message(expr, exc, text):
    with pytest.raises(exc) as info:
        eval(expr)
    assert text in str(info.value)


@needs_torch
@pytest.mark.parametrize("expr,exc,text", CASES, ids=[c[0] for c in CASES])
def test_pytorch_raises_the_same(expr, exc, text):
    with pytest.raises(exc):
        eval(expr, {"T": torch})


# calls that must succeed, with PyTorch's result
WORKS = [
    ("T.zeros(size=(2, 3)).shape", (2, 3)),
    ("T.rand(3, out=T.empty(0)).shape", (3,)),
    ("T.ones(3)[[]].shape", (0,)),
    ("T.ones(0, 3)[:, [7]].shape", (0, 1)),           # an empty result reads (and bounds-checks) no index
    ("T.adjoint(T.tensor(2.0)).tolist()", 2.0),
    ("T.nn.functional.rms_norm(T.tensor([[300.0, 400.0]], dtype=T.float16), (2,)).tolist()",
     [[0.8486328125, 1.1318359375]]),                 # x * x would overflow float16
    ("T.nn.functional.avg_pool2d(T.full((1, 1, 2, 2), 2**62, dtype=T.int64), 2).tolist()", [[[[0]]]]),  # wraps
    ("T.empty(0, 3, dtype=T.bool).normal_().shape", (0, 3)),
    ("T.multinomial(T.empty(0, 3), 1).shape", (0, 1)),
    # PyTorch's parser takes NumPy's names (makemore's P.sum(1, keepdims=True)) in the ops it parses
    ("T.arange(6.0).view(2, 3).sum(1, keepdims=True).tolist()", [[3.0], [12.0]]),
    ("T.sum(T.arange(6.0).view(2, 3), axis=0).tolist()", [3.0, 5.0, 7.0]),
    ("T.arange(6.0).view(2, 3).amax(axis=1, keepdims=True).shape", (2, 1)),
    ("T.cat([T.ones(1), T.zeros(1)], axis=0).tolist()", [1.0, 0.0]),
    ("T.add(x1=T.ones(1), x2=T.ones(1)).tolist()", [2.0]),
    ("T.abs(a=T.tensor([-1.0])).tolist()", [1.0]),
    ("T.where(T.tensor([True, False]), x1=T.ones(2), x2=T.zeros(2)).tolist()", [1.0, 0.0]),
    # randint(out=...) fills out (the seeded stream's draws, in out's dtype)
    ("(T.manual_seed(0), T.randint(0, 10, (3,), out=T.empty(2)).tolist())[1]", [4.0, 9.0, 3.0]),
    # Python's number types given as dtypes
    ("[str(T.ones(1, dtype=t).dtype) for t in (float, int, bool, complex)]",
     ["torch.float64", "torch.int64", "torch.bool", "torch.complex128"]),
    ("[str(T.ones(1).to(float).dtype), str(T.arange(2, dtype=float).dtype), str(T.ones(2).sum(dtype=int).dtype)]",
     ["torch.float64", "torch.float64", "torch.int64"]),
    # the 1-D and 2-D transposed convolutions add a bias of another dtype in the input's
    ("str(T.nn.functional.conv_transpose2d(T.ones(1, 1, 2, 2), T.ones(1, 1, 1, 1), T.ones(1, dtype=T.float64))"
     ".dtype)", "torch.float32"),
]


@pytest.mark.parametrize("expr,expected", WORKS, ids=[w[0] for w in WORKS])
def test_succeeds_like_pytorch(expr, expected):
    got = eval(expr)
    assert (tuple(got) if isinstance(got, T.Size) else got) == expected


@needs_torch
@pytest.mark.parametrize("expr,expected", WORKS, ids=[w[0] for w in WORKS])
def test_pytorch_agrees(expr, expected):
    got = eval(expr, {"T": torch})
    assert (tuple(got) if isinstance(got, torch.Size) else got) == expected


@pytest.mark.skipif(sys.platform == "emscripten", reason="no threads in Pyodide")
def test_kernel_argument_block_is_not_shared_mid_call():
    """Two threads running kernels: the GIL can pass between packing tjs_args and the call (a 'kernel error 5' or
    a wrong sum before the lock)."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    errors = []

    def work(k):
        a = T.full((7,), float(k + 1))
        b = T.full((5, 3), float(k + 2))
        end = time.time() + 0.7
        try:
            while time.time() < end:
                if (a + a).tolist() != [2.0 * (k + 1)] * 7 or b.sum(0).tolist() != [5.0 * (k + 2)] * 3:
                    errors.append("wrong value")
        except Exception as e:   # noqa: BLE001  (any failure is the finding)
            errors.append(repr(e))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(2)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(old)
    assert not errors, errors[:3]


def test_indexing_bounds_error_is_a_plain_index_error():
    """t[idx] past the dim raises IndexError itself (index_select rewords the same kernel error, see CASES)."""
    with pytest.raises(IndexError) as info:
        T.ones(2, 3)[T.tensor([2])]
    assert type(info.value) is IndexError and str(info.value) == "index 2 is out of bounds for dimension 0 with size 2"
