"""Trainer benchmark: prints one JSON object.

- per recipe, training samples per second (n_train * epochs / wall time, preprocessing included) when the rows are
  handed over in memory, against the same rows framed and written through an OS pipe (a writer thread, the real
  reader) and through a separate `python -m provena_trainer` process (its start-up and torch import included);
- DP-SGD against plain SGD: mean optimizer-step time and their ratio, per recipe, same batches.

Run: `OMP_NUM_THREADS=2 .provena/trainer-venv/bin/python gpu-workers/trainer/bench_trainer.py` (from the repo root).
Settings: BENCH_TRAINER_ROWS (default 4000), BENCH_TRAINER_EPOCHS (3), BENCH_TRAINER_STEPS (30 timed steps),
BENCH_TRAINER_REPEATS (2: in-memory and pipe runs alternate in pairs; samples/s are each side's median run and
pipe/memory their ratio, each pair's ratio listed too; one untimed warm-up run of each per recipe first), BENCH_TRAINER_ONLY (comma-separated recipe kinds; default all), BENCH_TRAINER_OUT (also
write the JSON to this file after each recipe, `"complete": false` until the last: a run cut short keeps its
finished recipes). Frames are decoded with orjson, or the stdlib json with PROVENA_TRAINER_JSON=stdlib. The cores may be shared: read the ratios with the load averages printed.
"""

from __future__ import annotations

import io
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE / "tests")]

import torch  # noqa: E402

from provena_trainer.data import prepare  # noqa: E402
from provena_trainer.protocol import DECODER, read_frame  # noqa: E402
from provena_trainer.recipe import split_sizes  # noqa: E402
from provena_trainer.train import Trainer, pick_device  # noqa: E402
from provena_trainer.worker import serve  # noqa: E402
from synth import DP, decode_all, job_stream, recipe, tabular_rows, text_rows  # noqa: E402

ROWS = int(os.environ.get("BENCH_TRAINER_ROWS", "4000"))
EPOCHS = int(os.environ.get("BENCH_TRAINER_EPOCHS", "3"))
STEPS = int(os.environ.get("BENCH_TRAINER_STEPS", "30"))
REPEATS = int(os.environ.get("BENCH_TRAINER_REPEATS", "2"))
DEVICE = pick_device()


def _recipes():
    common = {"epochs": EPOCHS, "batchSize": 64, "hiddenSizes": [64, 32]}
    yield "tabular-classifier", recipe("tabular-classifier", **common), *tabular_rows(ROWS, seed=1)
    yield "tabular-regressor", recipe("tabular-regressor", **common), *tabular_rows(ROWS, seed=2, regression=True)
    yield "text-classifier", recipe("text-classifier", **common, vocabSize=2000, maxTokens=32), *text_rows(ROWS, seed=3)


def _in_memory(r, columns, rows, out: Path) -> float:
    t0 = time.perf_counter()
    _, n_val = split_sizes(r, len(rows))
    data = prepare(r, columns, rows, r["seed"], n_val, "bench")
    trainer = Trainer(r, data, seed=r["seed"], device=DEVICE, out_dir=out)
    trainer.run()
    trainer.export()
    return time.perf_counter() - t0


def _through_pipe(r, columns, rows, out: Path) -> float:
    stream = job_stream(r, columns, rows, out, batch_rows=500, device=DEVICE.type)
    rfd, wfd = os.pipe()

    def writer() -> None:
        with os.fdopen(wfd, "wb") as w:
            for i in range(0, len(stream), 1 << 16):
                w.write(stream[i:i + (1 << 16)])

    t0 = time.perf_counter()
    th = threading.Thread(target=writer)
    th.start()
    with os.fdopen(rfd, "rb") as rd:
        code = serve(rd, io.BytesIO())
    th.join()
    if code != 0:
        raise RuntimeError("trainer failed through the pipe")
    return time.perf_counter() - t0


def _subprocess(r, columns, rows, out: Path) -> float:
    stream = job_stream(r, columns, rows, out, batch_rows=500, device=DEVICE.type)
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "provena_trainer"], input=stream, capture_output=True, cwd=HERE,
                       env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")]))},
                       check=False)
    wall = time.perf_counter() - t0
    if p.returncode != 0 or decode_all(p.stdout)[-1]["type"] != "model":
        raise RuntimeError(p.stderr.decode()[-2000:])
    return wall


def _step_time(r, columns, rows) -> float:
    _, n_val = split_sizes(r, len(rows))
    data = prepare(r, columns, rows, r["seed"], n_val, "bench")
    trainer = Trainer(r, data, seed=r["seed"], device=DEVICE, out_dir=Path(tempfile.mkdtemp()))
    batches = [torch.arange(i * 64, (i + 1) * 64) % trainer.n_train for i in range(STEPS + 5)]
    for idx in batches[:5]:  # warm-up
        trainer.train_step(idx)
    if DEVICE.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for idx in batches[5:]:
        trainer.train_step(idx)
    if DEVICE.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - t0) / STEPS


def main() -> None:
    result = {
        "machine": {"python": platform.python_version(), "torch": torch.__version__, "device": str(DEVICE),
                    "gpu": torch.cuda.get_device_name(0) if DEVICE.type == "cuda" else None,
                    "threads": torch.get_num_threads(), "cpus": os.cpu_count(), "frameDecoder": DECODER,
                    "loadavgStart": os.getloadavg()[0]},
        "settings": {"rows": ROWS, "epochs": EPOCHS, "timedSteps": STEPS, "batchSize": 64},
        "recipes": {},
    }
    only = [n for n in os.environ.get("BENCH_TRAINER_ONLY", "").split(",") if n]
    for name, r, columns, rows in _recipes():
        if only and name not in only:
            continue
        n_train = split_sizes(r, len(rows))[0]
        samples = n_train * EPOCHS
        def timed(fn):
            with tempfile.TemporaryDirectory() as d:
                return fn(r, columns, rows, Path(d))

        # Warm-up, both paths: first calls into torch, functorch and the start frame's JSON Schema validator are
        # slower (a process pays them once at start-up: `subprocessOverMemory` below includes them).
        timed(_in_memory)
        timed(_through_pipe)
        # Interleaved pairs (memory, then pipe, REPEATS times); each side's median run counts, and the pairs' own
        # ratios are kept beside it (pipeOverMemoryPairs). The min of each side, used before, swung +-10% on 1 s
        # runs: one lucky in-memory run set the figure.
        mems, pipes = [], []
        for _ in range(REPEATS):
            mems.append(timed(_in_memory))
            pipes.append(timed(_through_pipe))
        ratios = sorted(m / p for m, p in zip(mems, pipes))
        mem, pipe = sorted(mems)[len(mems) // 2], sorted(pipes)[len(pipes) // 2]
        proc = timed(_subprocess)
        sgd = _step_time(r, columns, rows)
        dp = _step_time({**r, "dp": {**DP, "sampling": "fixed"}}, columns, rows)
        result["recipes"][name] = {
            "samplesPerSecInMemory": round(samples / mem, 1),
            "samplesPerSecThroughPipe": round(samples / pipe, 1),
            "pipeOverMemory": round(mem / pipe, 3),
            "pipeOverMemoryPairs": [round(x, 3) for x in ratios],
            "samplesPerSecSubprocess": round(samples / proc, 1),
            "subprocessOverMemory": round(mem / proc, 3),
            "stepMsSgd": round(sgd * 1e3, 3),
            "stepMsDpSgd": round(dp * 1e3, 3),
            "dpOverSgdStepTime": round(dp / sgd, 2),
        }
        _save(result, complete=False)
    result["machine"]["loadavgEnd"] = os.getloadavg()[0]
    _save(result, complete=True)
    print(json.dumps(result, indent=2))


def _save(result: dict, complete: bool) -> None:
    out = os.environ.get("BENCH_TRAINER_OUT")
    if out:
        tmp = f"{out}.tmp"
        Path(tmp).write_text(json.dumps({**result, "complete": complete}, indent=2) + "\n")
        os.replace(tmp, out)


if __name__ == "__main__":
    main()
