"""A neural ODE trained through an adjoint method, in the style of torchdiffeq: a fixed-step RK4 solver, a custom
autograd.Function whose forward integrates without a graph and whose backward integrates the adjoint state
backwards in time (torch.autograd.grad on the dynamics with create_graph=False), options stored on ctx and read back
through out.grad_fn, an extra output that no gradient reaches (backward gets zeros for it), save_for_backward with a
None in it, a forward/setup_context style Function, gradients checked against plain backprop through the solver,
and an implicit Euler step whose singular system is caught as torch.linalg.LinAlgError (torch._C._LinAlgError)."""
import torch
import torch.nn as nn

torch.manual_seed(7)
torch.set_printoptions(precision=5)


class Dynamics(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))

    def forward(self, t, y):
        return self.net(y) - 0.1 * y


def rk4(f, y0, ts):
    ys = [y0]
    y = y0
    for t0, t1 in zip(ts[:-1], ts[1:]):
        dt = t1 - t0
        k1 = f(t0, y)
        k2 = f(t0 + dt / 2, y + dt / 2 * k1)
        k3 = f(t0 + dt / 2, y + dt / 2 * k2)
        k4 = f(t1, y + dt * k3)
        y = y + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        ys.append(y)
    return torch.stack(ys)


class AdjointODE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, y0, ts, func, *params):
        with torch.no_grad():
            ys = rk4(func, y0, ts)
        ctx.func = func
        ctx.options = {"method": "rk4", "steps": len(ts) - 1}
        ctx.save_for_backward(ts, None, ys)
        return ys, ys[-1].norm(dim=-1)          # the second output is for monitoring only

    @staticmethod
    def backward(ctx, grad_ys, grad_norm):
        ts, nothing, ys = ctx.saved_tensors
        assert nothing is None and float(grad_norm.abs().sum()) == 0.0   # materialized zeros
        func = ctx.func
        params = tuple(func.parameters())
        adj_y = grad_ys[-1].clone()
        adj_p = [torch.zeros_like(p) for p in params]
        for i in range(len(ts) - 1, 0, -1):
            t1, t0 = ts[i], ts[i - 1]
            dt = t1 - t0
            # one explicit Euler step of the adjoint system backwards: da/dt = -a^T df/dy
            with torch.enable_grad():
                y = ys[i].detach().requires_grad_(True)
                fy = func(t1, y)
                vjp = torch.autograd.grad(fy, (y,) + params, adj_y, allow_unused=True)
            adj_y = adj_y + dt * vjp[0]
            for k, g in enumerate(vjp[1:]):
                if g is not None:
                    adj_p[k] = adj_p[k] + dt * g
            adj_y = adj_y + grad_ys[i - 1]
        return (adj_y, None, None, *adj_p)


class Scale(torch.autograd.Function):
    """The functorch style: forward without ctx, then setup_context."""

    @staticmethod
    def forward(x, factor):
        return x * factor

    @staticmethod
    def setup_context(ctx, inputs, output):
        _, factor = inputs
        ctx.factor = factor

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.factor, None


func = Dynamics()
ts = torch.linspace(0.0, 2.0, 21)
y0 = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.5, -0.5]])
ys, monitor = AdjointODE.apply(y0, ts, func, *func.parameters())
print(type(ys.grad_fn).__name__, ys.grad_fn.options, ys.grad_fn is monitor.grad_fn)
print(ys[-1], monitor)

# the adjoint gradient against backprop through the same solver
loss = Scale.apply(ys, 0.5).pow(2).mean()
grads = torch.autograd.grad(loss, list(func.parameters()))
direct = torch.autograd.grad(Scale.apply(rk4(func, y0, ts), 0.5).pow(2).mean(), list(func.parameters()))
for g, d in zip(grads, direct):
    print(tuple(g.shape), f"{(g - d).norm().item() / d.norm().item():.2f}")   # first-order adjoint: close, not exact

# fit a rotation with the adjoint gradients
target_ts = torch.linspace(0.0, 1.0, 11)
angle = target_ts.unsqueeze(-1)
target = torch.cat([torch.cos(angle), torch.sin(angle)], dim=-1).unsqueeze(1)
start = torch.tensor([[1.0, 0.0]])
opt = torch.optim.Adam(func.parameters(), lr=0.02)
for step in range(30):
    pred, _ = AdjointODE.apply(start, target_ts, func, *func.parameters())
    loss = (pred - target).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % 10 == 9:
        print(step + 1, round(loss.item(), 5))

# an implicit Euler step: (I - dt*A) y1 = y0; a singular system is caught by its PyTorch name
A = torch.tensor([[0.0, 1.0], [-1.0, 0.0]])
for dt in (0.1, None):
    M = torch.eye(2) - dt * A if dt is not None else torch.zeros(2, 2)
    try:
        print(torch.linalg.solve(M, torch.tensor([1.0, 0.0])))
    except torch._C._LinAlgError as e:
        print(type(e).__name__, isinstance(e, torch.linalg.LinAlgError), isinstance(e, RuntimeError))
