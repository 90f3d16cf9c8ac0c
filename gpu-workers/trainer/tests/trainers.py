"""Build an in-process Trainer from rows (the protocol tests cover the framed path)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import torch

from provena_trainer.data import prepare
from provena_trainer.recipe import split_sizes, validate_recipe
from provena_trainer.train import Trainer


def make_trainer(recipe: dict[str, Any], columns: list[str], rows: list[list[Any]], out_dir: Path,
                 **kwargs: Any) -> Trainer:
    validate_recipe(recipe)
    _, n_val = split_sizes(recipe, len(rows))
    digest = hashlib.sha256(json.dumps(rows).encode()).hexdigest()
    data = prepare(recipe, columns, rows, recipe["seed"], n_val, digest)
    return Trainer(recipe, data, seed=recipe["seed"], device=torch.device("cpu"), out_dir=out_dir, **kwargs)
