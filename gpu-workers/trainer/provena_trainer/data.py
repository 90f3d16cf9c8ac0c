"""Rows in memory: receiving batches in order, the train/validation split, and preprocessing fitted on the
training rows only (numeric normalization, categorical vocabularies, the word-level tokenizer)."""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from itertools import repeat
from operator import itemgetter
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
        # Column by column, no Python loop per value beyond reading the column (the same float64 arithmetic as
        # `(v - mean) / std` per value, then rounded to float32).
        num = np.zeros((len(rows), len(self.numeric)), dtype=np.float32)
        for j, name in enumerate(self.numeric):
            vals, missing = _numbers(_column(rows, self._col(name)), name)
            z = (vals - self.numeric_mean[j]) / self.numeric_std[j]
            if missing is not None:
                z[missing] = 0.0  # missing -> the training mean
            num[:, j] = z
        cat = np.zeros((len(rows), len(self.categorical)), dtype=np.int64)
        for j, name in enumerate(self.categorical):
            index = {v: i + 1 for i, v in enumerate(self.categories[j])}
            cat[:, j] = np.fromiter(map(index.get, _category_keys(_column(rows, self._col(name))), repeat(0)),
                                    dtype=np.int64, count=len(rows))
        return torch.from_numpy(num), torch.from_numpy(cat)

    def targets(self, rows: Sequence[Sequence[Any]]) -> torch.Tensor:
        col = _column(rows, self._col(self.label))
        if self.kind == "tabular-regressor":
            vals, missing = _numbers(col, self.label)
            if missing is not None:
                raise TrainerError(DATA_INVALID, f"label {self.label!r} is missing in a row")
            return torch.from_numpy(((vals - self.label_mean) / self.label_std).astype(np.float32))
        keys = _category_keys(col)
        if None in keys:
            raise TrainerError(DATA_INVALID, f"label {self.label!r} is missing in a row")
        index = {k: i for i, k in enumerate(self.classes)}
        return torch.from_numpy(np.fromiter(map(index.__getitem__, keys), dtype=np.int64, count=len(keys)))


def _column(rows: Sequence[Sequence[Any]], c: int) -> list[Any]:
    return list(map(itemgetter(c), rows))


_PLAIN_NUMBERS = frozenset({float, int, type(None)})


def _numbers(col: list[Any], name: str) -> tuple[np.ndarray, np.ndarray | None]:
    """A numeric column as float64 (missing values 0.0) and the mask of missing ones (None when none is missing).
    Values must be numbers or null: anything else, or a non-finite number, is TRAINER_DATA_INVALID."""
    kinds = set(map(type, col))
    if not kinds <= _PLAIN_NUMBERS:  # bool, str, ... (or a float subclass): per value, for the exact error
        col = [_number(v, name) for v in col]
        kinds = {float, type(None)} if None in col else {float}
    missing = None
    if type(None) in kinds:
        missing = np.fromiter(map(_is_none, col), dtype=bool, count=len(col))
        col = [0.0 if v is None else v for v in col]
    try:
        vals = np.array(col, dtype=np.float64)
    except OverflowError:  # an integer beyond the double range (rows handed over in memory; frames refuse it)
        raise TrainerError(DATA_INVALID, f"numeric column {name!r} holds a non-finite value") from None
    if vals.ndim != 1 or not np.isfinite(vals).all():
        raise TrainerError(DATA_INVALID, f"numeric column {name!r} holds a non-finite value")
    return vals, missing


def _is_none(v: Any) -> bool:
    return v is None


def _category_keys(col: list[Any]) -> list[str | None]:
    return col if set(map(type, col)) <= {str} else [_category_key(v) for v in col]


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
        arr, missing = _numbers(_column(train, lc), p.label)
        if missing is not None:
            raise TrainerError(DATA_INVALID, f"label {p.label!r} is missing in a row")
        p.label_mean, p.label_std = float(arr.mean()), float(arr.std()) or 1.0
    else:
        keys = _category_keys(_column(rows, lc))
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
            vals, missing = _numbers(_column(train, c), f["name"])
            if missing is not None:
                vals = vals[~missing]
            mean = float(vals.mean()) if len(vals) else 0.0
            std = float(vals.std()) if len(vals) else 1.0
            p.numeric.append(f["name"])
            p.numeric_mean.append(mean)
            p.numeric_std.append(std if std > 0 else 1.0)
        else:
            p.categorical.append(f["name"])
            p.categories.append(_vocab(_category_keys(_column(train, c)), MAX_CATEGORIES))
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
