"""Saving and loading the way the "Saving and loading models" recipe does: torch.save(model.state_dict()) to a temp
file, a fresh model with load_state_dict(strict=True), a full checkpoint dict (epoch, model, optimizer, loss) resumed
into a new optimizer, a strict=False load reporting missing/unexpected keys, the strict=True error message, and
map_location="cpu"."""
import os
import tempfile

import torch
import torch.nn as nn
import torch.optim as optim

torch.manual_seed(11)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")


class TheModelClass(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(6, 8)
        self.bn = nn.BatchNorm1d(8)
        self.fc2 = nn.Linear(8, 2)

    def forward(self, x):
        return self.fc2(torch.relu(self.bn(self.fc1(x))))


def train(model, optimizer, steps, x, y):
    model.train()
    for _ in range(steps):
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
    return loss


x = torch.randn(32, 6)
y = (x[:, 0] + x[:, 1] > 0).long()
model = TheModelClass().to(device)
optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
loss = train(model, optimizer, 5, x, y)
print(f"loss after 5 steps {loss.item():.5f}")

print("Model's state_dict:")
for param_tensor in model.state_dict():
    print(param_tensor, "\t", model.state_dict()[param_tensor].size())
print("Optimizer's state_dict:")
print(optimizer.state_dict()["param_groups"])

with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "model.pt")
    torch.save(model.state_dict(), path)
    model2 = TheModelClass()
    result = model2.load_state_dict(torch.load(path, weights_only=True), strict=True)
    print(result)
    model.eval()
    model2.eval()
    with torch.no_grad():
        print(torch.equal(model(x), model2(x)), model2.bn.num_batches_tracked.item())

    ckpt = os.path.join(tmp, "checkpoint.tar")
    torch.save({"epoch": 5, "model_state_dict": model.state_dict(),
                "optimizer_state_dict": optimizer.state_dict(), "loss": loss}, ckpt)
    checkpoint = torch.load(ckpt, map_location="cpu")
    resumed = TheModelClass()
    resumed_opt = optim.SGD(resumed.parameters(), lr=0.5, momentum=0.5)
    resumed.load_state_dict(checkpoint["model_state_dict"])
    resumed_opt.load_state_dict(checkpoint["optimizer_state_dict"])
    print(checkpoint["epoch"], checkpoint["loss"], resumed_opt.param_groups[0]["lr"],
          resumed_opt.param_groups[0]["momentum"])
    buf = resumed_opt.state_dict()["state"][0]["momentum_buffer"]
    print(buf.shape, f"{buf.abs().sum().item():.5g}")

    # both runs continue identically
    loss_a = train(model, optimizer, 3, x, y)
    loss_b = train(resumed, resumed_opt, 3, x, y)
    print(f"continued {loss_a.item():.6f} {loss_b.item():.6f}", torch.equal(model.fc2.weight, resumed.fc2.weight))

# a model with a different head: strict=False reports the keys, strict=True raises
other = nn.Sequential()
other.add_module("fc1", nn.Linear(6, 8))
other.add_module("head", nn.Linear(8, 2))
result = other.load_state_dict(model.state_dict(), strict=False)
print("missing:", result.missing_keys)
print("unexpected:", result.unexpected_keys)
try:
    TheModelClass().load_state_dict({k: v for k, v in model.state_dict().items() if k != "fc2.bias"})
except RuntimeError as e:
    print(type(e).__name__, str(e).replace("\n", " | "))
bad = model.state_dict()
bad["fc1.weight"] = torch.zeros(3, 3)
try:
    TheModelClass().load_state_dict(bad)
except RuntimeError as e:
    print(str(e).replace("\n", " | "))
print(model.fc1.weight.data[0])
