"""The hook that registers the built-in readers.

``mtdnn.readers`` (and torch with it) is imported only when the hook runs, so commands that build no
registry (``mtdnn --help``) start fast.
"""

from __future__ import annotations

from mtdnn.hooks.markers import hookimpl
from mtdnn.registry import Registry


@hookimpl
def mtdnn_register(registry: Registry) -> None:
    """Register the built-in readers."""
    from mtdnn.readers import (
        AnliReader,
        GlueReader,
        QnliRankingReader,
        Reader,
        SciTailReader,
        SnliReader,
        SquadReader,
        SubsampleReader,
        SwapPairsReader,
        TaskTextsReader,
        TextReader,
    )

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
