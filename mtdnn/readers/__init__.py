"""Built-in readers: turn data files into examples."""

from __future__ import annotations

from mtdnn.hooks.markers import hookimpl
from mtdnn.readers.anli import AnliReader
from mtdnn.readers.base import Reader
from mtdnn.readers.glue import GlueReader
from mtdnn.readers.qnli import QnliRankingReader
from mtdnn.readers.scitail import SciTailReader
from mtdnn.readers.snli import SnliReader
from mtdnn.readers.squad import SquadReader
from mtdnn.readers.text import TaskTextsReader, TextReader
from mtdnn.readers.wrappers import SubsampleReader, SwapPairsReader
from mtdnn.registry import Registry

__all__ = [
    "AnliReader",
    "GlueReader",
    "QnliRankingReader",
    "Reader",
    "SciTailReader",
    "SnliReader",
    "SquadReader",
    "SubsampleReader",
    "SwapPairsReader",
    "TaskTextsReader",
    "TextReader",
]


@hookimpl
def mtdnn_register(registry: Registry) -> None:
    """Register the built-in readers."""
    registry.add(Reader, "glue", GlueReader)
    registry.add(Reader, "snli", SnliReader)
    registry.add(Reader, "scitail", SciTailReader)
    registry.add(Reader, "anli", AnliReader)
    registry.add(Reader, "qnli_ranking", QnliRankingReader)
    registry.add(Reader, "subsample", SubsampleReader)
    registry.add(Reader, "swap_pairs", SwapPairsReader)
    registry.add(Reader, "text", TextReader)
    registry.add(Reader, "task_texts", TaskTextsReader)
    registry.add(Reader, "squad", SquadReader)
