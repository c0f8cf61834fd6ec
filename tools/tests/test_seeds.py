"""Choices are made on the validation draw only: the selection code never draws a test set, and the
seeds that ship were fixed before any choice (tools/seeds.py)."""
import json

import numpy as np
import pytest
import torch

from tools import seeds, select, world
from tools.models import CLIP
from tools.tokenizer import build_tokenizer


def test_seeds_are_distinct():
    assert seeds.TEST_SEED != seeds.VALIDATION_SEED
    assert seeds.TEST_SEED not in seeds.PIPELINE_SEEDS and seeds.VALIDATION_SEED not in seeds.PIPELINE_SEEDS
    assert len(set(seeds.PIPELINE_SEEDS)) == 3


def test_selection_never_draws_the_test_sets(tmp_path, monkeypatch):
    drawn = []
    real = world.make_set

    def spy(set_id, seed, n, cfg=world.WorldConfig()):
        drawn.append(seed)
        if seed == seeds.TEST_SEED:
            raise AssertionError("the selection code drew a test set")
        return real(set_id, seed, n, cfg)

    monkeypatch.setattr(world, "make_set", spy)
    # the selection module must not even hold the test seed
    assert "TEST_SEED" not in vars(select)
    clip = CLIP(build_tokenizer().get_vocab_size())
    path = tmp_path / "clip.pt"
    torch.save(clip.state_dict(), path)
    rc = select.main(["--clip", str(path), "--variant", "n=256,epochs=1", "--eval-n", "20",
                      "--work", str(tmp_path / "work"), "--out", str(tmp_path / "sel")])
    assert rc == 0
    assert drawn and set(drawn) == {seeds.VALIDATION_SEED}
    res = json.loads(next((tmp_path / "sel").glob("*.json")).read_text())
    assert res["validation_seed"] == seeds.VALIDATION_SEED and len(res["weight"]) == 11
