"""The disk shell: what is read as a source and where outputs may be written."""

from __future__ import annotations

import fcntl
import io
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from feedpub import publish
from feedpub.errors import PublishError, SourceError
from feedpub.publish import (
    Publication,
    _last_line,
    locked_output,
    output_path,
    read_sources,
    write_outputs,
)


def test_folders_give_their_text_files_by_name_without_hidden_ones(
    tmp_path: Path,
) -> None:
    (tmp_path / "b.txt").write_text("b")
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.txt").write_text("c")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.txt").write_text("x")
    (tmp_path / "notes.md").write_text("m")
    os.symlink(tmp_path / "gone.txt", tmp_path / ".#a.txt")  # an editor's lock file
    os.symlink(tmp_path / "gone", tmp_path / ".cache")  # hidden: never looked into
    (tmp_path / "folder.txt").mkdir()  # a folder is no source, whatever its name
    os.symlink(tmp_path / "sub", tmp_path / "link")  # links to folders: not followed
    os.symlink(tmp_path / "a.txt", tmp_path / "sub" / "linked.txt")
    names = [
        Path(name).relative_to(tmp_path).as_posix()
        for name, _ in read_sources([tmp_path])
    ]
    assert names == ["a.txt", "b.txt", "sub/c.txt", "sub/linked.txt"]


def test_a_link_to_a_file_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    """Passed over, its items would be missing from feeds of a build that succeeds."""
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "sub").mkdir()
    os.symlink(tmp_path / "gone.txt", tmp_path / "sub" / "c.txt")
    os.symlink("loop.txt", tmp_path / "loop.txt")
    with pytest.raises(SourceError) as caught:
        read_sources([tmp_path])
    assert str(caught.value).splitlines() == [
        f"{tmp_path / 'loop.txt'}: cannot read source: Too many levels of symbolic links",
        f"{tmp_path / 'sub' / 'c.txt'}: a link to a file that does not exist",
    ]


@pytest.fixture
def closed(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """Folders whose listing ``os.scandir`` refuses as the kernel does.

    Root may list any folder whatever its mode, so a folder is closed here by
    its path; tests/test_cron.py has the real refusal, without root's power.
    """
    paths: set[str] = set()
    scandir = os.scandir

    def refusing(path: str | os.PathLike[str]) -> Any:
        if os.fspath(path) in paths:
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", refusing)
    return paths


def test_a_folder_that_cannot_be_listed_is_an_error(
    tmp_path: Path, closed: set[str]
) -> None:
    """A closed folder below a source stops the build, and a closed source
    folder is reported as closed, not as a folder without documents."""
    source = tmp_path / "src"
    for folder in (source / "sub", source / ".git", tmp_path / "top"):
        folder.mkdir(parents=True)
        (folder / "c.txt").write_text("c")
        closed.add(str(folder))
    (source / "a.txt").write_text("a")
    with pytest.raises(SourceError) as caught:
        read_sources([source, tmp_path / "top"])
    assert str(caught.value).splitlines() == [
        f"{source / 'sub'}: cannot read folder: Permission denied",
        f"{tmp_path / 'top'}: cannot read folder: Permission denied",
    ]
    closed.remove(str(source / "sub"))
    assert [name for name, _ in read_sources([source])] == [
        str(source / "a.txt"),
        str(source / "sub" / "c.txt"),
    ]  # the closed .git is hidden: never listed


def test_missing_sources_and_empty_folders_are_listed(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(SourceError) as caught:
        read_sources([tmp_path / "nope.txt", tmp_path / "empty"])
    assert str(caught.value).splitlines() == [
        f"{tmp_path / 'nope.txt'}: source not found",
        f"{tmp_path / 'empty'}: expected *.txt source documents, found none",
    ]


@pytest.mark.parametrize(
    "name", ["../x.xml", "/etc/x", "a/../../x", "", "a\\..\\x", "a\0b"]
)
def test_outputs_cannot_leave_the_output_folder(tmp_path: Path, name: str) -> None:
    with pytest.raises(PublishError, match="outside the output folder"):
        output_path(tmp_path / "out", name)
    with pytest.raises(PublishError):
        write_outputs({name: b"x"}, tmp_path / "out")
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o027, 0o640)])
def test_written_files_get_the_mode_of_any_file(
    tmp_path: Path, umask: int, mode: int
) -> None:
    # World-readable under the usual umask: a web server serves them.
    old = os.umask(umask)
    try:
        with Publication(tmp_path) as publication:
            publication.stage("a/b.xml", b"<x/>")
            publication.stage("a/c.xml", iter([b"<x", b"/>"]))  # in pieces
            publication.commit()
    finally:
        os.umask(old)
    for name in ("b.xml", "c.xml"):
        assert (tmp_path / "a" / name).read_bytes() == b"<x/>"
        assert (tmp_path / "a" / name).stat().st_mode & 0o777 == mode


def test_unwritable_output_is_a_publish_error_naming_the_path(tmp_path: Path) -> None:
    (tmp_path / "out").write_text("a file where a folder should be")
    with pytest.raises(PublishError) as caught:
        write_outputs({"rss.xml": b"<x/>"}, tmp_path / "out")
    assert str(caught.value).startswith(
        f"{tmp_path / 'out' / 'rss.xml'}: cannot write: "
    )


def test_a_signal_just_after_a_temporary_is_made_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_open = os.open

    def open_then_stop(path: str, flags: int, mode: int = 0o777) -> int:
        fd = real_open(path, flags, mode)
        if str(path).endswith(".tmp"):  # the temporary exists: stop right here
            os.close(fd)
            raise KeyboardInterrupt
        return fd

    def stage_one(out: Path) -> None:
        with Publication(out) as publication:
            monkeypatch.setattr(os, "open", open_then_stop)
            publication.stage("archive/rss-0001.xml", b"<rss/>")

    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        stage_one(out)
    monkeypatch.undo()
    assert [p for p in out.rglob("*") if p.is_file()] == []


def test_a_file_given_in_pieces_is_written_whole_and_compared_once_written(
    tmp_path: Path,
) -> None:
    def pieces(*parts: bytes) -> Iterator[bytes]:
        yield from parts

    out = tmp_path / "out"
    with Publication(out) as publication:
        assert publication.stage("state.jsonl", pieces(b"one\n", b"two\n"))
        publication.commit()
    assert (out / "state.jsonl").read_bytes() == b"one\ntwo\n"

    # The same bytes in other pieces: nothing staged, the file left alone.
    before = (out / "state.jsonl").stat()
    with Publication(out) as publication:
        assert not publication.stage("state.jsonl", pieces(b"one\ntw", b"o\n"))
        assert publication.commit().unchanged == ("state.jsonl",)
    after = (out / "state.jsonl").stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert sorted(p.name for p in out.iterdir()) == ["state.jsonl"]

    # Other bytes replace it; a stopped publication leaves no temporary.
    with Publication(out) as publication:
        assert publication.stage("state.jsonl", pieces(b"three\n"))
        publication.commit()
    assert (out / "state.jsonl").read_bytes() == b"three\n"
    with Publication(out) as publication:
        publication.stage("state.jsonl", pieces(b"four\n"))
    assert (out / "state.jsonl").read_bytes() == b"three\n"
    assert sorted(p.name for p in out.iterdir()) == ["state.jsonl"]


def _stage_many_then_last(publication: Publication, count: int) -> None:
    for number in range(count):
        publication.stage(f"archive/rss-{number:04d}.xml", b"<rss/>")
    publication.stage("state.jsonl", iter([b"state\n"]))


def test_the_disk_takes_the_files_while_the_last_one_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flushes: list[tuple[str, list[str]]] = []
    real_sync = publish._sync_staged

    def sync(root: Path, temporaries: list[str]) -> None:
        flushes.append((threading.current_thread().name, sorted(temporaries)))
        real_sync(root, temporaries)

    monkeypatch.setattr(publish, "_sync_staged", sync)
    out = tmp_path / "out"
    count = publish._FSYNC_FILES + 1
    with Publication(out, last="state.jsonl") as publication:
        _stage_many_then_last(publication, count)
        temporaries = sorted(t for t, _ in publication._staged)
        report = publication.commit()
    # The files before the last: in a thread, once the last was begun; the
    # last one (only) when publishing, before anything is renamed.
    (thread, early), (main, late) = flushes
    assert thread == "feedpub-flush"
    assert main == threading.current_thread().name
    assert [name.split(".")[1] for name in early] == [
        f"rss-{n:04d}" for n in range(count)
    ]
    assert [name.split(".")[1] for name in late] == ["state"]
    assert sorted(early + late) == temporaries
    assert len(report.written) == count + 1
    assert (out / "state.jsonl").read_bytes() == b"state\n"

    # A few files are flushed one by one when publishing, as before.
    flushes.clear()
    with Publication(tmp_path / "few", last="state.jsonl") as publication:
        _stage_many_then_last(publication, 3)
        publication.commit()
    assert [thread for thread, _ in flushes] == [main]


def test_a_failed_flush_publishes_nothing_and_names_the_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_sync = publish._sync_staged

    def failing_in_the_thread(root: Path, temporaries: list[str]) -> None:
        if threading.current_thread().name == "feedpub-flush":
            raise PublishError(f"{root}: cannot write: No space left on device")
        real_sync(root, temporaries)

    monkeypatch.setattr(publish, "_sync_staged", failing_in_the_thread)
    out = tmp_path / "out"

    def publish_many() -> None:
        with Publication(out, last="state.jsonl") as publication:
            _stage_many_then_last(publication, publish._FSYNC_FILES + 1)
            publication.commit()

    with pytest.raises(PublishError, match="No space left on device"):
        publish_many()
    assert [p for p in out.rglob("*") if p.is_file()] == []


def _fail_in(out: Path, work: Callable[[], object] = lambda: None) -> None:
    """Do ``work`` holding the lock of ``out``, then fail as a bad source does."""
    with locked_output(out):
        work()
        raise SourceError([])


def test_a_failed_build_removes_the_output_folders_it_made(tmp_path: Path) -> None:
    out = tmp_path / "made" / "for" / "feeds"
    with pytest.raises(SourceError):
        _fail_in(out, lambda: out.is_dir() or pytest.fail("no folder to lock"))
    assert not (tmp_path / "made").exists()

    (tmp_path / "kept").mkdir()  # there before: stays, as does what it holds
    out = tmp_path / "kept" / "feeds"
    with pytest.raises(SourceError):
        _fail_in(out, lambda: (out / "rss.xml").write_bytes(b"<rss/>"))
    assert (out / "rss.xml").is_file()


def test_a_build_waiting_for_a_folder_removed_by_a_failed_one_makes_it_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "feeds"
    blocked = threading.Event()  # the second build found the lock taken
    real_flock = fcntl.flock

    def flock(fd: int, operation: int) -> None:
        try:
            real_flock(fd, operation)
        except BlockingIOError:
            blocked.set()
            raise

    monkeypatch.setattr(fcntl, "flock", flock)
    results: list[bool] = []

    def second_build() -> None:
        with locked_output(out, wait=20):
            # It holds the lock of the folder that is there now.
            fd = os.open(out, os.O_RDONLY | os.O_DIRECTORY)
            try:
                with pytest.raises(BlockingIOError):
                    real_flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            finally:
                os.close(fd)
            results.append(out.is_dir())

    thread = threading.Thread(target=second_build)

    def start_the_second() -> None:
        thread.start()
        assert blocked.wait(timeout=20)  # it waits for this build's lock

    with pytest.raises(SourceError):
        _fail_in(out, start_the_second)
    thread.join(timeout=20)
    assert results == [True]


def test_a_folder_removed_before_it_is_opened_is_made_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "feeds"
    real_open = os.open
    removed: list[str] = []

    def open_after_a_failed_build(path: Any, flags: int, *args: Any) -> int:
        if Path(path) == out and not removed:  # gone between mkdir and open
            out.rmdir()
            removed.append("once")
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", open_after_a_failed_build)
    with locked_output(out):
        assert out.is_dir()
    assert removed == ["once"]


def test_a_failed_first_build_removes_the_folders_its_files_went_to(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from feedpub.build import build
    from tests.conftest import ROOT, load_config

    staged: list[str] = []
    real_stage = Publication.stage

    def stage_until_the_disk_is_full(self: Publication, name: str, *a: Any) -> bool:
        if len(staged) == 30:
            raise PublishError(f"{name}: cannot write: No space left on device")
        staged.append(name)
        return real_stage(self, name, *a)

    monkeypatch.setattr(Publication, "stage", stage_until_the_disk_is_full)
    out = tmp_path / "site" / "feeds"
    with pytest.raises(PublishError, match="No space left"):
        build(load_config(ROOT / "feedpub.toml"), output=out)
    assert len({name.rpartition("/")[0] for name in staged}) > 2  # in folders
    assert not (tmp_path / "site").exists()


@pytest.mark.parametrize(
    ("data", "line", "at"),
    [
        (b"head\n" + b"x" * 100 + b"\n", b"x" * 100 + b"\n", 5),  # longer than a read
        (b"head\n" + b"x" * 100, b"x" * 100, 5),  # no newline at the end
        (b"y" * 40 + b"\n", b"y" * 40 + b"\n", 0),  # one line
        (b"", b"", 0),
        (
            b"head\n" + b"x" * 15 + b"\n",
            b"x" * 15 + b"\n",
            5,
        ),  # newline at a read's end
    ],
)
def test_the_last_line_of_a_file_is_read_from_its_end(
    data: bytes, line: bytes, at: int
) -> None:
    assert _last_line(io.BytesIO(data), chunk=16) == (line, at)


@pytest.mark.parametrize("helper", [False, True])
def test_what_is_in_an_output_folder_is_compared_and_links_refused(
    tmp_path: Path, helper: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A folder is listed once (Publication._listed): files already there
    # are still compared with what is staged, and a link is never replaced,
    # whether the build writes its files or a writer process does.
    monkeypatch.setattr(publish, "_WRITER_AFTER", 0)
    out = tmp_path / "out"
    (out / "a").mkdir(parents=True)
    (out / "a" / "same.xml").write_bytes(b"<same/>")
    (out / "a" / "other.xml").write_bytes(b"<old/>")
    (out / "a" / "link.xml").symlink_to(tmp_path / "elsewhere.xml")
    with Publication(out, helper=helper) as publication:
        assert publication.stage("a/new.xml", b"<new/>")  # lists the folder
        assert not publication.stage("a/same.xml", b"<same/>")
        assert publication.stage("a/other.xml", b"<other/>")
        with pytest.raises(PublishError, match="refusing to replace a symbolic link"):
            publication.stage("a/link.xml", b"<x/>")
        report = publication.commit()
    assert report.written == ("a/new.xml", "a/other.xml")
    assert report.unchanged == ("a/same.xml",)
    assert (out / "a" / "other.xml").read_bytes() == b"<other/>"
    assert (out / "a" / "link.xml").is_symlink()
    assert not (tmp_path / "elsewhere.xml").exists()
