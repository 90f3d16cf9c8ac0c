"""The framed stdin/stdout protocol between the agent and the trainer (see ../PROTOCOL.md).

A frame is a 4-byte unsigned big-endian length N followed by N bytes of UTF-8 JSON holding one object with a
string field `type`. N is checked against the bound before any buffer is allocated.
"""

from __future__ import annotations

import json
import math
import struct
from typing import Any, BinaryIO

#: Largest frame body accepted, in bytes (16 MiB): a batch larger than this must be split by the agent.
MAX_FRAME_BYTES = 16 * 1024 * 1024
_LEN = struct.Struct(">I")


class TrainerError(Exception):
    """A failure with a stable code, reported to the agent as an `error` frame."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# Stable error codes (also listed in PROTOCOL.md).
FRAME_TRUNCATED = "TRAINER_FRAME_TRUNCATED"
FRAME_TOO_LARGE = "TRAINER_FRAME_TOO_LARGE"
FRAME_MALFORMED = "TRAINER_FRAME_MALFORMED"
PROTOCOL_VIOLATION = "TRAINER_PROTOCOL_VIOLATION"
RECIPE_INVALID = "TRAINER_RECIPE_INVALID"
DATA_INVALID = "TRAINER_DATA_INVALID"
PRIVACY_BUDGET_EXCEEDED = "TRAINER_PRIVACY_BUDGET_EXCEEDED"
RESUME_MISMATCH = "TRAINER_RESUME_MISMATCH"
INTERNAL = "TRAINER_INTERNAL"


def _read_exact(stream: BinaryIO, n: int) -> bytes:
    chunks: list[bytes] = []
    got = 0
    while got < n:
        chunk = stream.read(n - got)
        if not chunk:
            break
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


def read_frame(stream: BinaryIO, max_bytes: int = MAX_FRAME_BYTES) -> dict[str, Any] | None:
    """The next frame, or None at a clean end of stream (no byte of a new frame read)."""
    got = read_frame_with_body(stream, max_bytes)
    return None if got is None else got[0]


def read_frame_with_body(stream: BinaryIO, max_bytes: int = MAX_FRAME_BYTES) -> tuple[dict[str, Any], bytes] | None:
    """The next frame and its body bytes as received (the row digest hashes them: no re-serialization)."""
    head = _read_exact(stream, 4)
    if not head:
        return None
    if len(head) < 4:
        raise TrainerError(FRAME_TRUNCATED, f"stream ended inside a frame length ({len(head)} of 4 bytes)")
    (n,) = _LEN.unpack(head)
    if n > max_bytes:
        raise TrainerError(FRAME_TOO_LARGE, f"frame of {n} bytes exceeds the limit of {max_bytes}")
    body = _read_exact(stream, n)
    if len(body) < n:
        raise TrainerError(FRAME_TRUNCATED, f"stream ended inside a frame ({len(body)} of {n} bytes)")
    try:
        obj = json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError) as e:
        raise TrainerError(FRAME_MALFORMED, f"frame is not UTF-8 JSON: {e}") from None
    if not isinstance(obj, dict) or not isinstance(obj.get("type"), str):
        raise TrainerError(FRAME_MALFORMED, "frame must be a JSON object with a string 'type'")
    return obj, body


def encode_frame(obj: dict[str, Any], max_bytes: int = MAX_FRAME_BYTES) -> bytes:
    body = json.dumps(obj, separators=(",", ":"), allow_nan=False).encode("utf-8")
    if len(body) > max_bytes:
        raise TrainerError(FRAME_TOO_LARGE, f"outgoing frame of {len(body)} bytes exceeds the limit")
    return _LEN.pack(len(body)) + body


def write_frame(stream: BinaryIO, obj: dict[str, Any]) -> None:
    stream.write(encode_frame(obj))
    stream.flush()


def finite(x: float) -> float | None:
    """JSON has no NaN/Infinity: report a non-finite metric as null."""
    return x if math.isfinite(x) else None
