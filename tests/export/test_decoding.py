"""The torch-free runtime decodes scores exactly as each head's PyTorch code does; refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from mtdnn.encoders.base import Encoder
from mtdnn.errors import ConfigurationError
from mtdnn.export.graph import check_inherited
from mtdnn.export.manifest import ExportedTask
from mtdnn.export.runtime import _decode_labels
from mtdnn.heads.base import LabelHead
from mtdnn.heads.classification import ClassificationHead
from mtdnn.heads.mlm import MaskedLmHead
from mtdnn.heads.multilabel import MultiLabelHead
from mtdnn.heads.ranking import RankingHead, RankingOutput
from mtdnn.heads.regression import RegressionHead
from mtdnn.heads.san import SanHead
from mtdnn.heads.tagging import TaggingHead
from mtdnn.types import Example, HeadOutput


def _examples(groups: list[str | None]) -> list[Example]:
    return [Example(id=str(i), text_a="x", group=group) for i, group in enumerate(groups)]


@pytest.mark.parametrize(
    "head",
    [
        ClassificationHead(8, 3),
        SanHead(8, 3),
        MultiLabelHead(8, 4, threshold=0.3),
        RegressionHead(8, 1),
    ],
    ids=["classification", "san", "multilabel", "regression"],
)
def test_label_heads_decode_alike(head: LabelHead) -> None:
    torch.manual_seed(0)
    columns = 1 if isinstance(head, RegressionHead) else 4 if isinstance(head, MultiLabelHead) else 3
    logits = torch.randn(50, columns) * 3
    if isinstance(head, SanHead):
        logits = torch.log_softmax(logits, dim=-1)  # SAN's scores are log-probabilities
    probabilities = head.probabilities(HeadOutput(logits=logits))
    expected = head.choose(probabilities, None)
    spec = ExportedTask("t", "x", "t", ["a", "b", "c", "d"][:columns], 16, head.export_decoding())
    predictions = _decode_labels(spec, _examples([None] * 50), list(logits.numpy()))
    for prediction, want, row in zip(predictions, expected, probabilities, strict=True):
        if want.dim() == 1 and want.numel() > 1:  # multi-hot
            assert prediction.value == tuple(int(i) for i in want.nonzero().reshape(-1))
        elif want.is_floating_point():
            assert prediction.value == pytest.approx(float(want))
        else:
            assert prediction.value == int(want)
        assert prediction.probabilities == pytest.approx(row.tolist(), abs=1e-6)


def test_ranking_decodes_within_each_group_alike() -> None:
    torch.manual_seed(1)
    head = RankingHead(8, 2, positive=1)
    scores = torch.randn(12, 1)
    groups = ["q1", "q1", "q1", "q2", "q2", None, "q3", "q3", "q3", "q3", "q1", None]
    ids = {name: i for i, name in enumerate(dict.fromkeys(g for g in groups if g is not None))}
    group_ids = torch.tensor([ids[g] if g is not None else 100 + row for row, g in enumerate(groups)])
    probabilities = head.probabilities(RankingOutput(logits=scores, groups=group_ids))
    expected = head.choose(probabilities, group_ids)
    spec = ExportedTask("t", "ranking", "t", ["no", "yes"], 16, head.export_decoding())
    predictions = _decode_labels(spec, _examples(groups), list(scores.numpy()))
    assert [p.value for p in predictions] == expected.tolist()
    got = [value for p in predictions for value in p.probabilities]
    assert got == pytest.approx(probabilities.reshape(-1).tolist(), abs=1e-6)


class ViterbiHead(TaggingHead):
    """A CRF-like head: it decodes otherwise, and does not say how an export should."""

    def decode(self, data, scores):  # type: ignore[no-untyped-def]
        return super().decode(data, scores)


def test_heads_that_cannot_be_exported_say_why(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="changes decode of TaggingHead but inherits"):
        check_inherited(ViterbiHead, "export_decoding")
    check_inherited(TaggingHead, "export_decoding")  # its own description
    check_inherited(ClassificationHead, "export_decoding")
    with pytest.raises(ConfigurationError, match="MaskedLmHead head cannot be exported"):
        MaskedLmHead.export_decoding(object.__new__(MaskedLmHead))
    with pytest.raises(ConfigurationError, match="runtime of an export tokenizes with a Hugging Face"):
        Encoder().export_tokenizer(tmp_path)
