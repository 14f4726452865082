"""The CRF against brute force: likelihood, Viterbi, IOB2 constraints, windows; and it learns."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import torch

from mtdnn.api import dry_run, load_config
from mtdnn.hooks import build_registry, get_plugin_manager
from mtdnn.types import EncoderOutput, TaskBatch
from mtdnn_crf.crf import CrfHead, CrfLoss, CrfOutput, allowed_transitions, log_likelihood, viterbi

LABELS = ["O", "B-Disease", "I-Disease"]
EXAMPLE = Path(__file__).resolve().parents[1] / "src" / "mtdnn_crf" / "examples" / "ncbi.jsonnet"


def _output(words: int = 4, rows: int = 2, seed: int = 0) -> CrfOutput:
    generator = torch.Generator().manual_seed(seed)
    count = len(LABELS)
    return CrfOutput(
        logits=torch.randn(rows, words, count, generator=generator),
        transitions=torch.randn(count, count, generator=generator),
        start=torch.randn(count, generator=generator),
        end=torch.randn(count, generator=generator),
    )


def _path_score(output: CrfOutput, row: int, path: tuple[int, ...]) -> torch.Tensor:
    assert output.transitions is not None and output.start is not None and output.end is not None
    score = output.start[path[0]] + output.logits[row, 0, path[0]] + output.end[path[-1]]
    for position in range(1, len(path)):
        before, now = path[position - 1], path[position]
        score = score + output.transitions[before, now] + output.logits[row, position, now]
    return score


def test_the_likelihood_and_viterbi_match_enumerating_every_path() -> None:
    output = _output()
    words = torch.tensor([[True, True, True, True], [True, True, True, False]])  # row 1: 3 words
    labels = torch.tensor([[0, 1, 2, 0], [1, 2, 2, -1]])
    found = log_likelihood(output, labels, words)
    best = viterbi(output, words)
    for row, length in enumerate((4, 3)):
        paths = list(itertools.product(range(len(LABELS)), repeat=length))
        scores = torch.stack([_path_score(output, row, path) for path in paths])
        gold = tuple(labels[row, :length].tolist())
        torch.testing.assert_close(found[row], _path_score(output, row, gold) - torch.logsumexp(scores, 0))
        assert tuple(best[row, :length].tolist()) == paths[int(scores.argmax())]
    assert best[1, 3] == 0  # after the last word


def test_iob2_forbids_entering_an_entity_inside() -> None:
    allowed, start = allowed_transitions(["O", "B-A", "I-A", "B-B", "I-B"])
    assert start.tolist() == [True, True, False, True, False]
    assert allowed[0, 2].item() is False and allowed[1, 2].item() is True and allowed[2, 2].item() is True
    assert allowed[3, 2].item() is False and allowed[2, 4].item() is False and allowed[4, 4].item() is True
    assert allowed[:, [0, 1, 3]].all()  # O and B-X may follow anything


def _head_batch(words: int, first_word: int = 0) -> tuple[CrfHead, EncoderOutput, TaskBatch]:
    torch.manual_seed(0)
    head = CrfHead(8, LABELS, dropout=0.0).eval()
    hidden = torch.randn(1, words + 2, 8)
    mask = torch.ones(1, words + 2, dtype=torch.long)
    starts = torch.arange(1, words + 1).unsqueeze(0)
    extras = {"word_starts": starts, "first_word": torch.tensor([[first_word]])}
    batch = TaskBatch(task="t", inputs={"attention_mask": mask}, labels=None, ids=("a",), extras=extras)
    return head, EncoderOutput(hidden=hidden, mask=mask, pooled=hidden[:, 0]), batch


def test_decoding_never_predicts_an_ill_formed_entity() -> None:
    head, encoded, batch = _head_batch(words=5)
    with torch.no_grad():
        head.classifier[-1].bias.copy_(torch.tensor([0.0, 0.0, 50.0]))  # I-Disease scores highest everywhere
    path = head.predict(head(encoded, batch))[0].tolist()
    assert path[0] != 2  # a sentence cannot start inside an entity
    assert all(not (before == 0 and now == 2) for before, now in itertools.pairwise(path))
    unconstrained = CrfHead(8, LABELS, dropout=0.0, constrain=False).eval()
    unconstrained.load_state_dict(head.state_dict())
    assert unconstrained.predict(unconstrained(encoded, batch))[0].tolist() == [2] * 5


def test_a_window_inside_a_sentence_may_start_with_an_inside_label() -> None:
    head, encoded, batch = _head_batch(words=3, first_word=7)
    output = head(encoded, batch)
    assert isinstance(output, CrfOutput) and output.start is not None
    assert float(output.start[0, 2].detach()) == 0.0  # no start score, no penalty: any label may come first
    first = head(*_head_batch(words=3)[1:])
    assert isinstance(first, CrfOutput) and first.start is not None
    assert float(first.start[0, 2].detach()) < -1e3  # a sentence's first word cannot be inside


def test_the_head_learns_a_labelling_with_the_crf_loss() -> None:
    head, encoded, batch = _head_batch(words=6)
    gold = torch.tensor([[0, 1, 2, 2, 0, 1]])
    labelled = TaskBatch(task="t", inputs=batch.inputs, labels=gold, ids=batch.ids, extras=batch.extras)
    optimizer = torch.optim.Adam(head.parameters(), lr=0.05)
    head.train()
    losses = []
    for _ in range(60):
        loss = CrfLoss()(head(encoded, labelled), labelled)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(float(loss.detach()))
    assert losses[-1] < losses[0] / 10
    head.eval()
    assert head.predict(head(encoded, batch)).tolist() == gold.tolist()


def test_the_loss_refuses_another_heads_output() -> None:
    from mtdnn.types import HeadOutput

    batch = TaskBatch(task="t", inputs={}, labels=torch.tensor([[0]]), ids=("a",))
    with pytest.raises(TypeError, match="the crf head's output"):
        CrfLoss()(HeadOutput(logits=torch.zeros(1, 1, 3)), batch)


def test_the_plugin_registers_and_its_example_runs_a_batch() -> None:
    pytest.importorskip("mtdnn_bio", reason="the example reads NCBI-disease with mtdnn-bio's iob reader")
    pm = get_plugin_manager(strict=True)
    registry = build_registry(pm)
    report = dry_run(load_config(EXAMPLE, pm), registry)
    assert list(report.tasks) == ["ncbi"] and report.tasks["ncbi"]["train"]["loss"] > 0
