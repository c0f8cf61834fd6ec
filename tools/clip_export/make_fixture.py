"""`fixture.json`: a few images with the PyTorch outputs, for the app's engine to reproduce.

Format (`wiseft-fixture/1`):
  {
    "format": "wiseft-fixture/1",
    "tolerance": 1e-3,                  # max |logit difference| the engine should meet
    "size": 224, "mean": [...], "std": [...],
    "images": ["<base64 PNG>", ...],    # RGB tiles already at model size (like sprite tiles);
                                        # input = (v/255 - mean)/std, float32, NCHW
    "alphas": [0, 0.5, 1],              # theta(a) = (1-a)*zero-shot + a*fine-tuned, every weight
    "logits":    {"0": [[C floats] per image], "0.5": ..., "1": ...},
    "embedding": {"0": [[D floats] per image], ...},   # L2-normalised image features
    "text": {"prompts": [...], "ids": [[contextLength ints]], "embedding": [[D floats]]}  # unnormalised
  }
With `--fp16` bundles, the PyTorch weights are first rounded through float16 (the values stored in
the bundle), then blended and run in float32.

Written by the exporter into the bundle folder; `python -m tools.clip_export.make_fixture` rebuilds it
from the same source arguments as the exporter.
"""
from __future__ import annotations

import base64
import copy
import io
import json
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import torch
from PIL import Image

from . import sprites
from . import tokenizer as toks

ALPHAS = (0.0, 0.5, 1.0)


def synthetic_tiles(n: int, size: int, seed: int = 0) -> np.ndarray:
    """Deterministic smooth-ish uint8 tiles (gradients plus noise) when no eval images are given."""
    rng = np.random.RandomState(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    out = []
    for i in range(n):
        base = np.stack([xx * rng.rand(), yy * rng.rand(), (xx + yy) / 2 * rng.rand()], -1)
        noise = rng.rand(size, size, 3) * 0.3
        out.append(np.clip((base + noise) * 255, 0, 255).astype(np.uint8))
    return np.stack(out)


@torch.no_grad()
def blend(zs: torch.nn.Module, ft: torch.nn.Module, alpha: float) -> torch.nn.Module:
    m = copy.deepcopy(zs)
    sd_ft = ft.state_dict()
    m.load_state_dict({k: (1 - alpha) * v + alpha * sd_ft[k] if v.is_floating_point() else v
                       for k, v in zs.state_dict().items()})
    return m.eval()


def _png_b64(tile: np.ndarray) -> str:
    buf = io.BytesIO()
    Image.fromarray(tile, "RGB").save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode("ascii")


@torch.no_grad()
def build_fixture(zs: torch.nn.Module, ft: torch.nn.Module, text: torch.nn.Module, tokenizer, tiles: np.ndarray,
                  size: int, mean, std, prompts: Sequence[str], tolerance: float = 1e-3) -> dict:
    x = torch.from_numpy(sprites.normalise(tiles, mean, std))
    logits, embs = {}, {}
    for a in ALPHAS:
        e, l = blend(zs, ft, a)(x)
        key = f"{a:g}"
        logits[key] = l.tolist()
        embs[key] = e.tolist()
    ids = toks.encode(tokenizer, prompts)
    temb = text(torch.from_numpy(ids)).float()
    return {
        "format": "wiseft-fixture/1", "tolerance": tolerance, "size": size,
        "mean": list(mean), "std": list(std),
        "images": [_png_b64(t) for t in tiles], "alphas": list(ALPHAS),
        "logits": logits, "embedding": embs,
        "text": {"prompts": list(prompts), "ids": ids.tolist(), "embedding": temb.tolist()},
    }


def write_fixture(path: Path, fixture: dict) -> None:
    path.write_text(json.dumps(fixture, separators=(",", ":")))


def main(argv: Optional[Sequence[str]] = None) -> None:
    from .cli import build_parser, prepare
    p = build_parser()
    p.description = "Rebuild fixture.json for an exported bundle from the same source arguments."
    p.add_argument("--fixture-out", default=None, help="where to write (default: <out>/fixture.json)")
    args = p.parse_args(argv)
    prep = prepare(args)
    tiles = synthetic_tiles(args.fixture_images, prep.src.image_size)
    if args.eval_folder:
        sets = sprites.read_eval_folder(Path(args.eval_folder), prep.classes, prep.src.image_size, args.reference,
                                        args.max_per_class)
        if len(sets[0].tiles) >= args.fixture_images:
            tiles = sets[0].tiles[: args.fixture_images]
    fx = build_fixture(prep.zs_ref, prep.ft_ref, prep.src.text, prep.src.tokenizer, tiles, prep.src.image_size,
                       prep.src.mean, prep.src.std, prep.prompts, args.tolerance)
    out = Path(args.fixture_out or Path(args.out) / "fixture.json")
    write_fixture(out, fx)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
