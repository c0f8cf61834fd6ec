"""ONNX export of the image classifiers and the text encoder, the identical-graph check, fp16, and
the ONNX-vs-PyTorch check.

Identical graphs. The TorchScript exporter's `deduplicate_initializers` pass merges initializers
whose *values* are equal (e.g. LayerNorm weights that are all ones at init). Which tensors get
merged depends on the values, so the zero-shot and fine-tuned exports could differ in structure.
`torch.onnx.export` skips that pass when `keep_initializers_as_inputs=True` (documented in its
docstring). We export that way, then remove the initializers from the graph inputs (plain IR >= 4
initializers again). Everything else the exporter does (tracing, constant folding of weight
transposes into `onnx::MatMul_NNN` initializers, naming) depends only on the module structure and
the example input's shape, never on parameter values, and both checkpoints go through the same
function with the same example input. `check_identical_graphs` then verifies the result: same
inputs/outputs, same nodes (full NodeProto bytes, attributes included, like the app compares them),
same initializer names, dtypes and shapes; it names the first mismatching tensors otherwise.
"""
from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
TWO_GB = 2 * 1024 ** 3
FP16_MAX = 65504.0
EXTERNAL_DATA_BYTES = TWO_GB - 64 * 1024 ** 2  # protobuf's 2 GB limit, with room for the graph


class ImageClassifier(torch.nn.Module):
    """image -> (embedding = normalize(encode_image(image)), logits = head(embedding))."""

    def __init__(self, visual: torch.nn.Module, head_weight: torch.Tensor, head_bias: torch.Tensor) -> None:
        super().__init__()
        self.visual = visual
        self.head = torch.nn.Linear(head_weight.shape[1], head_weight.shape[0])
        with torch.no_grad():
            self.head.weight.copy_(head_weight)
            self.head.bias.copy_(head_bias)

    def forward(self, image: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        f = self.visual(image)
        e = f / f.norm(dim=-1, keepdim=True)
        return e, self.head(e)


@torch.no_grad()
def zeroshot_head(text: torch.nn.Module, tokenize, classes: Sequence[str], templates: Sequence[str],
                  logit_scale: float, batch: int = 256, log=print) -> Tuple[torch.Tensor, torch.Tensor]:
    """wise-ft's zero-shot head: per class, embed every template, L2-normalise, average, renormalise;
    weight = logit_scale * [C, D], bias zeros."""
    rows = []
    prompts_per_class = len(templates)
    per_batch = max(1, batch // prompts_per_class)
    for i in range(0, len(classes), per_batch):
        chunk = classes[i:i + per_batch]
        prompts = [t.replace("{}", c) for c in chunk for t in templates]
        ids = torch.from_numpy(tokenize(prompts))
        emb = text(ids).float()
        emb = emb / emb.norm(dim=-1, keepdim=True)
        emb = emb.view(len(chunk), prompts_per_class, -1).mean(dim=1)
        rows.append(emb / emb.norm(dim=-1, keepdim=True))
        if len(classes) > 50 and (i // per_batch) % 20 == 0:
            log(f"  zero-shot head: {i + len(chunk)}/{len(classes)} classes")
    w = torch.cat(rows) * logit_scale
    return w, torch.zeros(w.shape[0])


# ---------------------------------------------------------------------------------------------


def _torch_export(module: torch.nn.Module, example: torch.Tensor, path: Path, inputs: List[str], outputs: List[str],
                  dedup_guard: bool = True) -> None:
    module.eval()
    axes = {n: {0: "batch"} for n in inputs + outputs}
    fast = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)  # the fused MHA kernel has no ONNX export
    try:
      with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, (example,), str(path), input_names=inputs, output_names=outputs,
                          dynamic_axes=axes, opset_version=OPSET, do_constant_folding=True, dynamo=False,
                          export_params=True, keep_initializers_as_inputs=dedup_guard)
    finally:
        torch.backends.mha.set_fastpath_enabled(fast)


def _strip_initializer_inputs(m: onnx.ModelProto) -> None:
    names = {t.name for t in m.graph.initializer}
    keep = [v for v in m.graph.input if v.name not in names]
    del m.graph.input[:]
    m.graph.input.extend(keep)


def to_fp16_weights(m: onnx.ModelProto) -> None:
    """Weights-only fp16: every float32 initializer with more than one element is stored as
    float16 under its own name, followed by `Cast(to=float32)` -> `<name>__f32`, which its
    consumers read. Compute stays float32. Deterministic in the graph structure only."""
    g = m.graph
    casts = []
    for t in g.initializer:
        if t.data_type != TensorProto.FLOAT or int(np.prod(t.dims)) <= 1:
            continue
        a = numpy_helper.to_array(t)
        big = float(np.abs(a).max()) if a.size else 0.0
        if not np.isfinite(a).all() or big > FP16_MAX:
            raise ValueError(f"initializer '{t.name}' has |value| {big:.3g} beyond float16's range; export without --fp16")
        h = numpy_helper.from_array(a.astype(np.float16), t.name)
        t.CopyFrom(h)
        wide = t.name + "__f32"
        for n in g.node:
            for i, x in enumerate(n.input):
                if x == t.name:
                    n.input[i] = wide
        casts.append(helper.make_node("Cast", [t.name], [wide], name=t.name + "__cast", to=TensorProto.FLOAT))
    nodes = casts + list(g.node)
    del g.node[:]
    g.node.extend(nodes)


def save_model(m: onnx.ModelProto, path: Path) -> None:
    """Saves with external data (`<file>.data`) when the tensors exceed 2 GB (protobuf's limit)."""
    size = sum(len(t.raw_data) for t in m.graph.initializer)
    if size > EXTERNAL_DATA_BYTES:
        onnx.save_model(m, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
                        location=path.name + ".data", size_threshold=1024)
    else:
        onnx.save_model(m, str(path))


def export_onnx(module: torch.nn.Module, example: torch.Tensor, path: Path, inputs: List[str], outputs: List[str],
                fp16: bool = False, dedup_guard: bool = True) -> None:
    """The single code path for every exported model (both checkpoints, and the text encoder)."""
    with tempfile.TemporaryDirectory(dir=str(path.parent)) as tmp:
        raw = Path(tmp) / "raw.onnx"
        _torch_export(module, example, raw, inputs, outputs, dedup_guard=dedup_guard)
        m = onnx.load(str(raw), load_external_data=True)
    _strip_initializer_inputs(m)
    if fp16:
        to_fp16_weights(m)
    save_model(m, path)
    onnx.checker.check_model(str(path))


# ---------------------------------------------------------------------------------------------


def graph_signature(path: Path):
    m = onnx.load(str(path), load_external_data=False)
    g = m.graph
    inits = [(t.name, t.data_type, tuple(t.dims)) for t in g.initializer]
    nodes = [n.SerializeToString(deterministic=True) for n in g.node]
    io_ = ([v.SerializeToString(deterministic=True) for v in g.input], [v.SerializeToString(deterministic=True) for v in g.output])
    return inits, nodes, io_, g


def check_identical_graphs(a: Path, b: Path) -> None:
    """Raises naming the first mismatching tensors / nodes unless only initializer values differ."""
    ia, na, ioa, ga = graph_signature(a)
    ib, nb, iob, gb = graph_signature(b)
    da, db = {x[0]: x for x in ia}, {x[0]: x for x in ib}
    problems = []
    for name in da:
        if name not in db:
            problems.append(f"'{name}' {da[name][1:]} only in {a.name}")
        elif da[name] != db[name]:
            problems.append(f"'{name}' dtype/shape {da[name][1:]} in {a.name} vs {db[name][1:]} in {b.name}")
    problems += [f"'{n}' {db[n][1:]} only in {b.name}" for n in db if n not in da]
    if problems:
        raise RuntimeError(f"{a.name} and {b.name} differ in {len(problems)} initializer(s); first: " + "; ".join(problems[:4]))
    if [x[0] for x in ia] != [x[0] for x in ib]:
        raise RuntimeError(f"{a.name} and {b.name} list their initializers in different orders")
    if ioa != iob:
        raise RuntimeError(f"{a.name} and {b.name} have different graph inputs/outputs")
    if len(na) != len(nb):
        raise RuntimeError(f"{a.name} has {len(na)} nodes, {b.name} has {len(nb)}")
    for i, (x, y) in enumerate(zip(na, nb)):
        if x != y:
            n1, n2 = ga.node[i], gb.node[i]
            raise RuntimeError(f"node #{i} differs: {n1.op_type}({', '.join(n1.input)}) in {a.name} vs "
                               f"{n2.op_type}({', '.join(n2.input)}) in {b.name}")


def ort_session(path: Path) -> ort.InferenceSession:
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), sess_options=so, providers=["CPUExecutionProvider"])


def fp16_rounded(module: torch.nn.Module) -> torch.nn.Module:
    """A copy whose parameters went through float16 (the reference for weights-only fp16 exports)."""
    import copy
    m = copy.deepcopy(module)
    with torch.no_grad():
        for p in m.parameters():
            if p.dtype == torch.float32 and p.numel() > 1:
                p.copy_(p.half().float())
    return m


@torch.no_grad()
def compare_classifier(model: torch.nn.Module, path: Path, images: np.ndarray) -> Dict[str, float]:
    """max |ONNX - PyTorch| for logits and embedding, over the whole batch and a batch of 1."""
    sess = ort_session(path)
    x = torch.from_numpy(images)
    emb_t, log_t = model(x)
    out = {"logits": 0.0, "embedding": 0.0}
    for chunk in (images[:1], images):
        emb_o, log_o = sess.run(["embedding", "logits"], {"image": chunk})
        n = chunk.shape[0]
        out["logits"] = max(out["logits"], float(np.abs(log_o - log_t[:n].numpy()).max()))
        out["embedding"] = max(out["embedding"], float(np.abs(emb_o - emb_t[:n].numpy()).max()))
    return out


@torch.no_grad()
def compare_text(text: torch.nn.Module, path: Path, ids: np.ndarray) -> Dict[str, float]:
    sess = ort_session(path)
    ref = text(torch.from_numpy(ids)).float().numpy()
    worst = 0.0
    for chunk in (ids[:1], ids):
        (o,) = sess.run(["text_embedding"], {"input_ids": chunk})
        worst = max(worst, float(np.abs(o - ref[: len(chunk)]).max()))
    scale = float(np.abs(ref).max())
    return {"text_embedding": worst, "text_scale": scale}
