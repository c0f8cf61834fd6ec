"""The shipped bundle (public/pairs/shapes, wiseft-pair/2) matches the PyTorch checkpoints in
tools/checkpoints, its recorded sweeps were computed on its own eval sets, and its linear-classifier
member shows that interpolating a head is the output-space ensemble."""
import hashlib
import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch
from PIL import Image

from tools import world
from tools.export import check_identical_graphs
from tools.models import ImageClassifier, TextEncoder, count_flops, interpolate
from tools.tokenizer import build_tokenizer, encode

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "public" / "pairs" / "shapes"
CKPT = ROOT / "tools" / "checkpoints"

pytestmark = pytest.mark.skipif(not (BUNDLE / "manifest.json").exists(), reason="no shipped bundle")


@pytest.fixture(scope="module")
def manifest():
    return json.loads((BUNDLE / "manifest.json").read_text())


@pytest.fixture(scope="module")
def sets(manifest):
    return {s["id"]: load_set(manifest, s) for s in manifest["eval"]["sets"]}


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


def torch_model(path):
    model = ImageClassifier(num_classes=len(world.CLASSES))
    model.load_state_dict(torch.load(path))
    return model.eval()


def sweep_rows(member, space):
    return [json.loads(l) for l in (BUNDLE / member["sweeps"][space]["path"]).read_text().splitlines()]


def test_bundle_files(manifest):
    assert manifest["format"] == "wiseft-pair/2"
    members = manifest["models"]["members"]
    assert [m["kind"] for m in members].count("end-to-end") >= 2
    assert [m["kind"] for m in members].count("linear-classifier") == 1
    entries = [manifest["models"]["zeroShot"], manifest["text"]["model"]]
    entries += [s["sprite"] for s in manifest["eval"]["sets"]]
    entries += [m["model"] for m in members] + [m["sweeps"][k] for m in members for k in ("weight", "output")]
    for entry in entries:
        data = (BUNDLE / entry["path"]).read_bytes()
        assert len(data) == entry["bytes"] and hashlib.sha256(data).hexdigest() == entry["sha256"]
    for m in members:
        check_identical_graphs(BUNDLE / manifest["models"]["zeroShot"]["path"], BUNDLE / m["model"]["path"])
    total = sum(p.stat().st_size for p in BUNDLE.rglob("*") if p.is_file())
    assert total <= 25 * 1024 * 1024
    sets = manifest["eval"]["sets"]
    assert [s["role"] for s in sets].count("reference") == 1
    for s in sets:  # at least 1,000 images, exactly balanced over the classes
        counts = np.bincount(s["labels"], minlength=len(manifest["classes"]))
        assert s["sprite"]["count"] >= 1000 and (counts == counts[0]).all(), s["id"]
    assert count_flops(torch_model(CKPT / "zeroshot.pt"))["mflops_total"] <= 20


def test_onnx_matches_torch_and_the_recorded_sweeps(manifest, sets):
    """Each member's ONNX file equals its checkpoint; its recorded sweep's endpoints are these images'
    accuracies; α = 0.5 of the recorded weight-space sweep is reproduced by blending the checkpoints."""
    io = manifest["io"]
    zs_t = torch_model(CKPT / "zeroshot.pt")
    for m in manifest["models"]["members"]:
        ft_t = torch_model(CKPT / "members" / f"{m['id']}.pt")
        rows = sweep_rows(m, "weight")
        assert [r["alpha"] for r in rows] == [round(0.05 * i, 2) for i in range(21)]
        half = ImageClassifier(num_classes=len(world.CLASSES))
        half.load_state_dict(interpolate(zs_t.state_dict(), ft_t.state_dict(), 0.5))
        half.eval()
        for path, model, row in ((manifest["models"]["zeroShot"]["path"], zs_t, rows[0]),
                                 (m["model"]["path"], ft_t, rows[-1])):
            sess = ort.InferenceSession(str(BUNDLE / path), providers=["CPUExecutionProvider"])
            for sid, (x, y) in sets.items():
                emb_o, log_o = sess.run([io["embedding"], io["logits"]], {io["image"]: x})
                with torch.no_grad():
                    log_t = model(torch.from_numpy(x))[1].numpy()
                assert np.abs(log_o - log_t).max() <= 1e-4, (m["id"], sid)
                assert np.abs(np.linalg.norm(emb_o, axis=1) - 1).max() < 1e-4
                assert float((log_o.argmax(1) == y).mean()) == row[f"{sid}:top1"], (m["id"], sid)
                assert row[f"{sid}:n"] == len(y)
        for sid, (x, y) in sets.items():
            with torch.no_grad():
                acc = float((half(torch.from_numpy(x))[1].numpy().argmax(1) == y).mean())
            assert acc == rows[10][f"{sid}:top1"], (m["id"], sid)


def test_linear_classifier_member_is_its_own_output_ensemble(manifest, sets):
    """Logits are linear in the head, and the frozen tower is shared: blending the weights of the
    linear-classifier member *is* the output-space ensemble, for every image and every α."""
    (m,) = [m for m in manifest["models"]["members"] if m["kind"] == "linear-classifier"]
    zs = torch.load(CKPT / "zeroshot.pt")
    lp = torch.load(CKPT / "members" / f"{m['id']}.pt")
    assert all(torch.equal(zs[k], lp[k]) for k in zs if not k.startswith("head."))
    z0, z1 = torch_model(CKPT / "zeroshot.pt"), torch_model(CKPT / "members" / f"{m['id']}.pt")
    x = torch.from_numpy(np.concatenate([v[0][:300] for v in sets.values()]))
    blend = ImageClassifier(num_classes=len(world.CLASSES))
    with torch.no_grad():
        l0, l1 = z0(x)[1], z1(x)[1]
        for a in (0.25, 0.5, 0.8):
            blend.load_state_dict(interpolate(zs, lp, a))
            blend.eval()
            assert torch.allclose(blend(x)[1], (1 - a) * l0 + a * l1, atol=1e-4)
    assert sweep_rows(m, "weight") == sweep_rows(m, "output")


def test_dynamic_batch(manifest, sets):
    m = manifest["models"]["members"][0]
    sess = ort.InferenceSession(str(BUNDLE / m["model"]["path"]), providers=["CPUExecutionProvider"])
    x = sets["reference"][0]
    full = sess.run(["logits"], {"image": x[:7]})[0]
    one = sess.run(["logits"], {"image": x[:1]})[0]
    assert full.shape == (7, len(world.CLASSES)) and np.abs(full[:1] - one).max() < 1e-4


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


def test_recommended_alpha_is_the_builds_validation_choice(manifest):
    """The manifest's recommended α is the one tools.build chose on the validation draw (info.json),
    on every end-to-end member, and on no linear-classifier member (none was chosen for it)."""
    info = json.loads((ROOT / "tools" / "results" / "world" / "info.json").read_text())
    for m in manifest["models"]["members"]:
        if m["kind"] == "end-to-end":
            rec = m["recommendedAlpha"]
            assert rec["alpha"] == info["recommended_alpha"] and 0 < rec["alpha"] < 1
            assert f"seed {info['seeds']['validation']}" in rec["chosenOn"]
            assert f"{info['val_n']:,} images per set" in rec["chosenOn"]
        else:
            assert "recommendedAlpha" not in m
