"""Every seed of the bundled world, fixed on 2026-11-30 before any choice of world v3 was made.

- ``PIPELINE_SEEDS``: each one re-seeds the whole pipeline (the world draw of the pretraining and
  fine-tuning data, pretraining, fine-tuning). The first is the one that ships.
- ``VALIDATION_SEED``: the eval sets on which every choice is made (world design, recipe,
  pretraining length, the α we recommend). ``tools.select`` reads only these.
- ``TEST_SEED``: the eval sets that ship in the bundle. Drawn once, for the final report; never
  read by the selection code (``tools/tests/test_seeds.py`` checks that).
"""
from __future__ import annotations

PIPELINE_SEEDS = (0, 1, 2)
VALIDATION_SEED = 101
TEST_SEED = 20261130
