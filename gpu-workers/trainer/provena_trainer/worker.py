"""One job over the framed protocol: start, batch*, end in; plan, metrics*, checkpoint*, model (or error) out."""

from __future__ import annotations

import gc
import json
import math
import os
import sys
import traceback
from pathlib import Path
from typing import Any, BinaryIO

import jsonschema

from . import recipe as recipes
from .data import Prepared, RowStore, prepare
from .protocol import (
    FRAME_TRUNCATED, INTERNAL, MAX_FRAME_BYTES, PRIVACY_BUDGET_EXCEEDED, PROTOCOL_VIOLATION, TrainerError,
    read_frame, read_frame_with_body, write_frame,
)
from .train import Trainer, pick_device

#: Generated from shared/schemas/trainerProtocol.ts by scripts/gen-recipe-schema.ts.
START_SCHEMA = json.loads(Path(__file__).with_name("start-frame.schema.json").read_text("utf-8"))
_START_VALIDATOR = jsonschema.Draft202012Validator(START_SCHEMA)


def _check_start(frame: dict[str, Any]) -> dict[str, Any]:
    if frame["type"] != "start":
        raise TrainerError(PROTOCOL_VIOLATION, f"first frame must be 'start', got {frame['type']!r}")
    if "recipe" not in frame:
        raise TrainerError(PROTOCOL_VIOLATION, "start frame has no recipe")
    recipes.validate_recipe(frame["recipe"])  # first, for its own error code
    err = jsonschema.exceptions.best_match(_START_VALIDATOR.iter_errors(frame))
    if err is not None:
        where = "/".join(str(p) for p in err.absolute_path) or "(root)"
        raise TrainerError(PROTOCOL_VIOLATION, f"start frame invalid at {where}: {err.message}")
    if len(set(frame["datasetIds"])) != len(frame["datasetIds"]):
        raise TrainerError(PROTOCOL_VIOLATION, "start frame names a dataset twice")
    out = Path(frame["outDir"])
    if not out.is_dir():
        raise TrainerError(PROTOCOL_VIOLATION, f"outDir {out} is not a directory")
    return frame


def _receive(stdin: BinaryIO, start: dict[str, Any], max_frame_bytes: int) -> RowStore:
    store = RowStore(start["datasetIds"])
    while True:
        got = read_frame_with_body(stdin, max_frame_bytes)
        if got is None:
            raise TrainerError(FRAME_TRUNCATED, "stream ended before the 'end' frame")
        frame, body = got
        if frame["type"] == "batch":
            store.add(frame, body)
        elif frame["type"] == "end":
            store.check_end(frame)
            return store
        else:
            raise TrainerError(PROTOCOL_VIOLATION, f"unexpected frame type {frame['type']!r} after 'start'")


def _check_budget(recipe: dict[str, Any], n_rows: int, budget: float | None) -> float:
    planned = recipes.plan_epsilon(recipe, n_rows)
    ceilings = [b for b in (budget, (recipe.get("dp") or {}).get("targetEpsilon")) if b is not None]
    if not recipes.dp_enabled(recipe):
        if budget is not None:
            raise TrainerError(PRIVACY_BUDGET_EXCEEDED, "the dataset has a privacy budget and the recipe has no DP")
        return planned
    if ceilings and planned > min(ceilings):
        raise TrainerError(PRIVACY_BUDGET_EXCEEDED, f"planned epsilon {planned:.4f} exceeds {min(ceilings):.4f}")
    return planned


def _load_rows(stdin: BinaryIO, start: dict[str, Any], seed: int,
               max_frame_bytes: int) -> tuple[Prepared, int, int, float]:
    """Receives the rows and builds the tensors, with the cyclic garbage collector paused. The row objects (one
    Python list per row, as parsed) are dropped when this returns: kept alive through training, every full
    collection would walk them all. Paused, because parsing them allocates one tracked list per row: that started
    collections while receiving, now and then a full one over every object torch and the rows had made (tens to
    hundreds of ms, the pipe path's largest cost after decoding). Nothing received forms a cycle: reference
    counting frees it all the same."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _receive_and_prepare(stdin, start, seed, max_frame_bytes)
    finally:
        if was_enabled:
            gc.enable()


def _receive_and_prepare(stdin: BinaryIO, start: dict[str, Any], seed: int,
                         max_frame_bytes: int) -> tuple[Prepared, int, int, float]:
    recipe = start["recipe"]
    store = _receive(stdin, start, max_frame_bytes)
    planned = _check_budget(recipe, store.n_rows, start.get("privacyBudget"))
    _, n_val = recipes.split_sizes(recipe, store.n_rows)
    assert store.columns is not None
    data = prepare(recipe, store.columns, store.all_rows(), seed, n_val, store.digest(), store.sources())
    return data, store.n_rows, n_val, planned


def run_job(stdin: BinaryIO, stdout: BinaryIO, max_frame_bytes: int = MAX_FRAME_BYTES) -> None:
    first = read_frame(stdin, max_frame_bytes)
    if first is None:
        raise TrainerError(FRAME_TRUNCATED, "stream ended before the 'start' frame")
    start = _check_start(first)
    recipe = start["recipe"]
    seed = start.get("seed", recipe["seed"])
    data, n_rows, n_val, planned = _load_rows(stdin, start, seed, max_frame_bytes)
    device = pick_device(start.get("device", "auto"))
    trainer = Trainer(recipe, data, seed=seed, device=device, out_dir=Path(start["outDir"]),
                      checkpoint_every=start.get("checkpointEverySteps", 0),
                      keep_checkpoints=start.get("keepCheckpoints", 2), emit=lambda f: write_frame(stdout, f),
                      dataset_ids=start["datasetIds"])
    if "resumeFrom" in start:
        trainer.load_checkpoint(Path(start["resumeFrom"]))
    write_frame(stdout, {
        "type": "plan", "jobId": start["jobId"], "device": str(device), "rows": n_rows, "train": data.n_train,
        "val": n_val, "stepsPerEpoch": trainer.steps_per_epoch, "epochs": recipe["epochs"],
        "plannedEpsilon": planned if math.isfinite(planned) else None,
        "resumedAt": {"epoch": trainer.epoch, "step": trainer.step_in_epoch, "globalStep": trainer.global_step},
        "consumed": trainer.consumed, "plannedConsumed": trainer.planned_consumed(),
    })
    trainer.run()
    path, digest = trainer.export()
    write_frame(stdout, {"type": "model", "path": str(path), "sha256": digest, "bytes": path.stat().st_size,
                         "consumed": trainer.consumed})


def serve(stdin: BinaryIO, out: BinaryIO) -> int:
    """Runs one job; on failure writes one `error` frame. Exit status: 0 done, 2 refused/invalid, 3 internal."""
    try:
        run_job(stdin, out)
        return 0
    except TrainerError as e:
        _report(out, e.code, e.message)
        return 2
    except Exception as e:  # noqa: BLE001 - reported as INTERNAL with the traceback on stderr
        traceback.print_exc()
        _report(out, INTERNAL, f"{type(e).__name__}: {e}")
        return 3


def main() -> int:
    """Entry point: frames on fd 0 and fd 1. Anything else printed (libraries) goes to stderr, never into frames."""
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    gc.freeze()  # what the imports made (torch: hundreds of thousands of objects) is never walked by a collection
    return serve(sys.stdin.buffer, out)


def _report(out: BinaryIO, code: str, message: str) -> None:
    print(f"provena-trainer: {code}: {message}", file=sys.stderr)
    try:
        write_frame(out, {"type": "error", "code": code, "message": message})
    except OSError:
        pass  # the agent is gone; the exit status still says it failed
