"""The metric tables of train, evaluate and cross-validate stay readable with many per-type scores."""

from __future__ import annotations

from mtdnn.commands.common import format_table, split_per_type

TYPES = [f"Type{number:02d}" for number in range(16)]


def test_sixteen_entity_types_become_rows_not_fifty_columns() -> None:
    ner = {"f1": 0.81, "precision": 0.8, "recall": 0.82}
    for number, kind in enumerate(TYPES):
        ner.update({f"f1_{kind}": number / 20, f"precision_{kind}": 0.5, f"recall_{kind}": 0.25})
    table = format_table({"bc5cdr": ner, "mrpc": {"accuracy": 0.75, "f1": 0.84, "f1_macro": 0.7}})
    lines = table.splitlines()
    assert max(len(line) for line in lines) < 80
    assert lines[0].split() == ["task", "accuracy", "f1", "f1_macro", "precision", "recall"]
    assert lines[2].split() == ["bc5cdr", "-", "0.8100", "-", "0.8000", "0.8200"]
    assert "bc5cdr, per type:" in lines
    rows = lines[lines.index("bc5cdr, per type:") + 3 :]
    assert [row.split()[0] for row in rows] == TYPES
    assert rows[3].split() == ["Type03", "0.1500", "0.5000", "0.2500"]


def test_a_lone_suffixed_score_stays_a_main_score() -> None:
    main, per_type = split_per_type({"f1": 0.8, "f1_macro": 0.7, "precision": 0.6})
    assert main == {"f1": 0.8, "f1_macro": 0.7, "precision": 0.6} and per_type == {}
