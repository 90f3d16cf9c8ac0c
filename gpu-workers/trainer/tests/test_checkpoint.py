import pytest
import torch

from provena_trainer.protocol import RESUME_MISMATCH, TrainerError
from synth import DP, recipe, tabular_rows, text_rows
from trainers import make_trainer

COLUMNS, ROWS = tabular_rows(300, seed=5)
TEXT_COLUMNS, TEXT_ROWS = text_rows(300, seed=6)

CASES = {
    "fixed-sgd": (recipe("tabular-classifier", epochs=3), COLUMNS, ROWS),
    "poisson-dp": (recipe("tabular-regressor", epochs=3, dp=DP), *tabular_rows(300, seed=5, regression=True)),
    "fixed-dp-text": (recipe("text-classifier", epochs=3, dp={**DP, "sampling": "fixed"}), TEXT_COLUMNS, TEXT_ROWS),
}


def _run(r, columns, rows, out, stop_after=None, resume=None):
    """Returns (trainer, per-step index lists). Checkpoints every 5 steps."""
    seen = []
    t = make_trainer(r, columns, rows, out, checkpoint_every=5, keep_checkpoints=100,
                     trace=lambda idx: seen.append(idx.tolist()))
    if resume is not None:
        t.load_checkpoint(resume)
    t.run(stop_after_steps=stop_after)
    return t, seen


@pytest.mark.parametrize("case", CASES)
def test_resuming_mid_epoch_gives_bit_identical_weights_and_the_same_samples(tmp_path, case):
    r, columns, rows = CASES[case]
    full, full_seen = _run(r, columns, rows, tmp_path / "full")
    first, first_seen = _run(r, columns, rows, tmp_path / "cut", stop_after=10)  # 7 or 8 steps per epoch
    assert first.epoch == 1 and 0 < first.step_in_epoch < first.steps_per_epoch
    ckpt = tmp_path / "cut" / "checkpoints" / "ckpt-000000010.pt"

    resumed, resumed_seen = _run(r, columns, rows, tmp_path / "resumed", resume=ckpt)

    assert first_seen + resumed_seen == full_seen  # nothing consumed twice, nothing skipped
    for (k, a), b in zip(full.model.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.equal(a, b), k
    assert resumed.history == full.history
    assert resumed.accountant.history == full.accountant.history


def test_fixed_size_sampling_consumes_each_training_row_once_per_epoch(tmp_path):
    r, columns, rows = CASES["fixed-sgd"]
    t, seen = _run(r, columns, rows, tmp_path)
    per_epoch = t.steps_per_epoch

    for e in range(r["epochs"]):
        idx = [i for step in seen[e * per_epoch:(e + 1) * per_epoch] for i in step]
        assert sorted(idx) == list(range(t.n_train))


def test_resuming_without_restoring_rng_state_would_diverge(tmp_path):
    """The bit-identity above is not vacuous: a restart from the same step without the checkpoint differs."""
    r, columns, rows = CASES["poisson-dp"]
    full, _ = _run(r, columns, rows, tmp_path / "full")
    _run(r, columns, rows, tmp_path / "cut", stop_after=10)
    state = torch.load(tmp_path / "cut" / "checkpoints" / "ckpt-000000010.pt", weights_only=True)
    naive = make_trainer(r, columns, rows, tmp_path / "naive")
    naive.model.load_state_dict(state["model"])
    naive.opt.load_state_dict(state["optimizer"])
    naive.sched.load_state_dict(state["scheduler"])
    naive.epoch, naive.step_in_epoch, naive.global_step = 1, 2, 10

    naive.run()

    assert not all(torch.equal(a, b) for a, b in zip(full.model.state_dict().values(), naive.model.state_dict().values()))


def test_a_checkpoint_from_another_recipe_is_refused(tmp_path):
    r, columns, rows = CASES["fixed-sgd"]
    _run(r, columns, rows, tmp_path / "a", stop_after=10)
    other = make_trainer({**r, "lr": 0.02}, columns, rows, tmp_path / "b")

    with pytest.raises(TrainerError) as e:
        other.load_checkpoint(tmp_path / "a" / "checkpoints" / "ckpt-000000010.pt")
    assert e.value.code == RESUME_MISMATCH


def test_only_the_last_checkpoints_are_kept_and_no_temp_file_remains(tmp_path):
    r, columns, rows = CASES["fixed-sgd"]
    t = make_trainer(r, columns, rows, tmp_path, checkpoint_every=2, keep_checkpoints=2)
    t.run()

    assert t.global_step == 24  # 3 epochs of 8 steps: checkpoints at every 2nd step, the last two kept
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["ckpt-000000022.pt", "ckpt-000000024.pt"]
