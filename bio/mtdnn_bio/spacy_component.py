"""The spaCy pipeline component ``mtdnn_ner``: sets ``doc.ents`` from a trained mtdnn tagging run.

    import spacy
    nlp = spacy.blank("en")
    nlp.add_pipe("mtdnn_ner", config={"model": "runs/ncbi"})
    doc = nlp("Germline mutations in BRCA1 cause familial breast cancer.")
    [(ent.text, ent.label_) for ent in doc.ents]

spaCy finds the factory through the ``spacy_factories`` entry point of mtdnn-bio, so installing
the distribution is enough; nothing needs to be imported first.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from spacy.language import Language
from spacy.tokens import Doc, Span

from mtdnn.hooks import build_registry, get_plugin_manager
from mtdnn.portable.entities import entity_spans

if TYPE_CHECKING:  # spaCy imports this module for every pipeline it builds: no torch until a run loads
    from mtdnn.api.tagging import Tagger

__all__ = ["MtdnnNer", "make_mtdnn_ner"]


class MtdnnNer:
    """Tags the words of each doc with a trained run and sets ``doc.ents`` from the tags.

    The doc's own tokens (whitespace tokens left out) are the words the model labels, so the
    entities line up with spaCy's tokens. Entities that overlap ones already in ``doc.ents`` are
    dropped unless ``overwrite`` is set.

    Args:
        tagger: The trained sequence-labelling task.
        batch_size: Docs tagged together by :meth:`pipe`.
        overwrite: Replace the doc's existing entities instead of keeping them.
    """

    def __init__(self, tagger: Tagger, *, batch_size: int = 32, overwrite: bool = False) -> None:
        self.tagger = tagger
        self.batch_size = batch_size
        self.overwrite = overwrite

    def __call__(self, doc: Doc) -> Doc:
        """Set the entities of one doc."""
        self._set_entities([doc])
        return doc

    def pipe(self, stream: Iterable[Doc], *, batch_size: int | None = None) -> Iterator[Doc]:
        """Set the entities of many docs, tagging ``batch_size`` of them at a time."""
        size = batch_size or self.batch_size
        batch: list[Doc] = []
        for doc in stream:
            batch.append(doc)
            if len(batch) == size:
                yield from self._set_entities(batch)
                batch = []
        if batch:
            yield from self._set_entities(batch)

    def _set_entities(self, docs: list[Doc]) -> list[Doc]:
        positions = [[token.i for token in doc if not token.is_space] for doc in docs]
        words = [[doc[i].text for i in indices] for doc, indices in zip(docs, positions, strict=True)]
        tags = self.tagger.tag(words)
        for doc, indices, doc_tags in zip(docs, positions, tags, strict=True):
            found = [
                Span(doc, indices[first], indices[last - 1] + 1, label=kind)
                for kind, first, last in entity_spans(doc_tags)
            ]
            if self.overwrite:
                doc.ents = found
                continue
            taken = {i for ent in doc.ents for i in range(ent.start, ent.end)}
            kept = [span for span in found if not taken & set(range(span.start, span.end))]
            doc.ents = [*doc.ents, *kept]
        return docs


@Language.factory(
    "mtdnn_ner",
    default_config={"model": None, "task": None, "device": "cpu", "batch_size": 32, "overwrite": False},
)
def make_mtdnn_ner(
    nlp: Language,
    name: str,
    model: str | None,
    task: str | None,
    device: str,
    batch_size: int,
    overwrite: bool,
) -> MtdnnNer:
    """Build the component from a trained run directory (``model``).

    Args:
        nlp: The pipeline (unused; spaCy passes it).
        name: The component's name in the pipeline.
        model: The run directory written by ``mtdnn train``.
        task: The sequence-labelling task of the run (may be left out when it has one).
        device: ``cpu``, ``cuda``, ``cuda:N`` or ``auto``.
        batch_size: Docs tagged together by ``nlp.pipe``.
        overwrite: Replace existing entities instead of keeping them.

    Raises:
        ValueError: ``model`` is not given.
    """
    if model is None:
        raise ValueError(f"the {name!r} component needs config={{'model': RUN_DIR}}, the trained run to use")
    registry = build_registry(get_plugin_manager())
    from mtdnn.api.tagging import Tagger

    tagger = Tagger(Path(model), registry, task=task, device=device)
    return MtdnnNer(tagger, batch_size=batch_size, overwrite=overwrite)
