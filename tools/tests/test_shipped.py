"""The shipped ONNX pair in public/pairs/shapes matches the PyTorch checkpoints in tools/checkpoints."""
import hashlib
import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from PIL import Image

from tools import world
from tools.export import check_identical_graphs
from tools.models import ImageClassifier, TextEncoder, zeroshot_head
from tools.tokenizer import build_tokenizer, encode

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "public" / "pairs" / "shapes"
CKPT = ROOT / "tools" / "checkpoints"

pytestmark = pytest.mark.skipif(not (BUNDLE / "manifest.json").exists(), reason="no shipped bundle")


@pytest.fixture(scope="module")
def manifest():
    return json.loads((BUNDLE / "manifest.json").read_text())


def load_set(m, s):
    sp = s["sprite"]
    sheet = np.asarray(Image.open(BUNDLE / sp["path"]).convert("RGB"))
    t, c = sp["tile"], sp["columns"]
    tiles = np.stack([sheet[(i // c) * t:(i // c + 1) * t, (i % c) * t:(i % c + 1) * t] for i in range(sp["count"])])
    x = tiles.astype(np.float32) / 255.0
    mean = np.array(m["preprocess"]["mean"], np.float32)
    std = np.array(m["preprocess"]["std"], np.float32)
    x = ((x - mean) / std).transpose(0, 3, 1, 2)
    return np.ascontiguousarray(x), np.array(s["labels"])


def torch_model(name):
    model = ImageClassifier(num_classes=len(world.CLASSES))
    model.load_state_dict(torch.load(CKPT / f"{name}.pt"))
    return model.eval()


def test_bundle_files(manifest):
    assert manifest["format"] == "wiseft-pair/1"
    sprites = [s["sprite"] for s in manifest["eval"]["sets"]]
    for entry in (manifest["models"]["zeroShot"], manifest["models"]["fineTuned"], manifest["text"]["model"], *sprites):
        data = (BUNDLE / entry["path"]).read_bytes()
        assert len(data) == entry["bytes"] and hashlib.sha256(data).hexdigest() == entry["sha256"]
    check_identical_graphs(BUNDLE / "zeroshot.onnx", BUNDLE / "finetuned.onnx")
    total = sum(p.stat().st_size for p in BUNDLE.rglob("*") if p.is_file())
    assert total <= 20 * 1024 * 1024
    sets = manifest["eval"]["sets"]
    assert [s["role"] for s in sets].count("reference") == 1
    assert all(s["sprite"]["count"] >= 1000 for s in sets)


@pytest.mark.parametrize("key,name", [("zeroShot", "zeroshot"), ("fineTuned", "finetuned")])
def test_onnx_matches_torch_on_shipped_eval_sets(manifest, key, name):
    sess = ort.InferenceSession(str(BUNDLE / manifest["models"][key]["path"]), providers=["CPUExecutionProvider"])
    model = torch_model(name)
    results = [json.loads(l) for l in (BUNDLE / "results.jsonl").read_text().splitlines()]
    row = results[0] if name == "zeroshot" else results[-1]
    for s in manifest["eval"]["sets"]:
        x, y = load_set(manifest, s)
        emb_o, log_o = sess.run([manifest["io"]["embedding"], manifest["io"]["logits"]], {manifest["io"]["image"]: x})
        with torch.no_grad():
            emb_t, log_t = model(torch.from_numpy(x))
        assert np.abs(log_o - log_t.numpy()).max() <= 1e-4, s["id"]
        assert np.abs(np.linalg.norm(emb_o, axis=1) - 1).max() < 1e-4
        acc_o = float((log_o.argmax(1) == y).mean())
        acc_t = float((log_t.numpy().argmax(1) == y).mean())
        assert acc_o == acc_t, s["id"]
        assert abs(acc_t - row[f"{s['id']}:top1"]) < 1e-9, s["id"]  # results.jsonl was computed on these images


def test_dynamic_batch(manifest):
    sess = ort.InferenceSession(str(BUNDLE / "finetuned.onnx"), providers=["CPUExecutionProvider"])
    x, _ = load_set(manifest, manifest["eval"]["sets"][0])
    full = sess.run(["logits"], {"image": x[:7]})[0]
    one = sess.run(["logits"], {"image": x[:1]})[0]
    assert full.shape == (7, 10) and np.abs(full[:1] - one).max() < 1e-4


def test_text_tower_and_tokenizer(manifest):
    from tokenizers import Tokenizer
    tok_json = Tokenizer.from_file(str(BUNDLE / manifest["text"]["tokenizer"]))
    prompts = [t.format(c) for c in manifest["classes"] for t in manifest["templates"]]
    ids = encode(tok_json, prompts)
    assert np.array_equal(ids, encode(build_tokenizer(), prompts))  # round trip: same ids as training
    assert ids.shape[1] == manifest["text"]["contextLength"]
    meta = json.loads((CKPT / "meta.json").read_text())
    text = TextEncoder(meta["vocab_size"])
    text.load_state_dict(torch.load(CKPT / "text.pt"))
    text.eval()
    sess = ort.InferenceSession(str(BUNDLE / manifest["text"]["model"]["path"]), providers=["CPUExecutionProvider"])
    (out,) = sess.run([manifest["text"]["output"]], {manifest["text"]["input"]: ids})
    with torch.no_grad():
        ref = text(torch.from_numpy(ids)).numpy()
    assert np.abs(out - ref).max() <= 1e-4
    # the zero-shot head is logitScale x normalised template-averaged text embeddings
    c, t = len(manifest["classes"]), len(manifest["templates"])
    e = out.reshape(c, t, -1)
    e = e / np.linalg.norm(e, axis=-1, keepdims=True)
    e = e.mean(1)
    head = manifest["logitScale"] * e / np.linalg.norm(e, axis=-1, keepdims=True)
    zs = torch.load(CKPT / "zeroshot.pt")
    assert np.abs(head - zs["head.weight"].numpy()).max() < 1e-3
    assert np.abs(zs["head.bias"].numpy()).max() == 0
