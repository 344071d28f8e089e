"""Item records put aside while the outputs are rendered.

A large build's memory peaks while it renders. The item records of the next
state are not needed then: they are serialised before the rendering begins,
into a place the caller gives (``compile_site``'s ``aside``; the shell's build
gives a temporary file, ``publish.Spill``), and written from there. Whatever
the path a build takes, the state file must come out byte for byte as it
does from the records themselves.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import errno
import io
import os
import random
import tempfile
from pathlib import Path
from typing import Any

import pytest

import feedpub.publish as publish
from feedpub.build import BuildOptions
from feedpub.build import build as run_build
from feedpub.config import Config, load_config
from feedpub.errors import PublishError
from feedpub.plan import STATE
from feedpub.publish import Spill
from feedpub.site import BuildResult, compile_site
from feedpub.state import (
    HeldRecords,
    InMemory,
    State,
    dump_state,
    load_state,
    sorted_entries,
    state_chunks,
)
from tests.conftest import ROOT, copy_project, read_tree
from tests.test_append import archive
from tests.test_identity import SAME_DAY

SEED = (ROOT / "seeds" / "demografiewerkstatt-kommunen.txt").read_text()
FIRST = dt.datetime(2021, 1, 1, 8, 0, tzinfo=dt.UTC)
LATER = dt.datetime(2021, 2, 1, 9, 30, tzinfo=dt.UTC)


def build(
    text: str, config: Config, state: State | None, *, aside: bool, salt: str = "s"
) -> BuildResult:
    return compile_site(
        [("news.txt", text.encode())],
        config,
        state=state,
        now=FIRST if state is None else LATER,
        salt=salt,
        aside=InMemory if aside else None,
    )


# The builds that render from the records: the first, one with every day a
# stub of its records, one with a day edited and one new, and one under
# other code or config (no day from the records).
CASES = {
    "first build": lambda text: text,
    "nothing changed": lambda text: text,
    "edited and added": lambda text: (
        "01.01.21\n\nNeu.\n\n" + text.replace("Landkreis", "Landkries", 1)
    ),
    "other salt": lambda text: text,
}


@pytest.mark.parametrize("case", CASES)
def test_records_put_aside_are_written_as_the_records_are(
    project_config: Config, case: str
) -> None:
    text = SAME_DAY + "\n" + SEED + archive(40)
    first = build(text, project_config, None, aside=False)
    state = None if case == "first build" else first.state
    salt = "other" if case == "other salt" else "s"
    changed = CASES[case](text)
    whole = build(changed, project_config, state, aside=False, salt=salt)
    held = build(changed, project_config, state, aside=True, salt=salt)
    assert held.outputs == whole.outputs  # the state file among them
    assert len(whole.state.entries) > 40
    assert held.state.entries == ()


def test_records_are_held_in_order_written_once_and_only_in_place_of_entries(
    project_config: Config,
) -> None:
    state = build(SEED + archive(40), project_config, None, aside=False).state
    shuffled = list(state.entries)
    random.Random(5).shuffle(shuffled)
    assert shuffled != sorted_entries(shuffled)
    held = HeldRecords(shuffled, InMemory())
    with pytest.raises(ValueError, match="not both"):
        list(state_chunks(state, held))
    without = dataclasses.replace(state, entries=())
    assert b"".join(state_chunks(without, held)) == dump_state(state)
    with pytest.raises(ValueError, match="written once"):
        list(state_chunks(without, held))


def test_the_shell_build_puts_the_records_in_a_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``feedpub build`` writes the item records to a spill file in the
    output folder before it renders, reads them back for the state, and
    publishes exactly the golden tree; the spill leaves nothing behind."""
    written: list[int] = []
    real_write = Spill.write

    def write(spill: Spill, data: bytes, /) -> None:
        written.append(len(data))
        real_write(spill, data)

    monkeypatch.setattr(Spill, "write", write)
    out = tmp_path / "feeds"
    config = copy_project(tmp_path)
    for options in (BuildOptions(), BuildOptions(force=True)):
        written.clear()
        result, _ = run_build(load_config(config), output=out, options=options)
        assert result is not None
        assert result.state.entries == ()
        assert written
        assert sum(written) < len((out / STATE).read_bytes())
        assert read_tree(out) == read_tree(ROOT / "feeds")


def test_a_spill_keeps_its_bytes_in_a_file_no_one_sees(tmp_path: Path) -> None:
    spill = Spill(tmp_path)
    spill.write(b"one\n")
    spill.write(b"two\n" * 100_000)
    assert list(tmp_path.iterdir()) == []  # no name in the folder
    pieces = list(spill.pieces(size=1 << 16))
    assert b"".join(pieces) == b"one\n" + b"two\n" * 100_000
    assert max(map(len, pieces)) == 1 << 16
    assert list(tmp_path.iterdir()) == []
    spill.close()  # closed already: a second close does nothing


def test_a_spill_that_cannot_be_made_names_the_folder(tmp_path: Path) -> None:
    with pytest.raises(PublishError) as caught:
        Spill(tmp_path / "gone")
    assert str(caught.value).startswith(
        f"{tmp_path / 'gone'}: cannot write a temporary file: "
    )


class _Failing(io.BytesIO):
    """A temporary file whose ``fails`` ("write", "read" or "close") fails
    as a full disk or a bad sector does."""

    def __init__(self, fails: str) -> None:
        super().__init__()
        self.fails = fails

    def write(self, data: Any, /) -> int:
        if self.fails == "write":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return super().write(data)

    def read(self, size: int | None = -1, /) -> bytes:
        if self.fails == "read":
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        return super().read(size)

    def close(self) -> None:
        super().close()
        if self.fails == "close":
            raise OSError(errno.EFBIG, os.strerror(errno.EFBIG))


@pytest.mark.parametrize(
    ("fails", "message"),
    [
        ("write", "cannot write a temporary file: No space left on device"),
        ("read", "cannot read a temporary file: Input/output error"),
        ("close", None),  # nothing is lost: the build publishes
    ],
)
def test_a_spill_that_fails_publishes_nothing_and_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fails: str, message: str | None
) -> None:
    config = copy_project(tmp_path)
    out = tmp_path / "feeds"
    run_build(load_config(config), output=out)
    before = read_tree(out)
    made: list[_Failing] = []

    def temporary(**_: object) -> _Failing:
        made.append(_Failing(fails))
        return made[-1]

    monkeypatch.setattr(tempfile, "TemporaryFile", temporary)
    force = BuildOptions(force=True)
    if message is None:
        run_build(load_config(config), output=out, options=force)
        assert read_tree(out) == before  # the same bytes, published again
    else:
        with pytest.raises(PublishError) as caught:
            run_build(load_config(config), output=out, options=force)
        assert str(caught.value) == f"{out}: {message}"
        assert read_tree(out) == before
    assert len(made) == 1
    assert made[0].closed
    assert publish.scan_output(out)[1] == ()  # no temporary left


def test_matched_items_hold_none_of_their_records_objects(
    project_config: Config,
) -> None:
    """An item matched to its record keeps its own id, fingerprint and time
    where they equal the record's: holding the record's would keep the
    memory of the old records, read from the state, after they are put
    aside."""
    first = build(SAME_DAY + "\n" + SEED, project_config, None, aside=False)
    state = load_state(dump_state(first.state), "state")
    again = build(SAME_DAY + "\n" + SEED, project_config, state, aside=True, salt="o")
    records = {e.id: e for e in state.entries}
    assert len(again.items) == len(records) > 10
    for item in again.items:
        record = records[item.id]
        assert item.pending is None  # read again: no stub shares the record
        assert item.id is not record.id
        assert item.fingerprint == record.fingerprint
        assert item.fingerprint is not record.fingerprint
        assert item.published == record.published
        assert item.published is not record.published
