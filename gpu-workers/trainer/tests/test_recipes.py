import math

import pytest

from provena_trainer.train import load_model, predict
from provena_trainer.data import split_indices
from synth import DP, majority_accuracy, recipe, tabular_rows, text_rows
from trainers import make_trainer


def _val_labels(rows, r):
    n_val = math.floor(len(rows) * r["validationFraction"])
    _, val_idx = split_indices(len(rows), n_val, r["seed"])
    return [rows[i][-1] for i in val_idx]


@pytest.mark.parametrize("dp", [None, DP], ids=["sgd", "dp-sgd"])
def test_the_tabular_classifier_beats_the_majority_class_on_validation_rows(tmp_path, dp):
    columns, rows = tabular_rows(800, seed=1)
    r = recipe("tabular-classifier", **({"dp": dp} if dp else {}))
    frames = []
    trainer = make_trainer(r, columns, rows, tmp_path, emit=frames.append)

    trainer.run()

    metrics = [f for f in frames if f["type"] == "metrics"]
    assert [m["epoch"] for m in metrics] == [1, 2, 3, 4]
    assert metrics[-1]["val"]["accuracy"] > majority_accuracy(_val_labels(rows, r)) + 0.1
    assert ("epsilon" in metrics[-1]) == (dp is not None)


def test_the_tabular_regressor_beats_predicting_the_training_mean(tmp_path):
    columns, rows = tabular_rows(800, seed=2, regression=True)
    r = recipe("tabular-regressor")
    frames = []
    trainer = make_trainer(r, columns, rows, tmp_path, emit=frames.append)

    trainer.run()

    val = _val_labels(rows, r)
    mean = trainer.data.pre.label_mean
    baseline_rmse = math.sqrt(sum((y - mean) ** 2 for y in val) / len(val))
    assert frames[-2]["val"]["rmse"] < 0.6 * baseline_rmse


def test_the_text_classifier_beats_the_majority_class_with_a_vocabulary_built_from_its_rows(tmp_path):
    columns, rows = text_rows(800, seed=3)
    r = recipe("text-classifier", epochs=5)
    frames = []
    trainer = make_trainer(r, columns, rows, tmp_path, emit=frames.append)

    trainer.run()

    assert "excellent" in trainer.data.pre.vocab and len(trainer.data.pre.vocab) <= r["vocabSize"] - 2
    assert frames[-2]["val"]["accuracy"] > majority_accuracy(_val_labels(rows, r)) + 0.1


def test_the_exported_model_loads_and_scores_held_out_rows(tmp_path):
    columns, rows = tabular_rows(600, seed=4)
    trainer = make_trainer(recipe("tabular-classifier"), columns, rows, tmp_path)
    trainer.run()

    path, _ = trainer.export()
    model, pre, loaded_recipe = load_model(path)
    _, held_out = tabular_rows(300, seed=99)
    predicted = predict(model, pre, [row[:3] + [None] for row in held_out])

    assert loaded_recipe == recipe("tabular-classifier")
    accuracy = sum(p == row[3] for p, row in zip(predicted, held_out)) / len(held_out)
    assert accuracy > majority_accuracy([row[3] for row in held_out]) + 0.1


def test_the_model_file_is_standard_safetensors_and_the_same_weights_give_the_same_bytes(tmp_path):
    import safetensors
    import safetensors.torch
    import torch

    from provena_trainer.train import serialize_safetensors

    tensors = {"w": torch.randn(3, 5), "b": torch.arange(4), "h": torch.randn(2).to(torch.bfloat16),
               "m": torch.tensor([True, False])}
    meta = {"z": "last", "a": "first", "format": "pt"}

    blobs = {serialize_safetensors(tensors, dict(reversed(list(meta.items())))) for _ in range(3)}
    blobs.add(serialize_safetensors(tensors, meta))

    assert len(blobs) == 1
    blob = blobs.pop()
    loaded = safetensors.torch.load(blob)
    assert loaded.keys() == tensors.keys() and all(torch.equal(loaded[k], tensors[k]) for k in tensors)
    (tmp_path / "m.safetensors").write_bytes(blob)
    with safetensors.safe_open(str(tmp_path / "m.safetensors"), framework="pt") as f:
        assert f.metadata() == meta



def test_the_text_classifier_accepts_an_even_kernel_size_and_empty_texts(tmp_path):
    columns, rows = text_rows(200, seed=9)
    rows[0][0] = ""
    rows[1][0] = None
    trainer = make_trainer(recipe("text-classifier", epochs=1, kernelSize=4), columns, rows, tmp_path)

    assert trainer.run()
