"""Custom autograd, as in "Learning PyTorch with examples": a torch.autograd.Function (LegendrePolynomial3 with
ctx.save_for_backward) fitting sin(x) with manual weight updates under torch.no_grad(), a clamp-style Function with
ctx.mark_non_differentiable-free backward, torch.autograd.grad with create_graph for a second derivative, and
gradcheck in float64."""
import math

import torch


class LegendrePolynomial3(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input ** 3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input ** 2 - 1)


class MyReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return input.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        grad_input = grad_output.clone()
        grad_input[input < 0] = 0
        return grad_input


class ScaleBy(torch.autograd.Function):
    """Takes a non-tensor argument; its backward returns None for it."""
    @staticmethod
    def forward(ctx, x, factor):
        ctx.factor = factor
        return x * factor

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.factor, None


dtype = torch.float
device = torch.device("cpu")
torch.manual_seed(0)
x = torch.linspace(-math.pi, math.pi, 500, device=device, dtype=dtype)
y = torch.sin(x)
a = torch.full((), 0.0, device=device, dtype=dtype, requires_grad=True)
b = torch.full((), -1.0, device=device, dtype=dtype, requires_grad=True)
c = torch.full((), 0.0, device=device, dtype=dtype, requires_grad=True)
d = torch.full((), 0.3, device=device, dtype=dtype, requires_grad=True)

learning_rate = 5e-6
for t in range(300):
    P3 = LegendrePolynomial3.apply
    y_pred = a + b * P3(c + d * x)
    loss = (y_pred - y).pow(2).sum()
    if t % 60 == 59:
        print(t, f"{loss.item():.4f}")
    loss.backward()
    with torch.no_grad():
        a -= learning_rate * a.grad
        b -= learning_rate * b.grad
        c -= learning_rate * c.grad
        d -= learning_rate * d.grad
        a.grad = None
        b.grad = None
        c.grad = None
        d.grad = None
print(f"Result: y = {a.item():.4f} + {b.item():.4f} * P3({c.item():.4f} + {d.item():.4f} x)")
print(y_pred.grad_fn.next_functions[1][0].next_functions)

z = torch.tensor([-1.5, -0.2, 0.3, 2.0], requires_grad=True)
out = MyReLU.apply(z) * torch.arange(1.0, 5.0)
out.sum().backward()
print(out, z.grad)
w = torch.randn(3, requires_grad=True)
s = ScaleBy.apply(w, 2.5)
s.backward(torch.ones(3))
print(s.grad_fn.__class__.__name__, w.grad)

u = torch.tensor(1.3, requires_grad=True)
f = u ** 3 * torch.sin(u)
(df,) = torch.autograd.grad(f, u, create_graph=True)
(d2f,) = torch.autograd.grad(df, u)
print(f"f'={df.item():.6f} f''={d2f.item():.6f}")
inp = torch.randn(6, dtype=torch.double, requires_grad=True)
print(torch.autograd.gradcheck(LegendrePolynomial3.apply, (inp,), eps=1e-6, atol=1e-4))
print(torch.autograd.gradcheck(MyReLU.apply, (inp,)))
