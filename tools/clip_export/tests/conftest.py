import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

torch.set_num_threads(1)


def pytest_configure(config):
    config.addinivalue_line("markers", "vit_b32: full ViT-B/32-size model (slow: about a minute or two each)")


@pytest.fixture(scope="session")
def clip_tokenizer():
    from tools.clip_export.tokenizer import build_clip_tokenizer
    return build_clip_tokenizer()
