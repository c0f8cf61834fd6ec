"""tools.training_folder: the photos a linear probe in the page can train on."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tools import world
from tools.seeds import TEST_SEED
from tools.training_folder import write_folder


def test_writes_one_png_per_photo_under_its_class_folder(tmp_path: Path) -> None:
    labels = write_folder(tmp_path, 30)
    files = sorted(tmp_path.glob("*/*.png"))
    assert len(files) == 30
    assert {f.parent.name for f in files} <= set(world.CLASSES)
    assert sorted(world.CLASSES.index(f.parent.name) for f in files) == sorted(labels.tolist())
    img = Image.open(files[0])
    assert img.size == (32, 32) and img.mode == "RGB"


def test_the_same_seed_gives_the_same_images_and_another_seed_others(tmp_path: Path) -> None:
    write_folder(tmp_path / "a", 10)
    write_folder(tmp_path / "b", 10)
    write_folder(tmp_path / "c", 10, seed=8)
    read = lambda d: [np.asarray(Image.open(f)) for f in sorted(d.glob("*/*.png"))]
    assert all((x == y).all() for x, y in zip(read(tmp_path / "a"), read(tmp_path / "b")))
    assert any((x != y).any() for x, y in zip(read(tmp_path / "a"), read(tmp_path / "c")))


def test_refuses_the_pipeline_seeds(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="one of the pipeline's seeds"):
        write_folder(tmp_path, 5, seed=TEST_SEED)
