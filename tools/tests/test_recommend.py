"""The recommended α goes from the build's info.json into the manifest: end-to-end members only,
on the 0.01 grid, strictly inside (0, 1), saying what it was chosen on."""
import json

import pytest

from tools.export import recommendations, recommendations_from_info, write_recommendations

INFO = {"recommended_alpha": 0.6, "val_n": 2000, "seeds": {"pipeline": [0, 1, 2], "validation": 101, "test": 7},
        "members": ["e2e-seed0", "e2e-seed1", "linear-seed0"]}
MEMBERS = [("e2e-seed0", "end-to-end"), ("e2e-seed1", "end-to-end"), ("linear-seed0", "linear-classifier")]


def test_end_to_end_members_get_the_validation_choice_and_the_linear_member_none():
    recs = recommendations_from_info(INFO, MEMBERS)
    assert set(recs) == {"e2e-seed0", "e2e-seed1"}
    base = ("validation draw (seed 101, 2,000 images per set), best interior α on the 0.1 grid for the mean "
            "of shifts")
    assert recs["e2e-seed0"] == {"alpha": 0.6, "chosenOn": base}
    assert recs["e2e-seed1"] == {"alpha": 0.6, "chosenOn": f"{base}, chosen with e2e-seed0"}
    assert all(0 < len(r["chosenOn"]) <= 240 for r in recs.values())


@pytest.mark.parametrize("alpha", [0.0, 1.0, -0.1, 0.605, 1.2])
def test_an_alpha_off_the_grid_or_at_an_endpoint_is_refused(alpha):
    with pytest.raises(ValueError):
        recommendations(MEMBERS, alpha, "e2e-seed0", 101, 2000)


def test_write_recommendations_changes_only_the_members_field(tmp_path):
    manifest = {"format": "wiseft-pair/2", "name": "x", "models": {"zeroShot": {"path": "z.onnx"}, "members": [
        {"id": "e2e-seed0", "kind": "end-to-end", "model": {"path": "a.onnx"}},
        {"id": "linear-seed0", "kind": "linear-classifier", "model": {"path": "b.onnx"},
         "recommendedAlpha": {"alpha": 0.3, "chosenOn": "stale"}}]}}
    mp, ip = tmp_path / "manifest.json", tmp_path / "info.json"
    mp.write_text(json.dumps(manifest, indent=1) + "\n")
    ip.write_text(json.dumps(INFO))
    write_recommendations(mp, ip)
    out = json.loads(mp.read_text())
    assert out["models"]["members"][0]["recommendedAlpha"]["alpha"] == 0.6
    assert "recommendedAlpha" not in out["models"]["members"][1]  # none was chosen for it: a stale one goes
    out["models"]["members"][0].pop("recommendedAlpha")
    manifest["models"]["members"][1].pop("recommendedAlpha")
    assert out == manifest
    before = mp.read_text()
    write_recommendations(mp, ip)  # idempotent: the same bytes again
    assert mp.read_text() == before
