"""A Llama decoder (SmolLM2) with a static KV cache, written against PyTorch's API: it runs under torch_js
(`import torch` is torch_js in pyrun.mjs and `python -m torch_js`) and under PyTorch itself.

Weights come from a GGUF file (llama.cpp's names: token_embd, blk.N.attn_q, ...; the module names here are those,
so the state_dict keys are the file's). llama.cpp's converter permutes the rows of attn_q / attn_k for its RoPE
layout; they are un-permuted on load so the Hugging Face rotate-half RoPE applies.

The KV cache is preallocated for the whole generation (prompt + new tokens): each step writes its keys/values at
its positions and attends over the full cache under a causal mask, so every decoding step has the same shapes.
Attention is F.scaled_dot_product_attention with enable_gqa (query head h reads KV head h // rep: no copy of the
cache), one fused kernel on webgpu (issue 16: a decoding step's dispatches), under the causal mask's rows.

The position can be a device tensor (Llama.step): the cache write indexes the cache with it and the RoPE and mask
rows are gathered with it from tables made once for the whole length, so no Python decides anything from the
position and one decoding step can be captured as a CUDA-style graph (torch.cuda.graph / torch_js.webgpu.graph)
and replayed for every token (generate(..., graph=True), as Hugging Face's StaticCache does for torch.cuda). Each
replay also writes its token into a token history on the device, so that several replays run back to back and
their tokens come back in one readback (readback_every): the GPU does not wait for the host between tokens.
"""

import torch
import torch.nn.functional as F
from torch import nn

READBACK_EVERY = 8      # graph decoding: replays between two readbacks of their ids (generate_graphed)


class LlamaConfig:
    def __init__(self, vocab_size, dim, n_layers, n_heads, n_kv_heads, ffn_dim, rope_theta, norm_eps,
                 context_length):
        self.vocab_size, self.dim, self.n_layers = vocab_size, dim, n_layers
        self.n_heads, self.n_kv_heads, self.ffn_dim = n_heads, n_kv_heads, ffn_dim
        self.rope_theta, self.norm_eps, self.context_length = rope_theta, norm_eps, context_length
        self.head_dim = dim // n_heads

    @classmethod
    def from_gguf_metadata(cls, meta):
        arch = meta["general.architecture"]
        if arch != "llama":
            raise ValueError(f"model: a llama GGUF is needed, got architecture {arch!r}")

        def key(name, default=None):
            value = meta.get(f"{arch}.{name}", default)
            if value is None:
                raise ValueError(f"model: the GGUF metadata lacks {arch}.{name}")
            return value
        vocab = meta.get(f"{arch}.vocab_size") or len(meta["tokenizer.ggml.tokens"])
        return cls(vocab, key("embedding_length"), key("block_count"), key("attention.head_count"),
                   key("attention.head_count_kv", key("attention.head_count")), key("feed_forward_length"),
                   key("rope.freq_base", 10000.0), key("attention.layer_norm_rms_epsilon"), key("context_length"))


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat([-x[..., half:], x[..., :half]], dim=-1)


class Block(nn.Module):
    """One decoder layer: pre-norm attention with RoPE and GQA, then a pre-norm SiLU-gated MLP."""

    def __init__(self, cfg):
        super().__init__()
        hd = cfg.head_dim
        self.n_heads, self.n_kv_heads, self.head_dim = cfg.n_heads, cfg.n_kv_heads, hd
        self.attn_norm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.attn_q = nn.Linear(cfg.dim, cfg.n_heads * hd, bias=False)
        self.attn_k = nn.Linear(cfg.dim, cfg.n_kv_heads * hd, bias=False)
        self.attn_v = nn.Linear(cfg.dim, cfg.n_kv_heads * hd, bias=False)
        self.attn_output = nn.Linear(cfg.n_heads * hd, cfg.dim, bias=False)
        self.ffn_norm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.ffn_gate = nn.Linear(cfg.dim, cfg.ffn_dim, bias=False)
        self.ffn_up = nn.Linear(cfg.dim, cfg.ffn_dim, bias=False)
        self.ffn_down = nn.Linear(cfg.ffn_dim, cfg.dim, bias=False)
        self.cache_k = self.cache_v = None

    def attention(self, x, cos, sin, positions, mask):
        b, t, _ = x.shape
        kv, hd = self.n_kv_heads, self.head_dim
        q = self.attn_q(x).view(b, t, self.n_heads, hd).transpose(1, 2)
        k = self.attn_k(x).view(b, t, kv, hd).transpose(1, 2)
        v = self.attn_v(x).view(b, t, kv, hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        # an index tensor, not a slice: a replayed graph writes where the position tensor says. Not index_copy_:
        # torch_js checks its indices on the host (a readback, which a graph cannot capture)
        self.cache_k[:, :, positions] = k
        self.cache_v[:, :, positions] = v
        # the mask's rows (t, cache length) broadcast over the heads; the scale is 1 / sqrt(hd)
        out = F.scaled_dot_product_attention(q, self.cache_k, self.cache_v, attn_mask=mask, enable_gqa=True)
        return self.attn_output(out.transpose(1, 2).reshape(b, t, self.n_heads * hd))

    def forward(self, x, cos, sin, positions, mask):
        x = x + self.attention(self.attn_norm(x), cos, sin, positions, mask)
        h = self.ffn_norm(x)
        return x + self.ffn_down(F.silu(self.ffn_gate(h)) * self.ffn_up(h))


class Llama(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.token_embd = nn.Embedding(cfg.vocab_size, cfg.dim)
        self.blk = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.output_norm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.output = None            # tied to token_embd unless the file has its own output.weight
        self.max_len = 0

    def setup_cache(self, max_len):
        """Preallocate every layer's KV cache for max_len positions (zeros), and the RoPE / mask / position tables
        (on the device, so that a step gathers its rows there)."""
        cfg, weight = self.cfg, self.token_embd.weight
        device, dtype = weight.device, weight.dtype
        shape = (1, cfg.n_kv_heads, max_len, cfg.head_dim)
        for block in self.blk:
            block.cache_k = torch.zeros(shape, device=device, dtype=dtype)
            block.cache_v = torch.zeros(shape, device=device, dtype=dtype)
        hd = cfg.head_dim
        inv_freq = 1.0 / (cfg.rope_theta ** (torch.arange(0, hd, 2, dtype=torch.int64).float() / hd))
        freqs = torch.outer(torch.arange(max_len, dtype=torch.int64).float(), inv_freq)
        emb = torch.cat([freqs, freqs], dim=-1)
        self.cos, self.sin = emb.cos().to(device), emb.sin().to(device)
        self.mask = torch.full((max_len, max_len), float("-inf")).triu(1).to(device)
        self.positions = torch.arange(max_len, device=device)
        self.max_len = max_len

    def forward(self, ids, pos=0, last_only=True):
        """Logits for ids (1, t) at positions pos..pos+t-1 (the cache holds the earlier ones); (1, vocab) of the
        last position with last_only, else (1, t, vocab). pos: an int, or an int64 tensor of one element on the
        model's device (then nothing here depends on its value, and positions past the cache are not checked)."""
        t = ids.shape[1]
        if isinstance(pos, int):
            if pos + t > self.max_len:
                raise ValueError(f"model: positions up to {pos + t} do not fit the cache of {self.max_len}")
            positions = self.positions[pos:pos + t]
        else:
            positions = self.positions[:t] + pos.reshape(1)
        x = self.token_embd(ids)
        cos, sin = self.cos.index_select(0, positions), self.sin.index_select(0, positions)
        mask = self.mask.index_select(0, positions)
        for block in self.blk:
            x = block(x, cos, sin, positions, mask)
        x = self.output_norm(x[:, -1] if last_only else x)
        if self.output is not None:
            return self.output(x)
        return F.linear(x, self.token_embd.weight)

    def step(self, ids, pos):
        """One decoding step: logits (1, vocab) for the token ids (1, 1) at position pos (an int64 tensor of one
        element on the device) -- the same work whatever the position, so it can be captured as a graph."""
        return self(ids, pos)


def sample(logits, temperature, top_k):
    """The next id from logits (1, vocab): argmax when temperature is 0, else a draw from the softmax of
    logits / temperature restricted to the top_k largest."""
    if temperature <= 0:
        return int(logits.argmax(-1).item())
    logits = logits / temperature
    if top_k:
        kth = torch.topk(logits, min(top_k, logits.shape[-1]), dim=-1).values[..., -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    probs = torch.softmax(logits, dim=-1)
    return int(torch.multinomial(probs, 1).item())


@torch.no_grad()
def generate(model, prompt_ids, max_new_tokens, temperature=0.0, top_k=0, stop_ids=(), on_token=None,
             on_logits=None, graph=False, warmup=2, readback_every=READBACK_EVERY):
    """New token ids after prompt_ids (a list), one forward pass per token over the KV cache; stops at a stop id
    (not returned). on_token(id) is called for each as it comes, on_logits(logits) with each step's (1, vocab).
    graph=True (greedy, on webgpu or cuda): the prompt runs eagerly, then `warmup` decoding steps, then one step is
    captured as a graph and replayed for each later token (generate_graphed), readback_every replays back to back
    between two readbacks of their ids (on_logits forces 1)."""
    device = model.token_embd.weight.device
    if graph:
        graph_api(device)                      # the errors before any work
        if temperature > 0:
            raise ValueError("model: graph decoding is greedy (temperature 0): sampling draws random numbers on "
                             "the host, which a captured graph cannot repeat")
    model.setup_cache(len(prompt_ids) + max_new_tokens)
    logits = model(torch.tensor([prompt_ids], device=device), pos=0)
    if graph:
        return generate_graphed(model, logits, len(prompt_ids), max_new_tokens, stop_ids, on_token, on_logits,
                                warmup, readback_every)
    out, pos = [], len(prompt_ids)
    for _ in range(max_new_tokens):
        if on_logits is not None:
            on_logits(logits)
        if not _emit(sample(logits.float(), temperature, top_k), out, stop_ids, on_token, max_new_tokens):
            break
        logits = model(torch.tensor([[out[-1]]], device=device), pos=pos)
        pos += 1
    return out


def _emit(next_id, out, stop_ids, on_token, max_new_tokens):
    """Take a generated token: False at a stop token (not kept) or once max_new_tokens are kept."""
    if next_id in stop_ids:
        return False
    out.append(next_id)
    if on_token is not None:
        on_token(next_id)
    return len(out) < max_new_tokens


def graph_api(device):
    """(Graph class, capture context) of the device's CUDA-style graphs: torch.cuda's, or torch_js.webgpu's."""
    if device.type == "cuda":
        return torch.cuda.CUDAGraph, torch.cuda.graph
    if device.type == "webgpu":
        return torch.webgpu.Graph, torch.webgpu.graph
    raise ValueError(f"model: graph decoding needs a GPU device (webgpu or cuda), not {device.type!r}: a graph "
                     "replays GPU work")


def greedy_step(model, ids, pos, history=None):
    """One greedy decoding step on device tensors: the logits of ids (1, 1) at pos, then, in place, ids <- their
    argmax and pos <- pos + 1, which the next step (or the next replay of its graph) reads: no host round trip.
    history (an int64 tensor of the cache's length, on the device): the new id is also written at the new pos, so
    that the ids of several steps can be read back at once (an index tensor, as the cache write: a graph captures
    it, where index_copy_ would check its indices on the host)."""
    logits = model.step(ids, pos)
    ids.copy_(logits.argmax(-1, keepdim=True))
    pos.add_(1)
    if history is not None:
        history[pos] = ids.reshape(1)
    return logits


def generate_graphed(model, logits, pos, max_new_tokens, stop_ids=(), on_token=None, on_logits=None, warmup=2,
                     readback_every=READBACK_EVERY):
    """Greedy decoding after the prompt's logits (1, vocab), its next position `pos` (an int) in the cache: the
    token ids and the position live in two device tensors that greedy_step updates; `warmup` steps run eagerly
    (compiling the kernels, each id read back), then one is captured and replayed for each later token.

    readback_every K: the graph is replayed K times back to back, each replay writing its id into a token history
    on the device, then the K ids come back in one readback and are taken in order. The GPU then runs K steps
    without waiting for the host between them (a readback per token leaves it idle in between, and a GPU that idles
    is clocked down); the tokens are the same for every K: steps run past a stop id are discarded, and the last
    batch is cut to the steps max_new_tokens still needs (max_new_tokens - 1 steps in all, the last one writing
    the cache at position pos + max_new_tokens - 2, inside setup_cache(pos + max_new_tokens)). The ids reach
    on_token K at a time. K = 1: a readback per token. on_logits needs each step's logits, so it forces K = 1."""
    if max_new_tokens <= 0:
        return []
    device = model.token_embd.weight.device
    graph_class, capture = graph_api(device)
    if on_logits is not None:
        readback_every = 1
    if readback_every < 1:
        raise ValueError(f"model: readback_every must be at least 1, not {readback_every}")
    ids = logits.argmax(-1, keepdim=True)
    position = torch.tensor([pos], device=device)
    history = torch.zeros(model.max_len, dtype=torch.int64, device=device)
    out, graph, done = [], None, 0             # done: the decoding steps run (step i gives the id after id i)
    pending = [int(ids.item())]
    while True:
        for next_id in pending:
            if on_logits is not None:
                on_logits(logits)
            if not _emit(next_id, out, stop_ids, on_token, max_new_tokens):
                return out
        # every id read back is kept and fewer than max_new_tokens are: done + 1 ids, so done < max_new_tokens - 1
        if graph is None and done < warmup:
            logits = greedy_step(model, ids, position, history)
            pending, done = [int(ids.item())], done + 1
            continue
        if graph is None:
            graph = graph_class()
            with capture(graph):
                logits = greedy_step(model, ids, position, history)    # captured, not run: the replays run it
        n = min(readback_every, max_new_tokens - 1 - done)
        for _ in range(n):
            graph.replay()
        first = pos + 1 + done                 # history[pos + i] is id i
        pending, done = history[first:first + n].tolist(), done + n


def unpermute_rows(w, n_heads):
    """Undo llama.cpp's RoPE row permutation of attn_q / attn_k (rows per head: (d/2, 2) -> (2, d/2))."""
    rows = w.shape[0]
    return w.reshape(n_heads, rows // n_heads // 2, 2, *w.shape[1:]).transpose(1, 2).reshape(w.shape)


def read_gguf(path):
    """(tensors, metadata) of a GGUF file: torch_js.load_gguf where torch is torch_js (tensors in torch order,
    float32), else the gguf package with numpy (for PyTorch itself)."""
    if hasattr(torch, "load_gguf"):
        return torch.load_gguf(path)
    import gguf
    reader = gguf.GGUFReader(path)
    meta = {k: f.contents() for k, f in reader.fields.items() if not k.startswith("GGUF.")}
    tensors = {}
    for t in reader.tensors:
        shape = tuple(reversed([int(n) for n in t.shape]))
        array = gguf.quants.dequantize(t.data, t.tensor_type).reshape(shape)
        tensors[t.name] = torch.from_numpy(array.copy())
    return tensors, meta


LINEAR_NAMES = ("attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down")


def load_llama(path, device="cpu", quant="f32"):
    """(model, metadata) from a llama GGUF file. quant "f32": every weight dequantised to float32; "q4_1" /
    "q8_0" (torch_js only): the linear layers are torch_js.quant.BlockQuantLinear, from the file's own blocks
    where they are in that scheme (else quantised from the float weight), and the tied output projection keeps
    token_embd's blocks."""
    if quant == "f32":
        tensors, meta = read_gguf(path)
        layers = {}
    else:
        tensors, meta, layers = read_quantized(path, quant)
    cfg = LlamaConfig.from_gguf_metadata(meta)
    for i in range(cfg.n_layers):
        for name, heads in (("attn_q", cfg.n_heads), ("attn_k", cfg.n_kv_heads)):
            key = f"blk.{i}.{name}.weight"
            if key in tensors:
                tensors[key] = unpermute_rows(tensors[key], heads)
    with torch.device("meta"):
        model = Llama(cfg)
        if "output.weight" in tensors:
            model.output = nn.Linear(cfg.dim, cfg.vocab_size, bias=False)
    for name, layer in layers.items():
        parent, _, attr = name.rpartition(".")
        setattr(model.get_submodule(parent), attr, layer)
    missing, unexpected = model.load_state_dict(tensors, strict=False, assign=True)
    missing = [k for k in missing if k.rsplit(".", 1)[0] not in layers]
    if missing or unexpected:
        raise ValueError(f"model: the GGUF file does not fit the model: missing {missing[:5]}, unexpected "
                         f"{unexpected[:5]}")
    model.eval()
    return model.to(device), meta


def read_quantized(path, scheme):
    """(float tensors, metadata, {module name: BlockQuantLinear}) of a GGUF file for quant scheme `scheme`."""
    quant = getattr(torch, "quant", None)
    if quant is None:
        raise ValueError("model: quantised linears need torch_js.quant (PyTorch has no BlockQuantLinear)")
    if scheme not in quant.SCHEMES:
        raise ValueError(f"model: unknown quant scheme {scheme!r} (torch_js.quant has {sorted(quant.SCHEMES)})")
    raw, meta = torch.load_gguf(path, dequantize=False)
    cfg = LlamaConfig.from_gguf_metadata(meta)
    heads = {"attn_q": cfg.n_heads, "attn_k": cfg.n_kv_heads}
    tensors, layers = {}, {}
    for key, value in raw.items():
        parts = key.split(".")
        blocks = isinstance(value, torch.serialization.GGUFQuantized)
        if len(parts) == 4 and parts[0] == "blk" and parts[2] in LINEAR_NAMES and parts[3] == "weight":
            n_heads = heads.get(parts[2])
            if blocks and value.scheme == scheme:
                data = value.data if n_heads is None else unpermute_rows(value.data, n_heads)
                layer = quant.BlockQuantLinear.from_blocks(scheme, data, *value.shape)
            else:
                w = value.dequantize() if blocks else value.float()
                linear = nn.Linear(w.shape[1], w.shape[0], bias=False, device="meta")
                linear.weight = nn.Parameter(w if n_heads is None else unpermute_rows(w, n_heads))
                layer = quant.BlockQuantLinear.from_float(linear, scheme)
            layers[key[:-len(".weight")]] = layer
        else:
            tensors[key] = value.dequantize() if blocks else value.float()
    output = raw.get("output.weight", raw["token_embd.weight"])
    if isinstance(output, torch.serialization.GGUFQuantized) and output.scheme in quant.SCHEMES:
        layers["output"] = quant.BlockQuantLinear.from_blocks(output.scheme, output.data, *output.shape, None)
        tensors.pop("output.weight", None)
    return tensors, meta, layers
