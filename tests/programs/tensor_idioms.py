"""Tensor idioms from the "Tensors" tutorial and everyday code, each printed: creation, dtypes and devices,
indexing and slicing (ellipsis, None, boolean masks, fancy indexing, index assignment), torch.where, einsum,
broadcasting, reshape/permute/contiguous, cat/stack/chunk, gather/scatter_, topk/sort/argmax, cumsum, in-place ops,
and the print formats of tensors of every common kind (ints, bools, float64, sci notation, summarised, 0-d)."""
import torch

torch.manual_seed(2024)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

data = [[1, 2], [3, 4]]
x_data = torch.tensor(data)
x_ones = torch.ones_like(x_data)
x_rand = torch.rand_like(x_data, dtype=torch.float)
print(f"Ones Tensor: \n {x_ones} \n")
print(f"Random Tensor: \n {x_rand} \n")
shape = (2, 3,)
print(torch.rand(shape), torch.zeros(shape), sep="\n")
tensor = torch.rand(3, 4)
print(f"Shape of tensor: {tensor.shape}")
print(f"Datatype of tensor: {tensor.dtype}")
print(f"Device tensor is stored on: {tensor.device}")
tensor = torch.ones(4, 4)
print(f"First row: {tensor[0]}")
print(f"First column: {tensor[:, 0]}")
print(f"Last column: {tensor[..., -1]}")
tensor[:, 1] = 0
print(tensor)
t1 = torch.cat([tensor, tensor, tensor], dim=1)
print(t1)
y1 = tensor @ tensor.T
y3 = torch.rand_like(y1)
torch.matmul(tensor, tensor.T, out=y3)
z1 = tensor * tensor
print(y1.equal(y3), z1.sum(), z1.sum().item())
tensor.add_(5)
print(tensor)

# indexing
a = torch.arange(24).reshape(2, 3, 4)
print(a[1, :, ::2], a[..., 1], a[:, None, 0].shape, a[a % 5 == 0])
print(a[[0, 1], [2, 0]], a[:, [0, 2]][..., -1], a[0, 1:, [1, 3]])
b = torch.zeros(5)
b[torch.tensor([0, 3])] = torch.tensor([1.5, -2.0])
b[b == 0] = 7
print(b, b.nonzero().squeeze(1), (b > 0).sum(), b.masked_select(b > 1))
m = torch.randn(4, 5)
print(torch.where(m > 0, m, torch.zeros_like(m)))
print(torch.where(m > 0.5))
print(torch.where(m.abs() < 1, 1.0, -1.0).sum(dim=1))

# einsum and broadcasting
A, B = torch.randn(2, 3, 4), torch.randn(2, 4, 5)
print(torch.allclose(torch.einsum("bij,bjk->bik", A, B), A @ B, atol=1e-6))
v = torch.arange(3.0)
print(torch.einsum("i,j->ij", v, v), torch.einsum("ii->", torch.eye(3) * 2), torch.einsum("bij->bji", A).shape)
print(v[:, None] + torch.arange(4.0), (v.unsqueeze(0) * v.unsqueeze(1)).triu())

# shapes
p = A.permute(2, 0, 1)
print(p.shape, p.is_contiguous(), p.contiguous().view(4, -1).shape, A.flatten(1).shape, A.transpose(0, 1).stride())
c1, c2 = torch.chunk(torch.arange(10), 2)
print(c1, c2, torch.stack([c1, c2], dim=1), torch.split(torch.arange(5), [2, 3]))

# gather / scatter / sort
scores = torch.tensor([[0.1, 0.7, 0.2], [0.5, 0.1, 0.4]])
idx = scores.argmax(dim=1, keepdim=True)
print(idx, scores.gather(1, idx), torch.zeros(2, 3).scatter_(1, idx, 1.0))
vals, ids = torch.topk(torch.tensor([3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0]), k=3)
print(vals, ids, torch.sort(torch.tensor([3, 1, 2]), descending=True))
print(torch.cumsum(torch.arange(1, 6), 0), torch.arange(1.0, 6.0).cumprod(0), torch.unique(torch.tensor([3, 1, 3, 2])))
print(torch.max(scores, dim=1), scores.max(), scores.mean(0), scores.std(), scores.norm(dim=1))
print(torch.clamp(torch.linspace(-2, 2, 5), min=-1, max=1), torch.linspace(0, 1, 5))

# print formats
print(torch.tensor([True, False, True]), torch.tensor([1, -20, 300], dtype=torch.int32))
print(torch.tensor([1e-5, 1.0, 12345.678]), torch.tensor([1e10, 2.0]), torch.tensor([0.1, 0.25], dtype=torch.float64))
print(torch.tensor(3.14159), torch.tensor(7), torch.tensor([]), torch.zeros(2, 0), torch.tensor([float("nan"), float("inf")]))
print(torch.arange(1500.0).reshape(50, 30))
print(torch.randn(2, 3, 4))
print(torch.tensor([[1.5, 2.0]], requires_grad=True), torch.tensor([2.0], requires_grad=True) * 2)
print(torch.tensor([1, 2], dtype=torch.uint8), torch.tensor([-1.0, 0.5], dtype=torch.float16),
      torch.tensor([1.25], dtype=torch.bfloat16), torch.arange(6).view(2, 3).t())
torch.set_printoptions(precision=2, sci_mode=False)
print(torch.tensor([1e-5, 1.0, 12345.678]), torch.randn(3))
torch.set_printoptions(profile="default")
print(torch.full((2, 2), 7), torch.eye(2, dtype=torch.long), torch.empty(0, 3).shape, torch.Size([2, 3]).numel())
print(x_data.to(device).float().mean(), x_data.dtype, x_data.float().dtype, x_data.double().sum())
