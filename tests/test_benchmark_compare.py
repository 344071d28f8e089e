"""benchmarks/compare.py runs each revision's own code, alternating, and cleans up."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT, load_benchmark


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    )
    return done.stdout


def _repository(folder: Path) -> Path:
    """A repository of feedpub's package with two commits: base and head."""
    repo = folder / "repo"
    shutil.copytree(
        ROOT / "feedpub", repo / "feedpub", ignore=shutil.ignore_patterns("__pycache__")
    )
    _git(repo, "init", "-q")
    for key, value in (("user.name", "t"), ("user.email", "t@example.org")):
        _git(repo, "config", key, value)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "base")
    return repo


def test_each_revision_runs_its_own_code_and_nothing_is_left(tmp_path: Path) -> None:
    compare = load_benchmark("compare")
    repo = _repository(tmp_path)
    work = tmp_path / "work"
    main = repo / "feedpub" / "__main__.py"
    main.write_text('raise SystemExit("the head revision ran")\n')
    _git(repo, "commit", "-qam", "broken head")
    # The head's own code runs (the feedpub this test imports would not fail).
    with pytest.raises(SystemExit, match="the head revision ran"):
        compare.compare(repo, ("HEAD~1", "HEAD"), 60, 1, ["scratch"], work)
    assert _git(repo, "worktree", "list").count("\n") == 1
    _git(repo, "revert", "--no-edit", "HEAD")  # head works again

    tested = compare.compare(
        repo, ("HEAD~2", "HEAD"), 120, 2, ["scratch", "unchanged", "one_new"], work
    )
    base, head = tested
    assert (base.commit, head.commit) == (
        _git(repo, "rev-parse", "HEAD~2").strip(),
        _git(repo, "rev-parse", "HEAD").strip(),
    )
    for revision in tested:
        assert {name: len(s) for name, s in revision.samples.items()} == {
            "scratch": 2,
            "unchanged": 2,
            "one_new": 2,
        }
        assert all(s.seconds > 0 for s in revision.samples["scratch"])
        assert [s.written for s in revision.samples["unchanged"]] == [0, 0]
        assert all(s.written and s.written >= 3 for s in revision.samples["one_new"])
    text = compare.report(tested, 120, 2)
    assert base.commit[:12] in text
    assert head.commit[:12] in text
    assert "rebuild, one new item" in text
    # Worktrees, outputs and the edited corpus are put back.
    assert _git(repo, "worktree", "list").count("\n") == 1
    assert sorted(p.name for p in work.iterdir()) == [
        "corpus-120-2020",
        "corpus-60-2020",
    ]
    folder = work / "corpus-120-2020"
    source = folder / "sources" / "news.txt"
    assert source.read_bytes() == (folder / "original.bak").read_bytes()
