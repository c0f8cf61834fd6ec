"""Eval folders (<set>/<class>/<image>) -> PNG sprite sheets at model resolution."""
from __future__ import annotations

from dataclasses import dataclass
import hashlib
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np
from PIL import Image

IMAGE_EXT = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}
MAX_COLUMNS = 40
ANALOGUES = {"ImageNet", "ImageNetV2", "ImageNetR", "ImageNetSketch", "ObjectNet", "ImageNetA"}


def preprocess_pil(img: Image.Image, size: int) -> np.ndarray:
    """OpenAI CLIP / torchvision preprocessing up to the tensor: the short side resized to `size`
    (bicubic, PIL), then a center crop to size x size. Returns uint8 [size, size, 3]."""
    img = img.convert("RGB")
    w, h = img.size
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = size, int(size * long / short)
    nw, nh = (new_short, new_long) if w <= h else (new_long, new_short)
    if (nw, nh) != (w, h):
        img = img.resize((nw, nh), Image.BICUBIC)
    top = int(round((nh - size) / 2.0))
    left = int(round((nw - size) / 2.0))
    img = img.crop((left, top, left + size, top + size))
    return np.asarray(img, dtype=np.uint8)


def normalise(tiles: np.ndarray, mean: Sequence[float], std: Sequence[float]) -> np.ndarray:
    """uint8 [N, S, S, 3] -> float32 [N, 3, S, S], (v/255 - mean)/std, as the app does it."""
    x = tiles.astype(np.float32) / np.float32(255.0)
    x = (x - np.asarray(mean, np.float32)) / np.asarray(std, np.float32)
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2)).astype(np.float32)


def write_sprite(tiles: np.ndarray, path: Path, columns: int) -> None:
    n, t = tiles.shape[0], tiles.shape[1]
    rows = (n + columns - 1) // columns
    sheet = np.zeros((rows * t, columns * t, 3), np.uint8)
    for i in range(n):
        r, c = divmod(i, columns)
        sheet[r * t:(r + 1) * t, c * t:(c + 1) * t] = tiles[i]
    Image.fromarray(sheet, "RGB").save(path, optimize=False, compress_level=6)


def _match_class(folder: str, classes: Sequence[str]) -> int:
    index = {c: i for i, c in enumerate(classes)}
    for cand in (folder, folder.replace("_", " ")):
        if cand in index:
            return index[cand]
    low = {c.lower(): i for i, c in enumerate(classes)}
    for cand in (folder.lower(), folder.replace("_", " ").lower()):
        if cand in low:
            return low[cand]
    if folder.isdigit() and int(folder) < len(classes):
        return int(folder)
    raise ValueError(f"class folder '{folder}' matches no class (nor its index) in the class list")


@dataclass
class EvalSet:
    id: str
    tiles: np.ndarray
    labels: List[int]
    classes: Optional[List[int]]


def read_eval_folder(root: Path, classes: Sequence[str], size: int, reference: Optional[str] = None,
                     max_per_class: Optional[int] = None) -> List[EvalSet]:
    sets = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not sets:
        raise ValueError(f"{root}: no <set>/ folders")
    if reference is not None:
        if reference not in [s.name for s in sets]:
            raise ValueError(f"--reference {reference}: no such set in {root}")
        sets.sort(key=lambda s: s.name != reference)
    out = []
    for s in sets:
        tiles, labels = [], []
        for cdir in sorted(p for p in s.iterdir() if p.is_dir() and not p.name.startswith(".")):
            ci = _match_class(cdir.name, classes)
            files = sorted(f for f in cdir.iterdir() if f.suffix.lower() in IMAGE_EXT)
            if max_per_class:
                files = files[:max_per_class]
            for f in files:
                with Image.open(f) as im:
                    tiles.append(preprocess_pil(im, size))
                labels.append(ci)
        if not tiles:
            raise ValueError(f"{s}: no images")
        used = sorted(set(labels))
        out.append(EvalSet(id=s.name, tiles=np.stack(tiles), labels=labels,
                           classes=used if len(used) < len(classes) else None))
    return out


def _digest(path: Path) -> dict:
    # The app checks a sprite against these like a model file: a sheet replaced on the server
    # under the same path is fetched again instead of served stale from the browser's cache.
    data = path.read_bytes()
    return {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def eval_manifest(sets: List[EvalSet], bundle: Path, size: int, analogues: Dict[str, str]) -> dict:
    (bundle / "eval").mkdir(exist_ok=True)
    entries = []
    for i, s in enumerate(sets):
        columns = min(MAX_COLUMNS, len(s.tiles))
        rel = f"eval/{s.id}.png"
        write_sprite(s.tiles, bundle / rel, columns)
        e = {"id": s.id, "name": s.id, "role": "reference" if i == 0 else "shift",
             "sprite": {"path": rel, "tile": size, "columns": columns, "count": int(len(s.tiles)),
                        **_digest(bundle / rel)},
             "labels": [int(v) for v in s.labels], "classes": s.classes}
        if s.id in analogues:
            if analogues[s.id] not in ANALOGUES:
                raise ValueError(f"analogue {analogues[s.id]} is not one of {sorted(ANALOGUES)}")
            e["analogue"] = analogues[s.id]
        entries.append(e)
    return {"sets": entries}
