"""A sequence classifier in the style of the nn.Transformer tutorials: the PositionalEncoding module with its sin/cos
buffer (math.log(10000.0)), nn.TransformerEncoder of TransformerEncoderLayer(batch_first=True, norm_first), a
src_key_padding_mask from padded lengths, masked mean pooling, CrossEntropyLoss, Adam with a OneCycleLR schedule.
Task: is the sum of the (unpadded) tokens even?"""
import math

import torch
import torch.nn as nn
from torch.nn.utils.rnn import pad_sequence

torch.manual_seed(21)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")


class PositionalEncoding(nn.Module):
    def __init__(self, d_model, dropout=0.1, max_len=64):
        super().__init__()
        self.dropout = nn.Dropout(p=dropout)
        position = torch.arange(max_len).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        pe = torch.zeros(1, max_len, d_model)
        pe[0, :, 0::2] = torch.sin(position * div_term)
        pe[0, :, 1::2] = torch.cos(position * div_term)
        self.register_buffer("pe", pe)

    def forward(self, x):
        return self.dropout(x + self.pe[:, :x.size(1)])


class Classifier(nn.Module):
    def __init__(self, vocab=6, d_model=16, nhead=2, layers=2):
        super().__init__()
        self.embed = nn.Embedding(vocab, d_model, padding_idx=0)
        self.pos = PositionalEncoding(d_model)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=32, dropout=0.1, batch_first=True,
                                           norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=layers, enable_nested_tensor=False)
        self.fc = nn.Linear(d_model, 2)

    def forward(self, tokens, pad_mask):
        h = self.encoder(self.pos(self.embed(tokens) * math.sqrt(16)), src_key_padding_mask=pad_mask)
        keep = (~pad_mask).unsqueeze(-1).float()
        return self.fc((h * keep).sum(1) / keep.sum(1))


def make_batch(n):
    lengths = torch.randint(2, 7, (n,))
    seqs = [torch.randint(1, 6, (int(l),)) for l in lengths]
    tokens = pad_sequence(seqs, batch_first=True, padding_value=0)
    labels = torch.stack([(s.sum() % 2 == 0).long() for s in seqs])
    return tokens, tokens == 0, labels


model = Classifier().to(device)
print(model.encoder.layers[0])
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
steps = 30
scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=1e-2, total_steps=steps)
for step in range(steps):
    model.train()
    tokens, pad_mask, labels = make_batch(16)
    logits = model(tokens.to(device), pad_mask.to(device))
    loss = criterion(logits, labels.to(device))
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    scheduler.step()
    if step % 6 == 0:
        print(f"step {step} loss {loss.item():.4f} lr {scheduler.get_last_lr()[0]:.6f}")

model.eval()
tokens, pad_mask, labels = make_batch(8)
print(tokens)
with torch.no_grad():
    probs = model(tokens, pad_mask).softmax(-1)
print(probs.round(decimals=3), labels)
print(model.pos.pe[0, :3, :6])
for name, p in model.named_parameters():
    # in_proj_bias holds the key bias, which shifts all of a query's scores alike: its gradient is rounding noise
    # (summation order), and Adam scales noise up to full steps; it never reaches an output
    if ("layers.0" in name or not name.startswith("encoder")) and not name.endswith("in_proj_bias"):
        print(f"{name} {p.abs().sum().item():.5g}")
