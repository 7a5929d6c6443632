"""Masked patch pre-training of a tiny vision transformer, as SimMIM / masked-patch-prediction code does it: images
cut into patches with reshape/permute, a random subset masked per image (rand().argsort()), a learned mask token of
shape (1, 1, dim) written into the masked positions with a boolean index (its leading size-1 dims dropped, as
PyTorch's setitem does), positional embeddings sliced to the patch count, a TransformerEncoder, a linear head that
reconstructs the masked pixels, and the loss on masked patches only. A wrongly sliced positional table fails with
PyTorch's broadcast message, which names the rightmost mismatching dim."""
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(11)

IMAGE, PATCH, CHANNELS, DIM = 16, 4, 3, 32
NUM_PATCHES = (IMAGE // PATCH) ** 2
PATCH_PIXELS = CHANNELS * PATCH * PATCH


def patchify(images):
    """(b, c, H, W) -> (b, patches, c*p*p), row-major patches, pixels as (p1, p2, c)."""
    b, c, h, w = images.shape
    x = images.reshape(b, c, h // PATCH, PATCH, w // PATCH, PATCH)
    return x.permute(0, 2, 4, 3, 5, 1).reshape(b, NUM_PATCHES, PATCH_PIXELS)


class MaskedPatchModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.to_embedding = nn.Linear(PATCH_PIXELS, DIM)
        self.cls_token = nn.Parameter(torch.randn(1, 1, DIM) * 0.02)
        self.pos_embedding = nn.Parameter(torch.randn(1, NUM_PATCHES + 1, DIM) * 0.02)
        self.mask_token = nn.Parameter(torch.randn(1, 1, DIM) * 0.02)
        layer = nn.TransformerEncoderLayer(DIM, 4, 64, dropout=0.0, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.to_pixels = nn.Linear(DIM, PATCH_PIXELS)

    def forward(self, images, masking_ratio=0.5):
        patches = patchify(images)
        b, n, _ = patches.shape
        tokens = self.to_embedding(patches)
        num_masked = int(masking_ratio * n)
        order = torch.rand(b, n).argsort(dim=-1)
        masked_idx = order[:, :num_masked]
        bool_mask = torch.zeros(b, n, dtype=torch.bool)
        bool_mask[torch.arange(b)[:, None], masked_idx] = True
        tokens = tokens.clone()
        tokens[bool_mask] = self.mask_token                       # (1, 1, DIM) into (b*num_masked, DIM)
        tokens = tokens + self.pos_embedding[:, 1:n + 1]
        cls = self.cls_token.expand(b, -1, -1) + self.pos_embedding[:, :1]
        encoded = self.encoder(torch.cat([cls, tokens], dim=1))[:, 1:]
        predicted = self.to_pixels(encoded[bool_mask])
        target = patches[bool_mask]
        return F.l1_loss(predicted, target), bool_mask


model = MaskedPatchModel()
print(sum(p.numel() for p in model.parameters()), "parameters")
print(patchify(torch.arange(2 * 3 * 16 * 16, dtype=torch.float32).reshape(2, 3, 16, 16))[1, 5, :6])

# smooth images: the masked patches are predictable from their neighbours
grid = torch.linspace(0, 1, IMAGE)
base = torch.stack([grid[None, :] * grid[:, None], grid[None, :].expand(IMAGE, IMAGE), grid[:, None].expand(IMAGE, IMAGE)])
images = base.unsqueeze(0) * torch.rand(8, 3, 1, 1) + 0.1 * torch.randn(8, 3, 1, 1)

opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.05)
for step in range(25):
    loss, mask = model(images)
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    if step % 6 == 0:
        print(step, f"{loss.item():.4f}", mask.sum(dim=1).tolist())
print(model.mask_token.grad.abs().sum() > 0, model.mask_token.grad.shape)

# the same write with basic indexing: leading size-1 dims of the value are dropped there too
board = torch.zeros(2, 3)
board[0] = torch.tensor([[[1.0, 2.0, 3.0]]])
board[:, 1] = torch.full((1, 2), 7.0)
print(board)

# a positional table sliced on the wrong dim: PyTorch's broadcast error names the last dim that disagrees
wrong = model.pos_embedding[0, :, 1:NUM_PATCHES + 1]
try:
    model.to_embedding(patchify(images)) + wrong
except RuntimeError as e:
    print(e)
try:
    torch.zeros(4, 5, 6)[torch.zeros(4, 5, dtype=torch.bool)] = torch.ones(2, 6)
except RuntimeError as e:
    print(e)
