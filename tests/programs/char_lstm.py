"""A character-level language model in the style of the char-RNN tutorials: a vocabulary from a string,
nn.Embedding -> nn.LSTM(batch_first=True) -> nn.Linear, truncated sequences, CrossEntropyLoss over the flattened
time steps, Adam, gradient clipping, hidden state carried with detach(), then greedy and sampled generation."""
import torch
import torch.nn as nn

torch.manual_seed(0)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

text = "hello world. hello torch. the world says hello to the torch. " * 3
chars = sorted(set(text))
stoi = {ch: i for i, ch in enumerate(chars)}
itos = {i: ch for ch, i in stoi.items()}
data = torch.tensor([stoi[c] for c in text], dtype=torch.long)
print(f"vocab {len(chars)}: {''.join(chars)!r}, {len(data)} characters")


class CharLSTM(nn.Module):
    def __init__(self, vocab_size, embed_dim=12, hidden_size=24, num_layers=2):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.lstm = nn.LSTM(embed_dim, hidden_size, num_layers=num_layers, batch_first=True, dropout=0.1)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, x, hidden=None):
        out, hidden = self.lstm(self.embed(x), hidden)
        return self.head(out), hidden


model = CharLSTM(len(chars)).to(device)
print(model)
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=0.02)

seq_len, batch = 16, 4
n_steps = (len(data) - 1) // (seq_len * batch)
for epoch in range(8):
    model.train()
    hidden = None
    total = 0.0
    for step in range(n_steps):
        start = step * seq_len * batch
        chunk = data[start:start + seq_len * batch + 1]
        x = chunk[:-1].view(batch, seq_len).to(device)
        y = chunk[1:].view(batch, seq_len).to(device)
        if hidden is not None:
            hidden = tuple(h.detach() for h in hidden)
        logits, hidden = model(x, hidden)
        loss = criterion(logits.reshape(-1, len(chars)), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()
        total += loss.item()
    print(f"epoch {epoch} loss {total / n_steps:.4f}")

print([tuple(h.shape) for h in hidden])


@torch.no_grad()
def generate(prompt, length, sample=False, gen=None):
    model.eval()
    idx = torch.tensor([[stoi[c] for c in prompt]], device=device)
    logits, h = model(idx)
    out = prompt
    for _ in range(length):
        last = logits[:, -1, :]
        if sample:
            probs = torch.softmax(last / 0.8, dim=-1)
            nxt = torch.multinomial(probs, num_samples=1, generator=gen)
        else:
            nxt = last.argmax(dim=-1, keepdim=True)
        out += itos[nxt.item()]
        logits, h = model(nxt, h)
    return out


print(repr(generate("hello", 30)))
print(repr(generate("the ", 30, sample=True, gen=torch.Generator().manual_seed(3))))
for name, p in model.named_parameters():
    print(f"{name} {tuple(p.shape)} {p.detach().abs().sum().item():.5g}")
