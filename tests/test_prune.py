"""torch.nn.utils.prune without PyTorch beside it (tests/programs/pruning.py runs the tutorial against PyTorch's
output): what pruning does to a module's parameters, buffers, hooks, gradients and copies."""
import copy

import pytest

import torch_js as torch
import torch_js.nn as nn
import torch_js.nn.utils.prune as prune


def test_prune_and_remove():
    torch.manual_seed(0)
    lin = nn.Linear(6, 4)
    w = lin.weight.detach().clone()
    prune.l1_unstructured(lin, "weight", amount=10)
    assert [n for n, _ in lin.named_parameters()] == ["bias", "weight_orig"]
    assert int((lin.weight == 0).sum()) == 10 and int(lin.weight_mask.sum()) == 14
    kept = lin.weight_mask.bool()
    assert float(w.abs()[~kept].max()) <= float(w.abs()[kept].min())   # the smallest magnitudes went
    lin(torch.randn(3, 6)).sum().backward()
    assert bool((lin.weight_orig.grad[~kept] == 0).all()) and not lin.weight.is_leaf
    with pytest.raises(RuntimeError, match="graph leaves"):
        copy.deepcopy(lin)
    with torch.no_grad():
        lin.weight_orig.fill_(1.0)
    lin(torch.ones(1, 6))   # the hook reapplies the mask before forward
    assert torch.equal(lin.weight, lin.weight_mask)
    prune.remove(lin, "weight")
    assert isinstance(lin.weight, nn.Parameter) and lin.weight.is_leaf and not prune.is_pruned(lin)
    assert torch.equal(lin.weight.detach(), kept.float()) and list(dict(lin.named_buffers())) == []
    assert copy.deepcopy(lin).weight is not lin.weight


def test_structured_pruning_combines_with_earlier_masks():
    torch.manual_seed(1)
    conv = nn.Conv2d(2, 8, 3)
    prune.random_unstructured(conv, "weight", amount=0.25)
    first = conv.weight_mask.clone()
    prune.ln_structured(conv, "weight", amount=3, n=1, dim=0)
    gone = conv.weight_mask.sum(dim=(1, 2, 3)) == 0
    assert int(gone.sum()) == 3 and bool((conv.weight_mask <= first).all())
    hook = next(iter(conv._forward_pre_hooks.values()))
    assert isinstance(hook, prune.PruningContainer) and len(hook) == 2
    with pytest.raises(ValueError, match="acting on the parameter named 'weight'"):
        hook.add_pruning_method(prune.Identity.apply(nn.Linear(1, 1), "bias"))
