"""Shared fixtures: project paths, configs, and the ``--update-golden`` switch."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import settings

from feedpub.config import Config, load_config

# .ci/run uses the "ci" profile; `pytest --hypothesis-profile=long` runs the
# property tests and the fuzzer (tests/test_fuzz.py) far longer.
settings.register_profile("ci", max_examples=1000)
settings.register_profile("long", max_examples=10000)

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
GOLDEN = ROOT / "tests" / "golden"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite tests/golden/ and feeds/ from a fresh build instead of comparing",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No developer setting leaks into a test."""
    import os

    for name in list(os.environ):
        if name.startswith("FEEDPUB_"):
            monkeypatch.delenv(name)


@pytest.fixture
def project_config() -> Config:
    return load_config(ROOT / "feedpub.toml")


@pytest.fixture
def tricky_config() -> Config:
    return load_config(DATA / "tricky.toml")


def copy_project(folder: Path) -> Path:
    """Copy the project's config and seeds into ``folder``; return the
    config's path there (its sources are the copied seeds)."""
    shutil.copytree(ROOT / "seeds", folder / "seeds")
    return Path(shutil.copy(ROOT / "feedpub.toml", folder / "feedpub.toml"))


def read_tree(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` by its relative POSIX path."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def load_benchmark(name: str) -> ModuleType:
    """A module of ``benchmarks/`` (not a package), loaded by its path."""
    path = ROOT / "benchmarks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"bench_{name}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module
