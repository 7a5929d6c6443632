"""torch.nn.utils.rnn: pad_sequence (PackedSequence is not supported)."""
from ..._tensor import Tensor
from ...ops._registry import torch_ops


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    if isinstance(sequences, Tensor):
        sequences = sequences.unbind(0)
    sequences = list(sequences)
    if padding_side not in ("left", "right"):
        raise ValueError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    max_len = max(s.size(0) for s in sequences)
    trailing = tuple(sequences[0].shape[1:])
    out = torch_ops.full((len(sequences), max_len) + trailing, padding_value, dtype=sequences[0].dtype,
               device=sequences[0].device)
    rows = []
    for s in sequences:
        n = s.size(0)
        pad = out[0, : max_len - n]
        rows.append(torch_ops.cat([s, pad], 0) if padding_side == "right" else torch_ops.cat([pad, s], 0))
    res = torch_ops.stack(rows, 0)
    return res if batch_first else res.transpose(0, 1)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [seq[: int(n)] for seq, n in zip(padded_sequences, lengths)]
