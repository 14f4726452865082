"""Built-in readers: turn data files into examples."""

from __future__ import annotations

from mtdnn.readers.anli import AnliReader
from mtdnn.readers.base import Reader
from mtdnn.readers.columns import ColumnsReader
from mtdnn.readers.glue import GlueReader
from mtdnn.readers.qnli import QnliRankingReader
from mtdnn.readers.scitail import SciTailReader
from mtdnn.readers.snli import SnliReader
from mtdnn.readers.squad import SquadReader
from mtdnn.readers.text import TaskTextsReader, TextReader
from mtdnn.readers.wrappers import SubsampleReader, SwapPairsReader

__all__ = [
    "AnliReader",
    "ColumnsReader",
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
