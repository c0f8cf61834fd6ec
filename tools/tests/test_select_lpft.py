"""The LP-FT selection variant: a linear probe first, then end-to-end steps from the probed head."""
import json

import torch

from tools import select
from tools.models import CLIP
from tools.tokenizer import build_tokenizer


def test_lpft_trains_the_tower_from_a_probed_head(tmp_path):
    torch.manual_seed(0)
    clip = CLIP(build_tokenizer().get_vocab_size())
    ck = tmp_path / "clip.pt"
    torch.save(clip.state_dict(), ck)
    args = ["--clip", str(ck), "--work", str(tmp_path), "--out", str(tmp_path / "out"), "--eval-n", "60", "--tag", "t"]
    assert select.main(args + ["--variant", "kind=lpft,n=256,epochs=1"]) == 0
    assert select.main(args + ["--variant", "n=256,epochs=1"]) == 0
    res = json.loads((tmp_path / "out" / "t__kind-lpft_n-256_epochs-1.json").read_text())
    assert res["recipe"]["kind"] == "lpft" and [r["alpha"] for r in res["weight"]][-1] == 1.0
    lpft = torch.load(tmp_path / "sel_0_kind-lpft_n-256_epochs-1.pt")
    plain = torch.load(tmp_path / "sel_0_n-256_epochs-1.pt")
    heads = [k for k in lpft if k.startswith("head.")]
    tower = [k for k in lpft if not k.startswith("head.")]
    # The probe moved the head before the end-to-end steps, and those steps moved the tower.
    assert any(not torch.equal(lpft[k], plain[k]) for k in heads)
    assert any(not torch.equal(lpft[k], plain[k]) for k in tower)
