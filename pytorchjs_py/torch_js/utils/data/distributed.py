"""torch.utils.data.distributed.DistributedSampler: the share of a dataset one of `num_replicas` processes reads.

It works in a single process when num_replicas and rank are given (to read one replica's share, or to test the
split); left to None they come from the default process group, which torch_js does not have
(torch_js.distributed.is_available() is False), so it raises as PyTorch does where the distributed package is
unavailable. The permutation is torch.randperm under a generator seeded with seed + epoch, so every replica (and
PyTorch) draws the same order.
"""
import math

from ..._generator import Generator
from ...ops._registry import torch_ops
from ... import _distributed_availability as dist
from .sampler import Sampler

__all__ = ["DistributedSampler"]


class DistributedSampler(Sampler):
    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        if num_replicas is None or rank is None:
            if not dist.is_available():
                raise RuntimeError("Requires distributed package to be available (torch_js has no process group: "
                                   "pass num_replicas and rank explicitly)")
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        if drop_last and len(dataset) % num_replicas != 0:
            # every replica gets the same count: the remainder is dropped, not padded
            self.num_samples = math.ceil((len(dataset) - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(len(dataset) / num_replicas)
        self.total_size = self.num_samples * num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            g = Generator()
            g.manual_seed(self.seed + self.epoch)
            indices = torch_ops.randperm(n, generator=g).tolist()
        else:
            indices = list(range(n))
        if not self.drop_last:
            # pad with the first indices (repeated as often as needed) so the total divides evenly
            padding_size = self.total_size - len(indices)
            if padding_size <= len(indices):
                indices += indices[:padding_size]
            else:
                indices += (indices * math.ceil(padding_size / len(indices)))[:padding_size]
        else:
            indices = indices[:self.total_size]
        if len(indices) != self.total_size:
            raise AssertionError(f"Number of indices ({len(indices)}) does not match total_size ({self.total_size})")
        indices = indices[self.rank:self.total_size:self.num_replicas]
        if len(indices) != self.num_samples:
            raise AssertionError(f"Number of subsampled indices ({len(indices)}) does not match num_samples "
                                 f"({self.num_samples})")
        return iter(indices)

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """The epoch mixed into the shuffle's seed: call it before each epoch, or every epoch repeats one order."""
        self.epoch = epoch
