"""``mtdnn serve``: an HTTP JSON API over a run directory or an export, with request batching.

Endpoints:

- ``POST /predict/{task}``: one input object, or a list of them (or ``{"inputs": [...]}``). An
  input is ``{"text": ...}`` with optional ``text_b``, ``id`` and ``group``; the answer holds one
  record per input, as ``mtdnn predict`` writes them (``{"predictions": [...]}``).
- ``GET /tasks``: each task's head type, labels and ``max_length``.
- ``GET /health``: ``ok``, the model, and counters of requests, inputs and model batches.

Inputs that arrive together are predicted together: each task's queue collects inputs for up to
``max_wait`` seconds or until ``max_batch`` inputs wait, then one worker thread predicts them in
one call. Bad input is answered with a 4xx and the reason, never a 500: malformed JSON (400),
missing or unknown fields, wrong types, empty text (422), text longer than ``max_chars`` or
more than ``max_inputs`` inputs (413), an unknown task (404). The API takes text only: no field
names a file, so a request cannot make the server read one.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from mtdnn.errors import ConfigurationError, DataError
from mtdnn.types import Example

__all__ = ["InputError", "Predictor", "ServerSettings", "create_app", "load_predictor", "parse_inputs"]

logger = logging.getLogger(__name__)

FIELDS = {"text", "text_a", "text_b", "id", "group"}


class Predictor(Protocol):
    """What the server needs of a model: its tasks, and records for a batch of examples."""

    def describe(self) -> dict[str, dict[str, Any]]:
        """Each task's ``type``, ``labels`` and ``max_length``."""
        ...

    def predict(self, task: str, examples: Sequence[Example]) -> list[dict[str, Any]]:
        """``mtdnn predict``'s record of each example."""
        ...


class _ExportPredictor:
    """An export, on onnxruntime (no PyTorch)."""

    def __init__(self, directory: Path, *, threads: int | None, words: str, providers: list[str]) -> None:
        from mtdnn.export.runtime import ExportedModel

        self.model = ExportedModel(directory, threads=threads, providers=providers)
        self.words = words

    def describe(self) -> dict[str, dict[str, Any]]:
        return {
            name: {"type": task.type, "labels": task.labels, "max_length": task.max_length}
            for name, task in sorted(self.model.tasks.items())
        }

    def predict(self, task: str, examples: Sequence[Example]) -> list[dict[str, Any]]:
        return self.model.predict(task, examples, words=self.words)


class _RunPredictor:
    """A run directory, on PyTorch."""

    def __init__(self, directory: Path, *, device: str, words: str, plugins: Sequence[str] = ()) -> None:
        from mtdnn.archive import load_run
        from mtdnn.hooks import build_registry, get_plugin_manager
        from mtdnn.training.device import select_device

        registry = build_registry(get_plugin_manager(plugins=list(plugins)))
        self.experiment, model = load_run(directory, registry)
        self.types = {name: registry.name_of(type(task.head)) for name, task in self.experiment.tasks.items()}
        self.device = str(select_device(device))
        self.model = model.to(self.device)
        self.words = words

    def describe(self) -> dict[str, dict[str, Any]]:
        return {
            name: {
                "type": self.types[name],
                "labels": task.labels,
                "max_length": task.settings.max_length,
            }
            for name, task in sorted(self.experiment.tasks.items())
        }

    def predict(self, task: str, examples: Sequence[Example]) -> list[dict[str, Any]]:
        from mtdnn.api.predict import predict_examples

        return predict_examples(
            self.experiment, self.model, examples, task=task, device=self.device, words=self.words
        )


def load_predictor(
    model: Path, *, device: str = "auto", threads: int | None = None, words: str = "blank:en"
) -> Predictor:
    """The predictor of an export (onnxruntime) or of a run directory (PyTorch)."""
    from mtdnn.export.runtime import is_export

    if is_export(model):
        from mtdnn.export.predict import providers_for

        return _ExportPredictor(model, threads=threads, words=words, providers=providers_for(device))
    return _RunPredictor(model, device=device, words=words)


@dataclass(frozen=True)
class ServerSettings:
    """Limits and batching of the server.

    Args:
        max_batch: Most inputs predicted in one call.
        max_wait: Seconds an input waits for others to join its batch.
        max_chars: Longest text accepted (characters, per field).
        max_inputs: Most inputs in one request.
    """

    max_batch: int = 32
    max_wait: float = 0.005
    max_chars: int = 20_000
    max_inputs: int = 256

    def __post_init__(self) -> None:
        if self.max_batch < 1 or self.max_wait < 0 or self.max_chars < 1 or self.max_inputs < 1:
            raise ConfigurationError(
                "max_batch, max_chars and max_inputs must be at least 1 and max_wait not negative"
            )


class InputError(Exception):
    """A request the server refuses: its HTTP status and the reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def parse_inputs(body: bytes, settings: ServerSettings) -> list[Example]:
    """The examples of a request body, or :class:`InputError` with the status and reason.

    Raises:
        InputError: The body is not JSON (400), not inputs (422), or too large (413).
    """
    try:
        value = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(400, f"the body is not valid JSON: {exc}") from exc
    except RecursionError as exc:
        raise InputError(400, "the body is nested too deeply") from exc
    if isinstance(value, dict) and "inputs" in value:
        if set(value) != {"inputs"}:
            raise InputError(422, "an object with 'inputs' may hold nothing else")
        value = value["inputs"]
        if not isinstance(value, list):
            raise InputError(422, "'inputs' must be a list of input objects")
    items = value if isinstance(value, list) else [value]
    if not items:
        raise InputError(422, "no inputs")
    if len(items) > settings.max_inputs:
        raise InputError(413, f"{len(items)} inputs in one request; at most {settings.max_inputs}")
    examples = []
    for number, item in enumerate(items):
        where = f"input {number}" if isinstance(value, list) else "the input"
        examples.append(_example(item, where, number, settings))
    ids = [example.id for example in examples]
    if len(set(ids)) != len(ids):
        raise InputError(422, "input ids must be unique within a request")
    return examples


def _example(item: Any, where: str, number: int, settings: ServerSettings) -> Example:
    if not isinstance(item, dict):
        raise InputError(422, f'{where} must be an object such as {{"text": "..."}}')
    unknown = sorted(set(item) - FIELDS)
    if unknown:
        raise InputError(
            422, f"{where}: unknown field {', '.join(map(repr, unknown))} (fields: {sorted(FIELDS)})"
        )
    if "text" in item and "text_a" in item:
        raise InputError(422, f"{where}: give 'text' or 'text_a', not both")
    text = item.get("text", item.get("text_a"))
    if text is None:
        raise InputError(422, f"{where}: missing field 'text'")
    texts = {"text": text, "text_b": item.get("text_b")}
    for name, content in texts.items():
        if content is None and name == "text_b":
            continue
        if not isinstance(content, str):
            raise InputError(422, f"{where}: {name!r} must be a string")
        if not content.strip():
            raise InputError(422, f"{where}: {name!r} is empty")
        if len(content) > settings.max_chars:
            raise InputError(
                413, f"{where}: {name!r} has {len(content)} characters; at most {settings.max_chars}"
            )
    for name in ("id", "group"):
        if (name in item and not isinstance(item[name], (str, int))) or isinstance(item.get(name), bool):
            raise InputError(422, f"{where}: {name!r} must be a string or an integer")
    group = item.get("group")
    return Example(
        id=str(item.get("id", number)),
        text_a=text,
        text_b=texts["text_b"],
        group=None if group is None else str(group),
    )


@dataclass
class _Pending:
    examples: list[Example]
    future: asyncio.Future[list[dict[str, Any]]]


@dataclass
class _Counters:
    """What ``/health`` reports; changed only on the event loop's thread, so without a lock."""

    requests: int = 0
    inputs: int = 0
    batches: int = 0


class _Batcher:
    """Collects the inputs of requests to one task and predicts them together in a worker thread."""

    def __init__(
        self,
        predictor: Predictor,
        task: str,
        settings: ServerSettings,
        executor: ThreadPoolExecutor,
        counters: _Counters,
    ) -> None:
        self.predictor = predictor
        self.task = task
        self.settings = settings
        self.executor = executor
        self.counters = counters
        self.queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self.runner: asyncio.Task[None] | None = None

    async def submit(self, examples: list[Example]) -> list[dict[str, Any]]:
        if self.runner is None:
            self.runner = asyncio.create_task(self._run())
        future: asyncio.Future[list[dict[str, Any]]] = asyncio.get_running_loop().create_future()
        await self.queue.put(_Pending(examples, future))
        return await future

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            waiting = [await self.queue.get()]
            size = len(waiting[0].examples)
            deadline = loop.time() + self.settings.max_wait
            while size < self.settings.max_batch:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:
                    item = await asyncio.wait_for(self.queue.get(), remaining)
                except TimeoutError:
                    break
                waiting.append(item)
                size += len(item.examples)
            await self._answer(waiting)

    async def _answer(self, waiting: list[_Pending]) -> None:
        """Predict the inputs of ``waiting`` requests in one run and answer each request.

        When the run fails for several requests, each is run alone, so that one bad request does
        not fail the others; a request that fails alone gets the error as its answer.
        """
        examples = [  # a group is a group within its request only
            replace(example, group=None if example.group is None else f"{number}:{example.group}")
            for number, pending in enumerate(waiting)
            for example in pending.examples
        ]
        loop = asyncio.get_running_loop()
        try:
            records = await loop.run_in_executor(self.executor, self.predictor.predict, self.task, examples)
        except Exception as exc:
            if len(waiting) > 1:
                for pending in waiting:
                    await self._answer([pending])
            elif not waiting[0].future.done():
                waiting[0].future.set_exception(exc)
            return
        self.counters.batches += 1
        start = 0
        for pending in waiting:
            end = start + len(pending.examples)
            if not pending.future.done():
                pending.future.set_result(records[start:end])
            start = end


def create_app(predictor: Predictor, settings: ServerSettings | None = None, *, name: str = "model") -> Any:
    """The ASGI application (FastAPI) serving ``predictor``.

    Raises:
        ConfigurationError: FastAPI is not installed.
    """
    try:
        from fastapi import FastAPI
        from fastapi.responses import JSONResponse
    except ImportError as exc:
        raise ConfigurationError("serving needs the serve extra", hint="pip install 'mtdnn[serve]'") from exc
    settings = settings or ServerSettings()
    tasks = predictor.describe()
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mtdnn-predict")
    counters = _Counters()
    batchers: dict[str, _Batcher] = {}
    app = FastAPI(title="mtdnn", description=f"Predictions of {name}", version="1")

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {
            "status": "ok",
            "model": name,
            "tasks": sorted(tasks),
            "requests": counters.requests,
            "inputs": counters.inputs,
            "batches": counters.batches,
        }

    @app.get("/tasks")
    async def list_tasks() -> dict[str, Any]:
        return tasks

    async def predict(request: Any) -> Any:  # a plain Starlette route: the body is parsed here
        task = request.path_params["task"]
        if task not in tasks:
            return JSONResponse(
                {"error": f"no task {task!r}; tasks: {', '.join(sorted(tasks))}"}, status_code=404
            )
        try:
            examples = parse_inputs(await request.body(), settings)
        except InputError as exc:
            return JSONResponse({"error": exc.reason}, status_code=exc.status)
        counters.requests += 1
        counters.inputs += len(examples)
        batcher = batchers.get(task)
        if batcher is None:
            batcher = batchers[task] = _Batcher(predictor, task, settings, executor, counters)
        try:
            records = await batcher.submit(examples)
        except (DataError, ConfigurationError) as exc:  # the input cannot be predicted as given
            return JSONResponse({"error": str(exc)}, status_code=422)
        return JSONResponse({"predictions": records})

    app.router.add_route("/predict/{task}", predict, methods=["POST"])
    return app


def serve(
    model: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    settings: ServerSettings | None = None,
    device: str = "auto",
    threads: int | None = None,
    words: str = "blank:en",
) -> None:
    """Load ``model`` and serve it with uvicorn until interrupted.

    Raises:
        ConfigurationError: The serve extra is missing, or the model cannot be loaded.
    """
    try:
        import uvicorn
    except ImportError as exc:
        raise ConfigurationError("serving needs the serve extra", hint="pip install 'mtdnn[serve]'") from exc
    predictor = load_predictor(model, device=device, threads=threads, words=words)
    app = create_app(predictor, settings, name=str(model))
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=False)
