"""Pruning a LeNet as PyTorch's pruning tutorial does: random and L1 unstructured, Ln structured on top (a
PruningContainer), making it permanent, iterative and global pruning, a custom method, then training the pruned
net (the masks stay: pruned weights get no update)."""
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.nn.utils.prune as prune

torch.manual_seed(42)


class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 3)
        self.conv2 = nn.Conv2d(6, 16, 3)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.view(-1, int(x.nelement() / x.shape[0]))
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


def sparsity(t):
    return round(100.0 * float(torch.sum(t == 0)) / float(t.nelement()), 2)


model = LeNet()
module = model.conv1
print([name for name, _ in module.named_parameters()], [name for name, _ in module.named_buffers()])
prune.random_unstructured(module, name="weight", amount=0.3)
print([name for name, _ in module.named_parameters()], [name for name, _ in module.named_buffers()])
print(module.weight_mask.sum().item(), sparsity(module.weight), len(module._forward_pre_hooks))
prune.l1_unstructured(module, name="bias", amount=3)
print(module.bias_mask, module.bias.grad_fn is not None)
prune.ln_structured(module, name="weight", amount=0.5, n=2, dim=0)
print(module.weight_mask.sum(dim=(1, 2, 3)))
hook = next(h for h in module._forward_pre_hooks.values() if h._tensor_name == "weight")
print(type(hook).__name__, [type(m).__name__ for m in hook])
print(list(model.state_dict().keys()))
prune.remove(module, "weight")
print([name for name, _ in module.named_parameters()], sparsity(module.weight), prune.is_pruned(model))

new_model = LeNet()
for name, m in new_model.named_modules():
    if isinstance(m, nn.Conv2d):
        prune.l1_unstructured(m, name="weight", amount=0.2)
    elif isinstance(m, nn.Linear):
        prune.l1_unstructured(m, name="weight", amount=0.4)
print(sorted(dict(new_model.named_buffers()).keys()))

model = LeNet()
parameters_to_prune = ((model.conv1, "weight"), (model.conv2, "weight"), (model.fc1, "weight"),
                       (model.fc2, "weight"), (model.fc3, "weight"))
prune.global_unstructured(parameters_to_prune, pruning_method=prune.L1Unstructured, amount=0.2)
for m, name in parameters_to_prune:
    print(type(m).__name__, sparsity(getattr(m, name)))
total = sum(float(torch.sum(getattr(m, n) == 0)) for m, n in parameters_to_prune)
print("global sparsity", round(100.0 * total / sum(getattr(m, n).nelement() for m, n in parameters_to_prune), 2))


class EveryOther(prune.BasePruningMethod):
    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t, default_mask):
        mask = default_mask.clone()
        mask.view(-1)[::2] = 0
        return mask


EveryOther.apply(model.fc3, "bias")
print(model.fc3.bias_mask)
prune.random_structured(model.fc1, "weight", amount=3, dim=1)
print(int((model.fc1.weight_mask.sum(0) == 0).sum()))

opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
x, y = torch.randn(16, 1, 28, 28), torch.randint(0, 10, (16,))
for step in range(3):
    opt.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    print(step, round(loss.item(), 4), sparsity(model.fc2.weight), int(model.fc2.weight_orig.grad.count_nonzero()))
print(prune.L1Unstructured(amount=2).prune(torch.arange(6.0).view(2, 3)))
for bad in (lambda: prune.l1_unstructured(nn.Linear(2, 2), "weight", amount=1.5),
            lambda: prune.l1_unstructured(nn.Linear(2, 2), "weight", amount=5),
            lambda: prune.ln_structured(nn.Linear(2, 2), "bias", amount=1, n=1, dim=0),
            lambda: prune.remove(nn.Linear(2, 2), "weight")):
    try:
        bad()
    except (TypeError, ValueError, IndexError) as e:
        print(type(e).__name__, str(e).split(" of module")[0])
