"""tools/grad_fixture.py: the rebuilt classifier is the shipped ONNX model, and the written fixture
is the gradient it says it is."""
import json

import numpy as np
import pytest
import torch

from tools import grad_fixture


def test_rebuilt_classifier_matches_the_onnx_model_and_the_fixture_round_trips(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    x, labels = grad_fixture.reference_batch(grad_fixture.PAIR, 4)
    model = grad_fixture.classifier_from_onnx(grad_fixture.PAIR / "zeroshot.onnx")
    with torch.no_grad():
        _, logits = model(torch.from_numpy(x))
    sess = ort.InferenceSession(str(grad_fixture.PAIR / "zeroshot.onnx"))
    want = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, {sess.get_inputs()[0].name: x.astype(np.float32)})))
    assert np.allclose(logits.numpy(), want["logits"], atol=1e-4)

    meta = grad_fixture.write_fixture(tmp_path / "g", count=4)
    blob = np.frombuffer((tmp_path / "g.bin").read_bytes(), dtype="<f4")
    loss, grads = grad_fixture.gradients(model, x, labels)
    assert meta["loss"] == pytest.approx(loss, rel=1e-12)
    assert json.loads((tmp_path / "g.json").read_text())["labels"] == labels.tolist()
    for t in meta["tensors"]:
        g = grads[t["name"]]
        got = blob[t["offset"]:t["offset"] + g.size].reshape(g.shape)
        assert np.allclose(got, g, rtol=1e-6, atol=1e-9), t["name"]
