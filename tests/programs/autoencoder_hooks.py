"""An autoencoder with nn.Module hooks, the way feature-extraction and debugging snippets use them: a forward hook
that stores activations in a dict, a forward pre-hook, a forward hook that puts a tensor hook on the output to record
its gradient norms, a tensor hook on the bottleneck, handle.remove(); nn.init in a custom init, ReduceLROnPlateau,
MSELoss and SmoothL1Loss."""
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(7)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")


class AutoEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(10, 6), nn.ReLU(), nn.Linear(6, 3))
        self.decoder = nn.Sequential(nn.Linear(3, 6), nn.ReLU(), nn.Linear(6, 10))
        self.reset_parameters()

    def reset_parameters(self):
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        z = self.encoder(x)
        return self.decoder(z), z


activations = {}


def get_activation(name):
    def hook(model, input, output):
        activations[name] = output.detach()
    return hook


grad_norms = []


def record_output_grad(module, input, output):
    output.register_hook(lambda grad: grad_norms.append(round(grad.norm().item(), 4)))


calls = []
model = AutoEncoder().to(device)
h1 = model.encoder[2].register_forward_hook(get_activation("bottleneck"))
h2 = model.decoder.register_forward_pre_hook(lambda module, args: calls.append(tuple(args[0].shape)))
h3 = model.decoder[2].register_forward_hook(record_output_grad)

# data lying on a 3-D subspace of R^10
basis = torch.randn(3, 10)
data = torch.randn(64, 3) @ basis
optimizer = torch.optim.SGD(model.parameters(), lr=0.02, momentum=0.9, nesterov=True)
scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=0.5, patience=2)

for epoch in range(30):
    model.train()
    optimizer.zero_grad()
    recon, z = model(data)
    if epoch == 0:
        z.register_hook(lambda g: print("bottleneck grad norm", round(g.norm().item(), 4)))
    loss = F.mse_loss(recon, data) + 0.1 * F.smooth_l1_loss(recon, data)
    loss.backward()
    optimizer.step()
    scheduler.step(loss.item())
    if epoch % 5 == 0:
        print(f"epoch {epoch} loss {loss.item():.5f} lr {optimizer.param_groups[0]['lr']}")

print("hook saw", activations["bottleneck"].shape, "first row", activations["bottleneck"][0])
print("pre-hook calls", len(calls), calls[0])
print("grad norms", grad_norms[:3], len(grad_norms))
for h in (h1, h2, h3):
    h.remove()
model.eval()
with torch.no_grad():
    recon, z = model(data[:2])
print(len(calls), len(grad_norms))
print(recon.round(decimals=3))
print(model.encoder[0].weight.grad is not None, model.encoder[0].weight.grad.shape)
for name, p in model.named_parameters():
    print(f"{name} {p.abs().sum().item():.5g}")
