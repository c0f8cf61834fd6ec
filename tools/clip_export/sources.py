"""Model sources: open_clip and Hugging Face `transformers` CLIP, plus fine-tuned checkpoints.

A `Source` hides the library: `visual` maps a normalised image batch to (unnormalised) image
features, `text` maps int64 ids [N, context] to (unnormalised) text features, and the rest is what
the manifest needs (logit scale, preprocessing, tokenizer).
"""
from __future__ import annotations

import copy
import io
import pickle
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import torch
from tokenizers import Tokenizer

from . import tokenizer as toks

OPENAI_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_STD = (0.26862954, 0.26130258, 0.27577711)


@dataclass
class Source:
    kind: str                      # "open_clip" | "hf"
    name: str                      # human-readable, e.g. "open_clip ViT-B-32 (openai)"
    model: torch.nn.Module         # the full CLIP model
    visual: torch.nn.Module        # image [N,3,S,S] -> features [N,D]
    text: torch.nn.Module          # ids [N,L] -> features [N,D]
    visual_prefix: str             # state_dict prefix of the visual tower inside `model`
    logit_scale: float
    image_size: int
    mean: Tuple[float, float, float]
    std: Tuple[float, float, float]
    tokenizer: Tokenizer
    context_length: int
    pad_id: int
    extra: Dict[str, object] = field(default_factory=dict)


class _OpenClipVisual(torch.nn.Module):
    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.visual = model.visual

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.visual(image)


class _OpenClipText(torch.nn.Module):
    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.model.encode_text(input_ids)


class _HFVisual(torch.nn.Module):
    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.vision_model = model.vision_model
        self.visual_projection = model.visual_projection

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        pooled = self.vision_model(pixel_values=image).pooler_output
        return self.visual_projection(pooled)


class _HFText(torch.nn.Module):
    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.text_model = model.text_model
        self.text_projection = model.text_projection

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        # Causal attention: tokens before the pooled end token never see the padding, so no mask.
        pooled = self.text_model(input_ids=input_ids).pooler_output
        return self.text_projection(pooled)


def _as_size(v) -> int:
    if isinstance(v, (tuple, list)):
        if len(set(v)) != 1:
            raise ValueError(f"non-square image size {v} is not supported")
        return int(v[0])
    return int(v)


def load_open_clip(arch: str, pretrained: Optional[str] = None) -> Source:
    import open_clip

    model = open_clip.create_model(arch, pretrained=pretrained or None, device="cpu", precision="fp32")
    model.eval().float()
    from open_clip.model import get_model_preprocess_cfg
    cfg = get_model_preprocess_cfg(model)
    size = _as_size(cfg.get("size", getattr(model.visual, "image_size", 224)))
    mean = tuple(float(x) for x in cfg.get("mean", OPENAI_MEAN))
    std = tuple(float(x) for x in cfg.get("std", OPENAI_STD))
    tk = open_clip.get_tokenizer(arch)
    ctx = int(getattr(tk, "context_length", 77) or 77)
    if isinstance(tk, open_clip.tokenizer.SimpleTokenizer):
        pad_id = 0
        tokenizer = toks.build_clip_tokenizer(context_length=ctx, pad_id=pad_id)
    elif hasattr(tk, "tokenizer") and hasattr(tk.tokenizer, "backend_tokenizer"):
        hf = tk.tokenizer
        pad_id = int(hf.pad_token_id if hf.pad_token_id is not None else 0)
        tokenizer = toks.configure(Tokenizer.from_str(hf.backend_tokenizer.to_str()), ctx, pad_id)
    else:
        raise ValueError(f"open_clip tokenizer {type(tk).__name__} for {arch} is not supported")
    return Source(kind="open_clip", name=f"open_clip {arch}" + (f" ({pretrained})" if pretrained else " (random init)"),
                  model=model, visual=model.visual, text=_OpenClipText(model), visual_prefix="visual.",
                  logit_scale=float(model.logit_scale.exp().item()), image_size=size, mean=mean, std=std,
                  tokenizer=tokenizer, context_length=ctx, pad_id=pad_id)


def load_hf(folder: str) -> Source:
    from transformers import CLIPModel

    model = CLIPModel.from_pretrained(folder, torch_dtype=torch.float32)
    model.eval().float()
    vc = model.config.vision_config
    ctx = int(model.config.text_config.max_position_embeddings)
    f = Path(folder)
    mean, std = OPENAI_MEAN, OPENAI_STD
    pp = f / "preprocessor_config.json"
    size = int(vc.image_size)
    if pp.exists():
        import json
        j = json.loads(pp.read_text())
        mean = tuple(j.get("image_mean", mean))
        std = tuple(j.get("image_std", std))
    pad_id = None
    if (f / "tokenizer.json").exists():
        tokenizer = Tokenizer.from_file(str(f / "tokenizer.json"))
        try:
            from transformers import AutoTokenizer
            pad_id = AutoTokenizer.from_pretrained(folder).pad_token_id
        except Exception:  # noqa: BLE001 - a bare tokenizer.json without its config
            pad_id = None
    else:
        from transformers import CLIPTokenizerFast
        hf = CLIPTokenizerFast.from_pretrained(folder)
        tokenizer = Tokenizer.from_str(hf.backend_tokenizer.to_str())
        pad_id = hf.pad_token_id
    if pad_id is None:  # CLIP's own convention in transformers: pad with the end token
        pad_id = tokenizer.token_to_id(toks.EOT)
        if pad_id is None:
            raise ValueError(f"{folder}: cannot tell the pad id (no pad_token and no {toks.EOT})")
    toks.configure(tokenizer, ctx, int(pad_id))
    return Source(kind="hf", name=f"transformers CLIPModel ({f.name})", model=model, visual=_HFVisual(model),
                  text=_HFText(model), visual_prefix="", logit_scale=float(model.logit_scale.exp().item()),
                  image_size=size, mean=tuple(map(float, mean)), std=tuple(map(float, std)), tokenizer=tokenizer,
                  context_length=ctx, pad_id=int(pad_id))


# ---------------------------------------------------------------------------------------------
# Fine-tuned checkpoints


class _Stub(torch.nn.Module):
    """Stands in for a pickled class whose code is not importable (e.g. wise-ft's ImageClassifier)."""

    def __init__(self, *a, **k) -> None:  # pragma: no cover - never called by unpickling
        super().__init__()

    def forward(self, *a, **k):  # pragma: no cover
        raise RuntimeError("stub module")


class _StubUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        try:
            return super().find_class(module, name)
        except (ImportError, AttributeError, ModuleNotFoundError):
            return type(name, (_Stub,), {"__module__": module})


_stub_pickle = types.SimpleNamespace(Unpickler=_StubUnpickler, load=pickle.load, __name__="stub_pickle")


def load_checkpoint(path: str, allow_pickle: bool = False) -> Dict[str, torch.Tensor]:
    """A flat {name: tensor} from a state_dict, {'state_dict': ...}, {'model': ...}, or a pickled module.

    Pickled modules (what wise-ft's `torch.save(ImageClassifier)` writes) need `allow_pickle`, since
    unpickling runs code from the file; classes that cannot be imported are replaced by stubs, which
    is enough to read their parameters.
    """
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001
        if not allow_pickle:
            raise ValueError(f"{path} is not a plain state_dict (it holds pickled objects: {str(e).splitlines()[0][:200]}); "
                             "pass --allow-pickle if you trust the file (e.g. a wise-ft ImageClassifier)") from None
        obj = torch.load(path, map_location="cpu", weights_only=False, pickle_module=_stub_pickle)
    for key in ("state_dict", "model_state_dict", "model"):
        if isinstance(obj, dict) and key in obj and isinstance(obj[key], (dict, torch.nn.Module)):
            obj = obj[key]
            break
    if isinstance(obj, torch.nn.Module):
        obj = obj.state_dict()
    if not isinstance(obj, dict):
        raise ValueError(f"{path}: expected a state_dict, got {type(obj).__name__}")
    out = {k: v for k, v in obj.items() if isinstance(v, torch.Tensor)}
    if not out:
        raise ValueError(f"{path}: no tensors found")
    return out


HEAD_KEYS = (("classification_head.weight", "classification_head.bias"), ("head.weight", "head.bias"))


def split_checkpoint(sd: Dict[str, torch.Tensor], src: Source) -> Tuple[Dict[str, torch.Tensor], Optional[Tuple[torch.Tensor, torch.Tensor]]]:
    """(state_dict of `src.visual`, optional (head weight, bias)) from a fine-tuned checkpoint.

    Accepted layouts (any leading prefix such as `module.`, `model.`, `image_encoder.model.`):
    the full CLIP model's keys, or the visual tower's own keys. Text-tower keys are ignored: the
    text encoder and the zero-shot head always come from the zero-shot model.
    """
    head = None
    for wk, bk in HEAD_KEYS:
        hits = [k for k in sd if k == wk or k.endswith("." + wk)]
        if hits:
            w = sd[hits[0]].float()
            bkey = hits[0][: -len(wk)] + bk
            b = sd[bkey].float() if bkey in sd else torch.zeros(w.shape[0])
            head = (w, b)
            break
    want = {k: v for k, v in src.visual.state_dict().items()}
    # visual-module key -> full-model key
    full_names = {}
    for k in want:
        full_names[k] = (src.visual_prefix + k, k)
    best, best_n = None, -1
    prefixes = {""}
    for ck in sd:
        for k, (full, inner) in full_names.items():
            for cand in (full, inner):
                if ck.endswith(cand):
                    prefixes.add((ck[: -len(cand)], cand is inner))
    for p in prefixes:
        if p == "":
            continue
        pre, use_inner = p
        n = sum(1 for k, names in full_names.items() if pre + names[1 if use_inner else 0] in sd)
        if n > best_n:
            best, best_n = p, n
    if best is None or best_n == 0:
        raise ValueError(f"the fine-tuned checkpoint has none of the {src.name} image-tower tensors "
                         f"(first checkpoint keys: {list(sd)[:5]}; expected e.g. {list(full_names.values())[0][0]})")
    pre, use_inner = best
    out, missing, bad = {}, [], []
    for k, names in full_names.items():
        ck = pre + names[1 if use_inner else 0]
        if ck not in sd:
            missing.append(ck)
            continue
        v = sd[ck]
        if tuple(v.shape) != tuple(want[k].shape):
            bad.append(f"{ck}: {tuple(v.shape)} vs {tuple(want[k].shape)}")
            continue
        out[k] = v.to(want[k].dtype)
    if missing or bad:
        raise ValueError(f"the fine-tuned checkpoint does not fit {src.name}: missing {missing[:5]} "
                         f"({len(missing)} in all), shape mismatches {bad[:5]}")
    return out, head


# ---------------------------------------------------------------------------------------------
# Faster text encoding for the zero-shot head (not exported)


def _pool_index(src: Source, ids: torch.Tensor) -> torch.Tensor:
    if src.kind == "hf":
        eos = src.model.config.text_config.eos_token_id
        return ids.argmax(-1) if eos == 2 else (ids == eos).int().argmax(-1)
    pool = getattr(src.model, "text_pool_type", "argmax")
    if pool == "argmax":
        return ids.argmax(-1)
    if pool == "eos":
        return (ids == src.model.text_eos_id).int().argmax(-1)
    raise ValueError(pool)


@torch.no_grad()
def _trimmed(src: Source, ids: torch.Tensor) -> torch.Tensor:
    """The text features computed on ids cut after the longest prompt's pooled (end) token. The text
    towers are causal, so the pooled position never sees the cut-off padding: same result, ~5x faster."""
    L = int(_pool_index(src, ids).max()) + 1
    ids = ids[:, :L]
    if src.kind == "hf":
        return src.text(ids)
    from open_clip.model import text_global_pool
    m = src.model
    x = m.token_embedding(ids) + m.positional_embedding[:L]
    x = m.transformer(x, attn_mask=m.attn_mask[:L, :L])
    x = m.ln_final(x)
    x = text_global_pool(x, ids, m.text_pool_type, eos_token_id=getattr(m, "text_eos_id", None))
    if m.text_projection is not None:
        x = m.text_projection(x) if isinstance(m.text_projection, torch.nn.Linear) else x @ m.text_projection
    return x


def head_text_encoder(src: Source, probe_ids: torch.Tensor, log=print):
    """`src.text`, or the trimmed equivalent when it is causal and verified equal on `probe_ids`."""
    ok = src.kind == "hf" or (
        type(src.model).__name__ == "CLIP" and getattr(src.model, "attn_mask", None) is not None
        and getattr(src.model, "text_pool_type", None) in ("argmax", "eos"))
    if not ok:
        return src.text
    try:
        with torch.no_grad():
            full, fast = src.text(probe_ids), _trimmed(src, probe_ids)
        diff = float((full - fast).abs().max())
        if diff <= 1e-4 * max(1.0, float(full.abs().max())):
            return lambda ids: _trimmed(src, ids)
        log(f"  (trimmed text encoding differs by {diff:.2e}; using the full 77-token encoder)")
    except Exception as e:  # noqa: BLE001
        log(f"  (trimmed text encoding unavailable: {e}; using the full encoder)")
    return src.text
