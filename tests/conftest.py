"""Fixtures shared by the test modules (helpers they import are in helpers.py)."""
import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from helpers import make_reference_checkpoint, minilm_dir as _minilm_dir  # noqa: E402


@pytest.fixture(scope="session")
def tiny_checkpoints(tmp_path_factory):
    root = tmp_path_factory.mktemp("checkpoints")
    backbones = root / "backbones"
    return {kind: make_reference_checkpoint(root / kind, backbones, kind) for kind in ("uni", "bi")}


@pytest.fixture(params=["uni", "bi"])
def kind(request):
    return request.param


@pytest.fixture
def checkpoint_copy(tiny_checkpoints, kind, tmp_path):
    """A private copy of the tiny checkpoint of `kind`, which a test may delete or damage."""
    return Path(shutil.copytree(tiny_checkpoints[kind], tmp_path / kind))


@pytest.fixture(scope="session")
def minilm_dir():
    return _minilm_dir()
