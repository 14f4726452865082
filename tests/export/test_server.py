"""``mtdnn serve``: the real server on 127.0.0.1, talked to with a real HTTP client."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

httpx = pytest.importorskip("httpx", reason="pip install httpx (a test extra)")
pytest.importorskip("fastapi", reason="pip install 'mtdnn[serve]'")
pytest.importorskip("uvicorn", reason="pip install 'mtdnn[serve]'")

from mtdnn.export.runtime import ExportedModel  # noqa: E402
from mtdnn.types import Example  # noqa: E402


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start(model: Path, *options: str) -> Iterator[str]:
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from mtdnn.cli import main; main()",
            "serve",
            str(model),
            "--port",
            str(port),
            *options,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise AssertionError(f"the server stopped: {process.stdout.read() if process.stdout else ''}")
            try:
                if httpx.get(url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("the server did not start within 120 s")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def _agree(got: list[dict], want: list[dict]) -> None:
    """Records of the int8 graph agree: dynamic quantisation scales activations per batch, so the
    same text in another batch moves by a little (labels may flip only on near-ties)."""
    assert [record["id"] for record in got] == [record["id"] for record in want]
    for mine, theirs in zip(got, want, strict=True):
        assert mine["probabilities"] == pytest.approx(theirs["probabilities"], abs=0.01)
        if abs(theirs["probabilities"]["0"] - theirs["probabilities"]["1"]) > 0.05:
            assert mine["label"] == theirs["label"]


@pytest.fixture(scope="module")
def server(export: Path) -> Iterator[str]:
    """``mtdnn serve`` over the int8 export, batching for up to 50 ms."""
    yield from _start(export, "--max-wait-ms", "50", "--max-chars", "300", "--max-inputs", "8")


def test_health_and_tasks_describe_the_model(server: str, export: Path) -> None:
    health = httpx.get(server + "/health").json()
    assert health["status"] == "ok" and health["tasks"] == ["mrpc", "rte", "sst2"]
    tasks = httpx.get(server + "/tasks").json()
    labels = json.loads((export / "export.json").read_text())["tasks"]["mrpc"]["labels"]
    assert tasks["mrpc"] == {"type": "classification", "labels": labels, "max_length": 128}


def test_one_input_a_list_and_an_inputs_object_predict_as_the_runtime_does(server: str, export: Path) -> None:
    texts = ["a gripping , moving film .", "dull and far too long ."]
    expected = ExportedModel(export).predict("sst2", [Example(str(i), t) for i, t in enumerate(texts)])
    one = httpx.post(server + "/predict/sst2", json={"text": texts[0]})
    assert one.status_code == 200
    _agree(one.json()["predictions"], expected[:1])
    many = httpx.post(server + "/predict/sst2", json=[{"text": text} for text in texts])
    _agree(many.json()["predictions"], expected)
    wrapped = httpx.post(
        server + "/predict/sst2", json={"inputs": [{"text": t, "id": f"x{i}"} for i, t in enumerate(texts)]}
    )
    assert [record["id"] for record in wrapped.json()["predictions"]] == ["x0", "x1"]
    pair = httpx.post(server + "/predict/rte", json={"text": "A man sleeps.", "text_b": "Someone rests."})
    assert set(pair.json()["predictions"][0]) == {"id", "label", "probabilities"}


def test_concurrent_requests_are_batched_and_all_succeed(server: str, export: Path) -> None:
    before = httpx.get(server + "/health").json()
    texts = [f"review number {i} : {'great' if i % 2 else 'awful'} acting ." for i in range(24)]
    model = ExportedModel(export)
    expected = [model.predict("sst2", [Example("0", text)])[0] for text in texts]

    def ask(text: str) -> httpx.Response:
        return httpx.post(server + "/predict/sst2", json={"text": text}, timeout=60)

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(ask, texts))
    assert [answer.status_code for answer in answers] == [200] * 24
    _agree([answer.json()["predictions"][0] for answer in answers], expected)
    after = httpx.get(server + "/health").json()
    assert after["requests"] - before["requests"] == 24
    assert after["batches"] - before["batches"] < 24  # requests that arrived together shared a call


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        (b'{"text": "unterminated', 400, "not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, 400, "nested too deeply"),
        (b'{"text_b": "only the second"}', 422, "missing field 'text'"),
        (b'{"text": "   "}', 422, "'text' is empty"),
        (b'{"text": 5}', 422, "'text' must be a string"),
        (b'{"text": "ok", "path": "/etc/passwd"}', 422, "unknown field 'path'"),
        (b'{"inputs": "not a list"}', 422, "'inputs' must be a list"),
        (b"[]", 422, "no inputs"),
        (b"[1, 2]", 422, "input 0 must be an object"),
        (b'[{"text": "a", "id": 1}, {"text": "b", "id": 1}]', 422, "ids must be unique"),
        (json.dumps({"text": "x" * 301}).encode(), 413, "has 301 characters; at most 300"),
        (json.dumps([{"text": "x"}] * 9).encode(), 413, "9 inputs in one request; at most 8"),
    ],
)
def test_bad_input_gets_a_4xx_with_the_reason(server: str, body: bytes, status: int, reason: str) -> None:
    answer = httpx.post(server + "/predict/sst2", content=body, headers={"content-type": "application/json"})
    assert answer.status_code == status
    assert reason in answer.json()["error"]


def test_an_unknown_task_is_a_404_and_a_file_path_is_only_text(server: str) -> None:
    answer = httpx.post(server + "/predict/nope", json={"text": "hi"})
    assert answer.status_code == 404 and "tasks: mrpc, rte, sst2" in answer.json()["error"]
    as_text = httpx.post(server + "/predict/sst2", json={"text": "/etc/passwd"})
    assert as_text.status_code == 200  # predicted as a sentence; nothing is read
    assert httpx.get(server + "/health").json()["status"] == "ok"  # still serving after all of it


def test_a_run_directory_is_served_too(quick_run: Path) -> None:
    for url in _start(quick_run):
        answer = httpx.post(url + "/predict/mrpc", json={"text": "He left.", "text_b": "He went away."})
        assert answer.status_code == 200
        assert answer.json()["predictions"][0]["label"] in httpx.get(url + "/tasks").json()["mrpc"]["labels"]


def test_questions_are_answered_and_one_bad_request_fails_alone(span_export: Path) -> None:
    from tests.export.conftest import QA

    model = ExportedModel(span_export)
    expected = [model.predict("squad", [Example("0", q, c)])[0] for q, c in QA]
    for url in _start(span_export, "--max-wait-ms", "200"):

        def ask(body: dict[str, str], url: str = url) -> httpx.Response:
            return httpx.post(url + "/predict/squad", json=body, timeout=60)

        bodies = [{"text": q, "text_b": c} for q, c in QA] * 3 + [{"text": "Who founded it?"}]
        with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
            answers = list(pool.map(ask, bodies))
        assert [answer.status_code for answer in answers] == [200] * 12 + [422]
        assert "has no context" in answers[-1].json()["error"]
        got = [answer.json()["predictions"][0] for answer in answers[:4]]
        assert [(g["answer"], g["start"]) for g in got] == [(e["answer"], e["start"]) for e in expected]
        assert httpx.get(url + "/health").json()["batches"] < 13  # the good ones still shared calls
