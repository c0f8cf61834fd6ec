"""Round 6's world (validation only): the 20-class world with the five synonym classes never named
in pretraining (`WISEFT_WORLD_CLASSES=20`, variant `unnamed=5`). Only their captions change; the
10-class world, which the pair shipped until round 8 was built from, stays bit-identical."""
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from tools import world
from tools.train import pretrain_data

ROOT = str(Path(__file__).resolve().parents[2])
# sha256 of pretrain_data(0, 64) in the 10-class world, recorded at e3a3f7e (the tree the shipped pair
# was built from): any change to the default pretraining draw (images, caption tokens, groups, classes)
# changes it.
DEFAULT_PRETRAIN_DIGEST = "a50c61a056cddb13a2aa9376390b849fd08b92a53d3f029a1ba6687aafd24361"


def _digest(d):
    h = hashlib.sha256()
    for k in sorted(d):
        h.update(k.encode())
        h.update(np.ascontiguousarray(d[k]).tobytes())
    return h.hexdigest()


def test_ten_class_world_is_unchanged():
    """The 10-class world (the default until round 8; `WISEFT_WORLD_CLASSES=10`) stays bit-identical."""
    code = (
        "from tools import world\n"
        "from tools.train import pretrain_data\n"
        "from tools.tests.test_world_unnamed20 import _digest, DEFAULT_PRETRAIN_DIGEST\n"
        "assert _digest(pretrain_data(0, 64)) == DEFAULT_PRETRAIN_DIGEST\n"
        "assert world.WorldConfig().unnamed == 0 and len(world.CLASSES) == 10\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, "WISEFT_WORLD_CLASSES": "10"}, cwd=ROOT)


CHECK_UNNAMED_20 = r"""
import re
import numpy as np
from tools import world
from tools.train import pretrain_data
from tools.tokenizer import build_tokenizer, encode
assert len(world.CLASSES) == 20
cfg = world.WorldConfig(unnamed=5)
never = set(world.UNNAMED_ORDER[:5])
assert never == set(world.SYNONYMS), "the five synonym classes are the unnamed ones"
p = world.sample_pretrain(np.random.default_rng(3), 4000, cfg)
base = world.captions(p, np.random.default_rng(4), world.WorldConfig())
var = world.captions(p, np.random.default_rng(4), cfg)
words = [re.findall(r"\w+", c) for c in var]
syn = []
for c, a, b, w in zip(p["cls"], base, var, words):
    name = world.CLASSES[c]
    if name in never:
        assert not (never & set(w)), b
        syn.append(world.SYNONYMS[name] in w)
    else:
        assert a == b  # the same random stream: only the unnamed classes' captions change
assert np.mean(syn) > 0.9, np.mean(syn)  # described by their synonym (shape named 97% of the time)
assert any(n in re.findall(r"\w+", a) for a in base for n in never)  # the default does name them
# the ten extra shapes keep their own names
extra = [world.CLASSES[c] in w for c, w in zip(p["cls"], words) if world.CLASSES[c] in world.EXTRA_CLASSES]
assert len(extra) > 1000 and np.mean(extra) > 0.9, np.mean(extra)
# the images do not depend on the captions' knob: the same pretraining images, other caption tokens
a, b = pretrain_data(0, 200, world.WorldConfig()), pretrain_data(0, 200, cfg)
assert np.array_equal(a["images"], b["images"]) and np.array_equal(a["cls"], b["cls"])
tok = build_tokenizer()
ids = {tok.token_to_id(n) for n in never}
assert not np.isin(b["ids"], list(ids)).any()
"""


def test_unnamed_synonym_classes_in_the_twenty_class_world():
    env = {**os.environ, "WISEFT_WORLD_CLASSES": "20"}
    subprocess.run([sys.executable, "-c", CHECK_UNNAMED_20], check=True, env=env, cwd=ROOT)
    assert len(world.CLASSES) == 20  # the default world


# Round 7 (validation only): the same world with the five synonym classes named in 0.2% of their
# captions (variant `weak_name_rate=0.002`, no new knob). The name draw is one uniform per caption
# compared with the rate, so a lower rate names a subset of the captions 1% names, and nothing else moves.
CHECK_RARE_NAMES_20 = r"""
import re
import numpy as np
from tools import world
from tools.train import pretrain_data
assert len(world.CLASSES) == 20
cfg = world.WorldConfig(weak_name_rate=0.002)
p = world.sample_pretrain(np.random.default_rng(3), 20000, cfg)
base = world.captions(p, np.random.default_rng(4), world.WorldConfig())
var = world.captions(p, np.random.default_rng(4), cfg)
named = {"base": 0, "var": 0}
for c, a, b in zip(p["cls"], base, var):
    name = world.CLASSES[c]
    if name not in world.SYNONYMS:
        assert a == b
        continue
    in_a, in_b = name in re.findall(r"\w+", a), name in re.findall(r"\w+", b)
    assert in_a or not in_b, (a, b)  # named at 0.2% only where 1% names it too
    assert in_a == in_b or b == a.replace(name, world.SYNONYMS[name]), (a, b)
    named["base"] += in_a
    named["var"] += in_b
assert 0 < named["var"] < named["base"] / 2, named  # rarer, but not silent (round 6 was silent)
a, b = pretrain_data(0, 200, world.WorldConfig()), pretrain_data(0, 200, cfg)
assert np.array_equal(a["images"], b["images"]) and np.array_equal(a["cls"], b["cls"])
"""


def test_rare_names_in_the_twenty_class_world():
    env = {**os.environ, "WISEFT_WORLD_CLASSES": "20"}
    subprocess.run([sys.executable, "-c", CHECK_RARE_NAMES_20], check=True, env=env, cwd=ROOT)


def test_synonym_head_prompts_differ_only_for_the_synonym_classes():
    import torch
    from tools.train import template_ids

    base = template_ids()
    assert torch.equal(template_ids(list(world.CLASSES)), base)
    syn = template_ids([world.SYNONYMS.get(c, c) for c in world.CLASSES])
    changed = [world.CLASSES[k] for k in range(len(world.CLASSES)) if not torch.equal(syn[k], base[k])]
    assert sorted(changed) == sorted(world.SYNONYMS)
