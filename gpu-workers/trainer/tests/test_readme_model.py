"""The README's "Using a delivered model" block, run as written: a model the trainer exported scores a held-out
CSV better than the majority class."""

import csv
import re
from pathlib import Path

from synth import majority_accuracy, recipe, tabular_rows
from trainers import make_trainer

README = Path(__file__).parent.parent / "README.md"


def _snippet() -> str:
    m = re.search(r"<!-- score-csv -->\s*```python\n(.*?)```\s*<!-- /score-csv -->", README.read_text(), re.S)
    assert m, "the README lost its score-csv block"
    return m.group(1)


def test_the_readme_snippet_scores_a_held_out_csv_with_the_delivered_model(tmp_path):
    columns, rows = tabular_rows(600, seed=4)
    trainer = make_trainer(recipe("tabular-classifier"), columns, rows, tmp_path)
    trainer.run()
    model_path, _ = trainer.export()
    _, held_out = tabular_rows(300, seed=99)
    csv_path = tmp_path / "held_out.csv"
    with open(csv_path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(columns)
        w.writerows(held_out)
    scope: dict = {}

    exec(compile(_snippet(), str(README), "exec"), scope)
    result = scope["score_csv"](model_path, csv_path)

    assert result["rows"] == 300
    assert result["accuracy"] > majority_accuracy([r[3] for r in held_out]) + 0.1
