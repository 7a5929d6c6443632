# The torch.mjs demo's model in PyTorch: examples/torch_mjs/index.html shows it
# next to net.mjs, its JavaScript twin. With real PyTorch, `python net.py` (in
# examples/torch_mjs/) writes net.pt, the checkpoint the page loads.
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.convs = nn.Sequential(
            nn.Conv2d(3, 16, 5, stride=1, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 5, stride=1, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.AdaptiveAvgPool2d(1))
        self.mlp = nn.Linear(32, 10)

    def forward(self, x):
        x = self.convs(x)
        return self.mlp(x.view(x.size(0), -1))


if __name__ == "__main__":
    torch.manual_seed(0)
    model = Net()                             # (train it here)
    torch.save(model.state_dict(), "net.pt")  # torch.mjs loads this file
    # or: from safetensors.torch import save_file
    #     save_file(model.state_dict(), "net.safetensors")

    model.eval()
    torch.manual_seed(0)
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        print(model(x))
