"""Tag raw text with a trained sequence-labelling run: words, tags and entity spans with offsets."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from mtdnn.archive import load_run
from mtdnn.errors import ConfigurationError
from mtdnn.portable.entities import Entity, entity_records, entity_spans, word_entities
from mtdnn.portable.words import spacy_words
from mtdnn.registry import Registry
from mtdnn.training.device import select_device
from mtdnn.training.evaluation import predict_task
from mtdnn.types import Example

__all__ = ["Entity", "Tagger", "entity_records", "entity_spans", "spacy_words", "word_entities"]


class Tagger:
    """A trained run's sequence-labelling task, ready to tag words or raw text.

    Args:
        run_dir: A directory written by ``mtdnn train``.
        registry: The component registry (with the plugins the run used).
        task: The sequence-labelling task to use; may be left out when the run has exactly one.
        device: ``auto`` or a torch device name.
        words: How raw text is split into words (see :func:`spacy_words`).

    Raises:
        ConfigurationError: The run has no such task, or its head does not label words.
    """

    def __init__(
        self,
        run_dir: Path,
        registry: Registry,
        *,
        task: str | None = None,
        device: str = "auto",
        words: str = "blank:en",
    ) -> None:
        experiment, model = load_run(run_dir, registry)
        taggers = [name for name, spec in experiment.tasks.items() if spec.head.input_words]
        if task is None:
            if len(taggers) != 1:
                raise ConfigurationError(
                    f"the run has {len(taggers)} sequence-labelling tasks; name one",
                    hint=f"tasks: {', '.join(sorted(experiment.tasks))}",
                )
            task = taggers[0]
        if task not in experiment.tasks:
            raise ConfigurationError(
                f"the run has no task {task!r}", hint=f"tasks: {', '.join(sorted(experiment.tasks))}"
            )
        if task not in taggers:
            raise ConfigurationError(f"task {task!r} does not label words (its head is not 'tagging')")
        self.device = select_device(device)
        self.encoder = experiment.encoder
        self.task = experiment.tasks[task]
        self.model = model.to(self.device)
        self.words = words

    def tag(self, sentences: Sequence[Sequence[str]]) -> list[list[str]]:
        """One tag per word of each sentence (sentences longer than the encoder are windowed)."""
        examples = [
            Example(id=str(i), text_a=" ".join(words), words=tuple(words))
            for i, words in enumerate(sentences)
        ]
        filled = [example for example in examples if example.words]
        tags: list[list[str]] = [[] for _ in examples]
        if filled:
            data = self.task.featurize(filled, self.encoder, source="the given sentences")
            result = predict_task(self.model, self.task, data, device=self.device)
            for example, predicted in zip(filled, result.predictions, strict=True):
                tags[int(example.id)] = list(predicted)
        return tags

    def entities(self, texts: Sequence[str]) -> list[list[Entity]]:
        """The entities of each raw text, with character offsets into it."""
        split = spacy_words(texts, self.words)
        tagged = self.tag([[word for word, _ in words] for words in split])
        return [
            word_entities(text, words, tags) for text, words, tags in zip(texts, split, tagged, strict=True)
        ]
