"""Tiny models train fastest on one thread, and 8 engineers share this machine's 2 cores."""

import os
import sys
from pathlib import Path

import torch

os.environ.setdefault("OMP_NUM_THREADS", "1")
torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
sys.path.insert(0, str(Path(__file__).parent))


import pytest  # noqa: E402

from provena_trainer import protocol  # noqa: E402


@pytest.fixture(params=["orjson", "stdlib"])
def decoder(request):
    """Runs a test under each frame decoder. orjson is pinned: where it is missing (a Python without its wheel) the
    orjson variant is skipped, or fails under PROVENA_TRAINER_REQUIRED=1 (CI)."""
    if request.param not in protocol._DECODERS:
        if os.environ.get("PROVENA_TRAINER_REQUIRED") == "1":
            pytest.fail("orjson is pinned in requirements.txt but cannot be imported")
        pytest.skip("orjson is not installed in this Python")
    previous = protocol.use_decoder(request.param)
    yield request.param
    protocol.use_decoder(previous)
