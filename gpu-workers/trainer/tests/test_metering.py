"""Metering: `consumed` per dataset in plan, checkpoint and model frames is exact (row × step that used it)."""

import io
from collections import Counter

from provena_trainer.protocol import encode_frame
from provena_trainer.worker import serve
from synth import DP, decode_all, recipe, tabular_rows

COLUMNS, ROWS_A = tabular_rows(180, seed=11)
_, ROWS_B = tabular_rows(120, seed=12)


def _two_dataset_stream(r, out_dir, **start) -> bytes:
    frames = [encode_frame({"type": "start", "jobId": "job_1", "recipe": r, "datasetIds": ["ds_a", "ds_b"],
                            "outDir": str(out_dir), "device": "cpu", **start})]
    for ds, rows in (("ds_a", ROWS_A), ("ds_b", ROWS_B)):
        for pos in range(0, len(rows), 50):
            frames.append(encode_frame({"type": "batch", "datasetId": ds, "position": pos, "columns": COLUMNS,
                                        "rows": rows[pos:pos + 50]}))
    frames.append(encode_frame({"type": "end", "rows": {"ds_a": len(ROWS_A), "ds_b": len(ROWS_B)}}))
    return b"".join(frames)


def _serve(data: bytes):
    out = io.BytesIO()
    code = serve(io.BytesIO(data), out)
    return code, decode_all(out.getvalue())


def _train_rows_per_dataset(n_val: int, seed: int) -> Counter:
    from provena_trainer.data import split_indices
    train_idx, _ = split_indices(len(ROWS_A) + len(ROWS_B), n_val, seed)
    return Counter("ds_a" if i < len(ROWS_A) else "ds_b" for i in train_idx)


def test_fixed_sampling_consumes_every_training_row_of_each_dataset_once_per_epoch(tmp_path):
    r = recipe("tabular-classifier", epochs=3)

    code, frames = _serve(_two_dataset_stream(r, tmp_path, checkpointEverySteps=3))

    assert code == 0
    plan, model = frames[0], frames[-1]
    per_ds = _train_rows_per_dataset(plan["val"], r["seed"])
    expected = {d: 3 * per_ds[d] for d in ("ds_a", "ds_b")}
    assert plan["consumed"] == {"ds_a": 0, "ds_b": 0}
    assert plan["plannedConsumed"] == expected
    assert model["consumed"] == expected
    assert sum(expected.values()) == 3 * plan["train"]


def test_checkpoint_frames_report_cumulative_consumed_counts_that_never_decrease(tmp_path):
    r = recipe("tabular-classifier", epochs=2, batchSize=20)

    _, frames = _serve(_two_dataset_stream(r, tmp_path, checkpointEverySteps=2))

    cks = [f for f in frames if f["type"] == "checkpoint"]
    assert len(cks) > 4
    totals = [sum(c["consumed"].values()) for c in cks]
    assert totals == sorted(totals) and totals[-1] == sum(frames[-1]["consumed"].values())
    mid = [c for c in cks if c["position"]["step"] > 0][0]
    assert sum(mid["consumed"].values()) == 20 * mid["position"]["globalStep"]  # full batches before the epoch's last


def test_poisson_sampling_plan_matches_what_training_consumed_and_resume_keeps_the_count(tmp_path):
    r = recipe("tabular-classifier", epochs=2, dp=DP)
    (tmp_path / "full").mkdir()
    (tmp_path / "resumed").mkdir()
    code, full = _serve(_two_dataset_stream(r, tmp_path / "full", checkpointEverySteps=3, keepCheckpoints=100))
    assert code == 0 and full[0]["plannedConsumed"] == full[-1]["consumed"]
    ckpt = [f for f in full if f["type"] == "checkpoint"][1]

    code, resumed = _serve(_two_dataset_stream(r, tmp_path / "resumed", resumeFrom=ckpt["path"]))

    assert code == 0
    assert resumed[0]["consumed"] == ckpt["consumed"]
    assert resumed[0]["plannedConsumed"] == full[-1]["consumed"] == resumed[-1]["consumed"]
