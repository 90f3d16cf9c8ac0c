"""Recipe validation (against the JSON Schema generated from shared/schemas/recipe.ts) and privacy planning."""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema

from . import accountant
from .protocol import RECIPE_INVALID, TrainerError

SCHEMA_PATH = Path(__file__).with_name("recipe.schema.json")


@lru_cache(maxsize=1)
def _validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_PATH.read_text("utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def validate_recipe(recipe: Any) -> dict[str, Any]:
    """The recipe itself when it matches the schema; otherwise TRAINER_RECIPE_INVALID naming the first problem."""
    errors = sorted(_validator().iter_errors(recipe), key=lambda e: list(e.absolute_path))
    if errors:
        best = jsonschema.exceptions.best_match(errors)
        where = "/".join(str(p) for p in best.absolute_path) or "(root)"
        raise TrainerError(RECIPE_INVALID, f"recipe invalid at {where}: {best.message}")
    return recipe


def dp_enabled(recipe: dict[str, Any]) -> bool:
    dp = recipe.get("dp")
    return bool(dp and dp["enabled"])


def split_sizes(recipe: dict[str, Any], n_rows: int) -> tuple[int, int]:
    """(training rows, validation rows): validation is floor(n * validationFraction)."""
    n_val = int(math.floor(n_rows * recipe["validationFraction"]))
    return n_rows - n_val, n_val


def steps_per_epoch(recipe: dict[str, Any], n_train: int) -> int:
    """Optimizer steps per epoch. Poisson: ceil(n/B) draws of rate B/n. Fixed with DP: floor(n/B) full batches
    (every step has the batch size the noise is scaled to). Plain SGD: ceil(n/B), the last batch may be short."""
    b = recipe["batchSize"]
    if n_train <= 0:
        return 0
    if dp_enabled(recipe) and recipe["dp"]["sampling"] == "fixed":
        return max(1, n_train // b) if n_train >= b else 0
    return math.ceil(n_train / b)


def sampling_rate(recipe: dict[str, Any], n_train: int) -> float:
    return min(1.0, recipe["batchSize"] / n_train) if n_train > 0 else 0.0


def plan_epsilon(recipe: dict[str, Any], n_rows: int, conversion: str = "improved") -> float:
    """The epsilon a DP recipe will have spent (for its delta) after all its epochs on `n_rows` rows. Infinity
    without DP (no guarantee at all) or with too few rows for one batch. Lets the agent refuse a job over a budget."""
    if not dp_enabled(recipe):
        return math.inf
    n_train, _ = split_sizes(recipe, n_rows)
    steps = recipe["epochs"] * steps_per_epoch(recipe, n_train)
    if steps == 0:
        return math.inf
    dp = recipe["dp"]
    return accountant.epsilon(
        q=sampling_rate(recipe, n_train), noise_multiplier=dp["noiseMultiplier"], steps=steps, delta=dp["delta"],
        conversion=conversion,
    )
