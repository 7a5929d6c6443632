"""Preparing images as torchvision's Resize does on tensors: uint8 images shrunk with antialiasing (Pillow's
filters: bilinear, bicubic, lanczos), to float, normalised, a center crop, then a small CNN; a float upscale, and
what antialiasing changes on a fine pattern."""
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
images = (torch.rand(4, 3, 96, 128) * 255).to(torch.uint8)
for mode in ("bilinear", "bicubic", "lanczos"):
    small = F.interpolate(images, size=(48, 64), mode=mode, antialias=True)
    print(mode, small.dtype, tuple(small.shape), small[0, 0, :2, :6].tolist(), int(small.to(torch.int64).sum()))
x = F.interpolate(images.float() / 255, size=(40, 53), mode="bilinear", antialias=True)
mean, std = torch.tensor([0.485, 0.456, 0.406]), torch.tensor([0.229, 0.224, 0.225])
x = (x - mean.view(1, 3, 1, 1)) / std.view(1, 3, 1, 1)
top, left = (40 - 32) // 2, (53 - 32) // 2
x = x[:, :, top:top + 32, left:left + 32]
print(tuple(x.shape), round(x.mean().item(), 4), round(x.std().item(), 4))
net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 5))
print(net(x).softmax(-1).argmax(-1).tolist())
up = F.interpolate(x[:1], scale_factor=1.5, mode="bicubic", antialias=True, align_corners=False)
print(tuple(up.shape), round(up.abs().sum().item(), 2))
i = torch.arange(64)
board = ((i.view(-1, 1) + i.view(1, -1)) % 2).float().view(1, 1, 64, 64)
for aa in (False, True):
    y = F.interpolate(board, size=(24, 24), mode="bilinear", antialias=aa)
    print("antialias", aa, round(y[0, 0, 4:-4, 4:-4].std().item(), 4))
