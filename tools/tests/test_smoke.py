"""Whole pipeline at tiny sizes into a temporary folder (seconds)."""
import hashlib
import json

import numpy as np
import onnx
from PIL import Image

from tools import build, world
from tools.export import check_identical_graphs


def test_smoke_build(tmp_path):
    out = tmp_path / "bundle"
    rc = build.main(["--smoke", "--out", str(out), "--work", str(tmp_path / "work"),
                     "--checkpoints", str(tmp_path / "ck"), "--results-dir", str(tmp_path / "res"),
                     "--docs", str(tmp_path / "docs" / "pipeline.md"), "--plot", str(tmp_path / "docs" / "f.png"),
                     "--readme", str(tmp_path / "README.md"), "--pipeline-seeds", "3", "4"])
    assert rc == 0
    m = json.loads((out / "manifest.json").read_text())
    assert m["format"] == "wiseft-pair/2"
    ids = [x["id"] for x in m["models"]["members"]]
    assert ids == ["e2e-seed3", "e2e-seed4", "linear-seed3"]
    recs = {x["id"]: x.get("recommendedAlpha") for x in m["models"]["members"]}
    assert recs["linear-seed3"] is None
    assert recs["e2e-seed3"]["alpha"] == json.loads((tmp_path / "res" / "world" / "info.json").read_text())["recommended_alpha"]
    assert recs["e2e-seed4"]["chosenOn"].endswith("chosen with e2e-seed3")
    for x in m["models"]["members"]:
        for space in ("weight", "output"):
            rows = [json.loads(l) for l in (out / x["sweeps"][space]["path"]).read_text().splitlines()]
            assert [r["alpha"] for r in rows] == [round(0.05 * i, 2) for i in range(21)]
            assert all(r[f"{s['id']}:n"] == s["sprite"]["count"] for r in rows for s in m["eval"]["sets"])
    assert m["classes"] == list(world.CLASSES)
    assert m["io"] == {"image": "image", "embedding": "embedding", "logits": "logits"}
    members = [x["model"] for x in m["models"]["members"]]
    for entry in (m["models"]["zeroShot"], *members, m["text"]["model"]):
        data = (out / entry["path"]).read_bytes()
        assert len(data) == entry["bytes"]
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        model = onnx.load(str(out / entry["path"]))
        assert model.opset_import[0].version == 17
    for x in members:
        check_identical_graphs(out / "zeroshot.onnx", out / x["path"])
    assert (out / m["text"]["tokenizer"]).exists()
    roles = [s["role"] for s in m["eval"]["sets"]]
    assert roles.count("reference") == 1 and len(roles) == 6
    for s in m["eval"]["sets"]:
        sp = s["sprite"]
        img = Image.open(out / sp["path"])
        assert img.mode in ("RGB", "RGBA")
        rows = (sp["count"] + sp["columns"] - 1) // sp["columns"]
        assert img.size == (sp["columns"] * sp["tile"], rows * sp["tile"])
        assert len(s["labels"]) == sp["count"] == 60
    for x in m["models"]["members"]:
        for space in ("weight", "output"):
            rows = [json.loads(l) for l in (out / x["sweeps"][space]["path"]).read_text().splitlines()]
            for r in rows:
                assert set(r) == {"alpha"} | {f"{s.id}:{k}" for s in world.EVAL_SETS for k in ("top1", "n")}
                assert all(0 <= r[f"{s.id}:top1"] <= 1 for s in world.EVAL_SETS)
    for s in (3, 4):
        assert (tmp_path / "res" / "world" / f"pipeline{s}.npz").exists()
    assert (tmp_path / "ck" / "zeroshot.pt").exists()
    assert all((tmp_path / "ck" / "members" / f"{i}.pt").exists() for i in ids)
    assert "seed 4" in (tmp_path / "docs" / "pipeline.md").read_text()
    assert (tmp_path / "docs" / "pipeline.md").read_text().startswith("# Shapes world v3")
