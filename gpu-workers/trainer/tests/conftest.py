"""Tiny models train fastest on one thread, and 8 engineers share this machine's 2 cores."""

import os
import sys
from pathlib import Path

import torch

os.environ.setdefault("OMP_NUM_THREADS", "1")
torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
sys.path.insert(0, str(Path(__file__).parent))
