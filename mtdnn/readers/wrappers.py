"""Readers that wrap another reader: seeded subsampling and BAM's pair-order augmentation."""

from __future__ import annotations

import dataclasses
import logging
import math
import random
from collections.abc import Iterator, Sequence
from pathlib import Path

from mtdnn.errors import ConfigurationError, DataError
from mtdnn.readers.base import Reader
from mtdnn.types import Example

__all__ = ["SubsampleReader", "SwapPairsReader"]

logger = logging.getLogger(__name__)

SWAPPED_SUFFIX = ":swapped"
"""Appended to the id of the swapped copy of a pair."""


class SubsampleReader(Reader):
    """Keeps a seeded random share of another reader's examples, in file order, whole groups at once.

    The sampled units are the examples, except that examples sharing a ``group`` (the candidates
    of one query in a ranking task) form one unit, kept or dropped together. ``fraction`` keeps
    ``round(fraction * units)`` units, rounding halves up and keeping at least one (1 % of
    SST-2's 67,349 training sentences is 673). The units are drawn by shuffling them with
    ``random.Random(seed)`` and taking the first ones, so for one seed and file a smaller share
    is contained in a larger one (the 0.1 % sample lies inside the 1 % sample). The kept
    examples come out in their original file order.

    Args:
        reader: The reader whose examples are sampled (its labels are kept unchanged).
        fraction: Share of the units to keep, in (0, 1]. Give exactly one of ``fraction`` and
            ``count``.
        count: Number of units (examples, or groups where examples have a group) to keep, at
            least 1; a file with fewer units is kept whole, with a warning.
        seed: Seed of the draw; the same seed, file and share give the same examples.
    """

    def __init__(
        self,
        reader: Reader,
        *,
        fraction: float | None = None,
        count: int | None = None,
        seed: int = 0,
    ) -> None:
        if (fraction is None) == (count is None):
            raise ConfigurationError(
                "give exactly one of 'fraction' and 'count'",
                hint="e.g. fraction: 0.01 keeps 1 % of the examples; count: 500 keeps 500",
            )
        if fraction is not None and not (math.isfinite(fraction) and 0.0 < fraction <= 1.0):
            raise ConfigurationError(
                f"fraction must be in (0, 1], got {fraction!r}", hint="write 1 % as 0.01"
            )
        if count is not None and count < 1:
            raise ConfigurationError(f"count must be at least 1, got {count!r}")
        self.reader = reader
        self.fraction = fraction
        self.count = count
        self.seed = seed

    @property
    def pairs(self) -> bool | None:
        """The wrapped reader's."""
        return self.reader.pairs

    @property
    def labels(self) -> list[str] | None:
        """The wrapped reader's labels."""
        return self.reader.labels

    def collect_labels(self, path: str | Path) -> list[str] | None:
        """The wrapped reader collects its labels from all of ``path``."""
        return self.reader.collect_labels(path)

    def read(self, path: str | Path) -> Iterator[Example]:
        """Read all of ``path`` with the wrapped reader and yield the sampled examples in file order.

        Args:
            path: A file the wrapped reader understands.

        Yields:
            The examples of the kept units, in file order.

        Raises:
            DataError: As the wrapped reader does.
        """
        examples = list(self.reader.read(path))
        unit_of = _units(examples)
        units = max(unit_of, default=-1) + 1
        size = self._size(units, str(path))
        order = list(range(units))
        random.Random(self.seed).shuffle(order)
        kept = set(order[:size])
        chosen = [example for example, unit in zip(examples, unit_of, strict=True) if unit in kept]
        logger.info(
            "subsample kept %d of %d examples (%d of %d units, seed %d) from %s",
            len(chosen),
            len(examples),
            size,
            units,
            self.seed,
            path,
        )
        yield from chosen

    def _size(self, units: int, file: str) -> int:
        """Return how many of ``units`` units to keep."""
        if self.fraction is not None:
            return min(units, max(1, math.floor(self.fraction * units + 0.5)))
        count = units if self.count is None else self.count
        if count > units:
            logger.warning("subsample count %d exceeds the %d units of %s; keeping all", count, units, file)
        return min(count, units)


class SwapPairsReader(Reader):
    """Yields every pair of another reader twice: as read, then with its two texts swapped.

    This is BAM's augmentation for tasks whose relation is symmetric (MRPC, QQP, STS-B): the
    copy has ``text_a`` and ``text_b`` exchanged, the same label and group, and the id with
    ``:swapped`` appended (``train-7`` and ``train-7:swapped``). The wrapper doubles whatever
    file it reads, so put it under a task's ``train_reader`` to augment the training file only.

    Args:
        reader: The reader of sentence pairs to augment (its labels are kept unchanged).
    """

    def __init__(self, reader: Reader) -> None:
        self.reader = reader

    @property
    def pairs(self) -> bool | None:
        """Pairs, each also swapped."""
        return True

    @property
    def labels(self) -> list[str] | None:
        """The wrapped reader's labels."""
        return self.reader.labels

    def collect_labels(self, path: str | Path) -> list[str] | None:
        """The wrapped reader collects its labels from all of ``path``."""
        return self.reader.collect_labels(path)

    def read(self, path: str | Path) -> Iterator[Example]:
        """Yield each example of ``path`` followed by its swapped copy.

        Args:
            path: A file of sentence pairs the wrapped reader understands.

        Yields:
            Twice as many examples as the wrapped reader: each pair, then its swapped copy.

        Raises:
            DataError: An example has no second text (``text_b``), or as the wrapped reader does.
        """
        for example in self.reader.read(path):
            if example.text_b is None:
                raise DataError(
                    f"example {example.id!r} has no second text; swap_pairs needs sentence pairs "
                    "(remove it from single-sentence tasks)",
                    file=str(path),
                )
            yield example
            yield dataclasses.replace(
                example, id=example.id + SWAPPED_SUFFIX, text_a=example.text_b, text_b=example.text_a
            )


def _units(examples: Sequence[Example]) -> list[int]:
    """Number the sampling units in order of first appearance: one per group, one per ungrouped example."""
    group_unit: dict[str, int] = {}
    unit_of: list[int] = []
    next_unit = 0
    for example in examples:
        if example.group is None:
            unit_of.append(next_unit)
            next_unit += 1
            continue
        unit = group_unit.get(example.group)
        if unit is None:
            unit = group_unit[example.group] = next_unit
            next_unit += 1
        unit_of.append(unit)
    return unit_of
