"""Rows in memory: receiving batches in order, the train/validation split, and preprocessing fitted on the
training rows only (numeric normalization, categorical vocabularies, the word-level tokenizer)."""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import torch

from .protocol import DATA_INVALID, PROTOCOL_VIOLATION, TrainerError

#: Bounds on what one job may hold in memory.
MAX_ROWS = 20_000_000
MAX_COLUMNS = 4096
#: Distinct values kept per categorical column (most frequent first); the rest map to "unknown".
MAX_CATEGORIES = 10_000
PAD, UNK = 0, 1
_WORD = re.compile(r"\w+", re.UNICODE)


class RowStore:
    """Collects `batch` frames: each dataset's positions must be contiguous from 0 (nothing lost, nothing twice),
    every batch must carry the same columns. Keeps a digest of everything received so a resume can prove it was
    fed the same rows."""

    def __init__(self, dataset_ids: Sequence[str]) -> None:
        self.dataset_ids = list(dataset_ids)
        self.columns: list[str] | None = None
        self.rows: dict[str, list[list[Any]]] = {d: [] for d in self.dataset_ids}
        self._digest = hashlib.sha256()

    @property
    def n_rows(self) -> int:
        return sum(len(r) for r in self.rows.values())

    def add(self, frame: dict[str, Any], body: bytes) -> None:
        """`body`: the frame's bytes as received; the digest covers them (a resume must resend them byte for byte,
        which the agent does: same rows, same batching, same encoder)."""
        ds, pos, cols, rows = frame.get("datasetId"), frame.get("position"), frame.get("columns"), frame.get("rows")
        if ds not in self.rows:
            raise TrainerError(PROTOCOL_VIOLATION, f"batch for dataset {ds!r}, which the start frame did not name")
        if not isinstance(pos, int) or isinstance(pos, bool) or pos != len(self.rows[ds]):
            raise TrainerError(
                PROTOCOL_VIOLATION,
                f"batch of dataset {ds!r} at position {pos!r}, expected {len(self.rows[ds])} (gap or repeat)",
            )
        if not isinstance(cols, list) or not all(isinstance(c, str) for c in cols) or len(cols) > MAX_COLUMNS:
            raise TrainerError(DATA_INVALID, "batch 'columns' must be a list of column names")
        if self.columns is None:
            if len(set(cols)) != len(cols):
                raise TrainerError(DATA_INVALID, "batch 'columns' has duplicate names")
            self.columns = cols
        elif cols != self.columns:
            raise TrainerError(DATA_INVALID, "batch 'columns' differ from the first batch's")
        # C-speed checks (no Python loop per row): every row a JSON array, all of len(cols) values.
        if type(rows) is not list or not set(map(type, rows)) <= {list} or not set(map(len, rows)) <= {len(cols)}:
            raise TrainerError(DATA_INVALID, f"batch 'rows' must be arrays of {len(cols)} values")
        if self.n_rows + len(rows) > MAX_ROWS:
            raise TrainerError(DATA_INVALID, f"more than {MAX_ROWS} rows")
        self.rows[ds].extend(rows)
        self._digest.update(len(body).to_bytes(8, "big"))
        self._digest.update(body)

    def check_end(self, frame: dict[str, Any]) -> None:
        counts = frame.get("rows")
        expected = {d: len(r) for d, r in self.rows.items()}
        if counts != expected:
            raise TrainerError(PROTOCOL_VIOLATION, f"end frame counts {counts!r} differ from rows received {expected!r}")
        if self.n_rows == 0:
            raise TrainerError(DATA_INVALID, "no rows received")

    def digest(self) -> str:
        return self._digest.copy().hexdigest()

    def all_rows(self) -> list[list[Any]]:
        out: list[list[Any]] = []
        for d in self.dataset_ids:
            out.extend(self.rows[d])
        return out

    def sources(self) -> np.ndarray:
        """For each row of `all_rows()`, the index of its dataset in `dataset_ids` (metering counts by it)."""
        return np.repeat(np.arange(len(self.dataset_ids), dtype=np.int64), [len(self.rows[d]) for d in self.dataset_ids])


def split_indices(n_rows: int, n_val: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded shuffle; the first n_val indices validate, the rest train (both sorted, so order is the stream's)."""
    perm = np.random.Generator(np.random.PCG64(seed)).permutation(n_rows)
    return np.sort(perm[n_val:]), np.sort(perm[:n_val])


def _category_key(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, str):
        return v
    if isinstance(v, (bool, int, float)):
        return json.dumps(v)
    raise TrainerError(DATA_INVALID, f"categorical value of type {type(v).__name__}")


def _vocab(values: Sequence[str | None], limit: int) -> list[str]:
    counts = Counter(v for v in values if v is not None)
    return [v for v, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]]


def tokenize(text: Any) -> list[str]:
    if text is None:
        return []
    if not isinstance(text, str):
        raise TrainerError(DATA_INVALID, f"text value of type {type(text).__name__}")
    return _WORD.findall(text.lower())


@dataclass
class Preprocessor:
    """Everything fitted on the training rows; exported with the model so a lab can score new rows."""

    kind: str
    columns: list[str]
    numeric: list[str] = field(default_factory=list)
    numeric_mean: list[float] = field(default_factory=list)
    numeric_std: list[float] = field(default_factory=list)
    categorical: list[str] = field(default_factory=list)
    categories: list[list[str]] = field(default_factory=list)  # index 0 is "unknown"; value i+1 is categories[c][i]
    classes: list[str] = field(default_factory=list)
    label_mean: float = 0.0
    label_std: float = 1.0
    text_column: str = ""
    vocab: list[str] = field(default_factory=list)  # id 0 PAD, 1 UNK, word i+2 is vocab[i]
    max_tokens: int = 0
    label: str = ""

    def to_json(self) -> str:
        return json.dumps(self.__dict__, separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "Preprocessor":
        return cls(**json.loads(text))

    def _col(self, name: str) -> int:
        try:
            return self.columns.index(name)
        except ValueError:
            raise TrainerError(DATA_INVALID, f"column {name!r} missing from the rows") from None

    def inputs(self, rows: Sequence[Sequence[Any]]) -> tuple[torch.Tensor, ...]:
        """Model inputs for `rows` (tabular: numeric matrix and category ids; text: token ids)."""
        if self.kind == "text-classifier":
            c = self._col(self.text_column)
            index = {w: i + 2 for i, w in enumerate(self.vocab)}
            ids = np.full((len(rows), self.max_tokens), PAD, dtype=np.int64)
            for r, row in enumerate(rows):
                toks = [index.get(w, UNK) for w in tokenize(row[c])[: self.max_tokens]]
                ids[r, : len(toks)] = toks
            return (torch.from_numpy(ids),)
        num = np.zeros((len(rows), len(self.numeric)), dtype=np.float32)
        for j, name in enumerate(self.numeric):
            c = self._col(name)
            mean, std = self.numeric_mean[j], self.numeric_std[j]
            for r, row in enumerate(rows):
                v = _number(row[c], name)
                num[r, j] = 0.0 if v is None else (v - mean) / std  # missing -> the training mean
        cat = np.zeros((len(rows), len(self.categorical)), dtype=np.int64)
        for j, name in enumerate(self.categorical):
            c = self._col(name)
            index = {v: i + 1 for i, v in enumerate(self.categories[j])}
            for r, row in enumerate(rows):
                cat[r, j] = index.get(_category_key(row[c]), 0)  # type: ignore[arg-type]
        return torch.from_numpy(num), torch.from_numpy(cat)

    def targets(self, rows: Sequence[Sequence[Any]]) -> torch.Tensor:
        c = self._col(self.label)
        if self.kind == "tabular-regressor":
            ys = []
            for row in rows:
                v = _number(row[c], self.label)
                if v is None:
                    raise TrainerError(DATA_INVALID, f"label {self.label!r} is missing in a row")
                ys.append((v - self.label_mean) / self.label_std)
            return torch.tensor(ys, dtype=torch.float32)
        index = {k: i for i, k in enumerate(self.classes)}
        ys = []
        for row in rows:
            k = _category_key(row[c])
            if k is None:
                raise TrainerError(DATA_INVALID, f"label {self.label!r} is missing in a row")
            ys.append(index[k])
        return torch.tensor(ys, dtype=torch.int64)


def _number(v: Any, name: str) -> float | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise TrainerError(DATA_INVALID, f"numeric column {name!r} holds a {type(v).__name__}")
    x = float(v)
    if not math.isfinite(x):
        raise TrainerError(DATA_INVALID, f"numeric column {name!r} holds a non-finite value")
    return x


def fit_preprocessor(recipe: dict[str, Any], columns: list[str], rows: Sequence[Sequence[Any]],
                     train_idx: np.ndarray) -> Preprocessor:
    """Fits normalization, vocabularies and the tokenizer on the training rows. Classes come from all rows, so a
    validation row never has a label the model cannot output."""
    kind = recipe["kind"]
    p = Preprocessor(kind=kind, columns=list(columns), label=recipe["label"])
    train = [rows[i] for i in train_idx]
    lc = p._col(recipe["label"])
    if kind == "tabular-regressor":
        ys = [_number(r[lc], p.label) for r in train]
        if any(y is None for y in ys):
            raise TrainerError(DATA_INVALID, f"label {p.label!r} is missing in a row")
        arr = np.asarray(ys, dtype=np.float64)
        p.label_mean, p.label_std = float(arr.mean()), float(arr.std()) or 1.0
    else:
        keys = [_category_key(r[lc]) for r in rows]
        if any(k is None for k in keys):
            raise TrainerError(DATA_INVALID, f"label {p.label!r} is missing in a row")
        p.classes = sorted(set(keys))  # type: ignore[arg-type]
        if len(p.classes) < 2:
            raise TrainerError(DATA_INVALID, "a classifier needs at least two label values")
    if kind == "text-classifier":
        p.text_column, p.max_tokens = recipe["textColumn"], recipe["maxTokens"]
        tc = p._col(p.text_column)
        words = Counter(w for r in train for w in tokenize(r[tc]))
        p.vocab = [w for w, _ in sorted(words.items(), key=lambda kv: (-kv[1], kv[0]))[: recipe["vocabSize"] - 2]]
        return p
    for f in recipe["features"]:
        c = p._col(f["name"])
        if f["name"] == p.label:
            raise TrainerError(DATA_INVALID, f"column {p.label!r} is both a feature and the label")
        if f["type"] == "numeric":
            vals = np.asarray([v for v in (_number(r[c], f["name"]) for r in train) if v is not None], dtype=np.float64)
            mean = float(vals.mean()) if len(vals) else 0.0
            std = float(vals.std()) if len(vals) else 1.0
            p.numeric.append(f["name"])
            p.numeric_mean.append(mean)
            p.numeric_std.append(std if std > 0 else 1.0)
        else:
            p.categorical.append(f["name"])
            p.categories.append(_vocab([_category_key(r[c]) for r in train], MAX_CATEGORIES))
    return p


@dataclass
class Prepared:
    """Tensors for training and validation, plus the fitted preprocessor."""

    pre: Preprocessor
    train_inputs: tuple[torch.Tensor, ...]
    train_y: torch.Tensor
    val_inputs: tuple[torch.Tensor, ...]
    val_y: torch.Tensor
    digest: str
    #: Per training row, the index of its dataset (in the start frame's `datasetIds` order).
    train_sources: torch.Tensor

    @property
    def n_train(self) -> int:
        return int(self.train_y.shape[0])


def prepare(recipe: dict[str, Any], columns: list[str], rows: list[list[Any]], seed: int, n_val: int,
            digest: str, sources: Sequence[int] | None = None) -> Prepared:
    """`sources`: each row's dataset index (default: all rows from dataset 0)."""
    train_idx, val_idx = split_indices(len(rows), n_val, seed)
    src = torch.as_tensor(np.asarray(sources if sources is not None else [0] * len(rows), dtype=np.int64))
    pre = fit_preprocessor(recipe, columns, rows, train_idx)
    train_rows = [rows[i] for i in train_idx]
    val_rows = [rows[i] for i in val_idx]
    return Prepared(pre, pre.inputs(train_rows), pre.targets(train_rows), pre.inputs(val_rows), pre.targets(val_rows),
                    digest, src[torch.as_tensor(train_idx, dtype=torch.int64)])
