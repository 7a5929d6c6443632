"""Fine-tuning idioms: a "pretrained" backbone frozen with requires_grad_(False), a new head, parameter groups with
their own learning rates and weight decay, a custom Dataset with __len__/__getitem__ and a collate_fn, DataLoader
with drop_last, gradient accumulation, clip_grad_value_, LambdaLR warmup chained with SequentialLR/ExponentialLR,
unfreezing with optimizer.add_param_group, nn.ModuleDict, register_buffer and named_modules."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset

torch.manual_seed(5)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")


class PairsDataset(Dataset):
    def __init__(self, n):
        self.x = torch.randn(n, 8)
        self.y = (self.x[:, :4].sum(1) > self.x[:, 4:].sum(1)).long()

    def __len__(self):
        return len(self.x)

    def __getitem__(self, idx):
        return {"features": self.x[idx], "label": self.y[idx]}


def collate(batch):
    return torch.stack([b["features"] for b in batch]), torch.stack([b["label"] for b in batch])


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(8, 16), nn.SiLU(), nn.LayerNorm(16))
        self.heads = nn.ModuleDict({"cls": nn.Linear(16, 2), "aux": nn.Linear(16, 1)})
        self.register_buffer("scale", torch.tensor(0.5))

    def forward(self, x):
        h = self.backbone(x)
        return self.heads["cls"](h), self.heads["aux"](h).squeeze(-1) * self.scale


model = Net().to(device)
for p in model.backbone.parameters():
    p.requires_grad_(False)
print([n for n, p in model.named_parameters() if p.requires_grad])
print([n for n, _ in model.named_modules()])
print(list(model.named_buffers()))

optimizer = torch.optim.AdamW([
    {"params": model.heads["cls"].parameters(), "lr": 1e-2},
    {"params": model.heads["aux"].parameters(), "weight_decay": 0.0},
], lr=5e-3, weight_decay=0.05)
warmup = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: min(1.0, (step + 1) / 3))
decay = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.9)
scheduler = torch.optim.lr_scheduler.SequentialLR(optimizer, [warmup, decay], milestones=[3])

ds = PairsDataset(70)
loader = DataLoader(ds, batch_size=16, shuffle=True, drop_last=True, collate_fn=collate,
                    generator=torch.Generator().manual_seed(0))
print(len(ds), len(loader), ds[3]["label"], type(ds[3]["features"]).__name__)
accum = 2
for epoch in range(6):
    if epoch == 3:
        for p in model.backbone.parameters():
            p.requires_grad_(True)
        optimizer.add_param_group({"params": model.backbone.parameters(), "lr": 1e-3})
        print("unfrozen; groups:", len(optimizer.param_groups), [g["lr"] for g in optimizer.param_groups])
    model.train()
    total = 0.0
    optimizer.zero_grad()
    for i, (xb, yb) in enumerate(loader):
        logits, aux = model(xb.to(device))
        loss = F.cross_entropy(logits, yb) + 0.1 * F.mse_loss(aux, yb.float())
        (loss / accum).backward()
        if (i + 1) % accum == 0:
            nn.utils.clip_grad_value_(model.parameters(), clip_value=0.5)
            optimizer.step()
            optimizer.zero_grad()
        total += loss.item()
    scheduler.step()
    print(f"epoch {epoch} loss {total / len(loader):.4f} lrs {[round(g['lr'], 6) for g in optimizer.param_groups]}")

model.eval()
with torch.no_grad():
    logits, _ = model(ds.x)
    acc = (logits.argmax(1) == ds.y).float().mean()
print(f"accuracy {acc.item():.4f}")
print(scheduler.state_dict()["_last_lr"] == scheduler.get_last_lr(), sorted(optimizer.state_dict()["state"])[:3])
for name, p in model.named_parameters():
    print(f"{name} {p.abs().sum().item():.5g}")
