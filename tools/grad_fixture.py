"""Reference gradients for the in-page trainer: PyTorch's loss and every parameter's gradient of the
bundled zero-shot classifier on a fixed batch, written for tests/unit/core/train/tower-torch.test.ts.

The classifier is rebuilt from public/pairs/shapes/zeroshot.onnx's initializers (their names are the
PyTorch parameter names), so the fixture follows the shipped checkpoint; the batch is the first
images of the bundled reference set's sprite sheet with their manifest labels, normalised as the
manifest says. Computed in float64 (the float32 weights widened): the reference, not a peer.

Output: <out>.json (loss, the batch, every tensor's name, shape and offset) and <out>.bin (the
gradients, float32 little-endian, in that order; float32 keeps the file near 1.2 MB and is 6e-8
relative, far below the bounds the test checks).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Dict, List

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper
from PIL import Image

from tools.models import ImageClassifier

ROOT = Path(__file__).resolve().parents[1]
PAIR = ROOT / "public" / "pairs" / "shapes"


def classifier_from_onnx(path: Path) -> ImageClassifier:
    """The ImageClassifier whose state dict is the ONNX file's initializers, in float64."""
    tensors = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in onnx.load(str(path)).graph.initializer}
    model = ImageClassifier(num_classes=tensors["head.weight"].shape[0])
    model.load_state_dict(tensors, strict=True)
    return model.double().eval()


def reference_batch(pair: Path, count: int) -> tuple[np.ndarray, np.ndarray]:
    """The first `count` tiles of the reference sprite (row-major tiles) and their labels, NCHW float64."""
    manifest = json.loads((pair / "manifest.json").read_text())
    ref = next(s for s in manifest["eval"]["sets"] if s["id"] == "reference")
    sheet = np.asarray(Image.open(pair / ref["sprite"]["path"]).convert("RGB"))
    tile, columns = ref["sprite"]["tile"], ref["sprite"]["columns"]
    tiles = [sheet[(i // columns) * tile:(i // columns + 1) * tile, (i % columns) * tile:(i % columns + 1) * tile]
             for i in range(count)]
    pre = manifest["preprocess"]
    x = np.stack(tiles).astype(np.float64) / 255.0
    x = (x - np.array(pre["mean"])) / np.array(pre["std"])
    # The page feeds float32 pixels (sprites.ts normalizeHWC): rounding them here too keeps the float64
    # comparison about summation order only (unrounded pixels moved the loss by 1e-8 relative).
    x = x.astype(np.float32).astype(np.float64)
    return x.transpose(0, 3, 1, 2).copy(), np.array(ref["labels"][:count], dtype=np.int64)


def gradients(model: ImageClassifier, x: np.ndarray, labels: np.ndarray) -> tuple[float, Dict[str, np.ndarray]]:
    """Mean softmax cross-entropy (tools/train.py finetune's loss) and d loss / d every parameter."""
    model.zero_grad(set_to_none=True)
    _, logits = model(torch.from_numpy(x))
    loss = F.cross_entropy(logits, torch.from_numpy(labels))
    loss.backward()
    return float(loss.detach()), {n: p.grad.detach().numpy() for n, p in model.named_parameters()}


def write_fixture(out: Path, count: int = 16, pair: Path = PAIR) -> Dict[str, object]:
    model = classifier_from_onnx(pair / "zeroshot.onnx")
    x, labels = reference_batch(pair, count)
    loss, grads = gradients(model, x, labels)
    tensors: List[Dict[str, object]] = []
    offset = 0
    blob = bytearray()
    for name, g in grads.items():
        tensors.append({"name": name, "shape": list(g.shape), "offset": offset})
        blob += g.astype("<f4").tobytes()
        offset += g.size
    meta = {"model": "public/pairs/shapes/zeroshot.onnx", "set": "reference", "count": count,
            "labels": labels.tolist(), "loss": loss, "tensors": tensors}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(meta, indent=1) + "\n")
    out.with_suffix(".bin").write_bytes(bytes(blob))
    return meta


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "tests" / "fixtures" / "tower-grad" / "zeroshot-reference16",
                    help="path without extension: writes .json and .bin")
    ap.add_argument("--count", type=int, default=16, help="images of the reference set in the batch")
    args = ap.parse_args()
    meta = write_fixture(args.out, args.count)
    print(f"loss {meta['loss']:.6f} over {args.count} images; {len(meta['tensors'])} tensors -> {args.out}.json/.bin")


if __name__ == "__main__":
    main()
