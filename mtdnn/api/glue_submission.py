"""Write GLUE benchmark submission files (one TSV per task) from a trained run's test predictions."""

from __future__ import annotations

import logging
from pathlib import Path

from mtdnn.archive import load_run
from mtdnn.errors import ConfigurationError
from mtdnn.readers.glue import GlueReader
from mtdnn.registry import Registry
from mtdnn.training.device import select_device
from mtdnn.training.evaluation import predict_task

__all__ = ["GLUE_FILE_NAMES", "write_glue_submission"]

logger = logging.getLogger(__name__)

# The file names the GLUE server expects, by the reader's task name.
GLUE_FILE_NAMES = {
    "cola": "CoLA",
    "sst2": "SST-2",
    "mrpc": "MRPC",
    "stsb": "STS-B",
    "qqp": "QQP",
    "mnli": "MNLI-m",
    "qnli": "QNLI",
    "rte": "RTE",
    "wnli": "WNLI",
}


def write_glue_submission(
    run_dir: Path, registry: Registry, out_dir: Path, *, tasks: list[str] | None = None, device: str = "auto"
) -> dict[str, Path]:
    """Predict the test file of every GLUE task of a run and write ``<GLUE name>.tsv`` files.

    Each file has the header ``index<TAB>prediction`` and one row per test example, the index
    taken from the test file and the prediction written as the task's label text (a score with
    three decimals for STS-B). MNLI's mismatched test file (a test path containing
    ``mismatched``) is written as ``MNLI-mm.tsv``.

    Args:
        run_dir: A directory written by ``mtdnn train``.
        registry: Component registry.
        out_dir: Where the files go (created if missing).
        tasks: Only these tasks (default: every task read by the ``glue`` reader with a test file).
        device: ``auto`` or a torch device name.

    Returns:
        Task name to the file written.

    Raises:
        ConfigurationError: A named task is not a GLUE task of the run or has no test file, or
            two tasks would write the same file.
    """
    experiment, model = load_run(run_dir, registry)
    target = select_device(device)
    model.to(target)
    chosen = tasks or [
        name
        for name, task in experiment.tasks.items()
        if isinstance(task.settings.reader, GlueReader) and task.settings.test is not None
    ]
    if not chosen:
        raise ConfigurationError(
            "the run has no GLUE task with a 'test' file", hint="add test: '.../test.tsv' to a task"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for name in chosen:
        task = experiment.tasks.get(name)
        if task is None or not isinstance(task.settings.reader, GlueReader):
            raise ConfigurationError(f"{name!r} is not a GLUE task of this run")
        test = task.path("test")
        file_name = GLUE_FILE_NAMES[task.settings.reader.task]
        if file_name == "MNLI-m" and "mismatched" in test.name:
            file_name = "MNLI-mm"
        path = out_dir / f"{file_name}.tsv"
        if path in written.values():
            raise ConfigurationError(f"two tasks would both write {path.name}", hint="choose one with --task")
        data = task.load("test", experiment.encoder)
        result = predict_task(model, task, data, device=target)
        prefix = f"{test.stem}-"
        labels = task.labels
        with path.open("w") as stream:
            stream.write("index\tprediction\n")
            for example_id, prediction in zip(result.ids, result.predictions, strict=True):
                index = example_id[len(prefix) :] if example_id.startswith(prefix) else example_id
                value = f"{float(prediction.value):.3f}" if labels is None else labels[int(prediction.value)]
                stream.write(f"{index}\t{value}\n")
        logger.info("%s: %d test predictions written to %s", name, len(data), path)
        written[name] = path
    return written
