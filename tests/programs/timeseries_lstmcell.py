"""Sine-wave prediction with nn.LSTMCell stepped by hand, as in the time-sequence-prediction example: two stacked
cells, h/c initialised with torch.zeros, outputs collected and torch.cat'ed, future steps fed back, MSELoss,
optim.LBFGS with a closure for a few steps, then Adam; float64 throughout (model.double())."""
import math

import torch
import torch.nn as nn
import torch.optim as optim

torch.manual_seed(0)
torch.set_printoptions(precision=5)

T, N, L = 20, 6, 30
x = torch.empty(N, L, dtype=torch.float64)
x[:] = torch.arange(L, dtype=torch.float64) + torch.randint(-4 * T, 4 * T, (N, 1)).double()
data = torch.sin(x / T)
inputs, targets = data[:4, :-1], data[:4, 1:]
test_input, test_target = data[4:, :-1], data[4:, 1:]


class Sequence(nn.Module):
    def __init__(self, hidden=10):
        super().__init__()
        self.hidden = hidden
        self.lstm1 = nn.LSTMCell(1, hidden)
        self.lstm2 = nn.LSTMCell(hidden, hidden)
        self.linear = nn.Linear(hidden, 1)

    def forward(self, input, future=0):
        outputs = []
        h_t = torch.zeros(input.size(0), self.hidden, dtype=torch.double)
        c_t = torch.zeros(input.size(0), self.hidden, dtype=torch.double)
        h_t2 = torch.zeros(input.size(0), self.hidden, dtype=torch.double)
        c_t2 = torch.zeros(input.size(0), self.hidden, dtype=torch.double)
        for input_t in input.split(1, dim=1):
            h_t, c_t = self.lstm1(input_t, (h_t, c_t))
            h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
            output = self.linear(h_t2)
            outputs += [output]
        for i in range(future):
            h_t, c_t = self.lstm1(output, (h_t, c_t))
            h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
            output = self.linear(h_t2)
            outputs += [output]
        return torch.cat(outputs, dim=1)


seq = Sequence()
seq.double()
criterion = nn.MSELoss()
optimizer = optim.LBFGS(seq.parameters(), lr=0.5, max_iter=6)
for i in range(3):
    def closure():
        optimizer.zero_grad()
        out = seq(inputs)
        loss = criterion(out, targets)
        loss.backward()
        return loss
    loss = optimizer.step(closure)
    print(f"LBFGS step {i} loss {loss.item():.6f}")

optimizer = optim.Adam(seq.parameters(), lr=0.01)
for i in range(10):
    optimizer.zero_grad()
    loss = criterion(seq(inputs), targets)
    loss.backward()
    optimizer.step()
print(f"Adam loss {loss.item():.6f}")

with torch.no_grad():
    future = 5
    pred = seq(test_input, future=future)
    loss = criterion(pred[:, :-future], test_target)
    print(f"test loss {loss.item():.6f}")
    print(pred[:, -future:])
    print(test_target[:, -3:])
print(torch.get_default_dtype(), pred.dtype)
for name, p in seq.named_parameters():
    print(f"{name} {p.abs().sum().item():.5g}")
