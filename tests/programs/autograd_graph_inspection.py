"""Looking at the autograd graph the way tutorials and graph-drawing tools do: print(type(t)), the grad_fn a printed
tensor shows after reflected operators (1 - x, 2 / x, 3 * x, x // 2), a walk over grad_fn.next_functions (with its
(None, 0) placeholders for inputs that need no gradient), the node each layer of a small CNN hands on (convolution,
batch norm, an in-place ReLU on a convolution's output, layer norm, GELU, PReLU) seen through forward hooks, and
`loss.grad_fn.next_functions[0][0]` chains as the neural-networks tutorial prints them."""
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(3)

x = torch.linspace(-1.0, 2.0, 4, requires_grad=True)
print(type(x), type(x) is torch.Tensor, isinstance(nn.Parameter(torch.ones(1)), torch.Tensor))

# reflected operators: PyTorch runs them as ops on the tensor, which is what the printed grad_fn says
h = x * 1.5
for label, value in [("1 - h", 1 - h), ("2 / h", 2 / h), ("3 * h", 3 * h), ("h + 4", 4 + h),
                     ("h // 2", h // 2), ("h ** 2", h ** 2), ("2 ** h", 2 ** h), ("-h", -h)]:
    print(f"{label:7s}", value)


def walk(fn, depth=0, seen=None):
    """Print the graph under fn, one node a line; inputs that need no gradient show as None."""
    seen = set() if seen is None else seen
    name = "None" if fn is None else type(fn).__name__
    print("  " * depth + name + (" (again)" if fn is not None and fn in seen else ""))
    if fn is None or fn in seen:
        return
    seen.add(fn)
    for child, input_nr in fn.next_functions:
        walk(child, depth + 1, seen)


y = ((1 - h).exp() * 2 + h.sigmoid() / 3).sum()
print(y)
walk(y.grad_fn)
print(y.grad_fn.next_functions)   # addresses are masked in the fixture
y.backward()
print(x.grad)


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(4)
        self.conv2 = nn.Conv2d(4, 6, 3, bias=False)
        self.act = nn.ReLU(inplace=True)
        self.pool = nn.MaxPool2d(2)
        self.norm = nn.LayerNorm(6 * 3 * 3)
        self.fc1 = nn.Linear(6 * 3 * 3, 16)
        self.gelu = nn.GELU()
        self.prelu = nn.PReLU()
        self.fc2 = nn.Linear(16, 3)

    def forward(self, images):
        z = self.bn1(self.conv1(images))
        z = self.pool(self.act(self.conv2(z)))
        z = self.norm(torch.flatten(z, 1))
        return self.fc2(self.prelu(self.gelu(self.fc1(z))))


net = SmallCNN()


def report(module, inputs, output):
    print(f"{type(module).__name__:12s} -> {type(output.grad_fn).__name__}")


handles = [m.register_forward_hook(report) for m in net.children()]
images = torch.randn(2, 1, 8, 8)
out = net(images)
for handle in handles:
    handle.remove()
print(out)

target = torch.tensor([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
loss = F.mse_loss(out, target)
print(loss.grad_fn)
print(loss.grad_fn.next_functions[0][0])
print(loss.grad_fn.next_functions[0][0].next_functions[0][0])
print([type(f).__name__ if f is not None else None for f, _ in loss.grad_fn.next_functions[0][0].next_functions])
net.zero_grad()
loss.backward()
print(net.conv2.weight.grad[0, 0])   # (conv1.bias feeds a batch norm: its gradient is rounding noise)
print(net.prelu.weight.grad, net.bn1.weight.grad)

# the output of a convolution is a tensor of its own, not a view: an in-place op on it records the op's node
c = net.conv2(torch.randn(1, 4, 5, 5))
print(c._base is None, type(c.grad_fn).__name__, type(F.relu_(c).grad_fn).__name__, c.is_contiguous())
