"""torch.nn.utils.rnn: PackedSequence and the functions that pack, pad and unpad variable-length batches.

A PackedSequence holds the time steps of a batch sorted by decreasing length, step after step: `data` is
(sum(lengths), *), `batch_sizes[t]` how many sequences are still running at step t (a CPU int64 tensor), and
`sorted_indices` / `unsorted_indices` the permutation that sorted the batch (None when it came sorted).
nn.RNN/LSTM/GRU take and return them (nn/modules/rnn.py).
"""
from ... import _dtype as D
from ..._tensor import Tensor
from ...ops._registry import torch_ops
from .._packed_sequence import PackedSequence, invert_permutation

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence",
           "unpad_sequence", "pack_sequence", "unpack_sequence"]


def _lengths_list(lengths, batch_size):
    """The lengths as Python ints, checked as ATen's _pack_padded_sequence checks them."""
    if lengths.dim() != 1 or lengths.device.type != "cpu" or lengths.dtype is not D.int64:
        raise RuntimeError(f"'lengths' argument should be a 1D CPU int64 tensor, but got {lengths.dim()}D "
                           f"{lengths.device.type} {D.scalar_type_name(lengths.dtype)} tensor")
    values = [int(v) for v in lengths.tolist()]
    if len(values) != batch_size:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got {len(values)} "
                           f"(batch_size={batch_size})")
    if values and values[-1] <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element in 'lengths' that "
                           "is <= 0")
    if any(a < b for a, b in zip(values, values[1:])):
        raise RuntimeError("`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You "
                           "can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to sidestep "
                           "this requirement if you do not need ONNX exportability.")
    return values


def _pack(input, lengths, batch_first):
    """(data, batch_sizes) of a time-major or batch-first padded batch sorted by decreasing length."""
    if batch_first:
        input = input.transpose(0, 1)
    values = _lengths_list(lengths, input.shape[1])
    steps = values[0] if values else 0
    if steps > input.shape[0]:
        raise RuntimeError(f"pack_padded_sequence: a length ({steps}) exceeds the padded sequence length "
                           f"({input.shape[0]})")
    batch_sizes = [sum(1 for n in values if n > t) for t in range(steps)]
    data = torch_ops.cat([input[t, :bs] for t, bs in enumerate(batch_sizes)], 0)
    return data, torch_ops.tensor(batch_sizes, dtype=D.int64)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    if not isinstance(lengths, Tensor):
        lengths = torch_ops.as_tensor(lengths, dtype=D.int64, device="cpu")
    else:
        lengths = lengths.to(dtype=D.int64)
    if enforce_sorted:
        sorted_indices = None
    else:
        if lengths.numel() and int(lengths.min()) <= 0:
            raise RuntimeError("Length of all samples has to be greater than 0, but found an element in 'lengths' "
                               "that is <= 0")
        lengths, sorted_indices = torch_ops.sort(lengths, descending=True)
        sorted_indices = sorted_indices.to(input.device)
        input = input.index_select(0 if batch_first else 1, sorted_indices)
    data, batch_sizes = _pack(input, lengths, batch_first)
    return PackedSequence(data, batch_sizes, sorted_indices, None)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    batch_sizes = [int(b) for b in sequence.batch_sizes.tolist()]
    max_seq_length = len(batch_sizes)
    if total_length is not None:
        if total_length < max_seq_length:
            raise ValueError("Expected total_length to be at least the length of the longest sequence in input, but "
                             f"got total_length={total_length} and max sequence length being {max_seq_length}")
        max_seq_length = total_length
    data = sequence.data
    max_batch = batch_sizes[0] if batch_sizes else 0
    steps, offset = [], 0
    for bs in batch_sizes:
        step = data[offset:offset + bs]
        if bs < max_batch:
            fill = torch_ops.full((max_batch - bs,) + tuple(data.shape[1:]), padding_value, dtype=data.dtype,
                                  device=data.device)
            step = torch_ops.cat([step, fill], 0)
        steps.append(step)
        offset += bs
    padded = torch_ops.stack(steps, 0)
    if max_seq_length > len(batch_sizes):
        fill = torch_ops.full((max_seq_length - len(batch_sizes), max_batch) + tuple(data.shape[1:]), padding_value,
                              dtype=data.dtype, device=data.device)
        padded = torch_ops.cat([padded, fill], 0)
    lengths = torch_ops.tensor([sum(1 for b in batch_sizes if b > i) for i in range(max_batch)], dtype=D.int64)
    if batch_first:
        padded = padded.transpose(0, 1)
    if sequence.unsorted_indices is not None:
        return (padded.index_select(0 if batch_first else 1, sequence.unsorted_indices),
                lengths[sequence.unsorted_indices.cpu()])
    return padded, lengths


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    if isinstance(sequences, Tensor):
        sequences = sequences.unbind(0)
    try:
        sequences = tuple(sequences)
    except TypeError:
        raise RuntimeError("pad_sequence: Expected iterable for input sequences, but got arg of type: "
                           f"{type(sequences)}") from None
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    max_len = max(s.size(0) for s in sequences)
    trailing = tuple(sequences[0].shape[1:])
    first = sequences[0]
    rows = []
    for s in sequences:
        n = s.size(0)
        if n == max_len:
            rows.append(s)
            continue
        pad = torch_ops.full((max_len - n,) + trailing, padding_value, dtype=first.dtype, device=first.device)
        rows.append(torch_ops.cat([s, pad], 0) if padding_side == "right" else torch_ops.cat([pad, s], 0))
    res = torch_ops.stack(rows, 0)
    return res if batch_first else res.transpose(0, 1)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    if not batch_first:
        padded_sequences.transpose_(0, 1)   # PyTorch transposes its argument in place here
    max_length = padded_sequences.shape[1]
    idx = torch_ops.arange(max_length, device=lengths.device)
    if len(padded_sequences) != len(lengths):
        raise ValueError("zip() argument 2 is shorter than argument 1" if len(lengths) < len(padded_sequences)
                         else "zip() argument 2 is longer than argument 1")
    return [seq[idx < length] for seq, length in zip(padded_sequences, lengths)]


def pack_sequence(sequences, enforce_sorted=True):
    lengths = torch_ops.as_tensor([v.size(0) for v in sequences])
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    padded_sequences, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded_sequences, lengths, batch_first=True)

