"""Linear regression with nn.Linear, MSELoss, SGD with momentum and a StepLR schedule (the "first model" of every
course): synthetic y = X @ w_true + b_true + noise, full-batch training, then the learned weights."""
import torch
import torch.nn as nn

torch.manual_seed(0)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

n_samples, n_features = 128, 3
w_true = torch.tensor([[2.0], [-3.4], [1.5]])
b_true = 4.2
X = torch.randn(n_samples, n_features)
y = X @ w_true + b_true + 0.01 * torch.randn(n_samples, 1)
X, y = X.to(device), y.to(device)

model = nn.Linear(n_features, 1).to(device)
print(model)
criterion = nn.MSELoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=20, gamma=0.5)

for epoch in range(60):
    model.train()
    optimizer.zero_grad(set_to_none=True)
    y_pred = model(X)
    loss = criterion(y_pred, y)
    loss.backward()
    optimizer.step()
    scheduler.step()
    if epoch % 10 == 0:
        print(f"epoch {epoch} loss {loss.item():.4f} lr {scheduler.get_last_lr()[0]:.4f}")

print(loss.grad_fn)
print(y_pred.grad_fn)
model.eval()
with torch.no_grad():
    w = model.weight.view(-1)
    print("learned w:", [round(v, 3) for v in w.tolist()], "b:", round(model.bias.item(), 3))
    test = torch.tensor([[1.0, 0.0, -1.0], [0.5, 0.5, 0.5]])
    print(model(test).round(decimals=2))
    print(f"error |w - w_true| = {(w - w_true.view(-1)).abs().max().item():.3f}")

for name, p in model.named_parameters():
    print(name, tuple(p.shape), p.requires_grad, f"{p.detach().abs().sum().item():.5g}")
