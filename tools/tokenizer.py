"""Word-level tokenizer in Hugging Face `tokenizers` format (the exact object used in training is
what gets exported as tokenizer.json, so ids round-trip)."""
from __future__ import annotations

from typing import List, Sequence

import numpy as np
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

from .models import CONTEXT_LENGTH, PAD_ID
from .world import vocabulary

SPECIALS = ["[PAD]", "[UNK]", "[SOS]", "[EOS]"]


def build_tokenizer(context: int = CONTEXT_LENGTH) -> Tokenizer:
    vocab = {t: i for i, t in enumerate(SPECIALS)}
    for w in vocabulary():
        vocab.setdefault(w, len(vocab))
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tok.normalizer = normalizers.Sequence([normalizers.Lowercase()])
    tok.pre_tokenizer = pre_tokenizers.Whitespace()  # \w+|[^\w\s]+
    tok.post_processor = processors.TemplateProcessing(
        single="[SOS] $A [EOS]", special_tokens=[("[SOS]", vocab["[SOS]"]), ("[EOS]", vocab["[EOS]"])]
    )
    tok.enable_truncation(max_length=context)
    tok.enable_padding(length=context, pad_id=PAD_ID, pad_token="[PAD]")
    assert vocab["[PAD]"] == PAD_ID
    return tok


def encode(tok: Tokenizer, texts: Sequence[str]) -> np.ndarray:
    """[N, context] int64 ids, padded with PAD_ID."""
    return np.array([e.ids for e in tok.encode_batch(list(texts))], dtype=np.int64)
