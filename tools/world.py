"""Procedural "shapes world": deterministic, vectorised numpy renderer + captions.

Every image is described by a row of integer/float parameters (class, colour, background,
size, position, rotation, style, ...). ``sample_*`` functions draw those parameters from a
seeded ``numpy.random.Generator``; :func:`render` turns them into uint8 RGB images at 32x32;
:func:`captions` turns them into text. The same seed always gives the same images.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

BASE_CLASSES: Tuple[str, ...] = (
    "circle", "square", "triangle", "star", "cross", "ring", "heart", "arrow", "moon", "diamond",
)
# Finer classes (round 4; the shipped world since round 8): ten more shapes, several close to an
# existing one (oval/circle, octagon/circle, kite/diamond, rectangle/square, chevron/arrow).
# WISEFT_WORLD_CLASSES=10 gives the first ten only (the world that shipped until round 8), read once
# at import because the class count fixes every tensor's shape.
EXTRA_CLASSES: Tuple[str, ...] = (
    "pentagon", "hexagon", "oval", "semicircle", "trapezoid", "kite", "chevron", "drop", "octagon", "rectangle",
)
N_CLASSES = int(os.environ.get("WISEFT_WORLD_CLASSES", "20"))
assert N_CLASSES in (10, 20), "WISEFT_WORLD_CLASSES must be 10 or 20"
# In the cached data's and models' file names: the two worlds draw different images from one seed.
CACHE_TAG = "" if N_CLASSES == 10 else f"_c{N_CLASSES}"
CLASSES: Tuple[str, ...] = BASE_CLASSES + EXTRA_CLASSES[: N_CLASSES - 10]
COLOURS: Tuple[str, ...] = (
    "red", "orange", "yellow", "green", "cyan", "blue", "purple", "pink", "brown", "white", "gray", "black",
)
COLOUR_RGB = np.array(
    [
        [0.86, 0.12, 0.12], [0.98, 0.55, 0.08], [0.95, 0.88, 0.15], [0.15, 0.70, 0.20],
        [0.15, 0.80, 0.85], [0.15, 0.30, 0.90], [0.55, 0.20, 0.75], [0.98, 0.55, 0.75],
        [0.50, 0.30, 0.12], [0.95, 0.95, 0.95], [0.50, 0.50, 0.50], [0.07, 0.07, 0.07],
    ],
    dtype=np.float32,
)
STYLES: Tuple[str, ...] = ("photo", "sketch", "cartoon", "painting", "neon", "pixel")
STYLE_PHRASE: Dict[str, str] = {
    "photo": "a photo of", "sketch": "a sketch of", "cartoon": "a cartoon of",
    "painting": "a painting of", "neon": "a neon sign of", "pixel": "pixel art of",
}
SIZE_WORDS: Tuple[str, ...] = ("small", "medium", "large")
# Classes whose own name pretraining captions rarely use: their images are described by a synonym
# instead. The features still learn to separate them (the synonym is a consistent caption), but the
# zero-shot head, built from the class *names*, is weak on them -- like the rare ImageNet class names
# CLIP was never taught. Fine-tuning repairs the head; that knowledge transfers across styles.
SYNONYMS: Dict[str, str] = {
    "star": "pentagram", "cross": "plus", "heart": "valentine", "arrow": "pointer", "moon": "crescent",
}

# With ``WorldConfig.unnamed = k`` the first k of these never appear by their own name in pretraining
# (like ImageNet class names CLIP never read). Ordered by how weak the zero-shot head already was on
# them at weak_name_rate 0.01 on the validation draw (star and arrow weakest).
UNNAMED_ORDER: Tuple[str, ...] = ("star", "arrow", "heart", "cross", "moon")


@dataclass(frozen=True)
class WorldConfig:
    """The knobs of the world that the selection (tools.select) may choose between."""
    shortcut: float = 0.8          # P(background colour = class colour) in the reference distribution
    weak_name_rate: float = 0.01   # P(a caption of a SYNONYMS class uses the class name itself)
    unnamed: float = 0             # how many of UNNAMED_ORDER are never named by their own name (rate 0)
    hard: float = 0.5              # fraction of reference-distribution images made hard (occluded, noisy)
    pretrain_hard: float = 0.2     # the same conditions in the pretraining data
    shift_hard: float = 0.5        # ... in the sketch, rendition and adversarial sets (v2 follows `hard`)
# Shortcut used by the reference distribution: background colour index per class.
# With 20 classes two classes share each colour: the shortcut narrows the choice to two, never one.
CLASS_BG: Tuple[int, ...] = tuple((0, 1, 2, 3, 4, 5, 6, 7, 8, 10)[k % 10] for k in range(len(CLASSES)))
WHITE, BLACK = COLOURS.index("white"), COLOURS.index("black")

TEMPLATES: Tuple[str, ...] = (
    "a photo of a {}.",
    "a sketch of a {}.",
    "a cartoon of a {}.",
    "a painting of a {}.",
    "a neon sign of a {}.",
    "pixel art of a {}.",
    "an image of a {}.",
)

IMAGE_SIZE = 32
SUPER = 2  # supersampling factor for anti-aliasing

Params = Dict[str, np.ndarray]


# ----------------------------------------------------------------------------- parameters
def _rot(rng: np.random.Generator, n: int, lo_deg: float, hi_deg: float, both_signs: bool = False) -> np.ndarray:
    a = rng.uniform(lo_deg, hi_deg, n)
    if both_signs:
        a = a * rng.choice([-1.0, 1.0], n)
    return np.deg2rad(a).astype(np.float32)


def _other_colour(rng: np.random.Generator, avoid: np.ndarray) -> np.ndarray:
    """Uniform colour index different from ``avoid`` (elementwise)."""
    k = len(COLOURS)
    return ((avoid + 1 + rng.integers(0, k - 1, len(avoid))) % k).astype(np.int64)


def _base(rng: np.random.Generator, n: int, cls: Optional[np.ndarray] = None) -> Params:
    if cls is None:
        cls = rng.integers(0, len(CLASSES), n)
    size = rng.uniform(0.225, 0.40, n).astype(np.float32)  # radius: object spans 45-80% of the image
    slack = np.maximum(0.5 - size - 0.02, 0.0)
    cx = (0.5 + rng.uniform(-1, 1, n) * np.minimum(slack, 0.10)).astype(np.float32)
    cy = (0.5 + rng.uniform(-1, 1, n) * np.minimum(slack, 0.10)).astype(np.float32)
    bg = rng.integers(0, len(COLOURS), n)
    return {
        "cls": cls.astype(np.int64),
        "bg": bg.astype(np.int64),
        "colour": _other_colour(rng, bg),
        "size": size,
        "cx": cx,
        "cy": cy,
        "rot": _rot(rng, n, -20, 20),
        "style": np.zeros(n, np.int64),
        "grad": rng.uniform(0, 2 * np.pi, n).astype(np.float32),  # background gradient direction
        "clutter": np.zeros(n, np.int64),
        "occl": np.zeros(n, np.int64),                 # bg-coloured occluders drawn over the object
        "noise": np.full(n, 0.015, np.float32),        # sensor noise std (0..1 scale)
        "seed": rng.integers(0, 2**31 - 1, n).astype(np.int64),  # per-image texture/noise seed
    }


def _make_hard(rng: np.random.Generator, p: Params, frac: float) -> Params:
    """Occlusion and sensor noise on a fraction of the images: some become genuinely ambiguous,
    so no model reaches 100% on the reference distribution (its Bayes error is not zero)."""
    n = len(p["cls"])
    hard = rng.random(n) < frac
    p["occl"] = np.where(hard, rng.integers(1, 3, n), 0).astype(np.int64)
    p["noise"] = np.where(hard, rng.uniform(0.03, 0.10, n), p["noise"]).astype(np.float32)
    return p


def balanced_classes(rng: np.random.Generator, n: int) -> np.ndarray:
    """Exactly n / len(CLASSES) images per class, in random order."""
    assert n % len(CLASSES) == 0, f"eval sets need a multiple of {len(CLASSES)} images"
    return rng.permutation(np.repeat(np.arange(len(CLASSES)), n // len(CLASSES))).astype(np.int64)


def _fix_style_backgrounds(rng: np.random.Generator, p: Params) -> Params:
    st = p["style"]
    sketch = st == STYLES.index("sketch")
    neon = st == STYLES.index("neon")
    p["bg"][sketch] = WHITE
    p["bg"][neon] = BLACK
    clash = p["colour"] == p["bg"]
    p["colour"][clash] = _other_colour(rng, p["bg"][clash])
    # neon needs a bright tube colour
    bad = neon & np.isin(p["colour"], [BLACK, COLOURS.index("brown"), COLOURS.index("gray")])
    p["colour"][bad] = rng.choice([0, 1, 2, 3, 4, 5, 6, 7, 9], int(bad.sum()))
    return p


def sample_pretrain(rng: np.random.Generator, n: int, cfg: WorldConfig = WorldConfig()) -> Params:
    """Broad captioned data: every style, backgrounds independent of the class."""
    p = _make_hard(rng, _base(rng, n), cfg.pretrain_hard)
    probs = np.array([0.35] + [0.13] * 5)
    p["style"] = rng.choice(len(STYLES), n, p=probs / probs.sum())
    wide = rng.random(n) < 0.4
    p["rot"][wide] = _rot(rng, int(wide.sum()), -180, 180)
    small = rng.random(n) < 0.15
    p["size"][small] = rng.uniform(0.16, 0.24, int(small.sum()))
    p["clutter"] = (rng.random(n) < 0.15).astype(np.int64)
    return _fix_style_backgrounds(rng, p)


def sample_reference(rng: np.random.Generator, n: int, cfg: WorldConfig = WorldConfig(),
                     cls: Optional[np.ndarray] = None) -> Params:
    """Photo-like reference distribution; background colour = class colour with prob ``cfg.shortcut``;
    a fraction ``cfg.hard`` of the images occluded and noisy."""
    p = _make_hard(rng, _base(rng, n, cls), cfg.hard)
    use = rng.random(n) < cfg.shortcut
    p["bg"][use] = np.array(CLASS_BG)[p["cls"][use]]
    p["colour"] = _other_colour(rng, p["bg"])
    return p


def sample_v2(rng: np.random.Generator, n: int, cfg: WorldConfig, cls: np.ndarray) -> Params:
    """Reference re-sampled with small drift (like ImageNetV2: same recipe, new collection): the same
    shortcut rate, slightly smaller objects, wider pose."""
    p = sample_reference(rng, n, cfg, cls)
    p["size"] = rng.uniform(0.20, 0.37, n).astype(np.float32)
    p["rot"] = _rot(rng, n, -28, 28)
    return p


def sample_sketch(rng: np.random.Generator, n: int, cfg: WorldConfig, cls: np.ndarray) -> Params:
    p = _make_hard(rng, _base(rng, n, cls), cfg.shift_hard)
    p["style"][:] = STYLES.index("sketch")
    p["rot"] = _rot(rng, n, -30, 30)
    return _fix_style_backgrounds(rng, p)


def sample_rendition(rng: np.random.Generator, n: int, cfg: WorldConfig, cls: np.ndarray) -> Params:
    p = _make_hard(rng, _base(rng, n, cls), cfg.shift_hard)
    p["style"] = rng.choice([STYLES.index(s) for s in ("cartoon", "painting", "neon", "pixel")], n)
    p["rot"] = _rot(rng, n, -30, 30)
    return _fix_style_backgrounds(rng, p)


def sample_adversarial(rng: np.random.Generator, n: int, cfg: WorldConfig, cls: np.ndarray) -> Params:
    """Photo style with the shortcut reversed: background is always another class's colour."""
    p = _make_hard(rng, _base(rng, n, cls), cfg.shift_hard)
    # another colour group (with 10 classes, another class: the same draws as before the knob)
    wrong = (p["cls"] % 10 + 1 + rng.integers(0, 9, n)) % 10
    p["bg"] = np.array(CLASS_BG)[wrong]
    p["colour"] = _other_colour(rng, p["bg"])
    return p


def sample_objectnet(rng: np.random.Generator, n: int, cfg: WorldConfig, cls: np.ndarray) -> Params:
    """Photo style, unusual pose (large rotation), unusual scale/position, background clutter."""
    p = _base(rng, n, cls)
    p["rot"] = _rot(rng, n, 40, 180, both_signs=True)
    small = rng.random(n) < 0.5
    p["size"] = np.where(small, rng.uniform(0.20, 0.26, n), rng.uniform(0.38, 0.44, n)).astype(np.float32)
    slack = np.maximum(0.5 - p["size"], 0.02)
    p["cx"] = (0.5 + rng.uniform(-1, 1, n) * slack * 0.9).astype(np.float32)
    p["cy"] = (0.5 + rng.uniform(-1, 1, n) * slack * 0.9).astype(np.float32)
    p["clutter"][:] = 1
    return p


SHIFT_SAMPLERS = {
    "v2": sample_v2,
    "sketch": sample_sketch,
    "rendition": sample_rendition,
    "adversarial": sample_adversarial,
    "objectnet": sample_objectnet,
}


@dataclass(frozen=True)
class EvalSetInfo:
    id: str
    name: str
    role: str
    analogue: str
    description: str


EVAL_SETS: Tuple[EvalSetInfo, ...] = (
    EvalSetInfo("reference", "Reference (photos)", "reference", "ImageNet",
                "Photo-like shaded shapes, upright (±20°), plain gradient backgrounds. In this distribution "
                "the background colour matches the class 98% of the time (a spurious shortcut)."),
    EvalSetInfo("v2", "Reference v2 (re-sampled)", "shift", "ImageNetV2",
                "The reference distribution re-sampled with small drift: the background shortcut holds only "
                "80% of the time, objects are slightly smaller and rotated up to ±28°."),
    EvalSetInfo("sketch", "Sketch", "shift", "ImageNetSketch",
                "Pencil-like outlines with hatching on white paper; colour mostly gone."),
    EvalSetInfo("rendition", "Renditions", "shift", "ImageNetR",
                "Cartoon, painting, neon-sign and pixel-art renditions of the shapes on arbitrary backgrounds."),
    EvalSetInfo("adversarial", "Adversarial (shortcut reversed)", "shift", "ImageNetA",
                "Photo style, but the background always has the colour associated with a different class."),
    EvalSetInfo("objectnet", "ObjectNet-like", "shift", "ObjectNet",
                "Photo style with unusual pose (40-180° rotation), very small or very large objects, "
                "off-centre placement and background clutter."),
)


def sample_eval_set(set_id: str, rng: np.random.Generator, n: int, cfg: WorldConfig) -> Params:
    cls = balanced_classes(rng, n)
    if set_id == "reference":
        return sample_reference(rng, n, cfg, cls)
    return SHIFT_SAMPLERS[set_id](rng, n, cfg, cls)


# ----------------------------------------------------------------------------- shapes
def _shape_mask(k: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Boolean mask of class ``k`` in object coordinates (u right, v up, unit radius)."""
    r = np.sqrt(u * u + v * v)
    name = CLASSES[k]
    if name == "circle":
        return r < 0.9
    if name == "square":
        return np.maximum(np.abs(u), np.abs(v)) < 0.7
    if name == "triangle":
        # equilateral, apex up, circumradius ~0.95
        return (v > -0.5) & (v < 0.95 - 1.732 * np.abs(u))
    if name == "star":
        th = np.arctan2(u, v)  # 0 at the top
        f = (th * 5 / (2 * np.pi)) % 1.0
        tri = np.abs(f * 2 - 1)  # 1 at a point, 0 between points
        return r < 0.38 + 0.57 * tri ** 1.5
    if name == "cross":
        return ((np.abs(u) < 0.27) & (np.abs(v) < 0.88)) | ((np.abs(v) < 0.27) & (np.abs(u) < 0.88))
    if name == "ring":
        return (r < 0.9) & (r > 0.52)
    if name == "heart":
        x, y = u * 1.2, v * 1.2 + 0.15
        return (x * x + y * y - 1) ** 3 - x * x * y ** 3 < 0
    if name == "arrow":
        shaft = (np.abs(v) < 0.2) & (u > -0.9) & (u < 0.15)
        head = (u >= 0.0) & (u < 0.9) & (np.abs(v) < (0.9 - u) * 0.85)
        return shaft | head
    if name == "moon":
        return (r < 0.88) & (((u - 0.38) ** 2 + (v - 0.18) ** 2) > 0.72 ** 2)
    if name == "diamond":
        return np.abs(u) / 0.58 + np.abs(v) / 0.95 < 1
    return _extra_mask(name, u, v, r)


def _polygon(u: np.ndarray, v: np.ndarray, r: np.ndarray, sides: int, radius: float) -> np.ndarray:
    th = np.arctan2(u, v)  # 0 at the top: a vertex points up
    sector = 2 * np.pi / sides
    off = (th % sector) - sector / 2
    return r * np.cos(off) < radius * np.cos(np.pi / sides)


def _extra_mask(name: str, u: np.ndarray, v: np.ndarray, r: np.ndarray) -> np.ndarray:
    if name == "pentagon":
        return _polygon(u, v, r, 5, 0.92)
    if name == "hexagon":
        return _polygon(u, v, r, 6, 0.9)
    if name == "octagon":
        return _polygon(u, v, r, 8, 0.9)
    if name == "oval":
        return (u / 0.92) ** 2 + (v / 0.55) ** 2 < 1
    if name == "semicircle":
        return (r < 0.92) & (v > -0.25) & ((u * u + (v + 0.25) ** 2) < 0.92 ** 2)
    if name == "trapezoid":
        return (np.abs(v) < 0.55) & (np.abs(u) < 0.88 - 0.4 * (v + 0.55))
    if name == "kite":
        return np.where(v > 0.3, np.abs(u) / 0.6 + (v - 0.3) / 0.6 < 1, np.abs(u) / 0.6 + (0.3 - v) / 1.2 < 1)
    if name == "chevron":
        outer = (v < 0.75 - 0.85 * np.abs(u)) & (np.abs(u) < 0.9)
        inner = v < 0.15 - 0.85 * np.abs(u)
        return outer & ~inner & (v > -0.7)
    if name == "drop":
        return ((u * u + (v + 0.25) ** 2) < 0.6 ** 2) | ((v >= -0.25) & (v < 0.9) & (np.abs(u) < 0.6 * (0.9 - v) / 1.15))
    if name == "rectangle":
        return (np.abs(u) < 0.9) & (np.abs(v) < 0.45)
    raise KeyError(name)


def _interp_matrix(src: int, dst: int) -> np.ndarray:
    """Linear interpolation matrix [dst, src] for smooth low-frequency noise."""
    pos = np.linspace(0, src - 1, dst)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, src - 1)
    w = pos - lo
    m = np.zeros((dst, src), np.float32)
    m[np.arange(dst), lo] += 1 - w
    m[np.arange(dst), hi] += w
    return m


def _lowfreq(rng: np.random.Generator, n: int, res: int, grid: int = 5) -> np.ndarray:
    g = rng.standard_normal((n, grid, grid)).astype(np.float32)
    m = _interp_matrix(grid, res)
    return np.einsum("ij,njk,lk->nil", m, g, m)


def _erode(mask: np.ndarray, t: int) -> np.ndarray:
    out = mask.copy()
    for dy, dx in ((t, 0), (-t, 0), (0, t), (0, -t)):
        out &= np.roll(mask, (dy, dx), axis=(1, 2))
    return out


def _dilate(mask: np.ndarray, t: int) -> np.ndarray:
    out = mask.copy()
    for dy, dx in ((t, 0), (-t, 0), (0, t), (0, -t)):
        out |= np.roll(mask, (dy, dx), axis=(1, 2))
    return out


def _blur(x: np.ndarray, t: int) -> np.ndarray:
    out = x.copy()
    for d in range(1, t + 1):
        for ax in (1, 2):
            out = out + np.roll(x, d, axis=ax) + np.roll(x, -d, axis=ax)
    return out / (1 + 4 * t)


def _render_chunk(p: Params, rng: np.random.Generator) -> np.ndarray:
    n = len(p["cls"])
    S = IMAGE_SIZE * SUPER
    coords = (np.arange(S, dtype=np.float32) + 0.5) / S
    X = np.broadcast_to(coords[None, None, :], (n, S, S))
    Y = np.broadcast_to(coords[None, :, None], (n, S, S))
    style = p["style"]
    pixel = style == STYLES.index("pixel")
    # pixel art: snap the sampling grid to 16x16 blocks
    blk = 2 * SUPER
    Xp = np.where(pixel[:, None, None], (np.floor(X * S / blk) * blk + blk / 2) / S, X)
    Yp = np.where(pixel[:, None, None], (np.floor(Y * S / blk) * blk + blk / 2) / S, Y)
    dx = Xp - p["cx"][:, None, None]
    dy = Yp - p["cy"][:, None, None]
    # painting: wobbly edges
    painting = style == STYLES.index("painting")
    if painting.any():
        wob = _lowfreq(rng, n, S, 6) * 0.018
        dx = dx + np.where(painting[:, None, None], wob, 0)
        dy = dy + np.where(painting[:, None, None], np.transpose(wob, (0, 2, 1)), 0)
    c, s = np.cos(p["rot"])[:, None, None], np.sin(p["rot"])[:, None, None]
    sz = p["size"][:, None, None]
    u = (c * dx + s * dy) / sz
    v = -(-s * dx + c * dy) / sz  # image y goes down; object v goes up
    mask = np.zeros((n, S, S), bool)
    for k in range(len(CLASSES)):
        idx = np.nonzero(p["cls"] == k)[0]
        if len(idx):
            mask[idx] = _shape_mask(k, u[idx], v[idx])

    col = COLOUR_RGB[p["colour"]][:, None, None, :]
    bgc = COLOUR_RGB[p["bg"]][:, None, None, :]
    g = p["grad"]
    ramp = (np.cos(g)[:, None, None] * (X - 0.5) + np.sin(g)[:, None, None] * (Y - 0.5))
    bg_img = bgc * (1.0 + 0.35 * ramp[..., None]) + 0.04 * ramp[..., None]

    # clutter: a few small discs and bars behind the object
    if p["clutter"].any():
        cl = p["clutter"].astype(bool)
        for _ in range(4):
            ax, ay = rng.uniform(0, 1, (2, n)).astype(np.float32)
            rad = rng.uniform(0.04, 0.09, n).astype(np.float32)
            ccol = COLOUR_RGB[rng.integers(0, len(COLOURS), n)][:, None, None, :]
            bar = rng.random(n) < 0.5
            d2 = (X - ax[:, None, None]) ** 2 + (Y - ay[:, None, None]) ** 2
            disc = d2 < (rad ** 2)[:, None, None]
            barm = (np.abs(X - ax[:, None, None]) < rad[:, None, None] * 2.2) & (np.abs(Y - ay[:, None, None]) < 0.025)
            m = np.where(bar[:, None, None], barm, disc) & cl[:, None, None]
            bg_img = np.where(m[..., None], ccol * 0.9 + 0.05, bg_img)

    t = SUPER  # one output pixel
    st = STYLES[int(style[0])]
    assert (style == style[0]).all(), "render chunks are single-style"
    if st == "photo":  # lit from the top-left, specular highlight, drop shadow
        shade = (0.78 + 0.30 * np.clip(-(u - v) * 0.5, -1, 1))[..., None]
        spec = np.exp(-((u + 0.35) ** 2 + (v - 0.35) ** 2) / 0.06)[..., None]
        obj_photo = np.clip(col * shade + 0.35 * spec * (1 - col), 0, 1)
        shadow = np.roll(mask, (2 * SUPER, 2 * SUPER), axis=(1, 2)) & ~mask
        photo_bg = np.where(shadow[..., None], bg_img * 0.6, bg_img)
        img = np.where(mask[..., None], obj_photo, photo_bg)
    elif st == "cartoon":  # flat fill, thick black outline, flat background
        thick = mask & ~_erode(mask, int(1.5 * SUPER))
        img = np.where(mask[..., None], np.clip(col * 1.05, 0, 1), bgc * np.ones_like(bg_img))
        img = np.where(thick[..., None], 0.05, img)
    elif st == "sketch":  # dark colour-tinted pencil outline + hatching on paper
        edge = mask & ~_erode(mask, t)
        paper = 0.93 + 0.03 * ramp[..., None] + np.zeros_like(bg_img)
        hatch = (np.sin((X + Y) * S * 1.4) > 0.55) & mask
        pencil = 0.25 + 0.30 * col
        img = np.where(hatch[..., None], paper * 0.78, paper)
        img = np.where(edge[..., None], pencil, img)
    elif st == "painting":  # textured fill and background, brush streaks
        tex = _lowfreq(rng, n, S, 5)[..., None]
        streak = np.sin((X * np.cos(g)[:, None, None] + Y * np.sin(g)[:, None, None]) * S * 0.9)[..., None]
        paint_obj = np.clip(col * (1 + 0.18 * tex) + 0.05 * streak, 0, 1)
        paint_bg = np.clip(bgc * (1 + 0.22 * tex) + 0.06 * streak, 0, 1)
        img = np.where(mask[..., None], paint_obj, paint_bg)
    elif st == "neon":  # glowing outline tube on dark background
        edge = mask & ~_erode(mask, t)
        glow = _blur(edge.astype(np.float32), 3)[..., None]
        dark = bg_img * 0.5 + 0.03
        img = np.clip(dark + col * glow * 1.6 + edge[..., None] * (0.45 + 0.55 * col), 0, 1)
    else:  # pixel art: flat palette colours on the 16x16 grid, dark outline
        pedge = mask & ~_erode(mask, blk)
        img = np.where(mask[..., None], col, bgc * np.ones_like(bg_img))
        img = np.where(pedge[..., None], col * 0.45, img)

    # occluders: background-coloured blobs over part of the object, so the shape can become ambiguous
    if p["occl"].any():
        for r in range(int(p["occl"].max())):
            on = p["occl"] > r
            ox = p["cx"] + rng.uniform(-0.8, 0.8, n).astype(np.float32) * p["size"]
            oy = p["cy"] + rng.uniform(-0.8, 0.8, n).astype(np.float32) * p["size"]
            orad = rng.uniform(0.25, 0.45, n).astype(np.float32) * p["size"]
            d2 = (X - ox[:, None, None]) ** 2 + (Y - oy[:, None, None]) ** 2
            blob = (d2 < (orad ** 2)[:, None, None]) & on[:, None, None]
            img = np.where(blob[..., None], bgc * np.ones_like(img), img)

    # downsample (anti-aliasing) and add sensor noise (none for pixel art)
    img = img.reshape(n, IMAGE_SIZE, SUPER, IMAGE_SIZE, SUPER, 3).mean(axis=(2, 4))
    noise = rng.standard_normal(img.shape).astype(np.float32) * p["noise"][:, None, None, None]
    img = img + np.where(pixel[:, None, None, None], 0, noise)
    return (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8)


def render(p: Params, chunk: int = 1024) -> np.ndarray:
    """Render parameter rows to uint8 images [N, 32, 32, 3]. Deterministic given ``p``."""
    n = len(p["cls"])
    out = np.empty((n, IMAGE_SIZE, IMAGE_SIZE, 3), np.uint8)
    for a in range(0, n, chunk):
        b = min(n, a + chunk)
        for si in range(len(STYLES)):
            idx = a + np.nonzero(p["style"][a:b] == si)[0]
            if len(idx) == 0:
                continue
            sub = {k: v[idx] for k, v in p.items()}
            rng = np.random.default_rng(np.random.SeedSequence([int(x) for x in sub["seed"][:4]] + [a, b, si]))
            out[idx] = _render_chunk(sub, rng)
    return out


# ----------------------------------------------------------------------------- captions
def size_word(size: np.ndarray) -> np.ndarray:
    return np.digitize(size, [0.27, 0.34])  # 0 small, 1 medium, 2 large


def captions(p: Params, rng: np.random.Generator, cfg: WorldConfig = WorldConfig()) -> List[str]:
    """Describe what is drawn, with attributes randomly dropped (shape named 97% of the time; a
    SYNONYMS class by its own name only ``cfg.weak_name_rate`` of the time, else by its synonym)."""
    n = len(p["cls"])
    name_shape = rng.random(n) < 0.97
    own_name = rng.random(n) < cfg.weak_name_rate
    never = {CLASSES.index(c) for c in UNNAMED_ORDER[:int(cfg.unnamed)]}
    own_name &= ~np.isin(p["cls"], list(never))
    name_style = rng.random(n) < 0.85
    name_colour = rng.random(n) < 0.70
    name_size = rng.random(n) < 0.50
    name_bg = rng.random(n) < 0.60
    sw = size_word(p["size"])
    out: List[str] = []
    for i in range(n):
        st = STYLES[int(p["style"][i])]
        head = STYLE_PHRASE[st] if name_style[i] else ("an image of" if i % 2 else "a picture of")
        words: List[str] = []
        if name_size[i]:
            words.append(SIZE_WORDS[int(sw[i])])
        if name_colour[i]:
            words.append(COLOURS[int(p["colour"][i])])
        cname = CLASSES[int(p["cls"][i])]
        if cname in SYNONYMS and not own_name[i]:
            cname = SYNONYMS[cname]
        words.append(cname if name_shape[i] else "shape")
        cap = f"{head} a {' '.join(words)}"
        if name_bg[i]:
            cap += f" on a {COLOURS[int(p['bg'][i])]} background"
        out.append(cap + ".")
    return out


def vocabulary() -> List[str]:
    """Every word the captions and templates can produce (lower case)."""
    words = set()
    for phrase in list(STYLE_PHRASE.values()) + ["an image of", "a picture of", "on a background", "shape ."]:
        words.update(phrase.split())
    for t in TEMPLATES:
        words.update(t.replace("{}", "").replace(".", " . ").split())
    words.update(CLASSES)
    words.update(SYNONYMS.values())
    words.update(COLOURS)
    words.update(SIZE_WORDS)
    return sorted(words)


def make_set(set_id: str, seed: int, n: int, cfg: WorldConfig = WorldConfig()) -> Tuple[np.ndarray, np.ndarray]:
    """Images and labels of an eval set, deterministic from (set_id, seed, cfg); balanced over classes."""
    tag = [ord(ch) for ch in set_id]
    rng = np.random.default_rng(np.random.SeedSequence([seed, 7, *tag]))
    p = sample_eval_set(set_id, rng, n, cfg)
    return render(p), p["cls"].copy()
