"""SmolLM2's tokenizer from a GGUF file's metadata: byte-level BPE (GPT-2's scheme), pure Python.

encode: special tokens (the file's CONTROL / USER_DEFINED tokens, e.g. <|im_start|>) are cut out first; the rest is
pre-tokenized as the "smollm" pre-tokenizer (tokenizer.ggml.pre; Hugging Face's Digits(individual_digits) then
ByteLevel regex, llama.cpp's LLAMA_VOCAB_PRE_TYPE_SMOLLM): every \\p{N} character alone, then GPT-2's pattern
  's|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+
Python's re has no \\p{L} / \\p{N}: the classes are built from unicodedata once (Unicode's White_Space for \\s).
Each piece's UTF-8 bytes are mapped to GPT-2's printable characters and merged by rank (tokenizer.ggml.merges).
decode maps the characters back to bytes; StreamDecoder hands out text only once its UTF-8 is complete.
"""
import codecs
import re
import unicodedata

# GGUF token types (llama.cpp's llama_token_type)
NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE = 1, 2, 3, 4, 5, 6
SPECIAL_TYPES = (CONTROL, USER_DEFINED)

# Unicode's White_Space property (what \s means in the reference tokenizers; Python's \s also takes \x1c-\x1f)
WHITE_SPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
SUPPORTED_PRE = ("smollm", "starcoder", "refact", "codeshell")   # llama.cpp's pre-tokenizers of this regex pair


def bytes_to_unicode():
    """GPT-2's byte -> character map: printable Latin-1 bytes stand for themselves, the others for 256 + n."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    chars, extra = {}, 0
    for b in range(256):
        if b in printable:
            chars[b] = chr(b)
        else:
            chars[b] = chr(256 + extra)
            extra += 1
    return chars


def _category_class(prefix, limit=0x40000):
    """A regex character class body of every code point whose general category starts with `prefix` ("L", "N")."""
    ranges, start, category = [], None, unicodedata.category
    for cp in range(limit + 1):
        inside = cp < limit and category(chr(cp))[0] == prefix
        if inside and start is None:
            start = cp
        elif not inside and start is not None:
            ranges.append((start, cp - 1))
            start = None

    def esc(cp):
        return f"\\U{cp:08x}"
    return "".join(esc(a) if a == b else f"{esc(a)}-{esc(b)}" for a, b in ranges)


def pretokenizer_patterns():
    """(digit splitter, GPT-2 pattern) compiled with explicit \\p{L} / \\p{N} classes."""
    letters, numbers, space = _category_class("L"), _category_class("N"), WHITE_SPACE
    digit = re.compile(f"([{numbers}])")
    gpt2 = re.compile(f"'s|'t|'re|'ve|'m|'ll|'d| ?[{letters}]+| ?[{numbers}]+| ?[^{space}{letters}{numbers}]+"
                      f"|[{space}]+(?![^{space}])|[{space}]+")
    return digit, gpt2


class ByteLevelBPE:
    """tokens: the vocabulary (id -> string in GPT-2's byte characters); merges: "a b" strings, best first;
    token_types: GGUF types per id (CONTROL / USER_DEFINED ones are special: matched whole, never merged into)."""

    def __init__(self, tokens, merges, token_types=None, bos_id=None, eos_id=None, pre="smollm"):
        if pre not in SUPPORTED_PRE:
            raise ValueError(f"tokenizer: pre-tokenizer {pre!r} is not this one's (it implements {SUPPORTED_PRE})")
        self.tokens = list(tokens)
        self.ids = {t: i for i, t in enumerate(self.tokens)}
        self.ranks = {tuple(m.split(" ", 1)): r for r, m in enumerate(merges)}
        types = token_types or [NORMAL] * len(self.tokens)
        self.special_ids = {i for i, t in enumerate(types) if t in SPECIAL_TYPES}
        self.bos_id, self.eos_id = bos_id, eos_id
        self.byte_chars = bytes_to_unicode()
        self.char_bytes = {c: b for b, c in self.byte_chars.items()}
        specials = sorted((self.tokens[i] for i in self.special_ids), key=len, reverse=True)
        self.special_pattern = re.compile("(" + "|".join(map(re.escape, specials)) + ")") if specials else None
        self.digit_pattern, self.word_pattern = pretokenizer_patterns()
        self.cache = {}

    @classmethod
    def from_gguf_metadata(cls, meta):
        if meta.get("tokenizer.ggml.model") != "gpt2":
            raise ValueError(f"tokenizer: a GGUF byte-level BPE (tokenizer.ggml.model 'gpt2') is needed, got "
                             f"{meta.get('tokenizer.ggml.model')!r}")
        return cls(meta["tokenizer.ggml.tokens"], meta["tokenizer.ggml.merges"], meta.get("tokenizer.ggml.token_type"),
                   meta.get("tokenizer.ggml.bos_token_id"), meta.get("tokenizer.ggml.eos_token_id"),
                   meta.get("tokenizer.ggml.pre", "smollm"))

    def pretokenize(self, text):
        """The pieces BPE runs on, as the reference pre-tokenizer cuts them."""
        pieces = []
        for i, part in enumerate(self.digit_pattern.split(text)):
            if i % 2:
                pieces.append(part)                         # a number character, alone
            elif part:
                pieces.extend(self.word_pattern.findall(part))
        return pieces

    def bpe(self, piece):
        """Token ids of one pre-token (its UTF-8 bytes as GPT-2 characters, merged lowest rank first)."""
        cached = self.cache.get(piece)
        if cached is not None:
            return cached
        symbols = [self.byte_chars[b] for b in piece.encode("utf-8")]
        while len(symbols) > 1:
            best, at = None, -1
            for j in range(len(symbols) - 1):
                rank = self.ranks.get((symbols[j], symbols[j + 1]))
                if rank is not None and (best is None or rank < best):
                    best, at = rank, j
            if best is None:
                break
            pair = (symbols[at], symbols[at + 1])
            merged, j = [], 0
            while j < len(symbols):                         # merge every occurrence of the pair, left to right
                if j < len(symbols) - 1 and (symbols[j], symbols[j + 1]) == pair:
                    merged.append(symbols[j] + symbols[j + 1])
                    j += 2
                else:
                    merged.append(symbols[j])
                    j += 1
            symbols = merged
        ids = []
        for s in symbols:
            if s in self.ids:
                ids.append(self.ids[s])
            else:                                           # a symbol the vocabulary lacks: its single bytes
                ids.extend(self.ids[c] for c in s)
        if len(self.cache) < 100_000:
            self.cache[piece] = ids
        return ids

    def encode(self, text, special=True):
        """Token ids of text; with special=True the special tokens' text (e.g. "<|im_end|>") gives their ids."""
        parts = self.special_pattern.split(text) if special and self.special_pattern else [text]
        ids = []
        for i, part in enumerate(parts):
            if i % 2:
                ids.append(self.ids[part])
            else:
                for piece in self.pretokenize(part):
                    ids.extend(self.bpe(piece))
        return ids

    def token_bytes(self, token_id):
        """The bytes a token stands for (a special token: its text)."""
        token = self.tokens[token_id]
        if token_id in self.special_ids:
            return token.encode("utf-8")
        if all(c in self.char_bytes for c in token):
            return bytes(self.char_bytes[c] for c in token)
        return token.encode("utf-8")                        # not a byte-level token: its own text

    def decode(self, ids, skip_special=False):
        raw = b"".join(self.token_bytes(i) for i in ids if not (skip_special and i in self.special_ids))
        return raw.decode("utf-8", errors="replace")

    def stream_decoder(self, skip_special=True):
        return StreamDecoder(self, skip_special)


class StreamDecoder:
    """Token ids in, text out as soon as its UTF-8 is complete (a character split over two tokens waits)."""

    def __init__(self, tokenizer, skip_special=True):
        self.tokenizer = tokenizer
        self.skip_special = skip_special
        self.utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def __call__(self, token_id):
        if self.skip_special and token_id in self.tokenizer.special_ids:
            return ""
        return self.utf8.decode(self.tokenizer.token_bytes(token_id))

    def flush(self):
        return self.utf8.decode(b"", final=True)


# SmolLM2-Instruct's chat template (tokenizer.chat_template: ChatML, with this system message when none is given)
DEFAULT_SYSTEM = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"


def chat_prompt(messages, add_generation_prompt=True, default_system=DEFAULT_SYSTEM):
    """The text the Instruct template makes of [{"role": ..., "content": ...}, ...] (or of a user message str)."""
    if isinstance(messages, str):
        messages = [{"role": "user", "content": messages}]
    out = []
    if messages and messages[0]["role"] != "system" and default_system is not None:
        out.append(f"<|im_start|>system\n{default_system}<|im_end|>\n")
    for m in messages:
        out.append(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n")
    if add_generation_prompt:
        out.append("<|im_start|>assistant\n")
    return "".join(out)


def check_chat_template(meta):
    """True when the file's chat template is the ChatML one chat_prompt writes (same default system message)."""
    template = meta.get("tokenizer.chat_template", "")
    return "<|im_start|>" in template and DEFAULT_SYSTEM in template
