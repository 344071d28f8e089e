"""benchmarks/run.py: every scenario measured, used folders kept until the end."""

from __future__ import annotations

import errno
import sys
from pathlib import Path

import pytest

from tests.conftest import load_benchmark, read_tree


def test_a_linked_copy_stays_as_it_was_when_a_build_runs_over_the_other(
    tmp_path: Path,
) -> None:
    """The rebuilds start from hard links of one output: that is a copy only
    because a build replaces files by renaming and never writes into one."""
    run = load_benchmark("run")
    files = run.corpus_files(tmp_path / "work", 80, 2020)
    out, pristine = tmp_path / "out", tmp_path / "pristine"
    command = [sys.executable, "-m", "feedpub", "build", "-q", "-c", str(files.config)]
    run.measure([*command, "-o", str(out)], files.folder)
    run.linked_copy(out, pristine)
    before = read_tree(pristine)
    assert before == read_tree(out)
    assert (pristine / "rss.xml").stat().st_ino == (out / "rss.xml").stat().st_ino
    run.put_on_top(files.new_item, files.source, files.original)
    try:
        sample = run.measure([*command, "-o", str(out)], files.folder)
    finally:
        files.source.write_bytes(files.original.read_bytes())
    assert sample.seconds > 0
    after = read_tree(out)
    assert after != before  # the build did change files of the linked copy
    assert [n for n in after if after[n] != before.get(n)]
    assert read_tree(pristine) == before


def test_every_scenario_is_measured_and_only_the_corpus_is_left(
    tmp_path: Path,
) -> None:
    run = load_benchmark("run")
    work = tmp_path / "work"
    work.mkdir()
    trash = run.Trash(work)
    try:
        result = run.run_size(work, 60, 1, 2020, trash)
        # Nothing was removed while measuring: the used folders wait in the
        # trash, the output of each of the six builds that start from none or
        # from a copy (recent, no archives, full, one new, newest day,
        # edited), the copy they start from, and the baseline's output.
        assert len(list(trash.folder.iterdir())) == 8
    finally:
        trash.empty()
    corpus = work / "corpus-60-2020"
    source = corpus / "sources" / "news.txt"
    assert source.read_bytes() == (corpus / "original.bak").read_bytes()
    assert {name: len(s) for name, s in result.samples.items()} == {
        name: 1 for name in run.SCENARIOS
    }
    assert result.samples["unchanged"][0].written == 0
    assert 3 <= result.samples["one_new"][0].written < result.outputs
    assert result.samples["scratch"][0].written == result.outputs > 10
    assert sorted(p.name for p in work.iterdir()) == ["corpus-60-2020"]


def test_a_linked_copy_falls_back_to_copying_without_hard_links(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run = load_benchmark("run")
    source = tmp_path / "out"
    (source / "archive").mkdir(parents=True)
    (source / "rss.xml").write_bytes(b"<rss/>")
    (source / "archive" / "2020.html").write_bytes(b"<html></html>")

    def no_links(*_: object) -> None:
        raise OSError(errno.EXDEV, "no hard links here")

    monkeypatch.setattr(run.os, "link", no_links)
    run.linked_copy(source, tmp_path / "copy")
    assert read_tree(tmp_path / "copy") == read_tree(source)
    assert (tmp_path / "copy" / "rss.xml").stat().st_nlink == 1
    said = capsys.readouterr().err
    assert said.count("no hard links (no hard links here)") == 1  # once, not per file


def test_emptying_one_trash_leaves_another_invocations_alone(tmp_path: Path) -> None:
    run = load_benchmark("run")
    mine, theirs = run.Trash(tmp_path), run.Trash(tmp_path)
    for trash, name in ((mine, "a"), (theirs, "b")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "file").write_bytes(b"x")
        trash.discard(tmp_path / name)
    trash_of_theirs = list(theirs.folder.iterdir())
    mine.empty()
    assert not mine.folder.exists()
    assert list(theirs.folder.iterdir()) == trash_of_theirs


def test_the_memory_of_a_process_and_of_what_it_starts_is_summed() -> None:
    # A parent holding 40 MB that starts a child holding 60 MB of its own:
    # both are counted, once each, as a build and its writer process are.
    import subprocess
    import time

    run = load_benchmark("run")
    child = "b = bytearray(60 << 20); import time; time.sleep(1.5)"
    parent = (
        "import subprocess, sys; a = bytearray(40 << 20);"
        f" subprocess.run([sys.executable, '-c', {child!r}])"
    )
    process = subprocess.Popen([sys.executable, "-c", parent])
    sampler = run.TreeMemory(process.pid)
    started = time.monotonic()
    assert process.wait(timeout=30) == 0
    peak = sampler.stop()
    assert time.monotonic() - started >= 1.5
    # 100 MB of bytearrays (zeroed, so written) plus two interpreters.
    assert 100 < peak < 160
