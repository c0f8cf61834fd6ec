"""Hugging Face transformers CLIP at random init: small config end to end, the identical-graph
guarantee, fp16, refusal when the check fails, eval folders; and the real ViT-B/32 config once."""
import json
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from tools.clip_export import cli, onnx_export as ox, sources, sprites
from tools.clip_export import tokenizer as toks

from .helpers import (B32_VISION, check_manifest, export_args, keep_for_app_tests, make_hf_folder, perturbed_state_dict, random_png,
                      write_lines)

CLASSES = ["cat", "dog", "tiny red bird", "fish"]


@pytest.fixture(scope="module")
def hf_small(tmp_path_factory, clip_tokenizer):
    d = tmp_path_factory.mktemp("hf")
    model = make_hf_folder(d / "model", clip_tokenizer)
    classes = write_lines(d / "classes.txt", CLASSES)
    templates = write_lines(d / "templates.txt", ["a photo of a {}.", "a sketch of the {}."])
    return d, model, classes, templates


def _ckpt_with_head(d: Path, model, name="ft.pt", **head):
    sd = perturbed_state_dict(model, prefix="image_encoder.model.")
    if head:
        sd.update({"classification_head.weight": head["w"], "classification_head.bias": head["b"]})
    torch.save(sd, d / name)
    return d / name


def test_hf_small_end_to_end(hf_small, tmp_path):
    d, model, classes, templates = hf_small
    g = torch.Generator().manual_seed(3)
    w, b = torch.randn(len(CLASSES), 16, generator=g), torch.randn(len(CLASSES), generator=g)
    ckpt = _ckpt_with_head(d, model, w=w, b=b)
    out = tmp_path / "bundle"
    args = cli.build_parser().parse_args(["--hf", str(d / "model")] + export_args(out, ckpt, classes, templates))
    res = cli.export_bundle(args)
    m = check_manifest(out)
    # One checkpoint: one member, "fine-tuned", the default endpoint.
    assert [(x["id"], x["kind"], x["model"]["path"]) for x in m["models"]["members"]] == [("fine-tuned", "end-to-end", "members/fine-tuned.onnx")]
    assert m["text"]["contextLength"] == 77 and m["text"]["padId"] == 49407  # transformers pads CLIP with <|endoftext|>
    assert m["preprocess"]["size"] == 32 and m["classes"] == CLASSES
    assert m["preprocess"]["mean"] == list(sources.OPENAI_MEAN)
    assert res["check"]["zeroshot.logits"] < 1e-3 and res["check"]["finetuned.logits"] < 1e-3
    # the fine-tuned model carries the checkpoint's own head; the zero-shot one the text head
    ft = onnx.load(str(out / "members" / "fine-tuned.onnx"))
    inits = {t.name: onnx.numpy_helper.to_array(t) for t in ft.graph.initializer}
    np.testing.assert_allclose(inits["head.bias"], b.numpy(), atol=1e-7)
    zs = {t.name: onnx.numpy_helper.to_array(t) for t in onnx.load(str(out / "zeroshot.onnx")).graph.initializer}
    assert np.abs(zs["head.bias"]).max() == 0
    np.testing.assert_allclose(np.linalg.norm(zs["head.weight"], axis=1), m["logitScale"], rtol=1e-5)
    # I/O names and dtypes, dynamic batch
    assert [i.name for i in ft.graph.input] == ["image"] and [o.name for o in ft.graph.output] == ["embedding", "logits"]
    assert ft.graph.input[0].type.tensor_type.shape.dim[0].dim_param
    # tokenizer.json in the bundle tokenizes like the folder's transformers tokenizer
    from tokenizers import Tokenizer
    from transformers import AutoTokenizer
    tok = Tokenizer.from_file(str(out / "tokenizer.json"))
    hf = AutoTokenizer.from_pretrained(str(d / "model"))
    s = ["a photo of a dog.", "It's 2 cats & a bird!"]
    ref = hf(s, padding="max_length", max_length=77)["input_ids"]
    np.testing.assert_array_equal(toks.encode(tok, s), np.array(ref))
    # fixture
    fx = json.loads((out / "fixture.json").read_text())
    assert fx["format"] == "wiseft-fixture/1" and len(fx["images"]) == 3
    assert len(fx["logits"]["0.5"]) == 3 and len(fx["logits"]["1"][0]) == len(CLASSES)
    assert len(fx["text"]["ids"][0]) == 77


def test_identical_graph_guarantee(hf_small, tmp_path):
    """At random init every LayerNorm weight is 1 and bias 0: torch.onnx's value-based initializer
    dedup merges them in the zero-shot export but not in the perturbed fine-tuned one. The guard
    (keep_initializers_as_inputs=True, then stripped) keeps both graphs identical."""
    d, model, classes, templates = hf_small
    src = sources.load_hf(str(d / "model"))
    w = torch.randn(3, 16)
    zs = ox.ImageClassifier(src.visual, w, torch.zeros(3)).eval()
    import copy
    ft = copy.deepcopy(zs)
    ft.load_state_dict(perturbed_state_dict(zs))
    x = torch.zeros(2, 3, 32, 32)
    for guard in (False, True):
        for name, mdl in (("zs", zs), ("ft", ft)):
            ox.export_onnx(mdl, x, tmp_path / f"{name}{guard}.onnx", ["image"], ["embedding", "logits"], dedup_guard=guard)
    with pytest.raises(RuntimeError, match=r"differ in \d+ initializer\(s\); first: 'visual\.vision_model\."):
        ox.check_identical_graphs(tmp_path / "zsFalse.onnx", tmp_path / "ftFalse.onnx")
    ox.check_identical_graphs(tmp_path / "zsTrue.onnx", tmp_path / "ftTrue.onnx")
    # initializers are graph initializers only (not inputs), and nothing was merged
    m = onnx.load(str(tmp_path / "zsTrue.onnx"))
    assert [i.name for i in m.graph.input] == ["image"]
    assert "visual.vision_model.pre_layrnorm.weight" in {t.name for t in m.graph.initializer}
    # a graph that really differs is named
    other = ox.ImageClassifier(src.visual, torch.randn(5, 16), torch.zeros(5)).eval()
    ox.export_onnx(other, x, tmp_path / "other.onnx", ["image"], ["embedding", "logits"])
    with pytest.raises(RuntimeError, match=r"'head.weight'.*\(3, 16\).*\(5, 16\)"):
        ox.check_identical_graphs(tmp_path / "zsTrue.onnx", tmp_path / "other.onnx")


def test_fp16_weights_only(hf_small, tmp_path):
    d, model, classes, templates = hf_small
    ckpt = _ckpt_with_head(d, model, name="ft_nohead.pt")
    out = tmp_path / "b16"
    args = cli.build_parser().parse_args(["--hf", str(d / "model"), "--fp16"] + export_args(out, ckpt, classes, templates))
    res = cli.export_bundle(args)
    check_manifest(out)
    m = onnx.load(str(out / "members" / "fine-tuned.onnx"))
    halves = [t for t in m.graph.initializer if t.data_type == onnx.TensorProto.FLOAT16]
    assert len(halves) > 10 and all(t.data_type != onnx.TensorProto.FLOAT or np.prod(t.dims) <= 1 for t in m.graph.initializer)
    casts = {n.input[0] for n in m.graph.node if n.op_type == "Cast"}
    assert all(t.name in casts for t in halves)  # every fp16 weight is widened by a Cast right away
    assert res["check"]["finetuned.logits"] < 1e-3
    assert (out / "zeroshot.onnx").stat().st_size < 0.6 * (2 * sum(p.numel() for p in model.vision_model.parameters()) * 4)


def test_refuses_when_check_fails(hf_small, tmp_path, monkeypatch):
    d, model, classes, templates = hf_small
    ckpt = _ckpt_with_head(d, model, name="ft2.pt")
    real = ox.compare_classifier

    def wrong_model(mdl, path, images):  # PyTorch reference swapped for a different model
        import copy
        bad = copy.deepcopy(mdl)
        with torch.no_grad():
            bad.head.weight.mul_(1.5)
        return real(bad, path, images)

    monkeypatch.setattr(ox, "compare_classifier", wrong_model)
    out = tmp_path / "refused"
    args = cli.build_parser().parse_args(["--hf", str(d / "model")] + export_args(out, ckpt, classes, templates))
    with pytest.raises(cli.CheckFailed, match="NOT written"):
        cli.export_bundle(args)
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".clip-export-")]  # staging cleaned up
    assert cli.main(["--hf", str(d / "model")] + export_args(out, ckpt, classes, templates)) == 1


def test_eval_folder_with_class_subset(hf_small, tmp_path):
    d, model, classes, templates = hf_small
    ckpt = _ckpt_with_head(d, model, name="ft3.pt")
    ev = tmp_path / "eval"
    layout = {"photos": ["cat", "dog", "tiny_red_bird", "fish"], "sketches": ["cat", "dog"]}
    n = 0
    for s, cls in layout.items():
        for c in cls:
            (ev / s / c).mkdir(parents=True)
            for k in range(2):
                random_png(ev / s / c / f"{k}.png", 40 + 7 * n, 33 + 3 * k, n)
                n += 1
    out = tmp_path / "bev"
    args = cli.build_parser().parse_args(["--hf", str(d / "model")] + export_args(
        out, ckpt, classes, templates, eval_folder=ev, reference="sketches", analogue="sketches=ImageNetSketch"))
    cli.export_bundle(args)
    m = check_manifest(out)
    sets = m["eval"]["sets"]
    assert [s["id"] for s in sets] == ["sketches", "photos"]
    assert [s["role"] for s in sets] == ["reference", "shift"]
    assert sets[0]["classes"] == [0, 1] and sets[1]["classes"] is None
    assert sets[0]["labels"] == [0, 0, 1, 1] and sets[1]["labels"] == [0, 0, 1, 1, 3, 3, 2, 2]  # folders sorted: fish before tiny_red_bird
    assert sets[0]["analogue"] == "ImageNetSketch"
    from PIL import Image
    sheet = np.asarray(Image.open(out / sets[1]["sprite"]["path"]))
    assert sheet.shape == (32, 8 * 32, 3) and sets[1]["sprite"]["tile"] == 32 and sets[1]["sprite"]["columns"] == 8
    import hashlib
    for s in sets:
        data = (out / s["sprite"]["path"]).read_bytes()
        assert s["sprite"]["bytes"] == len(data) and s["sprite"]["sha256"] == hashlib.sha256(data).hexdigest()
    # tiles are OpenAI CLIP preprocessing (torchvision Resize bicubic + CenterCrop on PIL)
    from torchvision import transforms
    f = sorted((ev / "photos" / "dog").iterdir())[1]
    want = np.asarray(transforms.Compose([transforms.Resize(32, interpolation=transforms.InterpolationMode.BICUBIC),
                                          transforms.CenterCrop(32)])(Image.open(f).convert("RGB")))
    np.testing.assert_array_equal(sheet[:, 3 * 32:4 * 32], want)


def test_pickled_wiseft_style_checkpoint(hf_small, tmp_path):
    """A whole pickled module whose class cannot be imported at load time (like wise-ft's
    ImageClassifier saved with torch.save) loads with --allow-pickle only."""
    import sys, types
    d, model, classes, templates = hf_small
    mod = types.ModuleType("fake_wiseft_models")

    class ImageClassifier(torch.nn.Module):
        def __init__(self, enc):
            super().__init__()
            self.image_encoder = torch.nn.Module()
            self.image_encoder.model = enc
            self.classification_head = torch.nn.Linear(16, 4)

    ImageClassifier.__module__ = "fake_wiseft_models"
    ImageClassifier.__qualname__ = "ImageClassifier"
    mod.ImageClassifier = ImageClassifier
    sys.modules["fake_wiseft_models"] = mod
    try:
        torch.save(ImageClassifier(model), tmp_path / "wiseft.pt")
    finally:
        del sys.modules["fake_wiseft_models"]
    with pytest.raises(ValueError, match="--allow-pickle"):
        sources.load_checkpoint(str(tmp_path / "wiseft.pt"))
    sd = sources.load_checkpoint(str(tmp_path / "wiseft.pt"), allow_pickle=True)
    src = sources.load_hf(str(d / "model"))
    visual, head = sources.split_checkpoint(sd, src)
    assert head is not None and tuple(head[0].shape) == (4, 16)
    assert set(visual) == set(src.visual.state_dict())


@pytest.mark.vit_b32
def test_hf_vit_b32_config_end_to_end(tmp_path, clip_tokenizer):
    """The real ViT-B/32 sized transformers config (CLIPConfig defaults, patch 32) at random init."""
    d = tmp_path
    model = make_hf_folder(d / "model", clip_tokenizer, vision=B32_VISION, text={"vocab_size": 49408}, projection_dim=512)
    torch.save({"state_dict": perturbed_state_dict(model, prefix="module.")}, d / "ft.pt")
    del model
    classes = write_lines(d / "classes.txt", CLASSES)
    templates = write_lines(d / "templates.txt", ["a photo of a {}."])
    out = d / "bundle"
    res = cli.export_bundle(cli.build_parser().parse_args(
        ["--hf", str(d / "model"), "--fixture-images", "1"] + export_args(out, d / "ft.pt", classes, templates)))
    m = check_manifest(out)
    assert m["preprocess"]["size"] == 224 and m["text"]["padId"] == 49407
    assert res["check"]["finetuned.logits"] < 1e-3 and res["check"]["blend0.5.logits"] < 1e-3
    assert 340e6 < m["models"]["zeroShot"]["bytes"] < 360e6
    keep_for_app_tests(out, "hf-vit-b-32")


def test_trimmed_head_encoder_equals_full(hf_small):
    """The zero-shot head encodes prompts cut after the end token (causal towers): same features."""
    d, model, classes, templates = hf_small
    src = sources.load_hf(str(d / "model"))
    ids = torch.from_numpy(toks.encode(src.tokenizer, ["a photo of a cat.", "x " * 60, "a b"]))
    fast = sources.head_text_encoder(src, ids)
    assert fast is not src.text
    with torch.no_grad():
        np.testing.assert_allclose(fast(ids).numpy(), src.text(ids).numpy(), atol=1e-5)


def test_external_data_for_large_models(hf_small, tmp_path, monkeypatch):
    """Models past protobuf's 2 GB limit keep their tensors in <file>.onnx.data (threshold lowered here)."""
    d, model, classes, templates = hf_small
    monkeypatch.setattr(ox, "EXTERNAL_DATA_BYTES", 10_000)
    ckpt = _ckpt_with_head(d, model, name="ft4.pt")
    out = tmp_path / "bext"
    res = cli.export_bundle(cli.build_parser().parse_args(["--hf", str(d / "model")] + export_args(out, ckpt, classes, templates)))
    assert (out / "zeroshot.onnx.data").exists() and (out / "members" / "fine-tuned.onnx.data").exists() and (out / "text.onnx.data").exists()
    assert not list(out.glob("blend*"))
    assert res["check"]["finetuned.logits"] < 1e-3


def test_several_members(hf_small, tmp_path):
    """Two fine-tuned checkpoints: two members, each checked against the zero-shot model, in order."""
    d, model, classes, templates = hf_small
    g = torch.Generator().manual_seed(5)
    a = _ckpt_with_head(d, model, name="e2e_seed0.pt", w=torch.randn(len(CLASSES), 16, generator=g), b=torch.randn(len(CLASSES), generator=g))
    b = _ckpt_with_head(d, model, name="lp_seed1.pt", w=torch.randn(len(CLASSES), 16, generator=g), b=torch.randn(len(CLASSES), generator=g))
    out = tmp_path / "members"
    args = ["--hf", str(d / "model"), "--fixture-images", "1"] + export_args(out, a, classes, templates) + [
        "--finetuned", str(b), "--member-id", "e2e-seed0", "--member-id", "lp-seed1",
        "--member-kind", "end-to-end", "--member-kind", "linear-classifier", "--member-seed", "0", "--member-seed", "1",
        "--member-name", "End-to-end, seed 0", "--member-name", "Linear classifier, seed 1"]
    res = cli.export_bundle(cli.build_parser().parse_args(args))
    m = check_manifest(out)
    assert [(x["id"], x["name"], x["kind"], x["seed"], x["model"]["path"]) for x in m["models"]["members"]] == [
        ("e2e-seed0", "End-to-end, seed 0", "end-to-end", 0, "members/e2e-seed0.onnx"),
        ("lp-seed1", "Linear classifier, seed 1", "linear-classifier", 1, "members/lp-seed1.onnx")]
    assert res["check"]["member:e2e-seed0.logits"] < 1e-3 and res["check"]["member:lp-seed1.logits"] < 1e-3
    heads = [{t.name: onnx.numpy_helper.to_array(t) for t in onnx.load(str(out / x["model"]["path"])).graph.initializer}["head.bias"]
             for x in m["models"]["members"]]
    assert np.abs(heads[0] - heads[1]).max() > 1e-3
    for x in m["models"]["members"]:
        ox.check_identical_graphs(out / "zeroshot.onnx", out / x["model"]["path"])
    keep_for_app_tests(out, "hf-small-members")


def test_member_flags():
    """Ids derived from checkpoint names, and flags given a wrong number of times, refused before any model loads."""
    p = cli.build_parser()
    base = ["--hf", "x", "--classes", "c.txt", "--out", "o"]
    specs = cli.member_specs(p.parse_args(base + ["--finetuned", "runs/E2E Seed0.pt", "--finetuned", "other/e2e seed0.pt", "--finetuned", "lp.seed1.bin"]))
    assert [s.id for s in specs] == ["e2e-seed0", "e2e-seed0-2", "lp.seed1"]
    assert [s.kind for s in specs] == ["end-to-end"] * 3
    one = cli.member_specs(p.parse_args(base + ["--finetuned", "ft.pt"]))
    assert [(s.id, s.name, s.seed) for s in one] == [("fine-tuned", "Fine-tuned", None)]
    with pytest.raises(ValueError, match="--member-kind is given 1 time"):
        cli.member_specs(p.parse_args(base + ["--finetuned", "a.pt", "--finetuned", "b.pt", "--member-kind", "linear-classifier"]))
    with pytest.raises(ValueError, match="duplicate member id 'same'"):
        cli.member_specs(p.parse_args(base + ["--finetuned", "a.pt", "--finetuned", "b.pt", "--member-id", "same", "--member-id", "same"]))
    with pytest.raises(ValueError, match="member id 'Bad Id' must be"):
        cli.member_specs(p.parse_args(base + ["--finetuned", "a.pt", "--member-id", "Bad Id"]))


def test_mismatched_member_refused_naming_it(hf_small, tmp_path):
    """A member whose head has another class count cannot be blended: refused, naming the member."""
    d, model, classes, templates = hf_small
    good = _ckpt_with_head(d, model, name="good.pt")
    bad = _ckpt_with_head(d, model, name="bad.pt", w=torch.randn(len(CLASSES) + 1, 16), b=torch.zeros(len(CLASSES) + 1))
    out = tmp_path / "refused-member"
    args = cli.build_parser().parse_args(["--hf", str(d / "model")] + export_args(out, good, classes, templates) + [
        "--finetuned", str(bad), "--member-id", "good", "--member-id", "five-classes"])
    with pytest.raises(ValueError, match=r"member 'five-classes': the fine-tuned head is \(5, 16\)"):
        cli.export_bundle(args)
    assert not out.exists()
