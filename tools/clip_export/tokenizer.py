"""CLIP BPE tokenizer in the Hugging Face `tokenizers` format (tokenizer.json).

open_clip ships OpenAI's `bpe_simple_vocab_16e6.txt.gz`; we build the same vocabulary and merges
open_clip's SimpleTokenizer builds, in the layout Hugging Face's CLIPTokenizerFast uses:
NFC + whitespace collapse + lowercase, the CLIP regex split, byte-level mapping, BPE with the
`</w>` end-of-word suffix, `<|startoftext|> ... <|endoftext|>` around the text, truncation to the
context length (the end token is kept, as open_clip does) and padding to it with `pad_id`.

Curly quotes are straightened as ftfy does. Not reproduced: the rest of open_clip's ftfy /
html-unescape cleaning (mojibake repair, HTML entities such as "&amp;", full-width characters);
it does not matter for ordinary prompts.
"""
from __future__ import annotations

import gzip
from typing import List, Optional, Sequence

import numpy as np
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

SOT = "<|startoftext|>"
EOT = "<|endoftext|>"
SPLIT = r"""'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""


def _bytes_to_unicode() -> dict:
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def default_bpe_path() -> str:
    from open_clip.tokenizer import default_bpe
    return default_bpe()


def build_clip_tokenizer(bpe_path: Optional[str] = None, context_length: int = 77, pad_id: int = 0) -> Tokenizer:
    """A `tokenizers.Tokenizer` whose ids equal open_clip.tokenize()'s (context 77, padded with pad_id)."""
    merges_txt = gzip.open(bpe_path or default_bpe_path()).read().decode("utf-8").split("\n")
    merges = [tuple(m.split()) for m in merges_txt[1:49152 - 256 - 2 + 1]]
    vocab_list = list(_bytes_to_unicode().values())
    vocab_list = vocab_list + [v + "</w>" for v in vocab_list]
    vocab_list += ["".join(m) for m in merges]
    vocab_list += [SOT, EOT]
    vocab = {t: i for i, t in enumerate(vocab_list)}
    assert len(vocab) == 49408, len(vocab)
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, unk_token=EOT, continuing_subword_prefix="",
                               end_of_word_suffix="</w>", fuse_unk=False))
    tok.normalizer = normalizers.Sequence([
        normalizers.NFC(),
        # ftfy.fix_text (open_clip's cleaning) straightens curly quotes
        normalizers.Replace(Regex("[\u2018\u2019\u201a\u201b]"), "'"),
        normalizers.Replace(Regex("[\u201c\u201d\u201e\u201f]"), '"'),
        normalizers.Replace(Regex(r"\s+"), " "),
        normalizers.Lowercase(),
    ])
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(SPLIT), behavior="removed", invert=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.post_processor = processors.RobertaProcessing((EOT, vocab[EOT]), (SOT, vocab[SOT]),
                                                      trim_offsets=False, add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens([SOT, EOT])
    configure(tok, context_length, pad_id)
    return tok


def configure(tok: Tokenizer, context_length: int, pad_id: int) -> Tokenizer:
    """Truncation and padding to `context_length` (special tokens included), padded with `pad_id`."""
    tok.enable_truncation(max_length=context_length)
    pad_token = tok.id_to_token(pad_id) or EOT
    tok.enable_padding(length=context_length, pad_id=pad_id, pad_token=pad_token)
    return tok


def encode(tok: Tokenizer, texts: Sequence[str]) -> np.ndarray:
    """[N, context] int64 ids."""
    return np.array([e.ids for e in tok.encode_batch(list(texts))], dtype=np.int64)


def open_clip_ids(texts: List[str], context_length: int = 77) -> np.ndarray:
    import open_clip
    return open_clip.tokenize(texts, context_length=context_length).numpy().astype(np.int64)
