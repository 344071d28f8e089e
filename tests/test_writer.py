"""The writer process: a large publication's files written by a process of
their own (``publish._Writer``, ``feedpub/writer.py``), published as the
build would have written them itself."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import random
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from feedpub import publish, writer
from feedpub.build import BuildOptions
from feedpub.build import build as run_build
from feedpub.config import Config, load_config
from feedpub.errors import PublishError, ValidationError
from feedpub.model import ArchiveSpec, Item
from feedpub.publish import Publication
from tests.conftest import load_benchmark, read_tree

RING = 64 << 10  # a small ring: files wait for room, and wrap around it


@pytest.fixture
def early(monkeypatch: pytest.MonkeyPatch) -> None:
    """The writer starts at the third file, with a small ring."""
    monkeypatch.setattr(publish, "_WRITER_AFTER", 2)
    monkeypatch.setattr(publish._Writer, "RING", RING)


def _files(count: int) -> dict[str, bytes]:
    """Files of many sizes, from empty to larger than the ring (those are
    written by the publication itself), each of its own bytes."""
    draw = random.Random(5)
    sizes = [0, RING // 2, RING - 1, RING, RING + 1] + [
        draw.randrange(1, RING // 3) for _ in range(count - 5)
    ]
    return {
        f"archive/{'rss' if n % 2 else 'atom'}-{n:04d}.xml": draw.randbytes(size)
        for n, size in enumerate(sizes)
    }


def _children() -> set[str]:
    """The processes this one started that are still there (zombies too)."""
    return {
        pid
        for task in Path("/proc/self/task").iterdir()
        for pid in (task / "children").read_text().split()
    }


def _leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.rglob("*.tmp"))


def _pieces() -> Iterator[bytes]:
    yield b"state "
    yield b"last\n"


def _sha256s(publication: Publication, files: dict[str, bytes]) -> None:
    """Each file's sha256 is that of its bytes, wherever it was written."""
    for name, data in files.items():
        assert publication.sha256(name) == hashlib.sha256(data).hexdigest(), name
    state = hashlib.sha256(b"state last\n").hexdigest()
    assert publication.sha256("state.jsonl") == state


def _publish(out: Path, files: dict[str, bytes], *, helper: bool) -> None:
    with Publication(out, last="state.jsonl", helper=helper) as publication:
        for name, data in files.items():
            assert publication.stage(name, data)
        publication.stage("state.jsonl", _pieces())
        _sha256s(publication, files)
        publication.commit()


def test_the_writer_publishes_what_the_build_writes_itself(
    tmp_path: Path, early: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[publish._Writer] = []
    real_start = publish._Writer.start

    def start(written: Any) -> publish._Writer | None:
        writer = real_start(written)
        assert writer is not None
        started.append(writer)
        return writer

    monkeypatch.setattr(publish._Writer, "start", start)
    files = _files(300)  # 300 files of 11 kB on average: the ring fills often
    _publish(tmp_path / "here", files, helper=False)
    assert started == []
    before = _children()
    _publish(tmp_path / "writer", files, helper=True)
    assert len(started) == 1
    here, there = read_tree(tmp_path / "here"), read_tree(tmp_path / "writer")
    assert there == here == files | {"state.jsonl": b"state last\n"}
    for name in files:  # the mode a plainly created file gets, there too
        modes = {
            (out / name).stat().st_mode
            for out in (tmp_path / "here", tmp_path / "writer")
        }
        assert len(modes) == 1
    assert _leftovers(tmp_path / "writer") == []
    assert _children() <= before, "the writer process is still there"


def test_a_temporary_name_already_taken_is_left_alone(
    tmp_path: Path, early: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    (out / "archive").mkdir(parents=True)
    taken = out / "archive" / ".rss-0009.xml.00000000.tmp"
    taken.write_bytes(b"not this build's")
    real_urandom = os.urandom
    calls = iter(range(1_000_000))

    def urandom(size: int) -> bytes:
        # The 10th file (the writer's 8th) is given the name that is taken.
        return bytes(size) if next(calls) == 9 else real_urandom(size)

    monkeypatch.setattr(os, "urandom", urandom)
    files = {f"archive/rss-{n:04d}.xml": b"<rss>%d</rss>" % n for n in range(20)}
    _publish(out, files, helper=True)
    assert taken.read_bytes() == b"not this build's"
    published = read_tree(out)
    del published["archive/.rss-0009.xml.00000000.tmp"]
    assert published == files | {"state.jsonl": b"state last\n"}
    assert _leftovers(out) == [taken.name]


def test_an_error_of_the_writer_stops_the_publication_as_one_here_does(
    tmp_path: Path, early: None
) -> None:
    # A name its temporary cannot have: longer than a file name may be.
    name = "archive/" + "n" * 243 + ".xml"
    files = _files(40)
    files[name] = b"<rss/>"
    files |= {f"archive/later-{n}.xml": b"<rss/>" for n in range(40)}
    messages = []
    for helper in (False, True):
        out = tmp_path / str(helper)
        with pytest.raises(PublishError) as caught:
            _publish(out, files, helper=helper)
        messages.append(str(caught.value).replace(str(out), "OUT"))
        assert [p for p in out.rglob("*") if p.is_file()] == []
    assert messages == [f"OUT/{name}: cannot write: File name too long"] * 2


def _publish_with_a_writer_signalled(
    out: Path, files: dict[str, bytes], at: int, signal_number: int
) -> None:
    """Publish ``files`` and the state, sending the writer process
    ``signal_number`` after the file ``at``: the build goes on without it,
    and publishes every file; no process is left."""
    before = _children()
    with Publication(out, last="state.jsonl", helper=True) as publication:
        for number, (name, data) in enumerate(files.items()):
            publication.stage(name, data)
            if number == at:
                writer = publication._writer
                assert writer is not None
                writer._process.send_signal(signal_number)
        assert publication._writer is None, "the build went on with its writer"
        publication.stage("state.jsonl", _pieces())
        _sha256s(publication, files)
        publication.commit()
    assert read_tree(out) == files | {"state.jsonl": b"state last\n"}
    assert _children() <= before, "the writer is still there"


def test_files_the_writer_left_when_it_ended_are_written_here(
    tmp_path: Path, early: None
) -> None:
    _publish_with_a_writer_signalled(tmp_path / "out", _files(200), 100, signal.SIGKILL)


def test_a_writer_that_hangs_is_given_up_and_its_files_written_here(
    tmp_path: Path, early: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(publish, "_WRITER_PATIENCE", 0.2)
    # Stopped, it answers no more.
    _publish_with_a_writer_signalled(tmp_path / "out", _files(100), 20, signal.SIGSTOP)


def test_a_stopped_publication_ends_the_writer_and_leaves_nothing(
    tmp_path: Path, early: None
) -> None:
    before = _children()
    out = tmp_path / "out"

    def stopped() -> None:
        with Publication(out, helper=True) as publication:
            for name, data in _files(100).items():
                publication.stage(name, data)
            assert publication._writer is not None
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        stopped()
    assert [p for p in out.rglob("*") if p.is_file()] == []
    assert _children() <= before


def test_without_memfd_the_build_writes_its_files_itself(
    tmp_path: Path, early: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delattr(os, "memfd_create")
    files = _files(20)
    out = tmp_path / "out"
    with Publication(out, last="state.jsonl", helper=True) as publication:
        for name, data in files.items():
            publication.stage(name, data)
        assert publication._writer is None
        publication.stage("state.jsonl", _pieces())
        publication.commit()
    assert read_tree(out) == files | {"state.jsonl": b"state last\n"}


def test_a_build_with_the_writer_publishes_what_one_without_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No lowered threshold: a build of a few hundred items stages more files
    # than a build starts the writer after.
    config = load_config(load_benchmark("corpus").write_corpus(tmp_path / "c", 400))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    started: list[int] = []
    real_start = publish._Writer.start

    def start(written: Any) -> publish._Writer | None:
        started.append(1)
        return real_start(written)

    monkeypatch.setattr(publish._Writer, "start", start)
    run_build(config, output=tmp_path / "alone", options=BuildOptions(jobs=1))
    assert started == []
    files = set(os.listdir("/proc/self/fd"))
    before = _children()
    run_build(config, output=tmp_path / "helped", options=BuildOptions(jobs=2))
    assert started == [1]
    alone = read_tree(tmp_path / "alone")
    assert len(alone) > publish._WRITER_AFTER
    assert read_tree(tmp_path / "helped") == alone
    assert _children() <= before
    assert set(os.listdir("/proc/self/fd")) == files


def _refusal(config: Config, out: Path, jobs: int) -> str:
    """The message of the ValidationError a build with ``jobs`` stops with."""
    with pytest.raises(ValidationError) as caught:
        run_build(config, output=out, options=BuildOptions(jobs=jobs))
    assert not out.exists() or [p for p in out.rglob("*") if p.is_file()] == []
    return str(caught.value)


def _checks_handed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The checks handed to the writer process, by kind, from now on; the
    writer starts at the third file (a small build checks its archive
    documents before it stages 64 files)."""
    monkeypatch.setattr(publish, "_WRITER_AFTER", 2)
    handed: list[str] = []
    submit = publish._Writer.submit

    def counted(writer: publish._Writer, order: publish._Order) -> bool:
        if order.check:
            handed.append(order.name)
        return submit(writer, order)

    monkeypatch.setattr(publish._Writer, "submit", counted)
    return handed


def _refused_alone_and_helped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, calls: list[int]
) -> tuple[str, list[str]]:
    """The message a 400-item build stops with, alone (``--jobs 1``) and
    with the writer, which must be the same, and the checks handed to the
    writer; ``calls`` (of the broken renderer) is reset in between."""
    config = load_config(load_benchmark("corpus").write_corpus(tmp_path / "c", 400))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    here = _refusal(config, tmp_path / "here", jobs=1)
    calls[0] = 0
    handed = _checks_handed(monkeypatch)
    assert _refusal(config, tmp_path / "there", jobs=2) == here
    return here, handed


def test_a_fragment_the_writer_refuses_stops_the_build_as_a_check_here_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import feedpub.render.archive as archive

    made, calls = archive._fragments, [0]

    def broken_late(item: Item, zone: dt.tzinfo) -> tuple[bytes, bytes]:
        # Items are rendered oldest first: the 200th is well after the
        # writer started.
        calls[0] += 1
        rss, atom = made(item, zone)
        return (rss.replace(b"</item>", b"", 1) if calls[0] >= 200 else rss), atom

    monkeypatch.setattr(archive, "_fragments", broken_late)
    message, handed = _refused_alone_and_helped(tmp_path, monkeypatch, calls)
    assert "fragments" in handed
    assert "archive" in handed
    assert ": RSS fragments: tag:" in message
    assert "not an <item> element" in message


def test_a_frame_the_writer_refuses_stops_the_build_as_a_check_here_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import feedpub.render.archive as archive

    framed, calls = archive.archive_frame, [0]

    def unmarked_late(spec: ArchiveSpec) -> tuple[bytes, bytes]:
        calls[0] += 1
        head, tail = framed(spec)
        return (head.replace(b"<fh:archive/>", b"") if calls[0] >= 10 else head), tail

    monkeypatch.setattr(archive, "archive_frame", unmarked_late)
    message, handed = _refused_alone_and_helped(tmp_path, monkeypatch, calls)
    assert "archive" in handed
    assert "not an archive document's frame as feedpub writes it" in message


def test_a_check_handed_to_a_writer_that_ends_is_made_here(
    tmp_path: Path, early: None
) -> None:
    out = tmp_path / "out"

    def publish_with_a_bad_frame() -> None:
        with Publication(out, last="state.jsonl", helper=True) as publication:
            for name, data in _files(10).items():
                publication.stage(name, data)
            writer = publication._writer
            assert writer is not None
            writer._process.send_signal(signal.SIGSTOP)  # answers nothing yet
            publication.validate_archive("archive/rss-0001.xml", "rss", b"<rss/>", [])
            assert len(writer._pending) >= 1
            writer._process.send_signal(signal.SIGKILL)
            publication.stage("archive/later.xml", b"<rss/>")
            publication.commit()

    with pytest.raises(ValidationError, match=r"\n  - archive/rss-0001\.xml: "):
        publish_with_a_bad_frame()
    assert [p for p in out.rglob("*") if p.is_file()] == []


@pytest.mark.parametrize("build_alive", [True, False])
def test_a_writer_whose_build_is_gone_carries_out_no_order(
    tmp_path: Path, build_alive: bool
) -> None:
    # serve() in this process: its "build" is this process's parent, or a
    # process that is not (a build killed: the writer was handed on).
    data = b"<rss/>"
    fd = os.memfd_create("ring-test")
    os.write(fd, data)
    orders_read, orders_write = os.pipe()
    answers_read, answers_write = os.pipe()
    target = os.fsencode(tmp_path / ".rss-0001.xml.00000000.tmp")
    order = writer.ORDER.pack(0, len(data), len(target), writer.WRITE) + target
    os.write(orders_write, order)
    os.close(orders_write)
    build = os.getppid() if build_alive else os.getppid() + 1_000_000
    with os.fdopen(orders_read, "rb") as orders:
        writer.serve(fd, orders, answers_write, build)
    os.close(answers_write)
    os.close(fd)
    with os.fdopen(answers_read, "rb") as answers:
        said = answers.read()
    if build_alive:
        # Written, with the sha256 of its bytes for the build's state.
        assert said == writer.ANSWER.pack(0, hashlib.sha256(data).digest())
        assert Path(os.fsdecode(target)).read_bytes() == data
    else:
        assert said == b""
        assert not Path(os.fsdecode(target)).exists()


@pytest.mark.parametrize("helper", [False, True])
def test_the_sha256_of_an_output_staged_twice_is_that_of_the_last_bytes(
    tmp_path: Path, early: None, helper: bool
) -> None:
    # The writer's answer for the first staging may come after the second.
    files = _files(20)
    again = {name: data[::-1] + b"again" for name, data in files.items()}
    with Publication(
        tmp_path / "out", last="state.jsonl", helper=helper
    ) as publication:
        for name, data in files.items():  # again at once: the answer comes later
            publication.stage(name, data)
            publication.stage(name, again[name])
        publication.stage("state.jsonl", _pieces())
        assert (publication._writer is not None) == helper
        _sha256s(publication, again)
        with pytest.raises(KeyError, match=r"never\.xml: not staged"):
            publication.sha256("never.xml")
        publication.commit()
    assert read_tree(tmp_path / "out") == again | {"state.jsonl": b"state last\n"}
