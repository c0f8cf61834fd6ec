"""One command rebuilds the bundled world: data -> pretraining -> fine-tuning -> sweeps -> bundle -> report.

    .venv/bin/python -m tools.build                  # everything (about an hour on 2 cores)
    .venv/bin/python -m tools.build --only-pretrain 1   # one pipeline seed's pretraining, to run seeds in parallel
    .venv/bin/python -m tools.build --smoke --out /tmp/x --work /tmp/x/work ...   # seconds, for tests

For every pipeline seed (tools/seeds.py) the world draw, pretraining and fine-tuning are re-seeded.
The α we recommend is chosen on the validation draw; every number in the report is measured on the
test draw, which ships in the bundle and is never used to choose anything. The first pipeline
seed ships, with two end-to-end fine-tuning seeds and a linear-classifier member.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import resource
import shutil
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch

from . import report, stats, world
from .export import Member, bundle_bytes, export_bundle, recommendations
from .models import CLIP, ImageClassifier, count_flops
from .seeds import PIPELINE_SEEDS, TEST_SEED, VALIDATION_SEED
from .select import parse_variant
from .tokenizer import build_tokenizer
from .train import (FinetuneConfig, PretrainConfig, Sweep, cached, eval_sets, finetune, finetune_data, linear_probe,
                    pretrain, pretrain_data, sweep, zeroshot_classifier)

ROOT = Path(__file__).resolve().parent.parent
# The world and recipe chosen on the validation draw (docs/pipeline.md, "How the world was chosen").
CHOSEN = "weak_name_rate=0.002,kind=lpft,lr=2e-4"
ALPHAS = [round(0.05 * i, 2) for i in range(21)]


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m tools.build", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=ROOT / "public/pairs/shapes", help="bundle folder")
    p.add_argument("--work", type=Path, default=ROOT / "tools/.work", help="cache folder (ignored by git)")
    p.add_argument("--checkpoints", type=Path, default=ROOT / "tools/checkpoints")
    p.add_argument("--results-dir", type=Path, default=ROOT / "tools/results")
    p.add_argument("--docs", type=Path, default=ROOT / "docs/pipeline.md")
    p.add_argument("--plot", type=Path, default=ROOT / "docs/frontier.png")
    p.add_argument("--readme", type=Path, default=ROOT / "README.md",
                   help="README whose generated block (between world markers) is rewritten")
    p.add_argument("--variant", default=CHOSEN, help="world/recipe overrides, as in tools.select")
    p.add_argument("--pipeline-seeds", type=int, nargs="+", default=list(PIPELINE_SEEDS))
    p.add_argument("--pretrain-n", type=int, default=60000)
    p.add_argument("--pretrain-steps", type=int, default=4800)
    p.add_argument("--pretrain-batch", type=int, default=256)
    p.add_argument("--pretrain-lr", type=float, default=2e-3)
    p.add_argument("--finetune-n", type=int, default=20000)
    p.add_argument("--eval-n", type=int, default=1000, help="images per shipped (test) eval set")
    p.add_argument("--val-n", type=int, default=2000, help="images per validation eval set")
    p.add_argument("--resamples", type=int, default=2000, help="paired bootstrap resamples")
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads (1 is much faster than 2 when other processes share the 2 cores)")
    p.add_argument("--only-pretrain", type=int, default=None, metavar="SEED",
                   help="only pretrain this pipeline seed into the cache, then stop")
    p.add_argument("--smoke", action="store_true", help="tiny sizes, seconds; for tests")
    a = p.parse_args(argv)
    if a.smoke:
        a.pretrain_n, a.pretrain_steps, a.pretrain_batch = 300, 3, 64
        a.finetune_n, a.eval_n, a.val_n, a.resamples = 256, 60, 60, 20
    return a


@dataclasses.dataclass
class Pipeline:
    seed: int
    clip: CLIP
    zs: ImageClassifier
    ftd: Dict[str, np.ndarray]


def main(argv: Optional[Sequence[str]] = None) -> int:
    a = parse_args(argv)
    t_start = time.time()
    torch.set_num_threads(a.threads)
    a.work.mkdir(parents=True, exist_ok=True)
    logf = open(a.work / "build.log", "a")

    def log(msg: str) -> None:
        line = f"[{time.strftime('%H:%M:%S')} +{time.time() - t_start:6.1f}s] {msg}"
        print(line, flush=True)
        logf.write(line + "\n")
        logf.flush()

    cmd = ".venv/bin/python -m tools.build" + ("" if not (sys.argv[1:] if argv is None else argv) else
                                               " " + " ".join(sys.argv[1:] if argv is None else list(argv)))
    log(f"start: {cmd}")
    _, cfg, recipe = parse_variant(a.variant)
    ft_lr, ft_epochs = float(recipe.get("lr", 1e-4)), int(recipe.get("epochs", 5))
    lp_lr = float(recipe.get("lp_lr", 1e-3))
    smoke_epochs = 1 if a.smoke else ft_epochs
    lpft = recipe.get("kind") == "lpft"

    def pipeline(seed: int) -> Pipeline:
        tag = f"{cfg.weak_name_rate}_{cfg.pretrain_hard}" + (f"_u{int(cfg.unnamed)}" if cfg.unnamed else "") + world.CACHE_TAG
        pre = cached(a.work / f"v3pre_s{seed}_{a.pretrain_n}_{tag}.npz",
                     lambda: pretrain_data(seed, a.pretrain_n, cfg))
        clip_path = a.work / (f"v3clip_s{seed}_{tag}_{a.pretrain_steps}"
                              f"{'_' + str(a.pretrain_n) if a.pretrain_n != 60000 else ''}.pt")
        clip = CLIP(build_tokenizer().get_vocab_size())
        if clip_path.exists():
            clip.load_state_dict(torch.load(clip_path))
            clip.eval()
            log(f"seed {seed}: reused pretrained model {clip_path.name}")
        else:
            clip = pretrain(pre, PretrainConfig(steps=a.pretrain_steps, batch=a.pretrain_batch, lr=a.pretrain_lr,
                                                seed=seed, warmup=min(50, max(1, a.pretrain_steps // 10))), log)
            torch.save(clip.state_dict(), clip_path)
        ftd = cached(a.work / f"v3ft_s{seed}_{a.finetune_n}_{cfg.shortcut}_{cfg.hard}{world.CACHE_TAG}.npz",
                     lambda: finetune_data(seed, a.finetune_n, cfg))
        return Pipeline(seed, clip, zeroshot_classifier(clip), ftd)

    if a.only_pretrain is not None:
        pipeline(a.only_pretrain)
        log("pretraining cached; stopping (--only-pretrain)")
        return 0

    val_sets = eval_sets(VALIDATION_SEED, a.val_n, cfg)
    test_sets = eval_sets(TEST_SEED, a.eval_n, cfg)
    log(f"validation sets (seed {VALIDATION_SEED}): {a.val_n} each; test sets (seed {TEST_SEED}): {a.eval_n} each")

    def e2e(p: Pipeline, ft_seed: int) -> ImageClassifier:
        fc = FinetuneConfig(epochs=smoke_epochs, lr=ft_lr, seed=ft_seed)
        if lpft:  # as tools.select runs it: a linear probe, then end-to-end
            return finetune(linear_probe(p.zs, p.ftd, dataclasses.replace(fc, lr=lp_lr), log), p.ftd, fc, log)
        return finetune(p.zs, p.ftd, fc, log)

    per_seed: Dict[int, Dict[str, object]] = {}
    ship: Optional[Pipeline] = None
    members: List[Member] = []
    recommended: Optional[float] = None
    for s in a.pipeline_seeds:
        p = pipeline(s)
        ft = e2e(p, s)
        val = sweep(p.zs, ft, val_sets, stats.GRID)
        val_rep = stats.evaluate(val, resamples=0)
        test = sweep(p.zs, ft, test_sets, ALPHAS)
        rep = stats.evaluate(test, resamples=a.resamples)
        if recommended is None:  # the shipped pipeline's validation choice
            recommended = val_rep.best_alpha
        at_rec = stats.evaluate(test, resamples=a.resamples, alpha=recommended)
        log(f"pipeline seed {s}: validation best α {val_rep.best_alpha}; test: {stats.summary_line(rep)}")
        for c in stats.check(rep):
            log(f"   {'OK  ' if c['met'] else 'MISS'} {c['target']}: {c['shown']}")
        per_seed[s] = {"test": test, "report": rep, "at_recommended": at_rec, "validation_best_alpha": val_rep.best_alpha,
                       "validation": val_rep}
        if ship is None:
            ship = p
            members.append(_member(f"e2e-seed{s}", "end-to-end", s, ft, test, lpft))
    assert ship is not None and recommended is not None
    # The shipped pipeline's other members: a second end-to-end seed and the linear classifier.
    ft2 = e2e(ship, ship.seed + 1)
    members.append(_member(f"e2e-seed{ship.seed + 1}", "end-to-end", ship.seed + 1, ft2,
                           sweep(ship.zs, ft2, test_sets, ALPHAS), lpft))
    lp = linear_probe(ship.zs, ship.ftd, FinetuneConfig(epochs=smoke_epochs, lr=lp_lr, seed=ship.seed), log)
    members.append(_member(f"linear-seed{ship.seed}", "linear-classifier", ship.seed, lp, sweep(ship.zs, lp, test_sets, ALPHAS)))
    member_reports = {m.id: stats.evaluate(m.sweep, resamples=a.resamples) for m in members}

    if a.out.exists():
        shutil.rmtree(a.out)
    scale = float(ship.clip.logit_scale.exp().detach())
    # The α chosen on the validation draw with the first end-to-end member, into the manifest (the
    # same function tools.export applies to an existing bundle from info.json).
    recs = recommendations([(m.id, m.export.kind) for m in members], recommended, members[0].id, VALIDATION_SEED, a.val_n)
    export_bundle(a.out, ship.zs, [m.export for m in members], ship.clip.text, build_tokenizer(), scale,
                  test_sets, log, report.bundle_description(cfg), report.set_descriptions(cfg), recs)
    if a.checkpoints.exists():
        shutil.rmtree(a.checkpoints)
    (a.checkpoints / "members").mkdir(parents=True)
    torch.save(ship.zs.state_dict(), a.checkpoints / "zeroshot.pt")
    torch.save(ship.clip.text.state_dict(), a.checkpoints / "text.pt")
    for m in members:
        torch.save(m.export.model.state_dict(), a.checkpoints / "members" / f"{m.id}.pt")
    (a.checkpoints / "meta.json").write_text(json.dumps(
        {"pipeline_seed": ship.seed, "members": [m.id for m in members], "logit_scale": scale,
         "vocab_size": build_tokenizer().get_vocab_size(), "test_seed": TEST_SEED, "eval_n": a.eval_n,
         "world": dataclasses.asdict(cfg), "command": cmd}, indent=1) + "\n")
    size = bundle_bytes(a.out)
    log(f"bundle {a.out}: {size / 1e6:.2f} MB")

    info = {
        "command": cmd, "wall_min": (time.time() - t_start) / 60,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "threads": a.threads,
        "machine": f"{platform.machine()} Linux, {torch.get_num_threads()} torch thread(s) (2-core container)",
        "flops": count_flops(ship.zs), "bundle_bytes": size, "eval_n": a.eval_n, "val_n": a.val_n,
        "resamples": a.resamples, "world": dataclasses.asdict(cfg), "variant": a.variant,
        "recipe": {"finetune_lr": ft_lr, "finetune_epochs": ft_epochs, "linear_lr": lp_lr,
                   "finetune_kind": str(recipe.get("kind", "end-to-end")),
                   "pretrain_steps": a.pretrain_steps, "pretrain_n": a.pretrain_n, "finetune_n": a.finetune_n},
        "seeds": {"pipeline": list(a.pipeline_seeds), "validation": VALIDATION_SEED, "test": TEST_SEED},
        "recommended_alpha": recommended, "logit_scale": scale,
    }
    report.write_all(a.results_dir, a.docs, a.plot, a.readme, info, per_seed, members, member_reports,
                     smoke=a.smoke)
    log(f"wrote {a.docs}; done in {(time.time() - t_start) / 60:.1f} min")
    return 0


@dataclasses.dataclass
class _BuiltMember:
    id: str
    sweep: Sweep
    export: Member


def _member(mid: str, kind: str, seed: int, model: ImageClassifier, sw: Sweep, lpft: bool = False) -> _BuiltMember:
    name = (f"End-to-end fine-tuning, seed {seed}" if kind == "end-to-end"
            else f"Linear classifier (frozen image tower), seed {seed}")
    head = ("a head first fitted on the frozen features (linear probe from the zero-shot head)" if lpft
            else "head initialised from the zero-shot head")
    desc = (f"Every weight fine-tuned on the reference photos, {head}."
            if kind == "end-to-end" else
            "Only the head trained on the reference photos (image tower frozen), initialised from the zero-shot "
            "head. Logits are linear in the head, so interpolating its weights equals the output-space ensemble.")
    return _BuiltMember(mid, sw, Member(mid, name, kind, seed, desc, model, sw.rows("weight"), sw.rows("output")))


if __name__ == "__main__":
    raise SystemExit(main())
