"""Reader for SQuAD v1.1 / v2.0 JSON files and other extractive-QA data in the same layout."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from mtdnn.errors import ConfigurationError, DataError
from mtdnn.readers.base import Reader
from mtdnn.readers.files import read_json
from mtdnn.types import Answer, Example

__all__ = ["Misaligned", "SquadReader", "json_list", "json_text", "load_json", "squad_questions"]

logger = logging.getLogger(__name__)

Misaligned = Literal["error", "text_only", "drop"]
"""What :class:`SquadReader` does with a gold answer whose text is not at its ``answer_start``."""


@dataclass
class _Counts:
    """What one :meth:`SquadReader.read` call kept and dropped, for the log."""

    answerable: int = 0
    unanswerable: int = 0
    unlabelled: int = 0
    skipped_impossible: int = 0
    misaligned: int = 0
    dropped_misaligned: int = 0


class SquadReader(Reader):
    """Reads a SQuAD JSON file (v1.1 or v2.0 layout): one example per question, in file order.

    The file is ``{"version", "data": [{"title", "paragraphs": [{"context", "qas": [{"id",
    "question", "answers": [{"text", "answer_start"}], "is_impossible"}]}]}]}``. Each question
    becomes ``Example(id=<qa id>, text_a=<question>, text_b=<context>, answers=...)``:

    * answerable (a non-empty ``answers`` list): one :class:`~mtdnn.types.Answer` per gold answer,
      kept as given (repeats included; metrics take the best match over them);
    * unanswerable (SQuAD 2.0: ``answers`` is ``[]``; like the official v2.0 script, the list
      decides, not ``is_impossible``): ``answers=()``; ``plausible_answers`` are ignored;
    * unlabelled (no ``answers`` key, as in the BioASQ test files in SQuAD layout):
      ``answers=None``.

    Questions are stripped of surrounding whitespace; contexts and answer texts are kept exactly,
    since the character offsets point into them. ``version`` and ``title`` are optional and other
    keys are ignored. Every answer's offset is checked: ``context[answer_start:answer_start +
    len(text)]`` must equal ``text``. As JSON has no useful line numbers, errors name the file
    and the place in it (article index and title, paragraph, question index and id).

    Args:
        skip_impossible: Drop unanswerable questions, to train or evaluate SQuAD 1.1-style on a
            SQuAD 2.0 file. Unlabelled questions are kept.
        misaligned: What to do with a gold answer whose text is not at its ``answer_start``:
            ``error`` raises :class:`~mtdnn.errors.DataError`; ``text_only`` keeps it with start
            ``-1`` (scored against, not trained on); ``drop`` leaves the answer out, and the
            question too when none of its answers is left. The number affected is logged.
    """

    def __init__(self, *, skip_impossible: bool = False, misaligned: Misaligned = "error") -> None:
        choices = get_args(Misaligned)
        if misaligned not in choices:
            raise ConfigurationError(
                f"misaligned must be one of {list(choices)}, got {misaligned!r}",
                hint="'error' stops at the first bad answer offset; 'text_only' or 'drop' reads on",
            )
        self.skip_impossible = skip_impossible
        self.misaligned = misaligned

    @property
    def pairs(self) -> bool | None:
        """A question and its context."""
        return True

    @property
    def labels(self) -> None:
        """Extractive QA has no label vocabulary: the gold standard is in ``Example.answers``."""
        return None

    def read(self, path: str | Path) -> Iterator[Example]:
        """Yield one example per question of a SQuAD file, in file order.

        Args:
            path: A SQuAD-layout JSON file (UTF-8, an optional BOM is ignored).

        Yields:
            One :class:`~mtdnn.types.Example` per question that is not skipped.

        Raises:
            DataError: The file is missing or not JSON; a key is missing or has the wrong type; an
                answer's text is empty or not at its ``answer_start`` (with ``misaligned: 'error'``);
                a question marked ``is_impossible`` has answers; a question id repeats; or no
                question is left. The message names the file, the article, the paragraph and the
                question id.
        """
        path = Path(path)
        file = str(path)
        counts = _Counts()
        seen: dict[str, str] = {}
        for where, context, qa in squad_questions(load_json(path), file):
            question_id = json_text(qa, "id", where, file)
            if not question_id:
                raise DataError(f"{where}: the question id is empty", file=file)
            if question_id in seen:
                raise DataError(
                    f"{where}: duplicate question id {question_id!r} (first at {seen[question_id]})",
                    file=file,
                )
            seen[question_id] = where
            where = f"{where} (id {question_id!r})"
            question = json_text(qa, "question", where, file).strip()
            answers = _gold(qa, where, file)
            if answers:
                answers = self._align(answers, context, where, file, counts)
                if not answers:
                    counts.dropped_misaligned += 1
                    continue
            if answers is None:
                counts.unlabelled += 1
            elif answers:
                counts.answerable += 1
            elif self.skip_impossible:
                counts.skipped_impossible += 1
                continue
            else:
                counts.unanswerable += 1
            yield Example(id=question_id, text_a=question, text_b=context, answers=answers)
        if counts.answerable + counts.unanswerable + counts.unlabelled == 0:
            raise DataError(_nothing_left(counts), file=file)
        _log(file, counts, self.misaligned)

    def _align(
        self, answers: tuple[Answer, ...], context: str, where: str, file: str, counts: _Counts
    ) -> tuple[Answer, ...]:
        """Check that each answer is at its offset in ``context``; handle misfits as configured."""
        kept: list[Answer] = []
        for index, answer in enumerate(answers):
            found = context[answer.start : answer.end]
            if found == answer.text:
                kept.append(answer)
                continue
            counts.misaligned += 1
            if self.misaligned == "error":
                raise DataError(
                    f"{where}, answers[{index}]: answer text {answer.text!r} is not at answer_start "
                    f"{answer.start} of the context (found {found!r}); fix the offset, or set "
                    "misaligned to 'text_only' or 'drop'",
                    file=file,
                )
            if self.misaligned == "text_only":
                kept.append(Answer(text=answer.text, start=-1))
        return tuple(kept)


def _gold(qa: Mapping[str, Any], where: str, file: str) -> tuple[Answer, ...] | None:
    """The gold answers of one question as given: ``None`` unlabelled, ``()`` unanswerable."""
    impossible = qa.get("is_impossible", False)
    if not isinstance(impossible, bool):
        raise DataError(f"{where}: 'is_impossible' must be true or false, got {impossible!r}", file=file)
    if "answers" not in qa:
        return None
    raw = qa["answers"]
    if not isinstance(raw, list):
        raise DataError(f"{where}: 'answers' must be a list, got {type(raw).__name__}", file=file)
    if impossible and raw:
        raise DataError(
            f"{where}: the question is marked is_impossible but has {len(raw)} answer(s); "
            "an unanswerable question has 'answers': [] (its guesses go in 'plausible_answers')",
            file=file,
        )
    return tuple(_answer(item, f"{where}, answers[{index}]", file) for index, item in enumerate(raw))


def load_json(path: Path) -> Any:
    """Decode the JSON file, or fail naming the file (and the line of a syntax error)."""
    return read_json(path)


def squad_questions(root: Any, file: str) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
    """Yield ``(where, context, qa)`` for every question object of a decoded SQuAD-layout file."""
    if not isinstance(root, dict):
        raise DataError(f"expected a JSON object with a 'data' list, got {type(root).__name__}", file=file)
    for a, article in enumerate(json_list(root, "data", "the top-level object", file)):
        where = f"data[{a}]"
        if not isinstance(article, dict):
            raise DataError(f"{where}: expected an article object, got {type(article).__name__}", file=file)
        title = article.get("title")
        if title is not None:
            where = f"{where} (title {title!r})"
        for p, paragraph in enumerate(json_list(article, "paragraphs", where, file)):
            spot = f"{where}, paragraphs[{p}]"
            if not isinstance(paragraph, dict):
                raise DataError(
                    f"{spot}: expected a paragraph object, got {type(paragraph).__name__}", file=file
                )
            context = json_text(paragraph, "context", spot, file)
            for q, qa in enumerate(json_list(paragraph, "qas", spot, file)):
                if not isinstance(qa, dict):
                    raise DataError(
                        f"{spot}, qas[{q}]: expected a question object, got {type(qa).__name__}", file=file
                    )
                yield f"{spot}, qas[{q}]", context, qa


def json_list(record: Mapping[str, Any], key: str, where: str, file: str) -> list[Any]:
    """The list under ``key``, or fail naming the place."""
    if key not in record:
        raise DataError(f"{where}: missing key {key!r}; found {sorted(record)}", file=file)
    value = record[key]
    if not isinstance(value, list):
        raise DataError(f"{where}: {key!r} must be a list, got {type(value).__name__}", file=file)
    return value


def json_text(record: Mapping[str, Any], key: str, where: str, file: str) -> str:
    """The string under ``key`` (unchanged), or fail naming the place."""
    if key not in record:
        raise DataError(f"{where}: missing key {key!r}; found {sorted(record)}", file=file)
    value = record[key]
    if not isinstance(value, str):
        raise DataError(f"{where}: {key!r} must be a string, got {type(value).__name__} {value!r}", file=file)
    return value


def _answer(item: Any, where: str, file: str) -> Answer:
    """One gold answer object as an :class:`Answer`, with its types and bounds checked."""
    if not isinstance(item, dict):
        raise DataError(f"{where}: expected an answer object, got {type(item).__name__}", file=file)
    text = json_text(item, "text", where, file)
    if not text:
        raise DataError(
            f"{where}: the answer text is empty; an unanswerable question has 'answers': []", file=file
        )
    if "answer_start" not in item:
        raise DataError(f"{where}: missing key 'answer_start'; found {sorted(item)}", file=file)
    start = item["answer_start"]
    if isinstance(start, bool) or not isinstance(start, int) or start < 0:
        raise DataError(
            f"{where}: 'answer_start' must be a character offset (an integer >= 0), got {start!r}",
            file=file,
        )
    return Answer(text=text, start=start)


def _nothing_left(counts: _Counts) -> str:
    """Say why a file gave no example."""
    if not counts.skipped_impossible and not counts.dropped_misaligned:
        return "the file holds no questions"
    return (
        f"no question is left: {counts.skipped_impossible} unanswerable ones were skipped "
        f"(skip_impossible) and {counts.dropped_misaligned} dropped for misaligned answers"
    )


def _log(file: str, counts: _Counts, misaligned: Misaligned) -> None:
    """Log what was read, skipped and repaired."""
    logger.info(
        "read %d SQuAD questions from %s: %d answerable, %d unanswerable, %d unlabelled",
        counts.answerable + counts.unanswerable + counts.unlabelled,
        file,
        counts.answerable,
        counts.unanswerable,
        counts.unlabelled,
    )
    if counts.skipped_impossible:
        logger.info(
            "skipped %d unanswerable questions of %s (skip_impossible)", counts.skipped_impossible, file
        )
    if counts.misaligned:
        logger.warning(
            "%d answer(s) of %s are not at their answer_start (misaligned: %r); %d question(s) were "
            "dropped as none of their answers was left",
            counts.misaligned,
            file,
            misaligned,
            counts.dropped_misaligned,
        )
