"""Golden trees: the committed feeds/ and tests/golden/ are what a fresh build gives.

``pytest --update-golden`` rewrites them; review the diff like code.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from feedpub.build import build_salt, inputs_digest
from feedpub.config import Config
from feedpub.publish import read_sources, write_outputs
from feedpub.site import compile_site
from tests.conftest import DATA, GOLDEN, ROOT, load_config, read_tree

CASES = [
    pytest.param(ROOT / "feedpub.toml", [ROOT / "seeds"], ROOT / "feeds", id="feeds"),
    pytest.param(
        DATA / "tricky.toml", [DATA / "tricky"], GOLDEN / "tricky", id="tricky"
    ),
    pytest.param(
        DATA / "archive.toml", [DATA / "tricky"], GOLDEN / "archive", id="archive"
    ),
]


def _fresh(config: Config, sources: list[Path]) -> dict[str, bytes]:
    documents = read_sources(sources)
    inputs = inputs_digest(documents, config)
    salt = build_salt(config)
    return compile_site(documents, config, inputs=inputs, salt=salt).outputs


@pytest.mark.parametrize(("config_path", "sources", "golden"), CASES)
def test_golden_tree_is_a_fresh_build(
    config_path: Path, sources: list[Path], golden: Path, update_golden: bool
) -> None:
    fresh = _fresh(load_config(config_path), sources)
    if update_golden:
        write_outputs(fresh, golden)
        for name in set(read_tree(golden)) - set(fresh):
            (golden / name).unlink()
    committed = read_tree(golden)
    assert sorted(committed) == sorted(fresh), "missing or extra files"
    for name, data in fresh.items():
        assert committed[name] == data, (
            f"{golden.name}/{name} differs from a fresh build"
        )


def test_same_input_same_bytes_wherever_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = load_config(ROOT / "feedpub.toml")
    first = _fresh(config, [ROOT / "seeds"])
    write_outputs(first, tmp_path / "a")
    monkeypatch.chdir(tmp_path)
    write_outputs(_fresh(config, [ROOT / "seeds"]), tmp_path / "b" / "deeper")
    assert read_tree(tmp_path / "a") == read_tree(tmp_path / "b" / "deeper") == first


def test_unchanged_build_rewrites_nothing(tmp_path: Path) -> None:
    outputs = _fresh(load_config(ROOT / "feedpub.toml"), [ROOT / "seeds"])
    first = write_outputs(outputs, tmp_path)
    assert sorted(first.written) == sorted(outputs)
    assert not first.unchanged
    mtimes = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}
    second = write_outputs(outputs, tmp_path)
    assert second.written == ()
    assert sorted(second.unchanged) == sorted(outputs)
    assert mtimes == {
        p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()
    }
    assert not [p for p in tmp_path.rglob("*.tmp")], "temporary files left behind"
