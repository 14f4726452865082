"""Reader for BioASQ factoid questions in BioBERT's SQuAD layout, scored against the official golden file."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mtdnn.errors import ConfigurationError, DataError
from mtdnn.readers.base import Reader
from mtdnn.readers.squad import json_text, load_json, squad_questions
from mtdnn.types import Answer, Example

__all__ = ["BioAsqReader", "read_golden"]

logger = logging.getLogger(__name__)

_PAIR_ID = re.compile(r"^(?P<question>.+)_(?P<number>\d+)$")


class BioAsqReader(Reader):
    """Reads BioBERT's BioASQ factoid files (SQuAD layout) with the gold answers of BioASQ's golden file.

    BioBERT's test files (``BioASQ-test-factoid-6b-1.json``) hold one paragraph per
    question-snippet pair, ``{"context", "qas": [{"id": "<question id>_<nnn>", "question"}]}``,
    without answers; the answers are in the official golden file of the same batch
    (``6B1_golden.json``: ``{"questions": [{"id", "type", "exact_answer", ...}]}``). Each pair
    becomes ``Example(id=<pair id>, text_a=<question>, text_b=<context>, answers=...,
    group=<question id>)``, so that metrics can merge the snippets of one question. The question
    is stripped of surrounding whitespace; the context is kept exactly (offsets point into it).
    Any ``answers`` key in the SQuAD file is ignored: the golden file is the gold standard.

    The answers of a pair are every golden exact answer of its question: ``exact_answer`` is a
    list of synonym lists (or, in some releases, a list of strings, or one string), flattened in
    order, each stripped of surrounding whitespace, empty strings and case-insensitive repeats
    dropped. Each becomes ``Answer(text, start)`` with ``start`` the first case-insensitive
    occurrence in the context (also inside a longer word: ``meningioma`` in ``meningiomas``) and
    ``text`` spelled as in the context there, or the golden spelling with ``start=-1`` when the
    context does not contain it (scored against, not trained on). Answers found in the context
    come first, in golden order, then the others.

    Training data: BioBERT's BioASQ training files are not in the shared data; the 4b and 5b
    test batches with their golden files can stand in for them (their question ids do not occur
    in 6b). Read them with ``answerable_only: true`` to keep only the pairs whose context
    contains a gold answer, with only the answers found (``start >= 0``): a pair whose snippet
    lacks the answer would otherwise teach the model a span that is not there.

    Args:
        golden: Path of the BioASQ golden JSON file of the same batch (relative paths are
            relative to the working directory, like the task's data files). ``None`` reads
            unlabelled examples (``answers=None``), e.g. to predict a new batch.
        answerable_only: Keep only pairs whose context contains a gold answer, and only the
            answers found in it (for training). Needs ``golden``.

    Raises:
        ConfigurationError: ``answerable_only`` is set without ``golden``.
    """

    def __init__(self, *, golden: str | None = None, answerable_only: bool = False) -> None:
        if answerable_only and golden is None:
            raise ConfigurationError(
                "answerable_only keeps the pairs whose snippet contains a gold answer, but no "
                "golden file is given",
                hint="set golden to the batch's BioASQ golden JSON file (e.g. 5B1_golden.json)",
            )
        self.golden = golden
        self.answerable_only = answerable_only

    @property
    def pairs(self) -> bool | None:
        """A question and its context."""
        return True

    @property
    def labels(self) -> None:
        """Extractive QA has no label vocabulary: the gold standard is in ``Example.answers``."""
        return None

    def read(self, path: str | Path) -> Iterator[Example]:
        """Yield one example per question-snippet pair, in file order.

        Args:
            path: A SQuAD-layout BioASQ JSON file (UTF-8).

        Yields:
            One :class:`~mtdnn.types.Example` per pair that is kept.

        Raises:
            DataError: A file is missing or not JSON; a key is missing or has the wrong type; a
                pair id is not ``<question id>_<number>`` or repeats; a question is missing from
                the golden file; or no pair is left. The message names the file and the place in
                it (article, paragraph, question index and id).
        """
        path = Path(path)
        file = str(path)
        gold = None if self.golden is None else read_golden(self.golden)
        seen: set[str] = set()
        kept = dropped = 0
        for where, context, qa in squad_questions(load_json(path), file):
            pair_id = json_text(qa, "id", where, file)
            where = f"{where} (id {pair_id!r})"
            match = _PAIR_ID.match(pair_id)
            if match is None:
                raise DataError(f"{where}: a pair id must be '<question id>_<number>'", file=file)
            if pair_id in seen:
                raise DataError(f"{where}: duplicate pair id", file=file)
            seen.add(pair_id)
            question_id = match.group("question")
            question = json_text(qa, "question", where, file).strip()
            answers: tuple[Answer, ...] | None = None
            if gold is not None:
                if question_id not in gold:
                    raise DataError(
                        f"{where}: question {question_id!r} is not in the golden file {self.golden}; "
                        "is it the golden file of the same batch?",
                        file=file,
                    )
                answers = _locate(gold[question_id], context)
                if self.answerable_only:
                    answers = tuple(answer for answer in answers if answer.start >= 0)
                    if not answers:
                        dropped += 1
                        continue
            kept += 1
            yield Example(
                id=pair_id,
                text_a=question,
                text_b=context,
                answers=answers,
                group=question_id,
            )
        if kept == 0:
            reason = f" ({dropped} pairs have no gold answer in their snippet)" if dropped else ""
            raise DataError(f"no question-snippet pair is left{reason}", file=file)
        logger.info(
            "read %d BioASQ pairs from %s (%d dropped: no answer in the snippet)", kept, file, dropped
        )


def read_golden(path: str | Path) -> dict[str, tuple[str, ...]]:
    """The exact answers of every question of a BioASQ golden file, by question id.

    Each question's ``exact_answer`` is flattened: a list of synonym lists, a list of strings or
    one string (yes/no questions) gives its strings in order, stripped, without empty strings or
    case-insensitive repeats. Questions without ``exact_answer`` (summary questions) map to ``()``.

    Args:
        path: A BioASQ golden JSON file (``{"questions": [{"id", "exact_answer", ...}]}``).

    Raises:
        DataError: The file is missing or not JSON, a question has no string ``id`` or an id
            repeats, or an ``exact_answer`` is neither a string nor a list of strings or string
            lists; the message names the file and the question.
    """
    path = Path(path)
    file = str(path)
    root = load_json(path)
    if not isinstance(root, dict) or not isinstance(root.get("questions"), list):
        raise DataError("expected a BioASQ golden object {'questions': [...]}", file=file)
    gold: dict[str, tuple[str, ...]] = {}
    for index, question in enumerate(root["questions"]):
        where = f"questions[{index}]"
        if not isinstance(question, dict):
            raise DataError(f"{where}: expected a question object, got {type(question).__name__}", file=file)
        question_id = json_text(question, "id", where, file)
        if question_id in gold:
            raise DataError(f"{where}: duplicate question id {question_id!r}", file=file)
        gold[question_id] = _flatten(question.get("exact_answer"), f"{where} (id {question_id!r})", file)
    return gold


def _flatten(value: Any, where: str, file: str) -> tuple[str, ...]:
    """The strings of one ``exact_answer`` in order, stripped, without empties or case-insensitive repeats."""
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        raise DataError(f"{where}: 'exact_answer' must be a list, got {type(value).__name__}", file=file)
    texts: list[str] = []
    for item in items:
        synonyms = item if isinstance(item, list) else [item]
        for text in synonyms:
            if not isinstance(text, str):
                raise DataError(
                    f"{where}: 'exact_answer' must hold strings or lists of strings, got {text!r}", file=file
                )
            texts.append(text.strip())
    unique: dict[str, str] = {}
    for text in texts:
        if text:
            unique.setdefault(text.lower(), text)
    return tuple(unique.values())


def _locate(texts: tuple[str, ...], context: str) -> tuple[Answer, ...]:
    """Place each gold text at its first case-insensitive occurrence in ``context`` (or at -1)."""
    found: list[Answer] = []
    missing: list[Answer] = []
    for text in texts:
        match = re.search(re.escape(text), context, flags=re.IGNORECASE)
        if match is None:
            missing.append(Answer(text=text, start=-1))
        else:
            found.append(Answer(text=match.group(0), start=match.start()))
    return (*found, *missing)
