import numpy as np

from tools.clip_export import tokenizer as toks

SENTENCES = [
    "a photo of a dog.",
    "Hello, World!! It's 3.14 o'clock;  CAN'T   stop...",
    "a photo of the hard to see kite (bird of prey).",
    "a jpeg corrupted photo of a Geoffroy's spider monkey.",
    "café naïve résumé 東京 😀 — “quotes” & <tags>",
    "word " * 100,  # truncated: 75 tokens + end token, like open_clip
    "",
]


def test_tokenizer_json_matches_open_clip(clip_tokenizer, tmp_path):
    from tokenizers import Tokenizer
    path = tmp_path / "tokenizer.json"
    path.write_text(clip_tokenizer.to_str())
    tok = Tokenizer.from_file(str(path))  # what the app loads
    ours = toks.encode(tok, SENTENCES)
    ref = toks.open_clip_ids(SENTENCES)
    assert ours.shape == (len(SENTENCES), 77)
    np.testing.assert_array_equal(ours, ref)
    assert ours[5, -1] == 49407 and ours[0, 0] == 49406 and ours[0, -1] == 0  # truncation keeps EOT; pad 0


def test_tokenizer_json_matches_transformers_slow_clip_tokenizer(clip_tokenizer, tmp_path):
    """The same vocab/merges through transformers' reference (slow, Python) CLIPTokenizer."""
    from transformers import CLIPTokenizer
    clip_tokenizer.model.save(str(tmp_path))  # vocab.json + merges.txt
    slow = CLIPTokenizer(str(tmp_path / "vocab.json"), str(tmp_path / "merges.txt"), pad_token="<|endoftext|>")
    # (transformers' tokenizer does not straighten curly quotes as open_clip's ftfy cleaning does, so
    # sentence 4 is left out here; for open_clip models the open_clip behaviour above is the reference)
    for s in SENTENCES[:4]:
        ref = slow(s)["input_ids"]
        ours = clip_tokenizer.encode(s).ids
        assert ours[: len(ref)] == ref, s
