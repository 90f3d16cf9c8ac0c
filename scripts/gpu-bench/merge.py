"""Merges what scripts/gpu-bench.sh left in a folder into the layout of bench/results/trainer-gpu.json (stdout).

Run: python3 scripts/gpu-bench/merge.py DIR > bench/results/trainer-gpu.json, where DIR holds card.txt, started.txt,
pytest.txt, pytest-rc.txt, trainer-cuda.json and trainer-cpu.json (the device run's $OUT). Standard library only."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path


def _read(d: Path, name: str, default: str = "") -> str:
    p = d / name
    return p.read_text().strip() if p.exists() else default


def _ratio(a: float | None, b: float | None, digits: int = 3) -> float | None:
    return round(a / b, digits) if a and b else None


def merge(d: Path) -> dict:
    cuda = json.loads(_read(d, "trainer-cuda.json", "null"))
    cpu = json.loads(_read(d, "trainer-cpu.json", "null"))
    pytest_lines = [l for l in _read(d, "pytest.txt").splitlines() if re.search(r"\b(passed|failed|error)", l)]
    summary = pytest_lines[-1].strip("= ") if pytest_lines else "no pytest summary"
    decoders = sorted({r["machine"].get("frameDecoder", "?") for r in (cuda, cpu) if r})
    incomplete = [n for n, r in (("cuda", cuda), ("cpu", cpu)) if r is None or not r.get("complete", True)]
    ref = cuda or cpu or {"machine": {}}
    note = (
        f"scripts/gpu-bench.sh on the lent device machine ({_read(d, 'card.txt').split(',')[0] or 'GPU'}, "
        f"{ref['machine'].get('cpus')} cores): bench_trainer.py on CUDA and, as the same-run baseline, on its CPUs "
        f"(CUDA_VISIBLE_DEVICES empty). torch {ref['machine'].get('torch')} there (the machine's own; CI pins 2.13 "
        f"CPU), Python {ref['machine'].get('python')}. Frames decoded with {' and '.join(decoders)}"
        + (" (no orjson wheel for this Python in the local mirror: the stdlib fallback, same rules)" if "stdlib" in decoders else "")
        + ". jsonschema and the other pure dependencies carried as wheels (.gpu-wheels)"
        + ("; rpds-py (no wheel for this Python) replaced by scripts/gpu-bench/rpds-standin" if (d / "rpds-standin").exists() else "")
        + f". Trainer pytest there with CUDA visible: {summary} (exit status {_read(d, 'pytest-rc.txt', '?')})."
        + (f" Incomplete runs (cut by their timeout): {', '.join(incomplete)}." if incomplete else "")
    )
    ratios = {}
    for kind in sorted(set((cuda or {}).get("recipes", {})) & set((cpu or {}).get("recipes", {}))):
        g, c = cuda["recipes"][kind], cpu["recipes"][kind]
        ratios[kind] = {
            "cudaOverCpuInMemory": _ratio(g["samplesPerSecInMemory"], c["samplesPerSecInMemory"]),
            "cudaOverCpuStepSgd": _ratio(c["stepMsSgd"], g["stepMsSgd"]),
            "cudaOverCpuStepDp": _ratio(c["stepMsDpSgd"], g["stepMsDpSgd"]),
        }
    strip = lambda r: None if r is None else {k: v for k, v in r.items() if k != "complete"}  # noqa: E731
    return {
        "bench": "trainer-gpu",
        "measuredAt": _read(d, "started.txt"),
        "card": _read(d, "card.txt"),
        "note": note,
        "cuda": strip(cuda),
        "cpuSameMachine": strip(cpu),
        "ratios": ratios,
    }


if __name__ == "__main__":
    print(json.dumps(merge(Path(sys.argv[1])), indent=2))
