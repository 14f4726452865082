"""Biomedical readers: NER (IOB/CoNLL), relation classification (ChemProt, GAD, EU-ADR), BioASQ factoid QA."""

from __future__ import annotations

from mtdnn_bio.readers.bioasq import BioAsqReader, read_golden
from mtdnn_bio.readers.relations import CHEMPROT_LABELS, BioRelationReader, ChemProtReader
from mtdnn_bio.readers.tagging import ConllReader, IobReader, scheme_labels

__all__ = [
    "CHEMPROT_LABELS",
    "BioAsqReader",
    "BioRelationReader",
    "ChemProtReader",
    "ConllReader",
    "IobReader",
    "read_golden",
    "scheme_labels",
]
