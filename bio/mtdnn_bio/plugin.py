"""The plugin module named by the ``mtdnn`` entry point: hook implementations only.

Every command loads this module, so it imports the components (and torch) only inside the hook.
"""

from __future__ import annotations

from pathlib import Path

from mtdnn import hookimpl
from mtdnn.registry import Registry

JSONNET = Path(__file__).parent / "jsonnet"


@hookimpl
def mtdnn_register(registry: Registry) -> None:
    """Register the biomedical readers and metrics (imported here, so loading the plugin is cheap)."""
    from mtdnn.metrics import Metric
    from mtdnn.readers import Reader
    from mtdnn_bio.metrics import BioAsqFactoid, RelationF1
    from mtdnn_bio.readers import BioAsqReader, BioRelationReader, ChemProtReader, ConllReader, IobReader

    registry.add(Reader, "iob", IobReader)
    registry.add(Reader, "conll", ConllReader)
    registry.add(Reader, "chemprot", ChemProtReader)
    registry.add(Reader, "bio_relation", BioRelationReader)
    registry.add(Reader, "bioasq", BioAsqReader)
    registry.add(Metric, "relation_f1", RelationF1)
    registry.add(Metric, "bioasq_factoid", BioAsqFactoid)


@hookimpl
def mtdnn_jsonnet_paths() -> list[str | Path]:
    """Put ``bio.libsonnet`` on the jsonnet import path."""
    return [JSONNET]
