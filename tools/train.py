"""Data generation, contrastive pretraining, fine-tuning, evaluation and the WiSE-FT sweep."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from . import world
from .models import CLIP, ImageClassifier, build_classifier, interpolate, zeroshot_head
from .tokenizer import build_tokenizer, encode

MEAN = 0.5
STD = 0.25
Log = Callable[[str], None]


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 [N, H, W, 3] -> normalised float32 [N, 3, H, W] (manifest preprocess: mean 0.5, std 0.25)."""
    x = torch.from_numpy(images).permute(0, 3, 1, 2).to(torch.float32) / 255.0
    return (x - MEAN) / STD


# ----------------------------------------------------------------------------- data
def pretrain_data(seed: int, n: int, cfg: world.WorldConfig = world.WorldConfig()) -> Dict[str, np.ndarray]:
    rng = np.random.default_rng(np.random.SeedSequence([seed, 1]))
    p = world.sample_pretrain(rng, n, cfg)
    caps = world.captions(p, rng, cfg)
    tok = build_tokenizer()
    ids = encode(tok, caps)
    _, group = np.unique(ids, axis=0, return_inverse=True)
    return {"images": world.render(p), "ids": ids, "group": group.reshape(-1).astype(np.int64),
            "cls": p["cls"]}


def finetune_data(seed: int, n: int, cfg: world.WorldConfig = world.WorldConfig()) -> Dict[str, np.ndarray]:
    rng = np.random.default_rng(np.random.SeedSequence([seed, 2]))
    p = world.sample_reference(rng, n, cfg)
    return {"images": world.render(p), "labels": p["cls"]}


EvalSets = Dict[str, Tuple[np.ndarray, np.ndarray]]


def eval_sets(seed: int, n: int, cfg: world.WorldConfig = world.WorldConfig()) -> EvalSets:
    return {s.id: world.make_set(s.id, seed, n, cfg) for s in world.EVAL_SETS}


def cached(path: Path, make: Callable[[], Dict[str, np.ndarray]]) -> Dict[str, np.ndarray]:
    if path.exists():
        with np.load(path) as z:
            return {k: z[k] for k in z.files}
    d = make()
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **d)
    return d


# ----------------------------------------------------------------------------- schedules
def cosine_lr(step: int, total: int, base: float, warmup: int) -> float:
    if step < warmup:
        return base * (step + 1) / warmup
    t = (step - warmup) / max(1, total - warmup)
    return base * 0.5 * (1 + math.cos(math.pi * min(1.0, t)))


def augment(x: torch.Tensor, g: torch.Generator, flip: bool = True, rot_deg: float = 0.0) -> torch.Tensor:
    if flip:
        m = torch.rand(x.shape[0], generator=g) < 0.5
        x = torch.where(m[:, None, None, None], x.flip(-1), x)
    if rot_deg > 0:
        a = (torch.rand(x.shape[0], generator=g) * 2 - 1) * math.radians(rot_deg)
        c, s = torch.cos(a), torch.sin(a)
        theta = torch.stack([torch.stack([c, -s, torch.zeros_like(c)], 1),
                             torch.stack([s, c, torch.zeros_like(c)], 1)], 1)
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        # pad with the border so the background colour is kept
        x = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    return x


def param_groups(model: torch.nn.Module) -> Tuple[List[torch.nn.Parameter], List[torch.nn.Parameter]]:
    """Weight decay on conv/linear/embedding weights only (not norms, biases, scales, positions)."""
    from .models import GroupNorm
    skip = set()
    for m in model.modules():
        if isinstance(m, (GroupNorm, torch.nn.LayerNorm)):
            skip.update(id(p) for p in m.parameters())
    decay, no_decay = [], []
    for n, p in model.named_parameters():
        (no_decay if id(p) in skip or p.ndim < 2 or n.endswith("pos") else decay).append(p)
    return decay, no_decay


# ----------------------------------------------------------------------------- pretraining
@dataclass
class PretrainConfig:
    steps: int = 700
    batch: int = 256
    lr: float = 2e-3
    wd: float = 0.1
    warmup: int = 50
    seed: int = 0


def pretrain(data: Dict[str, np.ndarray], cfg: PretrainConfig, log: Log,
             callback: Optional[Callable[[int, CLIP], None]] = None, every: int = 250) -> CLIP:
    torch.manual_seed(cfg.seed)
    g = torch.Generator().manual_seed(cfg.seed)
    tok = build_tokenizer()
    model = CLIP(tok.get_vocab_size())
    decay, no_decay = param_groups(model)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.wd},
                             {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr, betas=(0.9, 0.98))
    images = torch.from_numpy(data["images"])
    ids = torch.from_numpy(data["ids"])
    group = torch.from_numpy(data["group"])
    n = images.shape[0]
    t0 = time.time()
    model.train()
    perm = torch.randperm(n, generator=g)
    pos = 0
    for step in range(cfg.steps):
        if pos + cfg.batch > n:
            perm, pos = torch.randperm(n, generator=g), 0
        idx = perm[pos:pos + cfg.batch]
        pos += cfg.batch
        lr = cosine_lr(step, cfg.steps, cfg.lr, cfg.warmup)
        for pg in opt.param_groups:
            pg["lr"] = lr
        x = augment(to_tensor(images[idx].numpy()), g)
        zi = F.normalize(model.image(x), dim=-1)
        zt = F.normalize(model.text(ids[idx]), dim=-1)
        scale = model.logit_scale.exp()
        logits = scale * zi @ zt.t()
        # multi-positive InfoNCE: identical captions are positives of each other
        same = (group[idx][:, None] == group[idx][None, :]).to(torch.float32)
        target = same / same.sum(dim=1, keepdim=True)
        loss = 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():
            model.logit_scale.clamp_(0, math.log(100))
        if step % 50 == 0 or step == cfg.steps - 1:
            log(f"pretrain step {step + 1}/{cfg.steps} loss {loss.item():.3f} "
                f"scale {scale.item():.1f} lr {lr:.2e} ({time.time() - t0:.0f}s)")
        if callback is not None and ((step + 1) % every == 0 or step == cfg.steps - 1):
            model.eval()
            callback(step + 1, model)
            model.train()
    model.eval()
    return model


def template_ids(names: Optional[Sequence[str]] = None) -> torch.Tensor:
    """[C, T, L] token ids of every class x template prompt (``names``: what to call each class;
    the class names by default)."""
    tok = build_tokenizer()
    names = list(world.CLASSES if names is None else names)
    prompts = [t.format(c) for c in names for t in world.TEMPLATES]
    ids = encode(tok, prompts).reshape(len(names), len(world.TEMPLATES), -1)
    return torch.from_numpy(ids)


def zeroshot_classifier(clip: CLIP, names: Optional[Sequence[str]] = None) -> ImageClassifier:
    scale = float(clip.logit_scale.exp().detach())
    head = zeroshot_head(clip.text, template_ids(names), scale)
    return build_classifier(clip, head).eval()


# ----------------------------------------------------------------------------- fine-tuning
@dataclass
class FinetuneConfig:
    epochs: int = 5
    batch: int = 128
    lr: float = 1e-4
    wd: float = 0.1
    warmup: int = 20
    rot_deg: float = 0.0
    seed: int = 0


def finetune(zs: ImageClassifier, data: Dict[str, np.ndarray], cfg: FinetuneConfig, log: Log) -> ImageClassifier:
    torch.manual_seed(cfg.seed)
    g = torch.Generator().manual_seed(1000 + cfg.seed)
    model = ImageClassifier(num_classes=zs.head.out_features)
    model.load_state_dict(zs.state_dict())
    decay, no_decay = param_groups(model)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.wd},
                             {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr)
    images = torch.from_numpy(data["images"])
    labels = torch.from_numpy(data["labels"])
    n = images.shape[0]
    per_epoch = n // cfg.batch
    total = max(1, per_epoch * cfg.epochs)
    model.train()
    t0 = time.time()
    step = 0
    for ep in range(cfg.epochs):
        perm = torch.randperm(n, generator=g)
        for b in range(per_epoch):
            idx = perm[b * cfg.batch:(b + 1) * cfg.batch]
            lr = cosine_lr(step, total, cfg.lr, cfg.warmup)
            for pg in opt.param_groups:
                pg["lr"] = lr
            x = augment(to_tensor(images[idx].numpy()), g, flip=True, rot_deg=cfg.rot_deg)
            _, logits = model(x)
            loss = F.cross_entropy(logits, labels[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
        log(f"finetune seed {cfg.seed} epoch {ep + 1}/{cfg.epochs} loss {loss.item():.3f} ({time.time() - t0:.0f}s)")
    model.eval()
    return model


# ----------------------------------------------------------------------------- evaluation
@torch.no_grad()
def logits_of(model: ImageClassifier, images: np.ndarray, batch: int = 1000) -> torch.Tensor:
    model.eval()
    out = []
    for a in range(0, len(images), batch):
        out.append(model(to_tensor(images[a:a + batch]))[1])
    return torch.cat(out)


def accuracy(logits: torch.Tensor, labels: np.ndarray) -> float:
    return float((logits.argmax(1).numpy() == labels).mean())


def linear_probe(zs: ImageClassifier, data: Dict[str, np.ndarray], cfg: FinetuneConfig, log: Log) -> ImageClassifier:
    """The paper's second setting: the image tower frozen, only the head trained (from the zero-shot
    head). Features are computed once; full-batch-free AdamW on the head over the same epochs."""
    torch.manual_seed(cfg.seed)
    g = torch.Generator().manual_seed(2000 + cfg.seed)
    model = ImageClassifier(num_classes=zs.head.out_features)
    model.load_state_dict(zs.state_dict())
    model.eval()
    with torch.no_grad():
        feats = torch.cat([model(to_tensor(data["images"][a:a + 1000]))[0]
                           for a in range(0, len(data["images"]), 1000)])
    labels = torch.from_numpy(data["labels"])
    opt = torch.optim.AdamW(model.head.parameters(), lr=cfg.lr, weight_decay=cfg.wd)
    n = feats.shape[0]
    per_epoch = n // cfg.batch
    total = max(1, per_epoch * cfg.epochs)
    step = 0
    t0 = time.time()
    for ep in range(cfg.epochs):
        perm = torch.randperm(n, generator=g)
        for b in range(per_epoch):
            idx = perm[b * cfg.batch:(b + 1) * cfg.batch]
            for pg in opt.param_groups:
                pg["lr"] = cosine_lr(step, total, cfg.lr, cfg.warmup)
            loss = F.cross_entropy(model.head(feats[idx]), labels[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
        log(f"linear probe seed {cfg.seed} epoch {ep + 1}/{cfg.epochs} loss {loss.item():.3f} ({time.time() - t0:.0f}s)")
    return model.eval()


@dataclass
class Sweep:
    """Per-image correctness along α, so every accuracy and every paired interval comes from it.
    ``weight[set]`` and ``output[set]`` are bool [len(alphas), n]; ``labels[set]`` int [n]."""
    alphas: List[float]
    weight: Dict[str, np.ndarray]
    output: Dict[str, np.ndarray]

    def rows(self, space: str) -> List[Dict[str, float]]:
        """wise-ft JSON-lines rows with per-set image counts."""
        m = self.weight if space == "weight" else self.output
        out = []
        for i, a in enumerate(self.alphas):
            r: Dict[str, float] = {"alpha": a}
            for k, c in m.items():
                r[f"{k}:top1"] = float(c[i].mean())
                r[f"{k}:n"] = int(c.shape[1])
            out.append(r)
        return out


def sweep(zs: ImageClassifier, ft: ImageClassifier, sets: EvalSets, alphas: Sequence[float]) -> Sweep:
    """WiSE-FT weight-space sweep and output-space ensemble sweep."""
    sd0, sd1 = zs.state_dict(), ft.state_dict()
    m = ImageClassifier(num_classes=zs.head.out_features)
    zl = {k: logits_of(zs, x) for k, (x, _) in sets.items()}
    fl = {k: logits_of(ft, x) for k, (x, _) in sets.items()}
    al = [round(float(a), 4) for a in alphas]
    weight = {k: np.zeros((len(al), len(y)), bool) for k, (_, y) in sets.items()}
    output = {k: np.zeros((len(al), len(y)), bool) for k, (_, y) in sets.items()}
    for i, a in enumerate(al):
        m.load_state_dict(interpolate(sd0, sd1, a))
        for k, (x, y) in sets.items():
            weight[k][i] = logits_of(m, x).argmax(1).numpy() == y
            output[k][i] = ((1 - a) * zl[k] + a * fl[k]).argmax(1).numpy() == y
    return Sweep(al, weight, output)


def mean_shift(row: Dict[str, float]) -> float:
    vals = [v for k, v in row.items() if k.endswith(":top1") and not k.startswith("reference:")]
    return float(np.mean(vals))
