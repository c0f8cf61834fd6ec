from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import numpy as np
import torch
from PIL import Image

SMALL_TEXT = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                  vocab_size=49408, max_position_embeddings=77)
SMALL_VISION = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                    image_size=32, patch_size=8)
B32_VISION = dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12,
                  image_size=224, patch_size=32)


def make_hf_folder(folder: Path, tokenizer, vision=None, text=None, projection_dim: int = 16) -> "torch.nn.Module":
    """A random-init transformers CLIPModel saved with save_pretrained, plus a CLIP tokenizer."""
    from transformers import CLIPConfig, CLIPModel, CLIPTokenizerFast
    torch.manual_seed(0)
    cfg = CLIPConfig(text_config=text or SMALL_TEXT, vision_config=vision or SMALL_VISION, projection_dim=projection_dim)
    model = CLIPModel(cfg).eval()
    model.save_pretrained(str(folder))
    hf_tok = CLIPTokenizerFast(tokenizer_object=tokenizer, bos_token="<|startoftext|>", eos_token="<|endoftext|>",
                               unk_token="<|endoftext|>", pad_token="<|endoftext|>", model_max_length=77)
    hf_tok.save_pretrained(str(folder))
    return model


def perturbed_state_dict(model: torch.nn.Module, prefix: str = "", scale: float = 0.02, seed: int = 1) -> dict:
    g = torch.Generator().manual_seed(seed)
    return {prefix + k: (v + scale * torch.randn(v.shape, generator=g) if v.is_floating_point() else v.clone())
            for k, v in model.state_dict().items()}


def write_lines(path: Path, lines: List[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def export_args(out: Path, ckpt: Path, classes: Path, templates: Optional[Path] = None, **kw) -> list:
    args = ["--finetuned", str(ckpt), "--classes", str(classes), "--out", str(out), "--check-images", "2"]
    if templates:
        args += ["--templates", str(templates)]
    for k, v in kw.items():
        flag = "--" + k.replace("_", "-")
        args += [flag] if v is True else [flag, str(v)]
    return args


def check_manifest(out: Path) -> dict:
    """The fields docs/bundle-format.md requires, and the files with their sizes and hashes."""
    import hashlib
    import re
    m = json.loads((out / "manifest.json").read_text())
    assert m["format"] == "wiseft-pair/2"
    assert m["io"] == {"image": "image", "embedding": "embedding", "logits": "logits"}
    members = m["models"]["members"]
    assert len(members) >= 1 and len({x["id"] for x in members}) == len(members)
    for x in members:
        assert re.match(r"^[a-z0-9][a-z0-9._-]{0,63}$", x["id"]) and x["name"] and x["kind"] in ("end-to-end", "linear-classifier")
    for e in [m["models"]["zeroShot"]] + [x["model"] for x in members]:
        data = (out / e["path"]).read_bytes()
        assert e["bytes"] == len(data) and e["sha256"] == hashlib.sha256(data).hexdigest()
    p = m["preprocess"]
    assert p["resize"] == "bicubic" and p["crop"] == "center" and p["layout"] == "NCHW" and len(p["mean"]) == 3
    assert m["logitScale"] > 0 and len(m["classes"]) >= 2 and all("{}" in t for t in m["templates"])
    if "text" in m:
        t = m["text"]
        assert (t["input"], t["output"], t["tokenizer"]) == ("input_ids", "text_embedding", "tokenizer.json")
        assert (out / t["model"]["path"]).stat().st_size == t["model"]["bytes"]
    return m


def random_png(path: Path, w: int, h: int, seed: int) -> None:
    rng = np.random.RandomState(seed)
    Image.fromarray(rng.randint(0, 255, (h, w, 3), dtype=np.uint8)).save(path)


def keep_for_app_tests(bundle, name: str) -> None:
    """Copies an exported bundle where the app's Node tests read it (tests/node/clip-bundles),
    when WISEFT_CLIP_ARTIFACTS names a folder (.ci/run sets it): the app's engine must reproduce
    the exporter's logits on the same images."""
    import os
    import shutil
    dest = os.environ.get("WISEFT_CLIP_ARTIFACTS")
    if dest:
        target = os.path.join(dest, name)
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(bundle, target)
