"""BERT's WordPiece tokenizer (uncased), pure Python, from a Hugging Face tokenizer.json: what all-MiniLM-L6-v2's
tokenizer does (the `tokenizers` crate's BertNormalizer, BertPreTokenizer, WordPiece and [CLS] ... [SEP] template).

1. Special tokens written in the text ("[SEP]", "[MASK]") are cut out first and kept as they are.
2. Normalise: drop NUL, U+FFFD and control characters (not \\t \\n \\r), turn whitespace into spaces, put spaces
   around CJK ideographs (each becomes a word), lowercase and strip accents (NFD, then drop combining marks).
3. Pre-tokenize: split on whitespace, and every punctuation character is a word of its own.
4. WordPiece: each word is cut greedily into the longest pieces found in the vocabulary, pieces after the first
   written with the "##" prefix ("embeddings" -> "em", "##bed", "##ding", "##s"); a word that cannot be cut
   (or is longer than 100 characters) becomes [UNK].

Checked against the `tokenizers` package on every code point: the same ids, except for about 150 rare characters
that Unicode added or re-classified after version 9, whose tables the crate uses (e.g. U+061D, U+2E55-U+2E5D
count as punctuation here, as letters there). Python's unicodedata has no Unicode age to mimic it.
"""
import json
import unicodedata

# Unicode's CJK ideograph blocks (the `tokenizers` crate's is_chinese_char): each ideograph is a word of its own
CJK_RANGES = ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F), (0x2B740, 0x2B81F),
              (0x2B920, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F))


def is_control(ch):
    """Control, format, private-use and surrogate characters (Cc Cf Co Cs), which normalisation drops; not \\t \\n
    \\r (whitespace) nor unassigned code points (Cn), which the `tokenizers` crate keeps as word characters."""
    return ch not in "\t\n\r" and unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs")


def is_punctuation(ch):
    """ASCII punctuation (BERT counts $ + < = > ^ ` | ~ too) or any Unicode P* character."""
    cp = ord(ch)
    return 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126 or \
        unicodedata.category(ch).startswith("P")


def is_cjk(ch):
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in CJK_RANGES)


class WordPieceTokenizer:
    def __init__(self, vocab, special_tokens=("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"), lowercase=True,
                 strip_accents=None, prefix="##", max_chars_per_word=100, max_length=256):
        self.vocab = dict(vocab)
        self.tokens = {i: t for t, i in self.vocab.items()}
        self.special_tokens = [t for t in special_tokens if t in self.vocab]
        self.lowercase = lowercase
        # as BertNormalizer: strip_accents None follows lowercase
        self.strip_accents = lowercase if strip_accents is None else strip_accents
        self.prefix, self.max_chars_per_word, self.max_length = prefix, max_chars_per_word, max_length
        self.pad_id, self.unk_id = self.vocab["[PAD]"], self.vocab["[UNK]"]
        self.cls_id, self.sep_id = self.vocab["[CLS]"], self.vocab["[SEP]"]

    @classmethod
    def from_tokenizer_json(cls, source, max_length=256):
        """From a tokenizer.json (its text, bytes, parsed dict or a path). max_length: the model's sequence limit,
        special tokens included (all-MiniLM-L6-v2's sentence-transformers config says 256)."""
        if isinstance(source, (bytes, bytearray)):
            source = source.decode("utf-8")
        if isinstance(source, str):
            if source.lstrip().startswith("{"):
                source = json.loads(source)
            else:
                with open(source, encoding="utf-8") as f:
                    source = json.load(f)
        model, norm = source["model"], source.get("normalizer") or {}
        if model.get("type") != "WordPiece":
            raise ValueError(f"tokenizer: a WordPiece tokenizer.json is needed, got model type {model.get('type')!r}")
        specials = [t["content"] for t in source.get("added_tokens", []) if t.get("special")]
        return cls(model["vocab"], specials or ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"),
                   lowercase=norm.get("lowercase", True), strip_accents=norm.get("strip_accents"),
                   prefix=model.get("continuing_subword_prefix", "##"),
                   max_chars_per_word=model.get("max_input_chars_per_word", 100), max_length=max_length)

    # ---- text -> tokens -----------------------------------------------------------------------------------------

    def normalize(self, text):
        out = []
        for ch in text:
            if ch in ("\0", "\ufffd") or is_control(ch):
                continue
            if ch.isspace():
                out.append(" ")
            elif is_cjk(ch):
                out.append(f" {ch} ")
            else:
                out.append(ch)
        text = "".join(out)
        if self.strip_accents:
            text = "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")
        return text.lower() if self.lowercase else text

    @staticmethod
    def pre_tokenize(text):
        """Words: runs of non-space, non-punctuation characters; each punctuation character alone."""
        words, word = [], []
        for ch in text:
            if ch.isspace() or is_punctuation(ch):
                if word:
                    words.append("".join(word))
                    word = []
                if not ch.isspace():
                    words.append(ch)
            else:
                word.append(ch)
        if word:
            words.append("".join(word))
        return words

    def wordpiece(self, word):
        if len(word) > self.max_chars_per_word:
            return ["[UNK]"]
        pieces, start = [], 0
        while start < len(word):
            end = len(word)
            while end > start:
                piece = word[start:end] if start == 0 else self.prefix + word[start:end]
                if piece in self.vocab:
                    break
                end -= 1
            if end == start:          # no piece of the vocabulary starts here: the whole word is unknown
                return ["[UNK]"]
            pieces.append(piece)
            start = end
        return pieces

    def split_special(self, text):
        """[(segment, is_special)]: the special tokens written in text cut out (longest first)."""
        parts = [(text, False)]
        for token in sorted(self.special_tokens, key=len, reverse=True):
            cut = []
            for segment, special in parts:
                if special or token not in segment:
                    cut.append((segment, special))
                    continue
                pieces = segment.split(token)
                for i, piece in enumerate(pieces):
                    if i:
                        cut.append((token, True))
                    if piece:
                        cut.append((piece, False))
            parts = cut
        return parts

    def tokenize(self, text):
        """The WordPiece tokens of text, without [CLS] / [SEP]."""
        tokens = []
        for segment, special in self.split_special(text):
            if special:
                tokens.append(segment)
            else:
                for word in self.pre_tokenize(self.normalize(segment)):
                    tokens.extend(self.wordpiece(word))
        return tokens

    # ---- ids ----------------------------------------------------------------------------------------------------

    def encode(self, text):
        """[CLS] tokens [SEP] as ids, the tokens cut to fit max_length."""
        ids = [self.vocab.get(t, self.unk_id) for t in self.tokenize(text)][:self.max_length - 2]
        return [self.cls_id, *ids, self.sep_id]

    def batch(self, texts):
        """(input ids, attention mask) of texts as lists of rows padded with [PAD] to the longest; mask 1 on real
        tokens, 0 on padding."""
        rows = [self.encode(t) for t in texts]
        width = max(map(len, rows))
        return ([r + [self.pad_id] * (width - len(r)) for r in rows],
                [[1] * len(r) + [0] * (width - len(r)) for r in rows])

    def decode(self, ids, skip_special=True):
        """Text from ids: "##" pieces joined to the piece before (the `tokenizers` WordPiece decoder, without its
        punctuation clean-up)."""
        words = []
        for i in ids:
            token = self.tokens.get(i, "[UNK]")
            if skip_special and token in self.special_tokens:
                continue
            if token.startswith(self.prefix) and words:
                words[-1] += token[len(self.prefix):]
            else:
                words.append(token)
        return " ".join(words)
