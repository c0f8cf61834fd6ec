"""Where fine-tuning's gains and losses sit: accuracy per style (renditions) and on clean vs hard
(occluded, noisy) images, at several α, on the validation draw. Diagnostic only; chooses nothing.

    .venv/bin/python -m tools.diagnose --clip tools/.work/v3clip_s0_0.01_0.2_2400.pt \
        --finetuned tools/.work/sel_0_lr-2e-4.pt

CHOICES.md (round 3) quotes its output for the chosen run.
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
import torch

from . import world
from .models import CLIP, ImageClassifier, interpolate
from .seeds import VALIDATION_SEED
from .select import parse_variant
from .tokenizer import build_tokenizer
from .train import logits_of, zeroshot_classifier

SETS = ("reference", "sketch", "rendition", "adversarial", "objectnet")
# Photo-style probes that vary one factor of `objectnet` at a time (background never the class's
# colour): which of pose, clutter and scale fine-tuning damages. Validation-side seeds only.
PROBES = ("plain", "rot", "rot90", "clutter", "small", "large", "rot90_clutter")


def probe_set(name: str, n: int) -> Tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(np.random.SeedSequence([VALIDATION_SEED, 99, *[ord(c) for c in name]]))
    p = world._base(rng, n, world.balanced_classes(rng, n))
    if name.startswith("rot90"):
        p["rot"] = world._rot(rng, n, 30, 90, both_signs=True)
    elif name.startswith("rot"):
        p["rot"] = world._rot(rng, n, 40, 180, both_signs=True)
    if "clutter" in name:
        p["clutter"][:] = 1
    if name == "small":
        p["size"] = rng.uniform(0.20, 0.26, n).astype(np.float32)
    if name == "large":
        p["size"] = rng.uniform(0.38, 0.44, n).astype(np.float32)
    return world.render(p), p["cls"]


def validation_params(set_id: str, n: int, cfg: world.WorldConfig) -> world.Params:
    # The same stream as world.make_set, so these are exactly the validation images.
    rng = np.random.default_rng(np.random.SeedSequence([VALIDATION_SEED, 7, *[ord(c) for c in set_id]]))
    return world.sample_eval_set(set_id, rng, n, cfg)


def paired_difference(now: np.ndarray, base: np.ndarray) -> Tuple[float, float, float]:
    """Difference of two accuracies on the same images, with the Wald interval on the discordant
    pairs (the McNemar setting; Agresti, Categorical Data Analysis, 3rd ed., sec. 11.1)."""
    n = len(now)
    b = float(np.sum(now & ~base))
    c = float(np.sum(~now & base))
    d = (b - c) / n
    se = np.sqrt(max(b + c - (b - c) ** 2 / n, 0.0)) / n
    return d, d - 1.96 * se, d + 1.96 * se


def disagreement_cells(zs: np.ndarray, mid: np.ndarray, ft: np.ndarray) -> Dict[str, Tuple[float, float]]:
    """Share of images in each zero-shot/fine-tuned right-wrong cell, and how many of them the
    interior model gets right. An interior α can beat both endpoints only by settling the two
    disagreement cells (Z+F-, Z-F+) better than either endpoint does: more than half of them together."""
    cells = {"Z+F+": zs & ft, "Z+F-": zs & ~ft, "Z-F+": ~zs & ft, "Z-F-": ~zs & ~ft}
    return {k: (float(c.mean()), float(mid[c].mean()) if c.any() else float("nan")) for k, c in cells.items()}


def print_cells(right: Dict[str, list], groups: Dict[str, tuple], alphas: Sequence[float]) -> None:
    mid = int(np.argmin([abs(x - 0.4) for x in alphas]))
    print(f"\ncells (zero-shot α={alphas[0]:g} / fine-tuned α={alphas[-1]:g}): share of images, and the share α={alphas[mid]:g} gets right")
    for g in groups:
        cells = disagreement_cells(right[g][0], right[g][mid], right[g][-1])
        settled = cells["Z+F-"][1] + cells["Z-F+"][1]
        print(f"  {g}: " + "  ".join(f"{k} {v[0] * 100:4.1f}% ({v[1] * 100:3.0f}%)" for k, v in cells.items())
              + f"  settled {settled:.2f}")


Groups = Dict[str, Tuple[np.ndarray, np.ndarray, np.ndarray]]  # name -> (images, labels, mask)


def style_groups(data: Dict[str, world.Params], images: Dict[str, np.ndarray]) -> Groups:
    groups: Groups = {}
    for s, prm in data.items():
        if s == "rendition":
            for k in np.unique(prm["style"]):
                groups[world.STYLES[k]] = (images[s], prm["cls"], prm["style"] == k)
        elif (prm["occl"] > 0).any():
            hard = prm["occl"] > 0
            groups[f"{s} clean"] = (images[s], prm["cls"], ~hard)
            groups[f"{s} hard"] = (images[s], prm["cls"], hard)
        else:
            groups[s] = (images[s], prm["cls"], np.ones(len(prm["cls"]), bool))
    return groups


def class_groups(data: Dict[str, world.Params], images: Dict[str, np.ndarray], names: Sequence[str]) -> Groups:
    """Per set, the images of the named classes against the rest: whether fine-tuning's gains and
    losses sit in the classes whose names pretraining never used (round 6)."""
    unknown = [n for n in names if n not in world.CLASSES]
    if unknown:
        raise SystemExit(f"--split-classes: not classes of this world: {unknown} (classes: {list(world.CLASSES)})")
    ks = [world.CLASSES.index(n) for n in names]
    groups: Groups = {}
    for s, prm in data.items():
        inside = np.isin(prm["cls"], ks)
        groups[f"{s} listed"] = (images[s], prm["cls"], inside)
        groups[f"{s} others"] = (images[s], prm["cls"], ~inside)
    return groups


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tools.diagnose", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clip", type=Path, required=True)
    p.add_argument("--finetuned", type=Path, required=True, help="fine-tuned classifier state_dict")
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--alphas", type=float, nargs="+", default=[0.0, 0.4, 0.6, 1.0])
    p.add_argument("--probes", action="store_true", help="also the photo-style probes of pose, clutter and scale")
    p.add_argument("--cells", action="store_true",
                   help="per set: the images zero-shot and fine-tuned disagree on, and how the interior α settles them")
    p.add_argument("--split-classes", default="", metavar="NAME,NAME",
                   help="instead of styles: per set, these classes against the others")
    p.add_argument("--variant", default="base", help="world overrides of the validation draw, as in tools.select")
    p.add_argument("--synonym-head", action="store_true",
                   help="zero-shot head from the captions' synonyms (pentagram, plus, ...) instead of the class names")
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    clip = CLIP(build_tokenizer().get_vocab_size())
    clip.load_state_dict(torch.load(a.clip))
    clip.eval()
    # The synonym head asks whether the features know the classes whose names pretraining never used.
    zs = zeroshot_classifier(clip, [world.SYNONYMS.get(c, c) for c in world.CLASSES] if a.synonym_head else None)
    ft = ImageClassifier(num_classes=len(world.CLASSES))
    ft.load_state_dict(torch.load(a.finetuned))
    _, cfg, _ = parse_variant(a.variant)
    data = {s: validation_params(s, a.n, cfg) for s in SETS}
    images = {s: world.render(prm) for s, prm in data.items()}
    probes = {name: probe_set(name, a.n) for name in PROBES} if a.probes else {}
    split = [c for c in a.split_classes.split(",") if c]
    groups = class_groups(data, images, split) if split else style_groups(data, images)
    for name, (x, y) in probes.items():
        groups[name] = (x, y, np.ones(len(y), bool))
    m = ImageClassifier(num_classes=len(world.CLASSES))
    right = {g: [] for g in groups}  # per α: bool per image of the group
    cache = {}
    for alpha in a.alphas:
        m.load_state_dict(interpolate(zs.state_dict(), ft.state_dict(), alpha))
        cache.clear()
        for g, (x, y, mask) in groups.items():
            if id(x) not in cache:
                cache[id(x)] = logits_of(m, x).argmax(1).numpy()
            right[g].append((cache[id(x)] == y)[mask])
        print(f"α={alpha:.1f}  " + " | ".join(f"{g} {right[g][-1].mean() * 100:.0f}" for g in groups))
    if a.cells:
        print_cells(right, groups, a.alphas)
    lo_a, hi_a = a.alphas[0], a.alphas[-1]
    print(f"\nα={hi_a:g} − α={lo_a:g}, paired on the same images (95% interval), per group:")
    for g in groups:
        d, lo, hi = paired_difference(right[g][-1], right[g][0])
        print(f"  {g}: {d * 100:+.1f} [{lo * 100:+.1f}, {hi * 100:+.1f}] pp on {len(right[g][0])} images")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
