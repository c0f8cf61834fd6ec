"""Export the pair bundle (`wiseft-pair/2`, see docs/bundle-format.md)."""
from __future__ import annotations

import hashlib
import io
import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import onnx
import onnxruntime as ort
import torch
from PIL import Image

from . import world
from .models import CONTEXT_LENGTH, PAD_ID, ImageClassifier, TextEncoder
from .train import to_tensor, MEAN, STD

OPSET = 17
TOL = 1e-4
SPRITE_COLUMNS = 40
ALLOWED_OPS = {
    "Conv", "Reshape", "InstanceNormalization", "Mul", "Add", "Div", "Erf", "ReduceMean", "Sqrt",
    "ReduceSum", "Gemm", "MatMul", "Shape", "Gather", "Unsqueeze", "Concat", "Constant", "Sub",
    "Softmax", "Transpose", "Split", "Cast", "Equal", "Not", "Range", "Slice", "LayerNormalization",
    "Pow", "ConstantOfShape", "Expand", "Where", "Identity", "Squeeze",
}


class _TextWrapper(torch.nn.Module):
    def __init__(self, text: TextEncoder) -> None:
        super().__init__()
        self.text = text

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.text(input_ids)


def _export(module: torch.nn.Module, example: torch.Tensor, path: Path, inputs: List[str], outputs: List[str]) -> None:
    module.eval()
    axes = {n: {0: "batch"} for n in inputs + outputs}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, (example,), str(path), input_names=inputs, output_names=outputs,
                          dynamic_axes=axes, opset_version=OPSET, do_constant_folding=True, dynamo=False,
                          export_params=True, keep_initializers_as_inputs=False)
    m = onnx.load(str(path))
    onnx.checker.check_model(m)
    bad = {n.op_type for n in m.graph.node} - ALLOWED_OPS
    if bad or any(n.domain not in ("", "ai.onnx") for n in m.graph.node):
        raise RuntimeError(f"{path.name}: non-standard ops {bad}")
    for init in m.graph.initializer:
        if init.data_type not in (onnx.TensorProto.FLOAT, onnx.TensorProto.INT64):
            raise RuntimeError(f"{path.name}: initializer {init.name} has dtype {init.data_type}")


def export_classifier(model: ImageClassifier, path: Path) -> None:
    """The single code path used for BOTH checkpoints."""
    _export(model, torch.zeros(2, 3, world.IMAGE_SIZE, world.IMAGE_SIZE), path, ["image"], ["embedding", "logits"])


def graph_signature(path: Path) -> Tuple[List[Tuple[str, int, Tuple[int, ...]]], List[Tuple[str, Tuple[str, ...], Tuple[str, ...]]]]:
    m = onnx.load(str(path))
    inits = sorted((i.name, i.data_type, tuple(i.dims)) for i in m.graph.initializer)
    nodes = [(n.op_type, tuple(n.input), tuple(n.output)) for n in m.graph.node]
    return inits, nodes


def check_identical_graphs(a: Path, b: Path) -> None:
    ia, na = graph_signature(a)
    ib, nb = graph_signature(b)
    if ia != ib:
        raise RuntimeError(f"initializers differ between {a.name} and {b.name}: "
                           f"{sorted(set(ia) ^ set(ib))[:10]}")
    if na != nb:
        raise RuntimeError(f"node lists differ between {a.name} and {b.name}")
    if [n for n in na if n[0] == "Constant"] != [n for n in nb if n[0] == "Constant"]:
        raise RuntimeError("constant nodes differ")


def check_names_match_state_dict(path: Path, model: torch.nn.Module) -> None:
    """Every float initializer is a model parameter under its state_dict name, and vice versa."""
    m = onnx.load(str(path))
    sd = model.state_dict()
    names = {i.name: tuple(i.dims) for i in m.graph.initializer if i.data_type == onnx.TensorProto.FLOAT}
    want = {k: tuple(v.shape) for k, v in sd.items()}
    if names != want:
        raise RuntimeError(f"{path.name}: initializers {sorted(set(names.items()) ^ set(want.items()))[:6]} "
                           "do not match the state_dict")


def ort_session(path: Path) -> ort.InferenceSession:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def verify_classifier(model: ImageClassifier, path: Path, images: np.ndarray) -> float:
    """max |logits_onnx - logits_torch| over ``images`` (also checks batch 1 and 7); raises if > TOL."""
    sess = ort_session(path)
    worst = 0.0
    x = to_tensor(images)
    with torch.no_grad():
        emb_t, log_t = model(x)
    for chunk in (x[:1], x[:7], x):
        emb_o, log_o = sess.run(["embedding", "logits"], {"image": chunk.numpy()})
        n = chunk.shape[0]
        worst = max(worst, float(np.abs(log_o - log_t[:n].numpy()).max()),
                    float(np.abs(emb_o - emb_t[:n].numpy()).max()))
    if worst > TOL:
        raise RuntimeError(f"{path.name}: ONNX vs PyTorch max |diff| {worst:.2e} > {TOL}")
    return worst


def verify_text(text: TextEncoder, path: Path, ids: np.ndarray) -> float:
    sess = ort_session(path)
    with torch.no_grad():
        ref = text(torch.from_numpy(ids)).numpy()
    worst = 0.0
    for n in (1, 7, len(ids)):
        (out,) = sess.run(["text_embedding"], {"input_ids": ids[:n]})
        worst = max(worst, float(np.abs(out - ref[:n]).max()))
    if worst > TOL:
        raise RuntimeError(f"{path.name}: ONNX vs PyTorch max |diff| {worst:.2e} > {TOL}")
    return worst


def write_sprite(images: np.ndarray, path: Path, columns: int = SPRITE_COLUMNS) -> None:
    n, t = images.shape[0], images.shape[1]
    rows = (n + columns - 1) // columns
    sheet = np.zeros((rows * t, columns * t, 3), np.uint8)
    for i in range(n):
        r, c = divmod(i, columns)
        sheet[r * t:(r + 1) * t, c * t:(c + 1) * t] = images[i]
    Image.fromarray(sheet, "RGB").save(path, optimize=True)


def read_sprite(path: Path, count: int, tile: int = 32, columns: int = SPRITE_COLUMNS) -> np.ndarray:
    sheet = np.asarray(Image.open(path).convert("RGB"))
    out = np.empty((count, tile, tile, 3), np.uint8)
    for i in range(count):
        r, c = divmod(i, columns)
        out[i] = sheet[r * tile:(r + 1) * tile, c * tile:(c + 1) * tile]
    return out


def file_entry(path: Path, root: Path) -> Dict[str, object]:
    data = path.read_bytes()
    return {"path": path.relative_to(root).as_posix(), "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


@dataclass
class Member:
    """One fine-tuned endpoint of the bundle (``wiseft-pair/2``), with its recorded sweeps."""
    id: str
    name: str
    kind: str                      # "end-to-end" | "linear-classifier"
    seed: int
    description: str
    model: ImageClassifier
    weight_rows: List[Dict[str, float]]
    output_rows: List[Dict[str, float]]


def _jsonl(rows: Sequence[Dict[str, float]]) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


def recommendations(members: Sequence[Tuple[str, str]], alpha: float, chosen_with: str, validation_seed: int,
                    val_n: int) -> Dict[str, Dict[str, object]]:
    """Each member's ``recommendedAlpha`` (docs/bundle-format.md), by member id.

    ``alpha`` is the build's choice on the validation draw: the best interior α on the 0.1 grid for
    the mean of shifts, from the sweep of the end-to-end member ``chosen_with``. It is never chosen
    on the shipped (test) sets. End-to-end members get it (another fine-tuning seed of the same
    recipe says which member it was chosen with); a linear-classifier member gets none, since no
    α was chosen for it. ``members``: (id, kind) pairs.
    """
    a = round(float(alpha), 2)
    if not (0 < a < 1) or abs(a - float(alpha)) > 1e-9:
        raise ValueError(f"recommended α {alpha} must be strictly between 0 and 1, on the 0.01 grid")
    base = (f"validation draw (seed {validation_seed}, {val_n:,} images per set), "
            "best interior α on the 0.1 grid for the mean of shifts")
    out: Dict[str, Dict[str, object]] = {}
    for mid, kind in members:
        if kind != "end-to-end":
            continue
        out[mid] = {"alpha": a, "chosenOn": base if mid == chosen_with else f"{base}, chosen with {chosen_with}"}
    return out


def recommendations_from_info(info: Mapping[str, object], members: Sequence[Tuple[str, str]]) -> Dict[str, Dict[str, object]]:
    """``recommendations`` from a build's tools/results/world/info.json: tools.build chooses the α on
    the first pipeline seed's end-to-end fine-tune (fine-tuning seed = pipeline seed)."""
    seeds = info["seeds"]
    assert isinstance(seeds, dict)
    return recommendations(members, float(info["recommended_alpha"]), f"e2e-seed{int(seeds['pipeline'][0])}",
                           int(seeds["validation"]), int(info["val_n"]))  # type: ignore[arg-type]


def set_recommendations(manifest: Dict[str, object], recs: Mapping[str, Dict[str, object]]) -> Dict[str, object]:
    """Writes (or removes) each member's ``recommendedAlpha`` in a v2 manifest, in place."""
    for m in manifest["models"]["members"]:  # type: ignore[index]
        m.pop("recommendedAlpha", None)
        if m["id"] in recs:
            m["recommendedAlpha"] = dict(recs[m["id"]])
    return manifest


def write_recommendations(manifest_path: Path, info_path: Path) -> Dict[str, Dict[str, object]]:
    """Adds the build's recommended α (from info.json) to a bundle's manifest.json without rebuilding
    it. Only the manifest changes; the bundle hash (which covers the manifest's bytes) changes with it."""
    manifest = json.loads(manifest_path.read_text())
    info = json.loads(info_path.read_text())
    recs = recommendations_from_info(info, [(m["id"], m["kind"]) for m in manifest["models"]["members"]])
    set_recommendations(manifest, recs)
    manifest_path.write_text(json.dumps(manifest, indent=1) + "\n")
    return recs


def export_bundle(out: Path, zs: ImageClassifier, members: Sequence[Member], text: TextEncoder, tokenizer,
                  logit_scale: float, sets: Dict[str, Tuple[np.ndarray, np.ndarray]], log,
                  description: str, set_descriptions: Dict[str, str],
                  recommended: Optional[Mapping[str, Dict[str, object]]] = None) -> Dict[str, object]:
    """Write a ``wiseft-pair/2`` bundle: one zero-shot model, several fine-tuned members.
    ``recommended``: each member's ``recommendedAlpha`` by id (``recommendations``); none if absent."""
    out.mkdir(parents=True, exist_ok=True)
    for sub in ("eval", "members", "sweeps"):
        (out / sub).mkdir(exist_ok=True)
    probe = np.concatenate([x[:200] for x, _ in sets.values()])
    tmp = {}
    for path, model in [("zeroshot.onnx", zs)] + [(f"members/{m.id}.onnx", m.model) for m in members]:
        p = out / f"{path}.tmp"
        export_classifier(model, p)
        d = verify_classifier(model, p, probe)
        log(f"export {path}: max |ONNX - torch| = {d:.2e}")
        check_names_match_state_dict(p, model)
        tmp[path] = p
    for path in tmp:
        if path != "zeroshot.onnx":
            check_identical_graphs(tmp["zeroshot.onnx"], tmp[path])
    from .tokenizer import encode
    prompts = [t.format(c) for c in world.CLASSES for t in world.TEMPLATES]
    ids = encode(tokenizer, prompts)
    tp = out / "text.onnx.tmp"
    _export(_TextWrapper(text), torch.from_numpy(ids[:2]), tp, ["input_ids"], ["text_embedding"])
    d = verify_text(text, tp, ids)
    log(f"export text.onnx: max |ONNX - torch| = {d:.2e}")
    tmp["text.onnx"] = tp
    for path, p in tmp.items():
        p.replace(out / path)
    tokenizer.save(str(out / "tokenizer.json"))

    member_entries = []
    for m in members:
        sweeps = {}
        for space, rows in (("weight", m.weight_rows), ("output", m.output_rows)):
            sp = out / "sweeps" / f"{m.id}.{space}.jsonl"
            sp.write_text(_jsonl(rows))
            sweeps[space] = file_entry(sp, out)
        member_entries.append({"id": m.id, "name": m.name, "kind": m.kind, "seed": m.seed,
                               "description": m.description, "model": file_entry(out / f"members/{m.id}.onnx", out),
                               "sweeps": sweeps})
        if recommended and m.id in recommended:
            member_entries[-1]["recommendedAlpha"] = dict(recommended[m.id])

    eval_entries = []
    for info in world.EVAL_SETS:
        x, y = sets[info.id]
        sp = out / "eval" / f"{info.id}.png"
        write_sprite(x, sp)
        eval_entries.append({
            "id": info.id, "name": info.name, "role": info.role, "analogue": info.analogue,
            "description": set_descriptions.get(info.id, info.description),
            "sprite": {**file_entry(sp, out), "tile": world.IMAGE_SIZE, "columns": SPRITE_COLUMNS,
                       "count": int(len(x))},
            "labels": [int(v) for v in y],
            "classes": None,
        })
    manifest = {
        "format": "wiseft-pair/2",
        "name": "Shapes world · tiny CLIP",
        "description": description,
        "citation": ("Wortsman, Ilharco, Kim, Li, Kornblith, Roelofs, Gontijo-Lopes, Hajishirzi, Farhadi, "
                     "Namkoong, Schmidt. Robust fine-tuning of zero-shot models. CVPR 2022. "
                     "Model and data: WiSE-FT Explorer shapes world (tools/ in this repository)."),
        "models": {"zeroShot": file_entry(out / "zeroshot.onnx", out), "members": member_entries},
        "io": {"image": "image", "embedding": "embedding", "logits": "logits"},
        "text": {"model": file_entry(out / "text.onnx", out), "tokenizer": "tokenizer.json",
                 "contextLength": CONTEXT_LENGTH, "padId": PAD_ID, "input": "input_ids",
                 "output": "text_embedding"},
        "logitScale": float(logit_scale),
        "templates": list(world.TEMPLATES),
        "classes": list(world.CLASSES),
        "preprocess": {"size": world.IMAGE_SIZE, "resize": "bicubic", "crop": "center",
                       "mean": [MEAN] * 3, "std": [STD] * 3, "layout": "NCHW"},
        "eval": {"sets": eval_entries},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def bundle_bytes(out: Path) -> int:
    return sum(p.stat().st_size for p in out.rglob("*") if p.is_file())


def main(argv: Optional[Sequence[str]] = None) -> int:
    import argparse
    root = Path(__file__).resolve().parent.parent
    p = argparse.ArgumentParser(prog="python -m tools.export",
                                description="Write the build's recommended α (info.json) into a bundle's manifest.json, "
                                            "without rebuilding the bundle.")
    p.add_argument("--manifest", type=Path, default=root / "public/pairs/shapes/manifest.json")
    p.add_argument("--info", type=Path, default=root / "tools/results/world/info.json")
    a = p.parse_args(argv)
    for mid, r in write_recommendations(a.manifest, a.info).items():
        print(f"{mid}: recommended α {r['alpha']} ({r['chosenOn']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
