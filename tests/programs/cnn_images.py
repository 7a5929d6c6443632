"""A small CNN on synthetic 1x8x8 "images" (horizontal vs vertical vs diagonal strokes), in the style of the MNIST
examples: Conv2d -> BatchNorm2d -> ReLU -> MaxPool2d, Dropout, Flatten, Linear; Adam, NLLLoss on log_softmax, an
eval pass, and BatchNorm's running statistics."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")


def make_images(n):
    kinds = torch.randint(0, 3, (n,))
    imgs = 0.3 * torch.randn(n, 1, 8, 8)
    pos = torch.randint(1, 7, (n,))
    for i in range(n):
        k, p = kinds[i].item(), pos[i].item()
        if k == 0:
            imgs[i, 0, p, :] += 1.0
        elif k == 1:
            imgs[i, 0, :, p] += 1.0
        else:
            imgs[i, 0] += torch.eye(8)
    return imgs, kinds


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, kernel_size=3, padding=1, bias=False)  # BatchNorm follows
        self.bn1 = nn.BatchNorm2d(4)
        self.conv2 = nn.Conv2d(4, 8, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(8)
        self.pool = nn.MaxPool2d(2)
        self.dropout = nn.Dropout(0.25)
        self.fc1 = nn.Linear(8 * 2 * 2, 16)
        self.fc2 = nn.Linear(16, 3)

    def forward(self, x):
        x = self.pool(F.relu(self.bn1(self.conv1(x))))
        x = self.pool(F.relu(self.bn2(self.conv2(x))))
        x = torch.flatten(x, 1)
        x = self.dropout(x)
        x = F.relu(self.fc1(x))
        return F.log_softmax(self.fc2(x), dim=1)


train_x, train_y = make_images(96)
test_x, test_y = make_images(32)
loader = DataLoader(TensorDataset(train_x, train_y), batch_size=32, shuffle=True,
                    generator=torch.Generator().manual_seed(7))
model = Net().to(device)
print(model)
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)

for epoch in range(4):
    model.train()
    for batch_idx, (data, target) in enumerate(loader):
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        if batch_idx == 0:
            print(f"epoch {epoch} batch {batch_idx} loss {loss.item():.4f}")

model.eval()
test_loss, correct = 0.0, 0
with torch.no_grad():
    output = model(test_x.to(device))
    test_loss = F.nll_loss(output, test_y, reduction="sum").item() / len(test_x)
    pred = output.argmax(dim=1, keepdim=True)
    correct = pred.eq(test_y.view_as(pred)).sum().item()
print(f"test loss {test_loss:.4f}, accuracy {correct}/{len(test_x)}")
print("bn1 running_mean", model.bn1.running_mean.round(decimals=4))
print("bn1 running_var", model.bn1.running_var.round(decimals=4))
print("num_batches_tracked", model.bn2.num_batches_tracked)
print(output[:2].exp().round(decimals=3))
for name, p in model.named_parameters():
    print(f"{name} {p.abs().sum().item():.5g}")
