"""Tiny CLIP: a CNN image encoder and a small transformer text encoder."""
from __future__ import annotations

import math
from typing import Dict, List, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

CONTEXT_LENGTH = 16
PAD_ID = 0
EMBED_DIM = 64


class GroupNorm(nn.Module):
    """GroupNorm with affine parameters stored as [C, 1, 1], so the ONNX initializers keep the
    PyTorch parameter names (no constant-folded reshapes with generated names)."""

    def __init__(self, groups: int, channels: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.groups, self.eps = groups, eps
        self.weight = nn.Parameter(torch.ones(channels, 1, 1))
        self.bias = nn.Parameter(torch.zeros(channels, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.group_norm(x, self.groups, eps=self.eps) * self.weight + self.bias


def conv_block(cin: int, cout: int, stride: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False),
        GroupNorm(8, cout),
        nn.GELU(),
    )


class ImageEncoder(nn.Module):
    """Stride-2 stem + five 3x3 conv blocks (32/64/128 channels), GroupNorm, GELU, avg-pool, 128->64."""

    def __init__(self, widths: Sequence[int] = (32, 64, 128), embed_dim: int = EMBED_DIM) -> None:
        super().__init__()
        a, b, c = widths
        self.features = nn.Sequential(
            conv_block(3, a, 2),   # 16x16
            conv_block(a, a, 1),
            conv_block(a, b, 2),   # 8x8
            conv_block(b, b, 1),
            conv_block(b, c, 2),   # 4x4
            conv_block(c, c, 1),
        )
        # stored [in, out] and applied as h @ proj so ONNX keeps the name (no folded transpose)
        self.proj = nn.Parameter(torch.randn(c, embed_dim) * c ** -0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.features(x).mean(dim=(2, 3))
        return h @ self.proj


class ImageClassifier(nn.Module):
    """Image encoder + linear head on the L2-normalised embedding. Returns (embedding, logits)."""

    def __init__(self, num_classes: int = 10, embed_dim: int = EMBED_DIM) -> None:
        super().__init__()
        self.encoder = ImageEncoder(embed_dim=embed_dim)
        self.head = nn.Linear(embed_dim, num_classes, bias=True)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        z = self.encoder(x)
        z = z / torch.sqrt((z * z).sum(dim=-1, keepdim=True))
        return z, self.head(z)


class Block(nn.Module):
    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.out = nn.Linear(width, width)
        self.ln2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width))

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        n, t, w = x.shape
        h = self.heads
        q, k, v = self.qkv(self.ln1(x)).chunk(3, dim=-1)
        q = q.reshape(n, t, h, w // h).transpose(1, 2)
        k = k.reshape(n, t, h, w // h).transpose(1, 2)
        v = v.reshape(n, t, h, w // h).transpose(1, 2)
        att = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(w // h)) + bias
        y = (att.softmax(dim=-1) @ v).transpose(1, 2).reshape(n, t, w)
        x = x + self.out(y)
        return x + self.mlp(self.ln2(x))


class TextEncoder(nn.Module):
    """2-layer width-64 transformer; pools the hidden state at the [EOS] token (last non-pad id)."""

    def __init__(self, vocab_size: int, width: int = 64, layers: int = 2, heads: int = 4,
                 embed_dim: int = EMBED_DIM, context: int = CONTEXT_LENGTH) -> None:
        super().__init__()
        self.tok = nn.Embedding(vocab_size, width)
        self.pos = nn.Parameter(torch.randn(context, width) * 0.01)
        self.blocks = nn.ModuleList([Block(width, heads) for _ in range(layers)])
        self.ln = nn.LayerNorm(width)
        self.proj = nn.Linear(width, embed_dim, bias=False)
        self.context = context

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        valid = (ids != PAD_ID).to(torch.float32)                       # [N, T]
        bias = ((1.0 - valid) * -1e4)[:, None, None, :]                 # mask padded keys
        x = self.tok(ids) + self.pos
        for blk in self.blocks:
            x = blk(x, bias)
        x = self.ln(x)
        last = valid.sum(dim=1, keepdim=True) - 1.0                     # index of [EOS]
        pos = torch.arange(self.context, dtype=torch.float32)[None, :]
        sel = (pos == last).to(torch.float32)[:, :, None]
        return self.proj((x * sel).sum(dim=1))


class CLIP(nn.Module):
    def __init__(self, vocab_size: int) -> None:
        super().__init__()
        self.image = ImageEncoder()
        self.text = TextEncoder(vocab_size)
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))


@torch.no_grad()
def zeroshot_head(text: TextEncoder, class_ids: torch.Tensor, logit_scale: float) -> torch.Tensor:
    """class_ids: [C, T, L] token ids (classes x templates). Returns [C, D] = scale * normalised mean."""
    c, t, l = class_ids.shape
    e = text(class_ids.reshape(c * t, l)).reshape(c, t, -1)
    e = F.normalize(e, dim=-1).mean(dim=1)
    return logit_scale * F.normalize(e, dim=-1)


def build_classifier(clip: CLIP, head_weight: torch.Tensor) -> ImageClassifier:
    m = ImageClassifier(num_classes=head_weight.shape[0])
    m.encoder.load_state_dict(clip.image.state_dict())
    with torch.no_grad():
        m.head.weight.copy_(head_weight)
        m.head.bias.zero_()
    return m


def interpolate(sd0: Dict[str, torch.Tensor], sd1: Dict[str, torch.Tensor], alpha: float) -> Dict[str, torch.Tensor]:
    """WiSE-FT: theta(alpha) = (1 - alpha) * theta_zs + alpha * theta_ft."""
    assert sd0.keys() == sd1.keys()
    return {k: (1 - alpha) * sd0[k] + alpha * sd1[k] if sd0[k].is_floating_point() else sd1[k] for k in sd0}


def count_flops(model: ImageClassifier, size: int = 32) -> Dict[str, float]:
    """Per-image FLOPs, convention FLOPs = 2 x multiply-adds of conv/linear layers; elementwise
    ops (GroupNorm, GELU, pooling, normalisation) counted separately at ~1 FLOP per element op."""
    macs = 0
    elem = 0
    hooks = []

    def conv_hook(mod: nn.Conv2d, inp, out) -> None:
        nonlocal macs
        k = mod.kernel_size[0] * mod.kernel_size[1] * (mod.in_channels // mod.groups)
        macs += out[0].numel() * k

    def lin_hook(mod: nn.Linear, inp, out) -> None:
        nonlocal macs
        macs += out[0].numel() * mod.in_features

    def elem_hook(cost: int):
        def f(mod, inp, out) -> None:
            nonlocal elem
            elem += out[0].numel() * cost
        return f

    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            hooks.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            hooks.append(m.register_forward_hook(lin_hook))
        elif isinstance(m, GroupNorm):
            hooks.append(m.register_forward_hook(elem_hook(8)))   # mean, var, sub, div, affine
        elif isinstance(m, nn.GELU):
            hooks.append(m.register_forward_hook(elem_hook(8)))   # erf-based
    with torch.no_grad():
        model.eval()
        model(torch.zeros(1, 3, size, size))
        proj = model.encoder.proj
        macs += proj.shape[0] * proj.shape[1]
    for h in hooks:
        h.remove()
    params = sum(p.numel() for p in model.parameters())
    return {"macs": float(macs), "flops_matmul": 2.0 * macs, "flops_elementwise": float(elem),
            "mflops_total": (2.0 * macs + elem) / 1e6, "params": float(params)}
