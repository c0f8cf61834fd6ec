"""A training folder for the app's linear probe: reference photos of the shapes world, laid out
``<class>/<index>.png``.

The bundle ships no training split (its eval sets are the test draw the chart reports), so a probe
trained in the page needs images of its own. These are drawn like the pipeline's fine-tuning photos
(``world.sample_reference``) from a seed of their own, never the eval sets' streams.

    .venv/bin/python -m tools.training_folder --n 400 --out /tmp/shapes-train
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
from PIL import Image

from tools import world
from tools.seeds import PIPELINE_SEEDS, TEST_SEED, VALIDATION_SEED

# Not a pipeline, validation or test seed; the stream tag 9 is used by no other draw.
DEFAULT_SEED = 7
STREAM = 9


def write_folder(out: Path, n: int, seed: int = DEFAULT_SEED) -> np.ndarray:
    """Writes ``n`` photos under ``out/<class>/``; returns their labels."""
    if seed in (*PIPELINE_SEEDS, VALIDATION_SEED, TEST_SEED):
        raise ValueError(f"seed {seed} is one of the pipeline's seeds; pick another so the images are new")
    rng = np.random.default_rng(np.random.SeedSequence([seed, STREAM]))
    p = world.sample_reference(rng, n)
    images = world.render(p)
    for i, (img, cls) in enumerate(zip(images, p["cls"])):
        d = out / world.CLASSES[int(cls)]
        d.mkdir(parents=True, exist_ok=True)
        Image.fromarray(img, "RGB").save(d / f"{i:05d}.png")
    return p["cls"]


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=400, help="how many photos (default 400)")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"the draw (default {DEFAULT_SEED})")
    ap.add_argument("--out", type=Path, required=True, help="the folder to write <class>/<index>.png into")
    a = ap.parse_args(argv)
    labels = write_folder(a.out, a.n, a.seed)
    print(f"wrote {len(labels)} photos to {a.out} ({np.bincount(labels, minlength=len(world.CLASSES)).tolist()} per class)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
