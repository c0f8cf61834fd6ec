"""open_clip ViT-B-32 at random init, exported end to end (fine-tuned = a perturbed copy)."""
import json

import numpy as np
import pytest
import torch

from tools.clip_export import cli

from .helpers import check_manifest, export_args, keep_for_app_tests, perturbed_state_dict, write_lines


@pytest.mark.vit_b32
def test_open_clip_vit_b32_end_to_end(tmp_path):
    import open_clip
    torch.manual_seed(0)
    model = open_clip.create_model("ViT-B-32", pretrained=None)
    # a plain state_dict of the full CLIP model, as DataParallel writes it
    torch.save(perturbed_state_dict(model, prefix="module."), tmp_path / "ft.pt")
    del model
    classes = write_lines(tmp_path / "classes.txt", ["cat", "dog", "airliner", "hot dog", "tabby cat"])
    templates = write_lines(tmp_path / "templates.txt", ["a photo of a {}.", "a drawing of the {}."])
    out = tmp_path / "bundle"
    res = cli.export_bundle(cli.build_parser().parse_args(
        ["--open-clip", "ViT-B-32", "--fixture-images", "2"] + export_args(out, tmp_path / "ft.pt", classes, templates)))
    m = check_manifest(out)
    assert m["preprocess"]["size"] == 224 and m["text"]["padId"] == 0 and m["text"]["contextLength"] == 77
    assert abs(m["logitScale"] - 1 / 0.07) < 1e-3
    for k in ("zeroshot.logits", "finetuned.logits", "blend0.5.logits"):
        assert res["check"][k] < 1e-3, k
    assert res["check"]["text.embedding"] < 1e-3 * max(1, res["check"]["text.scale"])
    fx = json.loads((out / "fixture.json").read_text())
    assert len(fx["images"]) == 2 and len(fx["embedding"]["0"][0]) == 512
    # the zero-shot and fine-tuned logits of the fixture differ (the pair is not degenerate)
    assert np.abs(np.array(fx["logits"]["0"]) - np.array(fx["logits"]["1"])).max() > 1e-3
    keep_for_app_tests(out, "open_clip-vit-b-32")
