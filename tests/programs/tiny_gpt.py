"""A tiny GPT block, written as the minimal-GPT walkthroughs write it: token and position nn.Embedding, a causal
self-attention head by hand (q @ k.transpose(-2, -1) scaled, masked_fill with a tril buffer, softmax), multi-head by
concatenation, a LayerNorm/GELU MLP with residuals, cross-entropy over next tokens, AdamW; then the same attention
through nn.MultiheadAttention with a causal attn_mask, and greedy generation."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(1337)
device = "cuda" if torch.cuda.is_available() else "cpu"
block_size, n_embd, n_head, vocab_size = 8, 16, 2, 11


class Head(nn.Module):
    def __init__(self, head_size):
        super().__init__()
        self.key = nn.Linear(n_embd, head_size, bias=False)
        self.query = nn.Linear(n_embd, head_size, bias=False)
        self.value = nn.Linear(n_embd, head_size, bias=False)
        self.register_buffer("tril", torch.tril(torch.ones(block_size, block_size)))
        self.dropout = nn.Dropout(0.1)

    def forward(self, x):
        B, T, C = x.shape
        k, q = self.key(x), self.query(x)
        wei = q @ k.transpose(-2, -1) * k.shape[-1] ** -0.5
        wei = wei.masked_fill(self.tril[:T, :T] == 0, float("-inf"))
        wei = F.softmax(wei, dim=-1)
        wei = self.dropout(wei)
        return wei @ self.value(x)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.heads = nn.ModuleList([Head(n_embd // n_head) for _ in range(n_head)])
        self.proj = nn.Linear(n_embd, n_embd)
        self.ln1, self.ln2 = nn.LayerNorm(n_embd), nn.LayerNorm(n_embd)
        self.mlp = nn.Sequential(nn.Linear(n_embd, 4 * n_embd), nn.GELU(), nn.Linear(4 * n_embd, n_embd))

    def forward(self, x):
        x = x + self.proj(torch.cat([h(self.ln1(x)) for h in self.heads], dim=-1))
        return x + self.mlp(self.ln2(x))


class TinyGPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.tok = nn.Embedding(vocab_size, n_embd)
        self.pos = nn.Embedding(block_size, n_embd)
        self.block = Block()
        self.ln_f = nn.LayerNorm(n_embd)
        self.lm_head = nn.Linear(n_embd, vocab_size)

    def forward(self, idx, targets=None):
        B, T = idx.shape
        x = self.tok(idx) + self.pos(torch.arange(T, device=idx.device))
        logits = self.lm_head(self.ln_f(self.block(x)))
        if targets is None:
            return logits, None
        loss = F.cross_entropy(logits.view(B * T, -1), targets.view(B * T))
        return logits, loss

    @torch.no_grad()
    def generate(self, idx, max_new_tokens):
        for _ in range(max_new_tokens):
            logits, _ = self(idx[:, -block_size:])
            idx = torch.cat((idx, logits[:, -1, :].argmax(-1, keepdim=True)), dim=1)
        return idx


# data: counting sequences modulo vocab_size, so the next token is predictable
seq = torch.arange(200) % vocab_size


def get_batch(batch_size=8):
    ix = torch.randint(len(seq) - block_size, (batch_size,))
    x = torch.stack([seq[i:i + block_size] for i in ix])
    y = torch.stack([seq[i + 1:i + block_size + 1] for i in ix])
    return x.to(device), y.to(device)


model = TinyGPT().to(device)
print(sum(p.numel() for p in model.parameters()), "parameters")
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
for it in range(40):
    xb, yb = get_batch()
    logits, loss = model(xb, yb)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    if it % 10 == 0 or it == 39:
        print(f"iter {it} loss {loss.item():.4f}")

model.eval()
print(model.generate(torch.tensor([[3, 4]], device=device), 10)[0].tolist())
print(model.block.heads[0].tril[:4, :4])

# the same causal attention through nn.MultiheadAttention
mha = nn.MultiheadAttention(embed_dim=n_embd, num_heads=n_head, batch_first=True)
x = torch.randn(2, 5, n_embd)
mask = torch.triu(torch.ones(5, 5, dtype=torch.bool), diagonal=1)
out, attn = mha(x, x, x, attn_mask=mask)
print(out.shape, attn.shape)
print(attn[0].round(decimals=4))
out.sum().backward()
print(f"in_proj grad {mha.in_proj_weight.grad.abs().sum().item():.5g} out {out.abs().sum().item():.5g}")
# hand-written scaled dot product matches F.scaled_dot_product_attention
q, k, v = torch.randn(3, 1, 2, 4, 8).unbind(0)
manual = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(8), dim=-1) @ v
fused = F.scaled_dot_product_attention(q, k, v)
print(torch.allclose(manual, fused, atol=1e-6), manual.shape)
for name, p in model.named_parameters():
    if name.endswith("weight"):
        print(f"{name} {p.abs().sum().item():.5g}")
