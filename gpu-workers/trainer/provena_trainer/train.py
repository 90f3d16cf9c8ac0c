"""The training loop, its checkpoints (resume is bit-identical on CPU) and the exported model."""

from __future__ import annotations

import hashlib
import io
import json
import random
from pathlib import Path
from typing import Any, Callable

import numpy as np
import safetensors
import torch
import torch.nn.functional as F
from torch import nn

from . import recipe as recipes
from .accountant import RdpAccountant
from .data import Prepared, Preprocessor
from .dp import dp_gradient_step
from .files import atomic_write, sha256_hex
from .models import build_model
from .protocol import DATA_INVALID, PROTOCOL_VIOLATION, RESUME_MISMATCH, TrainerError, finite

CHECKPOINT_FORMAT = 2  # 2: the data digest hashes the batch frames as received
MODEL_FILE = "model.safetensors"
#: Training metrics are computed on at most this many training rows (the first ones), validation on all rows.
TRAIN_EVAL_ROWS = 8192
EVAL_CHUNK = 4096

Emit = Callable[[dict[str, Any]], None]


def recipe_digest(recipe: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(recipe, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def loss_fn_for(kind: str) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    if kind == "tabular-regressor":
        return lambda out, y: F.mse_loss(out.squeeze(-1), y)
    return F.cross_entropy


def pick_device(requested: str = "auto") -> torch.device:
    if requested == "cuda" and not torch.cuda.is_available():
        raise TrainerError(PROTOCOL_VIOLATION, "device 'cuda' requested and no CUDA device is available")
    if requested == "cuda" or (requested == "auto" and torch.cuda.is_available()):
        return torch.device("cuda")
    return torch.device("cpu")


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _rng_state() -> dict[str, Any]:
    name, keys, pos, has_gauss, cached = np.random.get_state(legacy=True)  # type: ignore[misc]
    version, internal, gauss_next = random.getstate()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": {"name": name, "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)), "pos": int(pos),
                  "has_gauss": int(has_gauss), "cached": float(cached)},
        "python": {"version": version, "internal": list(internal), "gauss_next": gauss_next},
    }


def _set_rng_state(s: dict[str, Any]) -> None:
    torch.set_rng_state(s["torch"])
    if s["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(s["cuda"])
    n = s["numpy"]
    np.random.set_state((n["name"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["cached"]))
    p = s["python"]
    random.setstate((p["version"], tuple(p["internal"]), p["gauss_next"]))


class Trainer:
    """One job's training. `trace`, when given, sees the training-row indices of every step (tests use it to show
    that a resumed run consumes exactly the samples the uninterrupted one would).

    Metering: `consumed[datasetId]` counts the training examples every optimizer step took from each dataset (a row
    counts once per step that used it, so once per epoch with fixed sampling). It is saved in checkpoints and
    reported in `checkpoint` and `model` frames: what the agent pays royalties for."""

    def __init__(self, recipe: dict[str, Any], data: Prepared, *, seed: int, device: torch.device, out_dir: Path,
                 checkpoint_every: int = 0, keep_checkpoints: int = 2, emit: Emit = lambda f: None,
                 trace: Callable[[torch.Tensor], None] | None = None,
                 dataset_ids: list[str] | None = None) -> None:
        self.recipe, self.data, self.seed, self.device = recipe, data, seed, device
        self.out_dir, self.ckpt_dir = out_dir, out_dir / "checkpoints"
        self.checkpoint_every, self.keep_checkpoints = checkpoint_every, keep_checkpoints
        self.emit, self.trace = emit, trace
        self.n_train = data.n_train
        self.steps_per_epoch = recipes.steps_per_epoch(recipe, self.n_train)
        if self.steps_per_epoch == 0:
            raise TrainerError(DATA_INVALID, f"{self.n_train} training rows: too few for one batch")
        self.q = recipes.sampling_rate(recipe, self.n_train)
        self.dp = recipe["dp"] if recipes.dp_enabled(recipe) else None
        self.poisson = self.dp is not None and self.dp["sampling"] == "poisson"
        self.loss_fn = loss_fn_for(recipe["kind"])

        seed_everything(seed)
        self.model: nn.Module = build_model(recipe, data.pre).to(device)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=recipe["lr"])
        total = recipe["epochs"] * self.steps_per_epoch
        self.sched = torch.optim.lr_scheduler.CosineAnnealingLR(self.opt, T_max=total, eta_min=recipe["lr"] * 0.1)
        self.sample_gen = torch.Generator().manual_seed(seed + 1)
        self.noise_gen = torch.Generator(device=device).manual_seed(seed + 2)
        self.accountant = RdpAccountant()
        self.epoch = self.step_in_epoch = self.global_step = 0
        self.history: list[dict[str, Any]] = []
        self._perm: tuple[int, torch.Tensor] | None = None
        self.dataset_ids = dataset_ids if dataset_ids is not None else ["ds"]
        self.train_sources = data.train_sources
        self.consumed_counts = [0] * len(self.dataset_ids)

        self.train_x = tuple(t.to(device) for t in data.train_inputs)
        self.train_y = data.train_y.to(device)

    # -- data position ---------------------------------------------------------------------------------------
    def _epoch_perm(self, epoch: int) -> torch.Tensor:
        """Fixed-size sampling: one shuffle per epoch, derived from (seed, epoch) so a resume rebuilds it."""
        if self._perm is None or self._perm[0] != epoch:
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            self._perm = (epoch, torch.randperm(self.n_train, generator=g))
        return self._perm[1]

    def batch_indices(self) -> torch.Tensor:
        if self.poisson:
            return (torch.rand(self.n_train, generator=self.sample_gen) < self.q).nonzero().squeeze(1)
        b = self.recipe["batchSize"]
        return self._epoch_perm(self.epoch)[self.step_in_epoch * b:(self.step_in_epoch + 1) * b]

    # -- metering --------------------------------------------------------------------------------------------
    def _count(self, idx: torch.Tensor) -> list[int]:
        return torch.bincount(self.train_sources[idx.cpu()], minlength=len(self.dataset_ids)).tolist()

    @property
    def consumed(self) -> dict[str, int]:
        return dict(zip(self.dataset_ids, self.consumed_counts))

    def planned_consumed(self) -> dict[str, int]:
        """What `consumed` will be once the last epoch ends, computed before training (the agent prices the plan
        with it). Fixed sampling replays each epoch's shuffle; Poisson replays a copy of the sampling generator
        from its current state, so the figure is exact, also after a resume (cost: one draw per row per step)."""
        totals = list(self.consumed_counts)
        epoch, step = self.epoch, self.step_in_epoch
        gen = torch.Generator().manual_seed(0)
        gen.set_state(self.sample_gen.get_state())
        b = self.recipe["batchSize"]
        while epoch < self.recipe["epochs"]:
            if self.poisson:
                for _ in range(step, self.steps_per_epoch):
                    idx = (torch.rand(self.n_train, generator=gen) < self.q).nonzero().squeeze(1)
                    totals = [a + c for a, c in zip(totals, self._count(idx))]
            else:
                idx = self._epoch_perm(epoch)[step * b:self.steps_per_epoch * b]
                totals = [a + c for a, c in zip(totals, self._count(idx))]
            epoch, step = epoch + 1, 0
        return dict(zip(self.dataset_ids, totals))

    # -- steps -----------------------------------------------------------------------------------------------
    def train_step(self, idx: torch.Tensor) -> None:
        idx = idx.to(self.device)
        xs = tuple(t[idx] for t in self.train_x)
        y = self.train_y[idx]
        self.opt.zero_grad(set_to_none=True)
        if self.dp is not None:
            dp_gradient_step(self.model, self.loss_fn, xs, y, noise_multiplier=self.dp["noiseMultiplier"],
                             max_grad_norm=self.dp["maxGradNorm"], expected_batch_size=self.recipe["batchSize"],
                             noise_generator=self.noise_gen)
            self.accountant.step(noise_multiplier=self.dp["noiseMultiplier"], q=self.q)
        else:
            self.loss_fn(self.model(*xs), y).backward()
        self.opt.step()
        self.sched.step()

    def run(self, stop_after_steps: int | None = None) -> bool:
        """Trains to the last epoch (True), or stops after `stop_after_steps` global steps (False; tests)."""
        while self.epoch < self.recipe["epochs"]:
            while self.step_in_epoch < self.steps_per_epoch:
                idx = self.batch_indices()
                if self.trace is not None:
                    self.trace(idx.clone())
                self.train_step(idx)
                self.consumed_counts = [a + c for a, c in zip(self.consumed_counts, self._count(idx))]
                self.step_in_epoch += 1
                self.global_step += 1
                mid_epoch = self.step_in_epoch < self.steps_per_epoch
                if mid_epoch and self.checkpoint_every and self.global_step % self.checkpoint_every == 0:
                    self.save_checkpoint()
                if stop_after_steps is not None and self.global_step >= stop_after_steps and mid_epoch:
                    return False
            metrics = self.epoch_metrics()
            self.history.append(metrics)
            self.emit({"type": "metrics", **metrics})
            self.epoch += 1
            self.step_in_epoch = 0
            self.save_checkpoint()
            if stop_after_steps is not None and self.global_step >= stop_after_steps:
                return self.epoch >= self.recipe["epochs"]
        return True

    # -- metrics ---------------------------------------------------------------------------------------------
    @torch.no_grad()
    def _evaluate(self, xs: tuple[torch.Tensor, ...], y: torch.Tensor) -> dict[str, float | None] | None:
        n = int(y.shape[0])
        if n == 0:
            return None
        self.model.eval()
        loss_sum, correct = 0.0, 0
        for s in range(0, n, EVAL_CHUNK):
            bx = tuple(t[s:s + EVAL_CHUNK].to(self.device) for t in xs)
            by = y[s:s + EVAL_CHUNK].to(self.device)
            out = self.model(*bx)
            loss_sum += float(self.loss_fn(out, by)) * by.shape[0]
            if self.recipe["kind"] != "tabular-regressor":
                correct += int((out.argmax(dim=1) == by).sum())
        self.model.train()
        loss = loss_sum / n
        if self.recipe["kind"] == "tabular-regressor":
            return {"loss": finite(loss), "rmse": finite(loss**0.5 * self.data.pre.label_std)}
        return {"loss": finite(loss), "accuracy": correct / n}

    def epoch_metrics(self) -> dict[str, Any]:
        k = min(self.n_train, TRAIN_EVAL_ROWS)
        m: dict[str, Any] = {
            "epoch": self.epoch + 1,
            "step": self.global_step,
            "train": self._evaluate(tuple(t[:k] for t in self.train_x), self.train_y[:k]),
            "val": self._evaluate(self.data.val_inputs, self.data.val_y),
        }
        if self.dp is not None:
            m["epsilon"] = finite(self.accountant.epsilon(self.dp["delta"]))
            m["delta"] = self.dp["delta"]
        return m

    # -- checkpoints -----------------------------------------------------------------------------------------
    def _identity(self) -> dict[str, Any]:
        return {"format": CHECKPOINT_FORMAT, "recipe": recipe_digest(self.recipe), "seed": self.seed,
                "data": self.data.digest}

    def save_checkpoint(self) -> Path:
        state = {
            **self._identity(),
            "position": {"epoch": self.epoch, "step": self.step_in_epoch, "globalStep": self.global_step},
            "model": self.model.state_dict(),
            "optimizer": self.opt.state_dict(),
            "scheduler": self.sched.state_dict(),
            "rng": _rng_state(),
            "sampleGen": self.sample_gen.get_state(),
            "noiseGen": self.noise_gen.get_state(),
            "accountant": self.accountant.state_dict(),
            "history": json.dumps(self.history),
            "consumed": json.dumps(self.consumed),
        }
        buf = io.BytesIO()
        torch.save(state, buf)
        self.ckpt_dir.mkdir(parents=True, exist_ok=True)
        path = self.ckpt_dir / f"ckpt-{self.global_step:09d}.pt"
        atomic_write(path, buf.getvalue())
        for old in sorted(self.ckpt_dir.glob("ckpt-*.pt"))[: -self.keep_checkpoints]:
            old.unlink(missing_ok=True)
        self.emit({"type": "checkpoint", "path": str(path), "position": state["position"], "consumed": self.consumed})
        return path

    def load_checkpoint(self, path: Path) -> None:
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as e:  # noqa: BLE001 - any unreadable file is the same failure to the agent
            raise TrainerError(RESUME_MISMATCH, f"checkpoint {path} unreadable: {e}") from None
        for k, v in self._identity().items():
            if state.get(k) != v:
                raise TrainerError(RESUME_MISMATCH, f"checkpoint {k} differs from this job's ({state.get(k)!r})")
        self.model.load_state_dict(state["model"])
        self.opt.load_state_dict(state["optimizer"])
        self.sched.load_state_dict(state["scheduler"])
        _set_rng_state(state["rng"])
        self.sample_gen.set_state(state["sampleGen"])
        self.noise_gen.set_state(state["noiseGen"].to(self.noise_gen.get_state().device))
        self.accountant.load_state_dict(state["accountant"])
        self.history = json.loads(state["history"])
        consumed = json.loads(state.get("consumed", "{}"))
        if sorted(consumed) != sorted(self.dataset_ids):
            raise TrainerError(RESUME_MISMATCH, "checkpoint's datasets differ from this job's")
        self.consumed_counts = [int(consumed[d]) for d in self.dataset_ids]
        pos = state["position"]
        self.epoch, self.step_in_epoch, self.global_step = pos["epoch"], pos["step"], pos["globalStep"]

    # -- the model -------------------------------------------------------------------------------------------
    def export(self) -> tuple[Path, str]:
        """Writes model.safetensors (weights + recipe + fitted preprocessing as metadata); returns (path, sha256)."""
        tensors = {k: v.detach().to("cpu").contiguous() for k, v in self.model.state_dict().items()}
        meta = {"format": "pt", "provena.recipe": json.dumps(self.recipe, sort_keys=True),
                "provena.preprocessor": self.data.pre.to_json()}
        blob = serialize_safetensors(tensors, meta)
        path = self.out_dir / MODEL_FILE
        atomic_write(path, blob)
        return path, sha256_hex(blob)


_DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.float16: "F16", torch.bfloat16: "BF16",
           torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8",
           torch.bool: "BOOL"}


def serialize_safetensors(tensors: dict[str, torch.Tensor], metadata: dict[str, str]) -> bytes:
    """The safetensors format with keys in sorted order, so the same weights always give the same bytes (and sha256).
    safetensors.torch.save orders the metadata keys differently from one call to the next."""
    header: dict[str, Any] = {"__metadata__": dict(sorted(metadata.items()))}
    chunks, offset = [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().to("cpu").contiguous()
        data = t.view(torch.uint8).numpy().tobytes() if t.numel() else b""
        header[name] = {"dtype": _DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)  # the data starts 8-byte aligned, as safetensors writes it
    return len(head).to_bytes(8, "little") + head + b"".join(chunks)


def load_model(path: str | Path) -> tuple[nn.Module, Preprocessor, dict[str, Any]]:
    """The model, its preprocessing and its recipe, from a model.safetensors the trainer wrote."""
    with safetensors.safe_open(str(path), framework="pt") as f:
        meta = f.metadata()
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    recipe = json.loads(meta["provena.recipe"])
    pre = Preprocessor.from_json(meta["provena.preprocessor"])
    model = build_model(recipe, pre)
    model.load_state_dict(tensors)
    return model.eval(), pre, recipe


@torch.no_grad()
def predict(model: nn.Module, pre: Preprocessor, rows: list[list[Any]]) -> list[Any]:
    """Predicted class (the label's value as a string) or value (label units) for each row."""
    out = model(*pre.inputs(rows))
    if pre.kind == "tabular-regressor":
        return (out.squeeze(-1) * pre.label_std + pre.label_mean).tolist()
    return [pre.classes[i] for i in out.argmax(dim=1).tolist()]
