"""Property-based fuzzing of every reader (core and mtdnn-bio) on mutated bytes of real data files.

Each set-up is one reader configuration and a small seed file: a prefix of a real file (cut at a
line boundary), a small valid document built from the first questions of a real JSON file, or,
where the shared data has no file of the format (SciTail, ANLI, CoNLL, the ``columns`` reader's
TSV, raw ``mtdnn predict`` inputs), a file built from real sentences. Hypothesis mutates the
seed's bytes (replaced and inserted bytes and tokens, deleted ranges, duplicated and dropped
lines, truncation, other line endings, replaced table fields and, for JSON, values swapped for
other types, huge numbers or deep nesting) and the reader reads the result. The only exceptions
allowed are mtdnn's own (:class:`~mtdnn.errors.MtdnnError`), and a
:class:`~mtdnn.errors.DataError` must name the file it is about.

Every set-up runs ``EXAMPLES`` examples; the module takes well under a minute on one core. A
failure prints the mutations drawn, the changed bytes and the ``@reproduce_failure`` blob. To
reproduce a whole run, pass the seed Hypothesis prints:
``pytest tests/readers/test_fuzz.py --hypothesis-seed=<seed> -k <set-up>``. No example database
is written (``database=None``).

The module is longer than our usual ~400 lines because it holds one table of ~40 set-ups and the
seed builders they share; splitting it would scatter that table.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from mtdnn.config.build import build
from mtdnn.errors import DataError, MtdnnError
from mtdnn.hooks import build_registry, get_plugin_manager
from mtdnn.readers.base import Reader
from mtdnn.readers.raw import read_raw_examples
from mtdnn.registry import Registry
from mtdnn.types import Example

EXAMPLES = 50
SEED_BYTES = 2048
MIN_LINES = 6
SCALE = 1 << 16
"""Positions are drawn in ``[0, SCALE]`` and scaled to the file's current length."""

BOM = b"\xef\xbb\xbf"
NBSP = b"\xc2\xa0"
SENTINEL = "\x00fuzz\x00"

BIG: dict[str, bytes] = {
    "DIGITS": b"1" * 4400,  # an integer past Python's int-from-string limit (4300 digits)
    "DEEP": b"[" * 100_000,  # unclosed nesting far past the JSON decoder's recursion limit
    "NESTED_2000": b"[" * 2000 + b"]" * 2000,
    "NESTED_950": b"[" * 950 + b"]" * 950,
    "NESTED_900": b"[" * 900 + b"]" * 900,
    "NESTED_800": b"[" * 800 + b"1" + b"]" * 800,
    "NESTED_OBJECT_900": b'{"a":' * 900 + b"1" + b"}" * 900,
    "LONG": b"x" * 140_000,  # a field over the csv module's limit (131,072 characters)
}
"""Large tokens, drawn by name so that a failing example prints short."""

_BYTES = [
    b"\xff", b"\xc3", b"\x00", b"\r", b"\n", b"\r\n", b"\t", b'"', b"{", b"[", b"]", b"}", b",", b":",
    b"\\", b" ", BOM, NBSP, b"\xe2\x80\xa8", b"\x85", b"\x0b", b"\x1c", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
]  # fmt: skip
_FIELDS = [
    b"", b" ", b"0", b"1", b"2", b"-1", b"0.5", b"nan", b"inf", b"-inf", b"1e999", b"-", b"e",
    b"entailment", b"not_entailment", b"neutral", b"contradiction", b"entails", b"O", b"B-Disease",
    b"I-Disease", b"E-Disease", b"S-Disease", b"B-", b"I-", b"-DOCSTART-", b"index", b"id",
    b"sentence", b"label", b'"', b'""', b'"a,b"', b'"open', b"a\tb", NBSP, b"\xff",
]  # fmt: skip
_JSON_VALUES = [
    b"null", b"true", b"false", b"0", b"-1", b"1.5", b"NaN", b"-Infinity", b"1e999", b'""', b'" "',
    b'"\\u00a0"', b'"\\ud800"', b'"\\u0000"', b'"a\\tb\\nc"', b"[]", b"{}", b'["x"]', b'[["x"]]',
    b'[1, "x"]', b'{"text": "x"}', b'"entailment"', b'"-"', b'"e"', b'"q_1"', b'"x_"', b'"INHIBITOR"',
    b'"France"', b"-5", b"99999999999999999999",
]  # fmt: skip

Token = bytes | str
"""Bytes to write, or the name of a :data:`BIG` token."""


def _token_bytes(token: Token) -> bytes:
    return BIG[token] if isinstance(token, str) else token


_TOKENS = st.one_of(st.sampled_from(_BYTES), st.sampled_from(sorted(BIG)), st.binary(min_size=1, max_size=8))


def _mutations(fmt: str) -> st.SearchStrategy[list[tuple[Any, ...]]]:
    """One to four edits of a file of format ``fmt`` (``tsv``, ``csv``, ``conll``, ``text``, ``json(l)``)."""
    at = st.integers(0, SCALE)
    line = st.integers(0, 1 << 10)
    edits = [
        st.tuples(st.just("flip"), at, st.integers(0, 255)),
        st.tuples(st.just("replace"), at, st.integers(0, 8), _TOKENS),
        st.tuples(st.just("delete"), at, st.integers(1, 64)),
        st.tuples(st.just("truncate"), at),
        st.tuples(st.just("dup_line"), line, line),
        st.tuples(st.just("drop_line"), line),
        st.tuples(st.just("endings"), st.sampled_from([b"\r\n", b"\r"])),
    ]
    if fmt in ("json", "jsonl"):
        path = st.lists(st.integers(0, 63), max_size=6).map(tuple)
        values = st.one_of(st.none(), st.sampled_from(_JSON_VALUES), st.sampled_from(sorted(BIG)))
        structural = st.tuples(st.just("json"), line, path, values)
    else:
        cells = st.one_of(st.none(), st.sampled_from(_FIELDS), _TOKENS)
        structural = st.tuples(st.just("field"), line, st.integers(0, 15), cells)
    # Structural edits keep the rest of the file valid, so they reach deeper: draw them as often as
    # all byte edits together.
    return st.lists(st.one_of(structural, st.one_of(*edits)), min_size=1, max_size=4)


MUTATIONS = {fmt: _mutations(fmt) for fmt in ("tsv", "csv", "conll", "text", "json", "jsonl")}
"""Built once: Hypothesis re-validates a strategy built anew for every example."""


def _mutate(data: bytes, edits: list[tuple[Any, ...]], fmt: str) -> bytes:
    for edit in edits:
        data = _apply(data, edit, fmt)
    return data


def _apply(data: bytes, edit: tuple[Any, ...], fmt: str) -> bytes:
    """Apply one edit; positions and line numbers wrap around the file's current size."""
    kind, *args = edit
    if kind == "flip":
        at = min(args[0] * len(data) // SCALE, len(data) - 1)
        return data if not data else data[:at] + bytes([args[1]]) + data[at + 1 :]
    if kind in ("replace", "delete", "truncate"):
        at = args[0] * len(data) // SCALE
        if kind == "truncate":
            return data[:at]
        token = _token_bytes(args[2]) if kind == "replace" else b""
        return data[:at] + token + data[at + args[1] :]
    if kind == "endings":
        return data.replace(b"\r\n", b"\n").replace(b"\n", args[0])
    lines = data.splitlines(keepends=True)
    if not lines:
        return data
    index = args[0] % len(lines)
    if kind == "dup_line":
        copy = lines[index] if lines[index].endswith((b"\n", b"\r")) else lines[index] + b"\n"
        lines.insert(args[1] % (len(lines) + 1), copy)
    elif kind == "drop_line":
        del lines[index]
    elif kind == "field":
        lines[index] = _edit_field(lines[index], args[1], args[2], b"," if fmt == "csv" else b"\t")
    elif fmt == "json":
        return _edit_json(data, args[1], args[2], indent=1)
    else:
        lines[index] = _edit_json(lines[index], args[1], args[2], indent=None)
    return b"".join(lines)


def _edit_field(line: bytes, column: int, token: Token | None, separator: bytes) -> bytes:
    """Replace (or, for ``None``, remove) one field of a table row."""
    body = line.rstrip(b"\r\n")
    cells = body.split(separator)
    index = column % len(cells)
    if token is None:
        del cells[index]
    else:
        cells[index] = _token_bytes(token)
    return separator.join(cells) + line[len(body) :]


def _edit_json(text: bytes, path: tuple[int, ...], token: Token | None, *, indent: int | None) -> bytes:
    """Replace (or, for ``None``, delete) the value at ``path`` of a JSON document left valid so far."""
    body = text.rstrip(b"\r\n")
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return text  # an earlier edit broke it: leave it broken
    root = {"root": value}
    parent: Any = root
    key: Any = "root"
    for step in path:
        node = parent[key]
        if isinstance(node, dict) and node:
            parent, key = node, list(node)[step % len(node)]
        elif isinstance(node, list) and node:
            parent, key = node, step % len(node)
        else:
            break
    if token is None and parent is not root:
        del parent[key]
    else:
        parent[key] = SENTINEL
    # an earlier edit may have left a lone surrogate (the escape "\ud800"): written out as it is,
    # it makes bytes that are not UTF-8, one more broken input for the reader
    dumped = json.dumps(root["root"], ensure_ascii=False, indent=indent).encode("utf-8", "surrogatepass")
    if token is not None:
        dumped = dumped.replace(json.dumps(SENTINEL).encode("utf-8"), _token_bytes(token), 1)
    return dumped + text[len(body) :]


# -- seeds ------------------------------------------------------------------------------------------

Seed = Callable[[Path, Path], bytes]
"""Builds a seed file from (the shared data folder, the repository root)."""


def _head(path: Path, size: int = SEED_BYTES) -> bytes:
    """The first lines of ``path``: at least :data:`MIN_LINES`, cut at the line that passes ``size`` bytes."""
    lines: list[bytes] = []
    with path.open("rb") as stream:
        for line in stream:
            lines.append(line)
            if sum(map(len, lines)) >= size and len(lines) >= MIN_LINES:
                break
    return b"".join(lines)


def _shared(relative: str) -> Seed:
    return lambda shared, repo: _head(shared / relative)


def _shipped(relative: str) -> Seed:
    return lambda shared, repo: _head(repo / relative)


def _jsonl(records: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records).encode("utf-8")


def _tsv(rows: list[list[str]]) -> bytes:
    return "".join("\t".join(row) + "\n" for row in rows).encode("utf-8")


def _snli(shared: Path) -> list[dict[str, Any]]:
    """The first labelled SNLI dev records (real sentences for the NLI seeds)."""
    lines = _head(shared / "SNLI/snli_1.0_dev.head.jsonl", 6000).decode("utf-8").splitlines()
    return [record for record in map(json.loads, lines) if record["gold_label"] != "-"]


def _snli_txt(shared: Path, repo: Path) -> bytes:
    keys = ["gold_label", "sentence1_binary_parse", "sentence2_binary_parse", "sentence1_parse"]
    keys += ["sentence2_parse", "sentence1", "sentence2", "captionID", "pairID"]
    rows = [[*keys, "label1", "label2", "label3", "label4", "label5"]]
    for record in _snli(shared):
        votes = (record["annotator_labels"] + [""] * 5)[:5]
        rows.append([record[key] for key in keys] + votes)
    return _tsv(rows)


def _scitail_tsv(shared: Path, repo: Path) -> bytes:
    return _tsv(
        [[r["sentence1"], r["sentence2"], "entails" if r["gold_label"] == "entailment" else "neutral"]
         for r in _snli(shared)]
    )  # fmt: skip


def _scitail_jsonl(shared: Path, repo: Path) -> bytes:
    return _jsonl(
        [{**r, "gold_label": "entailment" if r["gold_label"] == "entailment" else "neutral"}
         for r in _snli(shared)]
    )  # fmt: skip


def _anli(shared: Path, repo: Path) -> bytes:
    return _jsonl(
        [{"uid": r["pairID"], "context": r["sentence1"], "hypothesis": r["sentence2"],
          "label": r["gold_label"][0], "model_label": "n", "emturk": False, "genre": "", "reason": "",
          "tag": ""}
         for r in _snli(shared)]
    )  # fmt: skip


def _raw_jsonl(shared: Path, repo: Path) -> bytes:
    return _jsonl(
        [{"id": r["pairID"], "text": r["sentence1"], "text_b": r["sentence2"], "group": r["captionID"]}
         for r in _snli(shared)]
    )  # fmt: skip


def _rows(shared: Path, relative: str) -> list[list[str]]:
    return [line.split("\t") for line in _head(shared / relative).decode("utf-8-sig").splitlines()]


def _raw_tsv(shared: Path, repo: Path) -> bytes:
    pairs = [[row[1], row[2]] for row in _rows(shared, "glue/RTE/dev.tsv")[1:]]
    singles = [[row[0]] for row in _rows(shared, "glue/SST-2/dev.tsv")[1:4]]
    return _tsv(pairs + singles)


def _stsb_columns(shared: Path, repo: Path) -> bytes:
    rows = _rows(shared, "glue/STS-B/dev.tsv")[1:]
    return _tsv([["id", "sentence1", "sentence2", "score"]] + [[r[0], r[7], r[8], r[9]] for r in rows])


def _chemprot_multilabel(shared: Path, repo: Path) -> bytes:
    lines = _head(shared / "ChemProt/dev.txt").decode("utf-8").splitlines()
    return _jsonl([{"text": r["text"], "labels": [r["label"]]} for r in map(json.loads, lines)])


def _conll(shared: Path, repo: Path) -> bytes:
    lines = _head(shared / "NCBI-disease-IOB/devel.tsv").decode("utf-8").splitlines()
    body = [" ".join([line.split("\t")[0], "_", "_", line.split("\t")[1]]) if line else "" for line in lines]
    return ("-DOCSTART- -X- -X- O\n\n" + "\n".join(body) + "\n").encode("utf-8")


def _squad(shared: Path, repo: Path) -> bytes:
    document = json.loads((shared / "SQuAD-v2.0-dev-subset/dev-v2.0.first5articles.json").read_bytes())
    article = document["data"][0]
    small = {"version": document["version"], "data": [{**article, "paragraphs": article["paragraphs"][:1]}]}
    return json.dumps(small, ensure_ascii=False, indent=1).encode("utf-8")


def _bioasq_document(shared: Path) -> dict[str, Any]:
    document = json.loads((shared / "BioASQ/BioASQ-test-factoid-6b-1.json").read_bytes())
    article = document["data"][0]
    return {"version": document["version"], "data": [{**article, "paragraphs": article["paragraphs"][:3]}]}


def _bioasq(shared: Path, repo: Path) -> bytes:
    return json.dumps(_bioasq_document(shared), ensure_ascii=False, indent=1).encode("utf-8")


def _golden(shared: Path, repo: Path) -> bytes:
    """The golden questions of the BioASQ seed, plus the first list, yes/no and summary questions."""
    asked = {
        qa["id"].rsplit("_", 1)[0]
        for paragraph in _bioasq_document(shared)["data"][0]["paragraphs"]
        for qa in paragraph["qas"]
    }
    questions = json.loads((shared / "BioASQ/6B1_golden.json").read_bytes())["questions"]
    kept = [q for q in questions if q["id"] in asked]
    for kind in ("list", "yesno", "summary"):
        kept.append(next(q for q in questions if q["type"] == kind))
    fields = ("id", "type", "body", "exact_answer")
    small = {"questions": [{key: q[key] for key in fields if key in q} for q in kept]}
    return json.dumps(small, ensure_ascii=False, indent=1).encode("utf-8")


# -- set-ups ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One read of a set-up: the file under test and the set-up's valid second file."""

    registry: Registry
    path: Path
    companion: Path | None


Run = Callable[[Call], list[Any]]


def _reader(call: Call, config: dict[str, Any]) -> Reader:
    return build(call.registry, Reader, config, path="tasks.fuzz.reader")


def _reads(config: dict[str, Any]) -> Run:
    return lambda call: list(_reader(call, config).read(call.path))


def _collects(config: dict[str, Any]) -> Run:
    def run(call: Call) -> list[Any]:
        reader = _reader(call, config)
        return [reader.collect_labels(call.path), *reader.read(call.path)]

    return run


def _labels_from(config: dict[str, Any]) -> Run:
    def run(call: Call) -> list[Any]:
        reader = _reader(call, {**config, "labels_from": str(call.path)})
        return [reader.labels, *reader.read(call.path)]

    return run


def _with_golden(config: dict[str, Any]) -> Run:
    """Read the file under test with the companion as golden file."""
    return lambda call: list(_reader(call, {**config, "golden": str(call.companion)}).read(call.path))


def _of_golden(config: dict[str, Any]) -> Run:
    """Read the companion with the file under test as golden file."""

    def run(call: Call) -> list[Any]:
        assert call.companion is not None
        return list(_reader(call, {**config, "golden": str(call.path)}).read(call.companion))

    return run


def _raw(call: Call) -> list[Any]:
    return list(read_raw_examples(call.path))


@dataclass(frozen=True)
class Setup:
    """A reader configuration and the seed file it is fuzzed from.

    Args:
        id: The pytest id.
        file: Name of the file under test (the stem and suffix matter to some readers).
        fmt: How the file is edited: ``tsv``, ``csv``, ``conll``, ``text``, ``json`` or ``jsonl``.
        seed: Builds the seed bytes.
        run: Reads the file (and returns what was read).
        companion: Name and seed of a second file the set-up needs, kept valid.
    """

    id: str
    file: str
    fmt: str
    seed: Seed
    run: Run
    companion: tuple[str, Seed] | None = field(default=None)


def _glue(task: str, relative: str, name: str = "dev.tsv") -> Setup:
    return Setup(
        f"glue-{task}-{name}", name, "tsv", _shared(relative), _reads({"type": "glue", "task": task})
    )


GOLDEN = ("6B1_golden.json", _golden)
BIOASQ_TEST = ("BioASQ-test-factoid-6b-1.json", _bioasq)
REVIEWS = {"type": "columns", "text": "review", "label": "sentiment", "id": "id"}
ENTAILMENT = {"type": "columns", "text": "premise", "text_pair": "hypothesis", "label": "label"}
SETUPS = [
    _glue("cola", "glue/CoLA/dev.tsv"),
    _glue("sst2", "glue/SST-2/dev.tsv"),
    _glue("sst2", "glue/SST-2/test.tsv", "test.tsv"),
    _glue("mrpc", "glue/MRPC/train.tsv", "train.tsv"),
    _glue("stsb", "glue/STS-B/dev.tsv"),
    _glue("rte", "glue/RTE/dev.tsv"),
    _glue("wnli", "glue/WNLI/dev.tsv"),
    Setup("qnli_ranking", "dev.tsv", "tsv", _shared("glue/QNLI/dev.tsv"), _reads({"type": "qnli_ranking"})),
    Setup(
        "subsample-qnli_ranking",
        "dev.tsv",
        "tsv",
        _shared("glue/QNLI/dev.tsv"),
        _reads({"type": "subsample", "reader": "qnli_ranking", "fraction": 0.5, "seed": 3}),
    ),
    Setup(
        "task_texts-glue-rte",
        "dev.tsv",
        "tsv",
        _shared("glue/RTE/dev.tsv"),
        _reads({"type": "task_texts", "reader": {"type": "glue", "task": "rte"}}),
    ),
    Setup(
        "swap_pairs-glue-mrpc",
        "dev.tsv",
        "tsv",
        _shared("glue/MRPC/dev.tsv"),
        _reads({"type": "swap_pairs", "reader": {"type": "glue", "task": "mrpc"}}),
    ),
    Setup(
        "snli-jsonl", "dev.jsonl", "jsonl", _shared("SNLI/snli_1.0_dev.head.jsonl"), _reads({"type": "snli"})
    ),
    Setup("snli-txt", "snli_1.0_dev.txt", "tsv", _snli_txt, _reads({"type": "snli"})),
    Setup("scitail-tsv", "scitail_1.0_dev.tsv", "tsv", _scitail_tsv, _reads({"type": "scitail"})),
    Setup("scitail-snli_format", "scitail_1.0_dev.txt", "jsonl", _scitail_jsonl, _reads({"type": "scitail"})),
    Setup("anli", "dev.jsonl", "jsonl", _anli, _reads({"type": "anli"})),
    Setup("squad", "dev-v2.0.json", "json", _squad, _reads({"type": "squad"})),
    Setup(
        "squad-skip_impossible-text_only",
        "dev-v2.0.json",
        "json",
        _squad,
        _reads({"type": "squad", "skip_impossible": True, "misaligned": "text_only"}),
    ),
    Setup("text", "train.txt", "text", _shipped("data/quickstart/text/train.txt"), _reads({"type": "text"})),
    Setup("columns-csv", "train.csv", "csv", _shipped("data/own_data/reviews/train.csv"), _collects(REVIEWS)),
    Setup(
        "columns-jsonl",
        "dev.jsonl",
        "jsonl",
        _shipped("data/own_data/entailment/dev.jsonl"),
        _reads({**ENTAILMENT, "labels": ["entailment", "not_entailment"]}),
    ),
    Setup(
        "swap_pairs-columns-jsonl",
        "train.jsonl",
        "jsonl",
        _shipped("data/own_data/entailment/train.jsonl"),
        _collects({"type": "swap_pairs", "reader": ENTAILMENT}),
    ),
    Setup(
        "columns-jsonl-multilabel",
        "dev.jsonl",
        "jsonl",
        _chemprot_multilabel,
        _collects({"type": "columns", "text": "text", "label": "labels", "kind": "multilabel"}),
    ),
    Setup(
        "columns-tsv-regression",
        "dev.tsv",
        "tsv",
        _stsb_columns,
        _collects(
            {
                "type": "columns",
                "text": "sentence1",
                "text_pair": "sentence2",
                "label": "score",
                "id": "id",
                "kind": "regression",
            }
        ),
    ),
    Setup(
        "columns-tsv-no_header",
        "train.tsv",
        "tsv",
        _shared("GAD/1/train.tsv"),
        _collects({"type": "columns", "text": 0, "label": 1, "header": False}),
    ),
    Setup("raw-tsv", "inputs.tsv", "tsv", _raw_tsv, _raw),
    Setup("raw-jsonl", "inputs.jsonl", "jsonl", _raw_jsonl, _raw),
    Setup("chemprot", "dev.txt", "jsonl", _shared("ChemProt/dev.txt"), _reads({"type": "chemprot"})),
    Setup(
        "bio_relation-train", "train.tsv", "tsv", _shared("GAD/1/train.tsv"), _reads({"type": "bio_relation"})
    ),
    Setup(
        "bio_relation-test", "test.tsv", "tsv", _shared("euadr/1/test.tsv"), _reads({"type": "bio_relation"})
    ),
    Setup(
        "iob",
        "devel.tsv",
        "tsv",
        _shared("NCBI-disease-IOB/devel.tsv"),
        _reads({"type": "iob", "types": ["Disease"]}),
    ),
    Setup(
        "iob-labels_from",
        "devel.tsv",
        "tsv",
        _shared("NCBI-disease-IOB/devel.tsv"),
        _labels_from({"type": "iob"}),
    ),
    Setup("conll", "dev.txt", "conll", _conll, _reads({"type": "conll", "types": ["Disease"]})),
    Setup(
        "conll-labels_from-IOB1",
        "dev.txt",
        "conll",
        _conll,
        _labels_from({"type": "conll", "scheme": "IOB1", "validate": False}),
    ),
    Setup("bioasq", BIOASQ_TEST[0], "json", _bioasq, _reads({"type": "bioasq"})),
    Setup("bioasq-golden", BIOASQ_TEST[0], "json", _bioasq, _with_golden({"type": "bioasq"}), GOLDEN),
    Setup(
        "bioasq-mutated_golden",
        GOLDEN[0],
        "json",
        _golden,
        _of_golden({"type": "bioasq", "answerable_only": True}),
        BIOASQ_TEST,
    ),
]


# -- fixtures and checks ------------------------------------------------------------------------------


class Seeds:
    """The seed bytes of each set-up and companion file, built on first use.

    Args:
        shared: The shared data folder.
        repo: The repository root.
    """

    def __init__(self, shared: Path, repo: Path) -> None:
        self._roots = (shared, repo)
        self._made: dict[str, bytes] = {}

    def get(self, key: str, make: Seed) -> bytes:
        """The bytes ``make`` builds, cached under ``key``."""
        if key not in self._made:
            self._made[key] = make(*self._roots)
        return self._made[key]


@pytest.fixture(scope="module")
def seeds(shared_data: Path, repo_root: Path) -> Seeds:
    """The seed files of the set-ups (skips without the shared data)."""
    return Seeds(shared_data, repo_root)


@pytest.fixture(scope="module")
def fuzz_registry() -> Registry:
    """The built-in components plus mtdnn-bio's readers (a fresh manager, no installed plugins)."""
    return build_registry(get_plugin_manager(autoload=False, plugins=["mtdnn_bio.plugin"]))


def _call(registry: Registry, folder: Path, setup: Setup, seeds: Seeds, data: bytes | None) -> Call:
    """Write the file under test (``None``: leave it absent) and the companion into ``folder``."""
    path = folder / setup.file
    if data is not None:
        path.write_bytes(data)
    companion = None
    if setup.companion is not None:
        companion = folder / setup.companion[0]
        companion.write_bytes(seeds.get(f"{setup.id}/companion", setup.companion[1]))
    return Call(registry, path, companion)


def _named_files(call: Call) -> set[str]:
    return {str(call.path)} | ({str(call.companion)} if call.companion else set())


def _preview(seed: bytes, data: bytes) -> str:
    """Where the mutated bytes first differ from the seed, with some context."""
    pairs = enumerate(zip(seed, data, strict=False))
    start = next((i for i, (a, b) in pairs if a != b), min(len(seed), len(data)))
    window = data[max(0, start - 40) : start + 160]
    return f"{len(data)} bytes (seed {len(seed)}), first change at byte {start}: {window!r}"


def _read_raising_only_mtdnn_errors(setup: Setup, call: Call) -> None:
    """Run the set-up; pass if it reads, or raises an MtdnnError (a DataError naming a file it read)."""
    try:
        setup.run(call)
    except DataError as error:
        assert error.file in _named_files(call), f"the DataError does not name the file read: {error}"
    except MtdnnError:
        pass


IDS = [setup.id for setup in SETUPS]
JSON_SETUPS = [setup for setup in SETUPS if setup.fmt in ("json", "jsonl")]


@pytest.mark.parametrize("setup", SETUPS, ids=IDS)
def test_seed_is_read_cleanly(setup: Setup, seeds: Seeds, fuzz_registry: Registry) -> None:
    with tempfile.TemporaryDirectory() as folder:
        call = _call(fuzz_registry, Path(folder), setup, seeds, seeds.get(setup.id, setup.seed))
        read = setup.run(call)
    assert any(isinstance(item, Example) for item in read)


@pytest.mark.parametrize("setup", SETUPS, ids=IDS)
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_mutated_file_raises_only_mtdnn_errors(
    setup: Setup, seeds: Seeds, fuzz_registry: Registry, data: st.DataObject
) -> None:
    seed = seeds.get(setup.id, setup.seed)
    mutated = _mutate(seed, data.draw(MUTATIONS[setup.fmt], label="edits"), setup.fmt)
    note(_preview(seed, mutated))
    with tempfile.TemporaryDirectory() as folder:
        _read_raising_only_mtdnn_errors(setup, _call(fuzz_registry, Path(folder), setup, seeds, mutated))


@pytest.mark.parametrize("setup", JSON_SETUPS, ids=[setup.id for setup in JSON_SETUPS])
@pytest.mark.parametrize("value", ["DIGITS", "DEEP", "NESTED_2000", "NESTED_900", b"NaN", b'"\\ud800"'])
def test_hostile_json_value(
    setup: Setup, value: Token, seeds: Seeds, fuzz_registry: Registry, tmp_path: Path
) -> None:
    """The first value of the first record replaced: the fuzz test's rarest draws, every time."""
    data = _mutate(seeds.get(setup.id, setup.seed), [("json", 0, (0,), value)], setup.fmt)
    _read_raising_only_mtdnn_errors(setup, _call(fuzz_registry, tmp_path, setup, seeds, data))


@pytest.mark.parametrize("setup", SETUPS, ids=IDS)
@pytest.mark.parametrize("problem", ["missing", "directory", "not_utf8_at_line_3"])
def test_unreadable_file_is_a_data_error(
    setup: Setup, problem: str, seeds: Seeds, fuzz_registry: Registry, tmp_path: Path
) -> None:
    data = None
    if problem == "not_utf8_at_line_3":
        lines = seeds.get(setup.id, setup.seed).splitlines(keepends=True)
        middle = len(lines[2]) // 2
        lines[2] = lines[2][:middle] + b"\xff" + lines[2][middle:]
        data = b"".join(lines)
    call = _call(fuzz_registry, tmp_path, setup, seeds, data)
    if problem == "directory":
        call.path.mkdir()
    with pytest.raises(DataError) as caught:
        setup.run(call)
    assert caught.value.file == str(call.path)
    if problem == "not_utf8_at_line_3":
        assert caught.value.line == 3
