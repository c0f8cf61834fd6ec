"""Export a zero-shot CLIP model and one or more fine-tuned checkpoints as a `wiseft-pair/2` bundle (docs/clip-export.md)."""
from __future__ import annotations

import argparse
import copy
import hashlib
import json
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np
import onnx
import torch
from onnx import numpy_helper

from . import make_fixture, onnx_export as ox, sources, sprites
from . import tokenizer as toks

DATA = Path(__file__).resolve().parent / "data"
TOLERANCE = 1e-3


class CheckFailed(RuntimeError):
    pass


def read_lines(path: Path) -> List[str]:
    return [l.strip() for l in path.read_text(encoding="utf-8").splitlines() if l.strip()]


def imagenet_classes() -> List[str]:
    return read_lines(DATA / "imagenet_classes.txt")


def openai_templates() -> List[str]:
    return read_lines(DATA / "openai_imagenet_templates.txt")


MEMBER_KINDS = ("end-to-end", "linear-classifier")
# The app's rule (src/core/bundle/manifest.ts): ids go in URLs (member=) and on command lines.
MEMBER_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


@dataclass
class MemberSpec:
    id: str
    name: str
    kind: str
    seed: Optional[int]
    description: Optional[str]
    checkpoint: str


def derived_id(checkpoint: str) -> str:
    """An id from a checkpoint's file name: 'runs/E2E_Seed0.pt' -> 'e2e_seed0'."""
    slug = re.sub(r"[^a-z0-9._-]+", "-", Path(checkpoint).stem.lower()).strip("-._")[:64]
    return slug or "member"


def member_specs(args) -> List[MemberSpec]:
    """One spec per --finetuned; every --member-* flag given is given once per checkpoint."""
    ckpts: List[str] = list(args.finetuned)
    n = len(ckpts)
    for flag in ("member_id", "member_name", "member_kind", "member_seed", "member_description"):
        given = getattr(args, flag)
        if given and len(given) != n:
            raise ValueError(f"--{flag.replace('_', '-')} is given {len(given)} time(s) for {n} --finetuned checkpoint(s); "
                             "give it once per checkpoint, in the same order")
    if args.member_id:
        ids = list(args.member_id)
    elif n == 1:
        ids = ["fine-tuned"]
    else:
        ids, seen = [], set()
        for c in ckpts:
            base = derived_id(c)
            i, k = base, 2
            while i in seen:
                i, k = f"{base[:60]}-{k}", k + 1
            seen.add(i)
            ids.append(i)
    for i in ids:
        if not MEMBER_ID.match(i):
            raise ValueError(f"member id '{i}' must be 1-64 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit")
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise ValueError(f"duplicate member id '{dup[0]}'")
    kinds = args.member_kind or ["end-to-end"] * n
    seeds = args.member_seed or [None] * n
    descs = args.member_description or [None] * n
    names = args.member_name or [
        ("Fine-tuned" if n == 1 and not args.member_id else f"Fine-tuned ({Path(c).name})") for c in ckpts]
    return [MemberSpec(i, nm, k, sd, d, c) for i, nm, k, sd, d, c in zip(ids, names, kinds, seeds, descs, ckpts)]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m tools.clip_export", description=__doc__)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--open-clip", metavar="ARCH", help="open_clip architecture, e.g. ViT-B-32")
    src.add_argument("--hf", metavar="FOLDER", help="local Hugging Face CLIPModel folder (save_pretrained layout)")
    p.add_argument("--pretrained", default=None,
                   help="open_clip pretrained tag or weights file for the zero-shot model (omit: random init)")
    p.add_argument("--finetuned", required=True, metavar="CKPT", action="append",
                   help="fine-tuned checkpoint: state_dict of the CLIP model or its image tower, {'state_dict': ...}, "
                        "or a wise-ft ImageClassifier (needs --allow-pickle). Repeat for several members (other seeds, "
                        "linear-classifier fine-tuning); the first is the app's default endpoint")
    p.add_argument("--member-id", action="append", default=[], metavar="ID",
                   help="the member's id, once per --finetuned in the same order (default: 'fine-tuned' for one "
                        "checkpoint, else derived from each checkpoint's file name)")
    p.add_argument("--member-name", action="append", default=[], metavar="NAME", help="the member's display name, once per --finetuned")
    p.add_argument("--member-kind", action="append", default=[], choices=sorted(MEMBER_KINDS),
                   help="end-to-end (default) or linear-classifier, once per --finetuned")
    p.add_argument("--member-seed", action="append", default=[], type=int, metavar="N", help="the fine-tuning seed, once per --finetuned")
    p.add_argument("--member-description", action="append", default=[], metavar="TEXT", help="one paragraph, once per --finetuned")
    p.add_argument("--allow-pickle", action="store_true", help="allow unpickling objects from --finetuned (runs code from the file)")
    p.add_argument("--classes", metavar="FILE|imagenet", required=True,
                   help="class names, one per line, or 'imagenet' for the 1000 OpenAI ImageNet class names")
    p.add_argument("--templates", metavar="FILE|openai", default="openai",
                   help="prompt templates with '{}', one per line, or 'openai' (the 80 OpenAI ImageNet templates, default)")
    p.add_argument("--out", required=True, help="bundle folder to write (must not exist or be empty, unless --force)")
    p.add_argument("--force", action="store_true", help="replace an existing bundle folder")
    p.add_argument("--name", default=None)
    p.add_argument("--description", default=None)
    p.add_argument("--citation", default="Wortsman et al., Robust fine-tuning of zero-shot models (WiSE-FT), CVPR 2022; "
                   "Radford et al., Learning Transferable Visual Models From Natural Language Supervision, ICML 2021.")
    p.add_argument("--fp16", action="store_true", help="store weights as float16 (compute stays float32; Cast nodes widen them)")
    p.add_argument("--eval-folder", metavar="DIR", default=None, help="<set>/<class>/<image> -> sprite sheets")
    p.add_argument("--reference", default=None, help="eval set with role 'reference' (default: the first, sorted)")
    p.add_argument("--analogue", action="append", default=[], metavar="SET=ANALOGUE",
                   help="paper analogue of an eval set, e.g. sketches=ImageNetSketch (repeatable)")
    p.add_argument("--max-per-class", type=int, default=None, help="at most this many images per class and set")
    p.add_argument("--check-images", type=int, default=4, help="random images for the ONNX-vs-PyTorch check")
    p.add_argument("--tolerance", type=float, default=TOLERANCE, help="max |logit difference| allowed (default 1e-3)")
    p.add_argument("--fixture-images", type=int, default=3, help="images in fixture.json (0: no fixture)")
    p.add_argument("--no-text", action="store_true", help="skip text.onnx / tokenizer.json")
    return p


@dataclass
class Member:
    spec: MemberSpec
    model: ox.ImageClassifier    # exported as is
    ref: torch.nn.Module         # PyTorch reference (fp16-rounded weights with --fp16)
    head_source: str

    @property
    def path(self) -> str:
        return f"members/{self.spec.id}.onnx"


@dataclass
class Prepared:
    src: sources.Source
    classes: List[str]
    templates: List[str]
    prompts: List[str]
    zs: ox.ImageClassifier       # exported as is
    zs_ref: torch.nn.Module      # PyTorch reference (fp16-rounded weights with --fp16)
    members: List[Member]        # the first is the default endpoint

    # The default member, where one fine-tuned model is meant (the fixture, the single-member checks).
    @property
    def ft(self) -> ox.ImageClassifier:
        return self.members[0].model

    @property
    def ft_ref(self) -> torch.nn.Module:
        return self.members[0].ref

    @property
    def head_source(self) -> str:
        return self.members[0].head_source


def log(msg: str) -> None:
    print(msg, flush=True)


def prepare(args) -> Prepared:
    specs = member_specs(args)  # bad member flags fail before any model is loaded
    t0 = time.time()
    src = sources.load_open_clip(args.open_clip, args.pretrained) if args.open_clip else sources.load_hf(args.hf)
    log(f"loaded {src.name}: image {src.image_size}px, logit scale {src.logit_scale:.4g}, "
        f"context {src.context_length}, pad id {src.pad_id} ({time.time() - t0:.1f}s)")
    classes = imagenet_classes() if args.classes == "imagenet" else read_lines(Path(args.classes))
    templates = openai_templates() if args.templates == "openai" else read_lines(Path(args.templates))
    if len(classes) < 2:
        raise ValueError("need at least 2 classes")
    if any("{}" not in t for t in templates):
        raise ValueError("every template needs a '{}'")
    t0 = time.time()
    tokenize = lambda texts: toks.encode(src.tokenizer, texts)  # noqa: E731
    probe = torch.from_numpy(tokenize([templates[0].replace("{}", c) for c in classes[:4]] + ["x " * 80]))
    encoder = sources.head_text_encoder(src, probe, log=log)
    w, b = ox.zeroshot_head(encoder, tokenize, classes, templates, src.logit_scale, log=log)
    log(f"zero-shot head: {len(classes)} classes x {len(templates)} templates ({time.time() - t0:.1f}s)")
    zs = ox.ImageClassifier(copy.deepcopy(src.visual), w, b).eval()
    members = []
    for spec in specs:
        ft = copy.deepcopy(zs)
        sd = sources.load_checkpoint(spec.checkpoint, allow_pickle=args.allow_pickle)
        visual_sd, head = sources.split_checkpoint(sd, src)
        ft.visual.load_state_dict(visual_sd)
        head_source = "zero-shot head (the fine-tuned checkpoint has none)"
        if head is not None:
            hw, hb = head
            if tuple(hw.shape) != tuple(w.shape):
                raise ValueError(f"member '{spec.id}': the fine-tuned head is {tuple(hw.shape)} but {len(classes)} classes "
                                 f"x {w.shape[1]} were expected; pass the class list it was trained on")
            with torch.no_grad():
                ft.head.weight.copy_(hw)
                ft.head.bias.copy_(hb)
            head_source = "the fine-tuned checkpoint's own classification head"
        log(f"member '{spec.id}' ({Path(spec.checkpoint).name}): {len(visual_sd)} image-tower tensors; head: {head_source}")
        members.append(Member(spec, ft, ox.fp16_rounded(ft) if args.fp16 else ft, head_source))
    zs_ref = ox.fp16_rounded(zs) if args.fp16 else zs
    prompts = [templates[0].replace("{}", c) for c in classes[:3]] + ["a photo of something, unusual: 3 cats & 1 dog!"]
    return Prepared(src, classes, templates, prompts, zs, zs_ref, members)


def file_entry(path: Path, root: Path) -> Dict[str, object]:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return {"path": path.relative_to(root).as_posix(), "bytes": path.stat().st_size, "sha256": h.hexdigest()}


def member_entry(m: Member, stage: Path) -> Dict[str, object]:
    e: Dict[str, object] = {"id": m.spec.id, "name": m.spec.name, "kind": m.spec.kind}
    if m.spec.seed is not None:
        e["seed"] = m.spec.seed
    if m.spec.description:
        e["description"] = m.spec.description
    e["model"] = file_entry(stage / m.path, stage)
    return e


def blend_onnx(a: Path, b: Path, alpha: float, out: Path) -> None:
    """θ(α) the way the app does it: every differing float initializer blended, graph unchanged."""
    ma, mb = onnx.load(str(a)), onnx.load(str(b))
    bi = {t.name: t for t in mb.graph.initializer}
    for t in ma.graph.initializer:
        x, y = numpy_helper.to_array(t), numpy_helper.to_array(bi[t.name])
        if x.dtype.kind == "f":
            z = ((1 - alpha) * x.astype(np.float32) + alpha * y.astype(np.float32)).astype(x.dtype)
            t.CopyFrom(numpy_helper.from_array(z, t.name))
    ox.save_model(ma, out)


def check(prep: Prepared, stage: Path, args) -> Dict[str, float]:
    """Runs the exported models with onnxruntime against PyTorch; raises CheckFailed past the tolerance."""
    rng = np.random.RandomState(0)
    s = prep.src.image_size
    images = rng.randn(max(2, args.check_images), 3, s, s).astype(np.float32)
    res: Dict[str, float] = {}
    d = ox.compare_classifier(prep.zs_ref, stage / "zeroshot.onnx", images)
    res["zeroshot.logits"], res["zeroshot.embedding"] = d["logits"], d["embedding"]
    log(f"check zeroshot.onnx: max |Δlogits| = {d['logits']:.2e}, max |Δembedding| = {d['embedding']:.2e}")
    # Every member is checked; "finetuned.*" and "blend0.5.logits" are the worst over the members.
    for m in prep.members:
        d = ox.compare_classifier(m.ref, stage / m.path, images)
        res[f"member:{m.spec.id}.logits"] = d["logits"]
        res["finetuned.logits"] = max(res.get("finetuned.logits", 0.0), d["logits"])
        res["finetuned.embedding"] = max(res.get("finetuned.embedding", 0.0), d["embedding"])
        log(f"check {m.path}: max |Δlogits| = {d['logits']:.2e}, max |Δembedding| = {d['embedding']:.2e}")
        # θ(0.5) blended in ONNX initializer space vs blended in PyTorch: proves the folded
        # initializers blend linearly (what the app does).
        blend_onnx(stage / "zeroshot.onnx", stage / m.path, 0.5, stage / "blend.tmp.onnx")
        d = ox.compare_classifier(make_fixture.blend(prep.zs_ref, m.ref, 0.5), stage / "blend.tmp.onnx", images)
        for f in (stage / "blend.tmp.onnx", stage / "blend.tmp.onnx.data"):
            f.unlink(missing_ok=True)
        res["blend0.5.logits"] = max(res.get("blend0.5.logits", 0.0), d["logits"])
        log(f"check θ(0.5) with '{m.spec.id}', blended initializers: max |Δlogits| = {d['logits']:.2e}"
            + (" (fp16 re-rounding of the blend, not enforced)" if args.fp16 else ""))
    if args.fp16:
        d = ox.compare_classifier(prep.zs, stage / "zeroshot.onnx", images)
        log(f"  fp16 weights vs the fp32 PyTorch model (information only): max |Δlogits| = {d['logits']:.2e}")
    if (stage / "text.onnx").exists():
        ids = toks.encode(prep.src.tokenizer, prep.prompts)
        d = ox.compare_text(prep.src.text if not args.fp16 else ox.fp16_rounded(prep.src.text), stage / "text.onnx", ids)
        res["text.embedding"] = d["text_embedding"]
        res["text.scale"] = d["text_scale"]
        log(f"check text.onnx: max |Δtext_embedding| = {d['text_embedding']:.2e} (values up to {d['text_scale']:.3g})")
    bad = [k for k in ("zeroshot.logits", "finetuned.logits") if res[k] > args.tolerance]
    if not args.fp16 and res["blend0.5.logits"] > args.tolerance:
        bad.append("blend0.5.logits")
    if "text.embedding" in res and res["text.embedding"] > args.tolerance * max(1.0, res["text.scale"]):
        bad.append("text.embedding")
    if bad:
        raise CheckFailed("ONNX and PyTorch disagree beyond the tolerance " f"{args.tolerance:g}: "
                          + ", ".join(f"{k} {res[k]:.2e}" for k in bad) + "; the bundle was NOT written")
    return res


def export_bundle(args) -> Dict[str, object]:
    torch.manual_seed(0)
    out = Path(args.out)
    if out.exists() and any(out.iterdir()) and not args.force:
        raise ValueError(f"{out} exists and is not empty (use --force to replace it)")
    t_start = time.time()
    prep = prepare(args)
    src = prep.src
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".clip-export-", dir=str(out.parent)))
    try:
        example = torch.zeros(2, 3, src.image_size, src.image_size)
        (stage / "members").mkdir()
        for path, model in [("zeroshot.onnx", prep.zs)] + [(m.path, m.model) for m in prep.members]:
            t0 = time.time()
            ox.export_onnx(model, example, stage / path, ["image"], ["embedding", "logits"], fp16=args.fp16)
            log(f"exported {path} ({(stage / path).stat().st_size / 1e6:.1f} MB, {time.time() - t0:.1f}s)")
        # The pair check, member by member: each must blend with the zero-shot model.
        for m in prep.members:
            ox.check_identical_graphs(stage / "zeroshot.onnx", stage / m.path)
        log("identical graphs: nodes, inputs/outputs and initializer names/dtypes/shapes match"
            + (f" (all {len(prep.members)} members)" if len(prep.members) > 1 else ""))
        if not args.no_text:
            t0 = time.time()
            ids = torch.from_numpy(toks.encode(src.tokenizer, prep.prompts[:2]))
            ox.export_onnx(src.text, ids, stage / "text.onnx", ["input_ids"], ["text_embedding"], fp16=args.fp16)
            (stage / "tokenizer.json").write_text(src.tokenizer.to_str())
            log(f"exported text.onnx ({(stage / 'text.onnx').stat().st_size / 1e6:.1f} MB, {time.time() - t0:.1f}s)")
        results = check(prep, stage, args)

        evalm = None
        fixture_tiles = None
        if args.eval_folder:
            analogues = dict(a.split("=", 1) for a in args.analogue)
            sets = sprites.read_eval_folder(Path(args.eval_folder), prep.classes, src.image_size, args.reference,
                                            args.max_per_class)
            evalm = sprites.eval_manifest(sets, stage, src.image_size, analogues)
            log("eval sets: " + ", ".join(f"{e['id']} ({e['role']}, {e['sprite']['count']} images"
                                          + (f", {len(e['classes'])} classes" if e["classes"] else "") + ")"
                                          for e in evalm["sets"]))
            fixture_tiles = sets[0].tiles[: args.fixture_images]
        if args.fixture_images > 0:
            if fixture_tiles is None or len(fixture_tiles) < args.fixture_images:
                fixture_tiles = make_fixture.synthetic_tiles(args.fixture_images, src.image_size)
            fx = make_fixture.build_fixture(prep.zs_ref, prep.ft_ref, src.text, src.tokenizer, fixture_tiles,
                                            src.image_size, src.mean, src.std, prep.prompts, args.tolerance)
            make_fixture.write_fixture(stage / "fixture.json", fx)

        n = len(prep.members)
        manifest: Dict[str, object] = {
            "format": "wiseft-pair/2",
            "name": args.name or f"{src.name} · WiSE-FT pair",
            "description": args.description or (
                (f"Zero-shot {src.name} and a fine-tuned checkpoint ({Path(prep.members[0].spec.checkpoint).name}); "
                 if n == 1 else
                 f"Zero-shot {src.name} and {n} fine-tuned checkpoints ({', '.join(Path(m.spec.checkpoint).name for m in prep.members)}); ")
                + f"{len(prep.classes)} classes; fine-tuned head: {prep.head_source}."
                + (" Weights stored as float16." if args.fp16 else "")),
            "citation": args.citation,
            "models": {"zeroShot": file_entry(stage / "zeroshot.onnx", stage),
                       "members": [member_entry(m, stage) for m in prep.members]},
            "io": {"image": "image", "embedding": "embedding", "logits": "logits"},
        }
        if not args.no_text:
            manifest["text"] = {"model": file_entry(stage / "text.onnx", stage), "tokenizer": "tokenizer.json",
                                "contextLength": src.context_length, "padId": src.pad_id,
                                "input": "input_ids", "output": "text_embedding"}
        manifest.update({
            "logitScale": src.logit_scale,
            "templates": prep.templates,
            "classes": prep.classes,
            "preprocess": {"size": src.image_size, "resize": "bicubic", "crop": "center",
                           "mean": list(src.mean), "std": list(src.std), "layout": "NCHW"},
        })
        if evalm:
            manifest["eval"] = evalm
        (stage / "manifest.json").write_text(json.dumps(manifest, indent=1))
        if out.exists():
            shutil.rmtree(out)
        stage.rename(out)
        stage = None
        out.chmod(0o755)
        log(f"wrote {out} in {time.time() - t_start:.1f}s")
        return {"manifest": manifest, "check": results}
    finally:
        if stage is not None and stage.exists():
            shutil.rmtree(stage, ignore_errors=True)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        export_bundle(args)
    except (CheckFailed, ValueError, RuntimeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0
