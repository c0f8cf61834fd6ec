"""Choose the world and the recipe on the validation draw (never on the sets that ship).

    .venv/bin/python -m tools.select --clip tools/.work/clip.pt --variant base --variant shortcut=0.9 ...

Each variant is a set of overrides of the world config and the fine-tuning recipe; each is
fine-tuned from the same pretrained model, swept on the validation eval sets (seed
``seeds.VALIDATION_SEED``) and checked against the targets with paired bootstrap intervals. Results
go to ``tools/results/selection/*.json`` so docs/pipeline.md can log every choice. This module
reads only the validation seed: ``tools/tests/test_seeds.py`` checks that it never draws a test set.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from . import stats, world
from .models import CLIP
from .seeds import VALIDATION_SEED
from .tokenizer import build_tokenizer
from .train import (FinetuneConfig, cached, eval_sets, finetune, finetune_data, linear_probe, sweep,
                    zeroshot_classifier)

ROOT = Path(__file__).resolve().parent.parent
WORLD_KEYS = {f.name for f in dataclasses.fields(world.WorldConfig)}
RECIPE_KEYS = {"lr", "epochs", "n", "rot_deg", "kind", "lp_lr"}


def parse_variant(spec: str) -> Tuple[str, world.WorldConfig, Dict[str, float]]:
    """'base' or 'shortcut=0.9,lr=3e-4' -> (name, world config, recipe overrides)."""
    wkw: Dict[str, float] = {}
    rkw: Dict[str, float] = {}
    if spec != "base":
        for part in spec.split(","):
            k, v = part.split("=")
            if k in WORLD_KEYS:
                wkw[k] = float(v)
            elif k in RECIPE_KEYS:
                rkw[k] = v if k == "kind" else float(v)
            else:
                raise SystemExit(f"unknown variant key {k!r} (world: {sorted(WORLD_KEYS)}, recipe: {sorted(RECIPE_KEYS)})")
    return spec, world.WorldConfig(**wkw), rkw


def run_variant(clip: CLIP, spec: str, pipeline_seed: int, eval_n: int, work: Path, log) -> Dict[str, object]:
    name, cfg, rkw = parse_variant(spec)
    ftd = cached(work / f"v3ft_s{pipeline_seed}_{int(rkw.get('n', 20000))}_{cfg.shortcut}_{cfg.hard}{world.CACHE_TAG}.npz",
                 lambda: finetune_data(pipeline_seed, int(rkw.get("n", 20000)), cfg))
    sets = eval_sets(VALIDATION_SEED, eval_n, cfg)
    zs = zeroshot_classifier(clip)
    fc = FinetuneConfig(epochs=int(rkw.get("epochs", 5)), lr=float(rkw.get("lr", 1e-4)), seed=pipeline_seed,
                        rot_deg=float(rkw.get("rot_deg", 0.0)))
    if rkw.get("kind") == "linear":
        fc = dataclasses.replace(fc, lr=float(rkw.get("lr", 1e-3)))
        ft = linear_probe(zs, ftd, fc, log)
    elif rkw.get("kind") == "lpft":
        # LP-FT (Kumar et al. 2022): a head fitted on the frozen features first, so the end-to-end
        # steps start from a head that already agrees with the features and distort them less.
        # The sweep still interpolates from the zero-shot model, as WiSE-FT does.
        lp = linear_probe(zs, ftd, dataclasses.replace(fc, lr=float(rkw.get("lp_lr", 1e-3))), log)
        ft = finetune(lp, ftd, fc, log)
    else:
        ft = finetune(zs, ftd, fc, log)
    torch.save(ft.state_dict(), work / f"sel_{pipeline_seed}_{spec.replace('=', '-').replace(',', '_')}.pt")
    sw = sweep(zs, ft, sets, [g for g in stats.GRID])
    rep = stats.evaluate(sw)
    log(f"{name}: {stats.summary_line(rep)}")
    log(f"   per set zs/best/ft: {stats.per_set_table(rep, list(sets))}")
    checks = stats.check(rep)
    log("   targets met: " + " ".join("Y" if c["met"] else "n" for c in checks))
    return {"variant": name, "world": {**dataclasses.asdict(cfg), "classes": len(world.CLASSES)}, "recipe": {**dataclasses.asdict(fc), **rkw},
            "pipeline_seed": pipeline_seed, "validation_seed": VALIDATION_SEED, "eval_n": eval_n,
            "best_alpha": rep.best_alpha, "values": rep.values, "lower": rep.lower, "upper": rep.upper,
            "per_set": rep.per_set, "targets": checks, "weight": sw.rows("weight"), "output": sw.rows("output")}


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tools.select", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clip", type=Path, required=True, help="pretrained CLIP state_dict")
    p.add_argument("--variant", action="append", default=[], help="'base' or k=v,... overrides")
    p.add_argument("--pipeline-seed", type=int, default=0)
    p.add_argument("--eval-n", type=int, default=2000, help="images per validation set")
    p.add_argument("--work", type=Path, default=ROOT / "tools/.work")
    p.add_argument("--out", type=Path, default=ROOT / "tools/results/selection")
    p.add_argument("--tag", default="", help="file name tag for the results")
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    t0 = time.time()

    def log(m: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')} +{time.time() - t0:5.0f}s] {m}", flush=True)

    clip = CLIP(build_tokenizer().get_vocab_size())
    clip.load_state_dict(torch.load(a.clip))
    clip.eval()
    a.out.mkdir(parents=True, exist_ok=True)
    for spec in a.variant or ["base"]:
        res = run_variant(clip, spec, a.pipeline_seed, a.eval_n, a.work, log)
        res["clip"] = a.clip.name
        fname = f"{a.tag or a.clip.stem}__{spec.replace('=', '-').replace(',', '_')}.json"
        (a.out / fname).write_text(json.dumps(res, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
