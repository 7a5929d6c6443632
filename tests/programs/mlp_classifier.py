"""A classifier the way the "Training a classifier" tutorials write it: TensorDataset, random_split into train and
validation sets, DataLoader(shuffle=True) with a seeded generator, nn.Sequential MLP with Dropout, CrossEntropyLoss,
AdamW with a cosine schedule, gradient clipping, model.train()/eval() and accuracy under torch.no_grad()."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset, random_split

torch.manual_seed(42)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

# three Gaussian blobs in 4-D
num_classes, per_class = 3, 40
centers = torch.randn(num_classes, 4) * 2.5
features = torch.cat([centers[c] + torch.randn(per_class, 4) for c in range(num_classes)])
labels = torch.arange(num_classes).repeat_interleave(per_class)
dataset = TensorDataset(features, labels)
train_set, val_set = random_split(dataset, [96, 24], generator=torch.Generator().manual_seed(0))
print(len(train_set), len(val_set), val_set.indices[:8])

g = torch.Generator()
g.manual_seed(1234)
train_loader = DataLoader(train_set, batch_size=16, shuffle=True, generator=g)
val_loader = DataLoader(val_set, batch_size=32)


class MLP(nn.Module):
    def __init__(self, in_dim, hidden, out_dim, p=0.2):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(in_dim, hidden),
            nn.ReLU(),
            nn.Dropout(p),
            nn.Linear(hidden, hidden),
            nn.Tanh(),
            nn.Linear(hidden, out_dim),
        )

    def forward(self, x):
        return self.net(x)


model = MLP(4, 32, num_classes).to(device)
print(model)
print(f"parameters: {sum(p.numel() for p in model.parameters() if p.requires_grad)}")
loss_fn = nn.CrossEntropyLoss(label_smoothing=0.05)
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=1e-2)
epochs = 6
scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs * len(train_loader))


def evaluate(loader):
    model.eval()
    correct, total, loss_sum = 0, 0, 0.0
    with torch.no_grad():
        for xb, yb in loader:
            xb, yb = xb.to(device), yb.to(device)
            logits = model(xb)
            loss_sum += F.cross_entropy(logits, yb, reduction="sum").item()
            correct += (logits.argmax(dim=1) == yb).sum().item()
            total += yb.size(0)
    return loss_sum / total, correct / total


for epoch in range(epochs):
    model.train()
    running = 0.0
    for batch_idx, (xb, yb) in enumerate(train_loader):
        xb, yb = xb.to(device), yb.to(device)
        optimizer.zero_grad(set_to_none=True)
        out = model(xb)
        loss = loss_fn(out, yb)
        loss.backward()
        total_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        optimizer.step()
        scheduler.step()
        running += loss.item() * xb.size(0)
    val_loss, val_acc = evaluate(val_loader)
    print(f"epoch {epoch} loss {running / len(train_set):.4f} val_loss {val_loss:.4f} "
          f"val_acc {val_acc:.3f} grad_norm {total_norm.item():.4f} lr {scheduler.get_last_lr()[0]:.6f}")

model.eval()
with torch.no_grad():
    probs = F.softmax(model(features[:4].to(device)), dim=1)
print(probs.round(decimals=3))
print(probs.argmax(1), labels[:4])
for name, p in model.state_dict().items():
    print(f"{name:16s} {str(tuple(p.shape)):10s} {p.abs().sum().item():.5g}")
