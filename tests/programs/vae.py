"""A variational autoencoder as in the VAE examples: an encoder to (mu, logvar), the reparameterisation trick with
torch.randn_like, a sigmoid decoder, binary cross-entropy (sum) plus the KL term, Adam; then sampling from the
prior and a reconstruction under torch.no_grad()."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(3)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

# 16-pixel binary "images": noisy copies of four prototypes
prototypes = (torch.rand(4, 16) > 0.5).float()
which = torch.randint(0, 4, (128,))
flip = (torch.rand(128, 16) < 0.05).float()
data = (prototypes[which] - flip).abs()
loader = DataLoader(TensorDataset(data), batch_size=32, shuffle=True, generator=torch.Generator().manual_seed(5))


class VAE(nn.Module):
    def __init__(self, x_dim=16, h_dim=24, z_dim=2):
        super().__init__()
        self.fc1 = nn.Linear(x_dim, h_dim)
        self.fc_mu = nn.Linear(h_dim, z_dim)
        self.fc_logvar = nn.Linear(h_dim, z_dim)
        self.fc3 = nn.Linear(z_dim, h_dim)
        self.fc4 = nn.Linear(h_dim, x_dim)

    def encode(self, x):
        h = F.relu(self.fc1(x))
        return self.fc_mu(h), self.fc_logvar(h)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        eps = torch.randn_like(std)
        return mu + eps * std

    def decode(self, z):
        return torch.sigmoid(self.fc4(F.relu(self.fc3(z))))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, 16))
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar


def loss_function(recon_x, x, mu, logvar):
    bce = F.binary_cross_entropy(recon_x, x.view(-1, 16), reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kld, bce, kld


model = VAE().to(device)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
for epoch in range(1, 9):
    model.train()
    train_loss = 0.0
    for (x,) in loader:
        x = x.to(device)
        optimizer.zero_grad()
        recon, mu, logvar = model(x)
        loss, bce, kld = loss_function(recon, x, mu, logvar)
        loss.backward()
        train_loss += loss.item()
        optimizer.step()
    if epoch % 2 == 0:
        print(f"epoch {epoch} average loss {train_loss / len(data):.4f} (last bce {bce.item():.3f}, kld {kld.item():.3f})")

model.eval()
with torch.no_grad():
    recon, mu, logvar = model(prototypes.to(device))
    print("mu", mu.round(decimals=3))
    print("recon", (recon > 0.5).int())
    print("prototypes", prototypes.int())
    sample = model.decode(torch.randn(3, 2, device=device))
    print(sample.round(decimals=2))
for name, p in model.named_parameters():
    print(f"{name} {p.abs().sum().item():.5g}")
