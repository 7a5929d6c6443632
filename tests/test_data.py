"""torch_js.utils.data against PyTorch: DataLoader shuffle order after manual_seed (the generator is consumed like
PyTorch's single-process iterator + RandomSampler), random_split, default_collate."""
import json
import os
import sys
from collections import namedtuple

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
import torch_js  # noqa: E402  (conftest.py puts the package on sys.path)
import _optim_data_cases as C  # noqa: E402
from torch_js.utils.data import (DataLoader, Dataset, RandomSampler, Subset, TensorDataset,  # noqa: E402
                                 default_collate, random_split)

from optional_torch import HAVE_TORCH, needs_torch, torch  # noqa: E402,F401

FIX = json.load(open(os.path.join(HERE, "fixtures", "optim_data_torch.json")))


@pytest.mark.parametrize("i", range(len(C.LOADER_CASES)), ids=[repr(k) for k in C.LOADER_CASES])
def test_loader_order_matches_torch(i):
    kw = C.LOADER_CASES[i]
    exp = FIX["loader"][i]
    orders, after = C.loader_orders(torch_js, **dict(kw))
    assert orders == exp["orders"]
    assert after == exp["after"]


def test_random_split_matches_torch():
    torch_js.manual_seed(1)
    parts = random_split(range(10), [0.3, 0.3, 0.4])
    assert [list(p.indices) for p in parts] == FIX["random_split"]
    assert [list(p) for p in parts] == FIX["random_split"]
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(range(10), [3, 3])
    g = torch_js.Generator().manual_seed(42)
    a, b = random_split(range(5), [2, 3], generator=g)
    assert len(a) == 2 and len(b) == 3 and sorted(list(a) + list(b)) == list(range(5))


def test_default_collate():
    Point = namedtuple("Point", "x y")
    batch = [{"x": (1, 2.0), "y": [True, 3], "s": "a", "t": torch_js.ones(2)},
             {"x": (3, 4.0), "y": [False, 5], "s": "b", "t": torch_js.zeros(2)}]
    out = default_collate(batch)
    assert isinstance(out["x"], list)
    assert out["x"][0].dtype is torch_js.int64 and out["x"][0].tolist() == [1, 3]
    assert out["x"][1].dtype is torch_js.float64 and out["x"][1].tolist() == [2.0, 4.0]
    assert out["y"][0].dtype is torch_js.bool and out["y"][1].tolist() == [3, 5]
    assert out["s"] == ["a", "b"]
    assert out["t"].shape == (2, 2)
    p = default_collate([Point(1, 2), Point(3, 4)])
    assert isinstance(p, Point) and p.x.tolist() == [1, 3]
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        default_collate([[1, 2], [1]])


@needs_torch
def test_default_collate_same_as_torch():
    from torch.utils.data import default_collate as tcollate
    batch = [{"x": (1, 2.0), "y": [True, 3]}, {"x": (3, 4.0), "y": [False, 5]}]
    assert repr(default_collate(batch)) == repr(tcollate(batch))


def test_dataloader_variants():
    ds = TensorDataset(torch_js.arange(10), torch_js.arange(10) * 10)
    assert len(DataLoader(ds, batch_size=4)) == 3
    assert len(DataLoader(ds, batch_size=4, drop_last=True)) == 2
    batches = list(DataLoader(ds, batch_size=4, collate_fn=lambda b: [int(x[0]) for x in b]))
    assert batches == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    no_batch = list(DataLoader(ds, batch_size=None))
    assert len(no_batch) == 10 and no_batch[3][1].item() == 30
    bs = [[0, 2], [4, 6, 8]]
    out = [b[0].tolist() for b in DataLoader(ds, batch_sampler=bs)]
    assert out == bs
    sub = Subset(ds, [9, 1])
    assert [int(b[0]) for b in DataLoader(sub, batch_size=1)] == [9, 1]
    with pytest.raises(ValueError, match="sampler option is mutually exclusive with shuffle"):
        DataLoader(ds, shuffle=True, sampler=RandomSampler(ds))

    class Squares(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return {"i": i, "sq": float(i * i)}
    got = list(DataLoader(Squares(), batch_size=3))
    assert got[0]["sq"].tolist() == [0.0, 1.0, 4.0] and got[1]["i"].tolist() == [3]


@needs_torch
@pytest.mark.parametrize("kw", [{"shuffle": True}, {"shuffle": True, "seeded_generator": True}])
def test_loader_order_live_torch(kw):
    assert C.loader_orders(torch_js, **dict(kw)) == C.loader_orders(torch, **dict(kw))


@needs_torch
def test_random_sampler_replacement_matches_torch():
    res = []
    for lib in (torch_js, torch):
        lib.manual_seed(0)
        s = lib.utils.data.RandomSampler(range(7), replacement=True, num_samples=40)
        res.append(list(s))
    assert res[0] == res[1]


def test_pin_memory_without_accelerator_warns_as_pytorch():
    from torch_js import accelerator
    from torch_js.utils.data import DataLoader
    loader = DataLoader(list(range(4)), batch_size=2, pin_memory=True)
    if accelerator.is_available():
        pytest.skip("an accelerator is present: PyTorch pins silently")
    with pytest.warns(UserWarning, match="'pin_memory' argument is set as true but no accelerator is found"):
        assert [b.tolist() for b in loader] == [[0, 1], [2, 3]]
