"""Seeded synthetic tasks with signal, recipes for them, and frame helpers shared by the tests and the bench."""

from __future__ import annotations

import copy
import io
from pathlib import Path
from typing import Any

import numpy as np

from provena_trainer.protocol import encode_frame, read_frame

CITIES = ["north", "south", "east", "west"]
CITY_EFFECT = {"north": 1.0, "south": -1.0, "east": 0.5, "west": -0.5}
GOOD = ["great", "excellent", "love", "wonderful", "perfect", "happy"]
BAD = ["awful", "terrible", "hate", "broken", "poor", "sad"]
FILLER = ["the", "a", "product", "it", "was", "and", "very", "this", "delivery", "price", "i", "my"]


def tabular_rows(n: int, seed: int = 0, regression: bool = False) -> tuple[list[str], list[list[Any]]]:
    """x1, x2 numeric and city categorical; the label depends on all three (classes imbalanced about 65/35)."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(2.0, 3.0, n), rng.normal(-1.0, 0.5, n)
    city = rng.choice(CITIES, n)
    score = 0.8 * (x1 - 2.0) / 3.0 + 1.2 * (x2 + 1.0) / 0.5 + np.array([CITY_EFFECT[c] for c in city])
    rows: list[list[Any]] = []
    for i in range(n):
        y: Any = round(float(10 + 4 * score[i] + rng.normal(0, 0.5)), 4) if regression else (
            "yes" if score[i] > 0.6 else "no")
        rows.append([round(float(x1[i]), 4), round(float(x2[i]), 4), str(city[i]), y])
    return ["x1", "x2", "city", "y"], rows


def text_rows(n: int, seed: int = 0) -> tuple[list[str], list[list[Any]]]:
    rng = np.random.default_rng(seed)
    rows: list[list[Any]] = []
    for _ in range(n):
        label = "pos" if rng.random() < 0.6 else "neg"
        words = list(rng.choice(FILLER, int(rng.integers(4, 10))))
        cue = GOOD if label == "pos" else BAD
        for _ in range(int(rng.integers(1, 3))):
            words.insert(int(rng.integers(0, len(words) + 1)), str(rng.choice(cue)))
        rows.append([" ".join(words).capitalize() + ".", label])
    return ["body", "sentiment"], rows


_COMMON = {"epochs": 4, "batchSize": 32, "lr": 0.01, "hiddenSizes": [16], "seed": 7, "validationFraction": 0.25}
TABULAR_FEATURES = [{"name": "x1", "type": "numeric"}, {"name": "x2", "type": "numeric"},
                    {"name": "city", "type": "categorical"}]


def recipe(kind: str, **overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"kind": kind, **copy.deepcopy(_COMMON)}
    if kind == "text-classifier":
        base.update(label="sentiment", textColumn="body", vocabSize=64, maxTokens=16, embeddingDim=8,
                    convChannels=16, kernelSize=3)
    else:
        base.update(label="y", features=copy.deepcopy(TABULAR_FEATURES), embeddingDim=3)
    base.update(overrides)
    return base


DP = {"enabled": True, "noiseMultiplier": 0.8, "maxGradNorm": 1.0, "delta": 1e-5, "sampling": "poisson"}


def majority_accuracy(labels: list[Any]) -> float:
    values, counts = np.unique(np.asarray(labels, dtype=object).astype(str), return_counts=True)
    return float(counts.max() / counts.sum())


def job_stream(recipe_: dict[str, Any], columns: list[str], rows: list[list[Any]], out_dir: Path, *,
               batch_rows: int = 100, dataset_id: str = "ds_1", **start: Any) -> bytes:
    """The bytes an agent would write: start, batches in order, end."""
    frames = [encode_frame({"type": "start", "jobId": "job_1", "recipe": recipe_, "datasetIds": [dataset_id],
                            "outDir": str(out_dir), "device": "cpu", **start})]
    for pos in range(0, len(rows), batch_rows):
        frames.append(encode_frame({"type": "batch", "datasetId": dataset_id, "position": pos, "columns": columns,
                                    "rows": rows[pos:pos + batch_rows]}))
    frames.append(encode_frame({"type": "end", "rows": {dataset_id: len(rows)}}))
    return b"".join(frames)


def decode_all(data: bytes) -> list[dict[str, Any]]:
    stream, frames = io.BytesIO(data), []
    while (f := read_frame(stream)) is not None:
        frames.append(f)
    return frames
