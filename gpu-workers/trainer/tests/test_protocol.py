import hashlib
import io
import os
import shutil
import signal
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from provena_trainer import protocol as P
from provena_trainer.protocol import encode_frame, read_frame
from provena_trainer.worker import serve
from synth import DP, decode_all, job_stream, recipe, tabular_rows

TRAINER_DIR = Path(__file__).resolve().parent.parent
COLUMNS, ROWS = tabular_rows(300, seed=8)
RECIPE = recipe("tabular-classifier", epochs=2)
#: In-process frame tests run under both frame decoders (orjson and the stdlib fallback): same frames, same outcome.
frame_test = pytest.mark.usefixtures("decoder")


def _serve(data: bytes):
    out = io.BytesIO()
    code = serve(io.BytesIO(data), out)
    return code, decode_all(out.getvalue())


def _assert_refused(tmp_path: Path, data: bytes, code: str) -> str:
    exit_code, frames = _serve(data)

    assert exit_code == 2
    assert frames[-1]["type"] == "error" and frames[-1]["code"] == code, frames[-1]
    assert not any(f["type"] == "model" for f in frames)
    assert list(tmp_path.rglob("*.safetensors")) == [] and list(tmp_path.rglob(".*tmp*")) == []
    return frames[-1]["message"]


def _stream(tmp_path: Path, **start) -> bytes:
    return job_stream(RECIPE, COLUMNS, ROWS, tmp_path, **start)


def _frame_bytes(body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + body


@frame_test
def test_a_job_streams_plan_metrics_checkpoints_and_a_model_whose_sha256_matches_the_file(tmp_path):
    exit_code, frames = _serve(_stream(tmp_path))

    assert exit_code == 0
    assert [f["type"] for f in frames] == ["plan", "metrics", "checkpoint", "metrics", "checkpoint", "model"]
    assert frames[0]["rows"] == 300 and frames[0]["train"] == 225 and frames[0]["val"] == 75
    model = frames[-1]
    assert hashlib.sha256(Path(model["path"]).read_bytes()).hexdigest() == model["sha256"]
    assert Path(model["path"]) == tmp_path / "model.safetensors"


@frame_test
def test_a_stream_cut_inside_a_frame_length_is_truncated_and_writes_no_model(tmp_path):
    data = _stream(tmp_path)
    start_len = 4 + struct.unpack(">I", data[:4])[0]

    _assert_refused(tmp_path, data[: start_len + 2], P.FRAME_TRUNCATED)


@frame_test
def test_a_stream_cut_inside_a_batch_is_truncated_and_writes_no_model(tmp_path):
    data = _stream(tmp_path)

    _assert_refused(tmp_path, data[: len(data) // 2], P.FRAME_TRUNCATED)


@frame_test
def test_a_stream_that_ends_before_the_end_frame_is_truncated(tmp_path):
    data = _stream(tmp_path)
    end = encode_frame({"type": "end", "rows": {"ds_1": 300}})

    assert "before the 'end' frame" in _assert_refused(tmp_path, data[: -len(end)], P.FRAME_TRUNCATED)


@frame_test
def test_a_frame_longer_than_the_limit_is_refused_before_its_body_is_read(tmp_path):
    data = _stream(tmp_path)
    start_len = 4 + struct.unpack(">I", data[:4])[0]
    huge = struct.pack(">I", P.MAX_FRAME_BYTES + 1)  # and no body follows: nothing is allocated or awaited

    _assert_refused(tmp_path, data[:start_len] + huge, P.FRAME_TOO_LARGE)


@frame_test
@pytest.mark.parametrize("body", [b"{not json", b"[1,2]", b'{"type":1}', b"\xff\xfe{}", b'{"type":"batch","x":NaN}',
                                  b'{"type":"batch","x":1e400}', b'{"type":"batch","x":"\\ud800"}',
                                  b'{"type":"batch","x":' + b"[" * 1024 + b"]" * 1024 + b"}"],
                         ids=["syntax", "array", "type-not-string", "not-utf8", "nan", "overflow", "lone-surrogate",
                              "nested-1025-deep"])
def test_a_malformed_frame_is_refused(tmp_path, body):
    data = _stream(tmp_path)
    start_len = 4 + struct.unpack(">I", data[:4])[0]

    _assert_refused(tmp_path, data[:start_len] + _frame_bytes(body), P.FRAME_MALFORMED)


@frame_test
def test_a_first_frame_other_than_start_is_a_protocol_violation(tmp_path):
    _assert_refused(tmp_path, encode_frame({"type": "end", "rows": {}}), P.PROTOCOL_VIOLATION)


@frame_test
def test_a_recipe_outside_the_schema_is_refused_naming_the_field(tmp_path):
    data = job_stream({**RECIPE, "epochs": 0}, COLUMNS, ROWS, tmp_path)

    assert "epochs" in _assert_refused(tmp_path, data, P.RECIPE_INVALID)


@frame_test
def test_a_batch_that_skips_positions_is_a_protocol_violation(tmp_path):
    frames = decode_all(_stream(tmp_path))
    del frames[2]  # the second batch: positions jump from 100 to 200

    message = _assert_refused(tmp_path, b"".join(encode_frame(f) for f in frames), P.PROTOCOL_VIOLATION)
    assert "expected 100" in message


@frame_test
def test_an_end_frame_whose_counts_differ_from_the_rows_received_is_refused(tmp_path):
    frames = decode_all(_stream(tmp_path))
    frames[-1]["rows"]["ds_1"] = 301

    _assert_refused(tmp_path, b"".join(encode_frame(f) for f in frames), P.PROTOCOL_VIOLATION)


@frame_test
def test_text_in_a_numeric_column_is_invalid_data(tmp_path):
    rows = [list(r) for r in ROWS]
    rows[5][0] = "12.5"

    _assert_refused(tmp_path, job_stream(RECIPE, COLUMNS, rows, tmp_path), P.DATA_INVALID)


@frame_test
def test_a_dp_job_whose_planned_epsilon_exceeds_the_budget_does_not_start(tmp_path):
    r = {**RECIPE, "dp": DP}

    message = _assert_refused(tmp_path, job_stream(r, COLUMNS, ROWS, tmp_path, privacyBudget=0.5),
                              P.PRIVACY_BUDGET_EXCEEDED)
    assert "planned epsilon" in message
    assert not (tmp_path / "checkpoints").exists()


@frame_test
def test_a_job_without_dp_on_a_dataset_with_a_privacy_budget_does_not_start(tmp_path):
    _assert_refused(tmp_path, _stream(tmp_path, privacyBudget=100.0), P.PRIVACY_BUDGET_EXCEEDED)


@frame_test
def test_read_frame_returns_none_only_at_a_clean_end_of_stream():
    assert read_frame(io.BytesIO(b"")) is None
    assert read_frame(io.BytesIO(encode_frame({"type": "x"}))) == {"type": "x"}


# -- the real process ------------------------------------------------------------------------------------------

def _env():
    # PYTHONPATH kept (after ours): where packages come from a --target folder (scripts/gpu-bench.sh) it names it.
    path = os.pathsep.join(filter(None, [str(TRAINER_DIR), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": path}


def _spawn(prefix=()):
    return subprocess.Popen([*prefix, sys.executable, "-m", "provena_trainer"], cwd=TRAINER_DIR, env=_env(),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _netns_prefix():
    unshare = shutil.which("unshare")
    if unshare is None:
        return None
    probe = subprocess.run([unshare, "-rn", sys.executable, "-c", "import socket; print(socket.if_nameindex())"],
                           capture_output=True, text=True)
    return [unshare, "-rn"] if probe.returncode == 0 else None


def test_the_trainer_process_completes_in_a_network_namespace_without_interfaces(tmp_path):
    prefix = _netns_prefix()
    if prefix is None:
        pytest.skip("unshare -rn (user + network namespace) is not permitted on this machine")
    interfaces = subprocess.run([*prefix, sys.executable, "-c", "import socket; print([n for _, n in socket.if_nameindex()])"],
                                capture_output=True, text=True, check=True).stdout.strip()
    assert interfaces == "['lo']"  # loopback only, and down

    proc = _spawn(prefix)
    out, err = proc.communicate(_stream(tmp_path), timeout=120)

    assert proc.returncode == 0, err.decode()
    frames = decode_all(out)
    assert frames[-1]["type"] == "model"
    assert hashlib.sha256((tmp_path / "model.safetensors").read_bytes()).hexdigest() == frames[-1]["sha256"]


def test_the_trainer_process_exits_non_zero_with_an_error_frame_on_a_truncated_stream(tmp_path):
    data = _stream(tmp_path)
    proc = _spawn()
    out, _ = proc.communicate(data[: len(data) - 3], timeout=120)

    assert proc.returncode == 2
    assert decode_all(out)[-1]["code"] == P.FRAME_TRUNCATED
    assert list(tmp_path.rglob("*.safetensors")) == []


def test_a_killed_trainer_resumed_from_its_checkpoint_delivers_the_same_model_bytes(tmp_path):
    r = recipe("tabular-classifier", epochs=2, dp=DP)
    (tmp_path / "ref").mkdir()
    (tmp_path / "job").mkdir()
    _, ref = _serve(job_stream(r, COLUMNS, ROWS, tmp_path / "ref"))
    opts = {"checkpointEverySteps": 3, "keepCheckpoints": 1000}

    proc = _spawn()
    proc.stdin.write(job_stream(r, COLUMNS, ROWS, tmp_path / "job", **opts))
    proc.stdin.close()
    while (frame := read_frame(proc.stdout)) is not None and frame["type"] != "checkpoint":
        pass
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert frame is not None and frame["position"]["globalStep"] == 3
    assert not (tmp_path / "job" / "model.safetensors").exists()

    proc = _spawn()
    out, err = proc.communicate(job_stream(r, COLUMNS, ROWS, tmp_path / "job", resumeFrom=frame["path"], **opts),
                                timeout=120)

    assert proc.returncode == 0, err.decode()
    frames = decode_all(out)
    assert frames[0]["resumedAt"] == {"epoch": 0, "step": 3, "globalStep": 3}
    assert frames[-1]["sha256"] == ref[-1]["sha256"]
    assert frames[-2]["type"] == "checkpoint"


@frame_test
def test_a_start_frame_with_an_unknown_field_is_a_protocol_violation(tmp_path):
    frames = decode_all(_stream(tmp_path))
    frames[0]["readFrom"] = "/etc/passwd"

    message = _assert_refused(tmp_path, b"".join(encode_frame(f) for f in frames), P.PROTOCOL_VIOLATION)
    assert "readFrom" in message


def test_the_error_codes_are_the_ones_the_typescript_agent_parses():
    import re

    ts = (TRAINER_DIR.parent.parent / "shared" / "schemas" / "trainerProtocol.ts").read_text()
    enum = ts[ts.index("TrainerErrorCode = z.enum(["):]
    declared = set(re.findall(r"'(TRAINER_[A-Z_]+)'", enum[: enum.index("])")]))
    python = {v for k, v in vars(P).items() if k.isupper() and isinstance(v, str) and v.startswith("TRAINER_")}

    assert python == declared


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="a CUDA device is present")
def test_asking_for_cuda_without_a_cuda_device_is_refused_clearly(tmp_path):
    message = _assert_refused(tmp_path, _stream(tmp_path, device="cuda"), P.PROTOCOL_VIOLATION)
    assert "cuda" in message


@frame_test
def test_a_dp_recipe_whose_planned_epsilon_exceeds_its_own_target_epsilon_does_not_start(tmp_path):
    r = {**RECIPE, "dp": {**DP, "targetEpsilon": 0.1}}

    _assert_refused(tmp_path, job_stream(r, COLUMNS, ROWS, tmp_path), P.PRIVACY_BUDGET_EXCEEDED)


@frame_test
def test_resuming_with_rows_that_differ_in_one_value_is_refused_as_a_resume_mismatch(tmp_path):
    (tmp_path / "job").mkdir()
    _, frames = _serve(job_stream(RECIPE, COLUMNS, ROWS, tmp_path / "job", checkpointEverySteps=3,
                                  keepCheckpoints=1000))
    first = next(f for f in frames if f["type"] == "checkpoint")
    (tmp_path / "job" / "model.safetensors").unlink()
    changed = [list(r) for r in ROWS]
    changed[150][0] = changed[150][0] + 1.0

    message = _assert_refused(tmp_path / "job", job_stream(RECIPE, COLUMNS, changed, tmp_path / "job",
                                                            resumeFrom=first["path"]), P.RESUME_MISMATCH)

    assert "data" in message
