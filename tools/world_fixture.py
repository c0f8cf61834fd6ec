"""Reference images of the world's renderer for the TypeScript port (src/core/world/), written for
tests/unit/core/world/render.test.ts.

Draws ``world.sample_reference`` exactly as ``tools.train.finetune_data`` does (a generator seeded
with ``SeedSequence([seed, 2])``) with the given shortcut, renders the rows with ``world.render``,
and writes <out>/reference_s<seed>_<shortcut>.png (the images side by side, 8 per row) and .json
(every parameter row, the numpy version and the CPU's SIMD level: numpy's float32 cos, exp, arctan2
and power are SIMD routines whose last bits depend on both).

    WISEFT_WORLD_CLASSES=10 .venv/bin/python -m tools.world_fixture --seed 0 --shortcut 0.98 --n 48
    .venv/bin/python -m tools.world_fixture --seed 0 --shortcut 0.98 --n 80      # the 20-class world
    WISEFT_WORLD_CLASSES=10 .venv/bin/python -m tools.world_fixture --styles --n 96
    WISEFT_WORLD_CLASSES=10 .venv/bin/python -m tools.world_fixture --painting --n 48

(The fixtures were written when the 10-class world was the default; their names carry ``_c20`` for
the 20-class world, the default since round 8.)

With --styles the rows are ``world.sample_pretrain``'s (seed stream [seed, 1], every style, clutter,
wide rotations, small objects) less the painting ones; --painting keeps only the painting ones
(their wobbly edges and textures are float32 ``einsum`` sums, so they get a fixture of their own).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
from PIL import Image

from tools import world

ROOT = Path(__file__).resolve().parents[1]
PER_ROW = 8


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tools.world_fixture", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--shortcut", type=float, default=0.98)
    p.add_argument("--hard", type=float, default=world.WorldConfig().hard)
    p.add_argument("--n", type=int, default=48)
    p.add_argument("--out", type=Path, default=ROOT / "tests/fixtures/world")
    p.add_argument("--styles", action="store_true",
                   help="pretraining rows instead (every style but painting, clutter, wide poses; painting rows dropped)")
    p.add_argument("--painting", action="store_true", help="pretraining rows of the painting style only")
    a = p.parse_args(argv)
    assert a.n % PER_ROW == 0, f"--n must be a multiple of {PER_ROW}"
    cfg = world.WorldConfig(shortcut=a.shortcut, hard=a.hard)
    if a.styles or a.painting:
        rng = np.random.default_rng(np.random.SeedSequence([a.seed, 1]))
        drawn = world.sample_pretrain(rng, 16 * a.n if a.painting else 2 * a.n, cfg)
        is_painting = drawn["style"] == world.STYLES.index("painting")
        keep = np.nonzero(is_painting if a.painting else ~is_painting)[0][:a.n]
        assert len(keep) == a.n
        params = {k: v[keep] for k, v in drawn.items()}
    else:
        rng = np.random.default_rng(np.random.SeedSequence([a.seed, 2]))
        params = world.sample_reference(rng, a.n, cfg)
    images = world.render(params)
    s = world.IMAGE_SIZE
    sheet = images.reshape(a.n // PER_ROW, PER_ROW, s, s, 3).transpose(0, 2, 1, 3, 4).reshape(a.n // PER_ROW * s, PER_ROW * s, 3)
    a.out.mkdir(parents=True, exist_ok=True)
    # The 20-class world (WISEFT_WORLD_CLASSES=20, read by tools.world at import) draws other rows.
    classes = "" if world.N_CLASSES == 10 else f"_c{world.N_CLASSES}"
    stem = f"styles{classes}_s{a.seed}" if a.styles else f"reference{classes}_s{a.seed}_{a.shortcut}"
    stem = f"painting{classes}_s{a.seed}" if a.painting else stem
    Image.fromarray(sheet).save(a.out / f"{stem}.png", optimize=True)
    from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__  # type: ignore[attr-defined]
    simd = [f for f in __cpu_dispatch__ if __cpu_features__.get(f)]
    meta = {
        "seed": a.seed, "shortcut": a.shortcut, "hard": a.hard, "n": a.n, "perRow": PER_ROW, "classes": world.N_CLASSES,
        "numpy": np.__version__, "simd": simd,
        "params": {k: v.tolist() for k, v in params.items()},
    }
    (a.out / f"{stem}.json").write_text(json.dumps(meta) + "\n")
    print(f"wrote {a.out / stem}.png and .json ({a.n} images)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
