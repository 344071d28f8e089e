"""Unchanged days are planned from the state, without reading their text again.

A build given a salt (the digests of the code and config) records each item's
block digest, topics and explicit link. The next build with the same salt
makes stubs for the days whose blocks all carry a recorded digest, and loads
their text only when an output shows them. Whatever the edit, that build must
publish exactly what a build that reads everything publishes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Sequence
from pathlib import Path

import pytest

import feedpub.site as site
from feedpub.build import BuildOptions
from feedpub.build import build as run_build
from feedpub.config import Config, load_config
from feedpub.model import Block, Item, RawItem
from feedpub.plan import STATE
from feedpub.publish import read_state as read_state_file
from feedpub.site import BuildResult, ItemLoader, compile_site
from feedpub.state import Entry, OutputRecord, State
from tests.conftest import ROOT, copy_project, read_tree
from tests.test_append import SHELL as shell
from tests.test_append import archive
from tests.test_identity import SAME_DAY

SEED = (ROOT / "seeds" / "demografiewerkstatt-kommunen.txt").read_text()
FIRST = dt.datetime(2021, 1, 1, 8, 0, tzinfo=dt.UTC)
LATER = dt.datetime(2021, 2, 1, 9, 30, tzinfo=dt.UTC)
SALT = "code:config"
NEW = "01.01.21\n\nNeu im Landkreis: ein Treffen zur Integration im Rathaus.\n\n"


def build(
    text: str, config: Config, state: State | None, salt: str = SALT
) -> BuildResult:
    now = FIRST if state is None else LATER
    return compile_site(
        [("news.txt", text.encode())], config, state=state, now=now, salt=salt
    )


def records(state: State) -> list[tuple[object, ...]]:
    """The state's item records without the memo fields (block, topics, link)."""
    return [
        (e.id, e.day, e.published, e.updated, e.fingerprint, e.sketch)
        for e in state.entries
    ]


def _first_text(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


def _reordered(text: str) -> str:
    """The same-day items of ``text`` (all dated 07.07.20), last one first."""
    bodies = [b.strip() for b in text.split("07.07.20\n\n") if b.strip()]
    order = [bodies[-1], *bodies[:-1]]
    return "".join(f"07.07.20\n\n{body}\n\n" for body in order)


EDITS = {
    "new item on a new day": lambda t: NEW + t,
    "new item on the newest day": lambda t: t.split("\n", 1)[0] + "\n\nNeu.\n\n" + t,
    "typo fixed": lambda t: _first_text(t, "Landkreis", "Landkries"),
    "item removed": lambda t: t.split("\n\n", 2)[2],
    "blank lines added": lambda t: t.replace("\n\n", "\n\n\n", 3),
    "same-day items reordered": lambda t: t.replace(SAME_DAY, _reordered(SAME_DAY)),
    "nothing": lambda t: t,
}


def edited(config: Config, edit: str) -> tuple[BuildResult, str]:
    """A first build of the seed (with same-day items), and the text after ``edit``."""
    base = SAME_DAY + "\n" + SEED
    return build(base, config, None), EDITS[edit](base)


@pytest.mark.parametrize("edit", EDITS)
def test_a_build_from_stubs_publishes_what_a_full_build_publishes(
    project_config: Config, edit: str
) -> None:
    first, changed = edited(project_config, edit)
    memo = build(changed, project_config, first.state)
    full = build(changed, project_config, first.state, salt="")
    assert memo.outputs.keys() == full.outputs.keys()
    for path in full.outputs:
        if path != "feedpub-state.jsonl":
            assert memo.outputs[path] == full.outputs[path], path
    assert records(memo.state) == records(full.state)
    assert [i.id for i in memo.items] == [i.id for i in full.items]
    stubs = [i for i in memo.items if i.pending is not None]
    assert stubs, "no day was taken from the state"
    loader = ItemLoader(project_config)
    by_id = {i.id: i for i in full.items}
    for stub in stubs:
        loaded = dataclasses.replace(loader.item(stub), block="")
        assert loaded == dataclasses.replace(by_id[stub.id], block="")


def test_only_unchanged_days_are_stubs(project_config: Config) -> None:
    first = build(SEED, project_config, None)
    second = build(
        NEW + _first_text(SEED, "Landkreis", "Landkries"), project_config, first.state
    )
    read = [i for i in second.items if i.pending is None]
    # The new item, and the edited one with the other item of its day (07.07.20).
    assert [i.day for i in read] == [dt.date(2021, 1, 1), *[dt.date(2020, 7, 7)] * 2]
    assert read[0].paragraphs[0].startswith("Neu im Landkreis")
    assert any("Landkries" in p for p in read[1].paragraphs)
    assert len(second.items) == len(first.items) + 1


def test_another_salt_reads_everything(project_config: Config) -> None:
    first = build(SEED, project_config, None)
    again = build(SEED, project_config, first.state, salt="code:other config")
    assert all(i.pending is None for i in again.items)
    same = build(SEED, project_config, first.state)
    assert all(i.pending is not None for i in same.items)


def test_a_block_with_a_warning_is_read_and_warned_about_every_time(
    project_config: Config,
) -> None:
    text = NEW.replace("Treffen", "Treffen\x07") + SEED
    first = build(text, project_config, None)
    second = build(text, project_config, first.state)
    for result in (first, second):
        assert [str(w) for w in result.warnings if "not allowed" in w.message] == [
            "news.txt:3: warning: removed 1 character(s) not allowed in XML (U+0007)"
        ]
    (warned,) = [i for i in second.items if i.pending is None]
    assert warned.day == dt.date(2021, 1, 1)
    assert next(e for e in second.state.entries if e.id == warned.id).block == ""


def test_the_state_keeps_what_a_stub_needs(project_config: Config) -> None:
    text = "02.01.21\n@link: https://example.org/elsewhere\n\nMit Verweis.\n\n" + SEED
    first = build(text, project_config, None)
    entry = first.state.entries[-1]
    assert entry.day == dt.date(2021, 1, 2)
    assert (entry.link, len(entry.block)) == ("https://example.org/elsewhere", 24)
    assert all(e.topics == i.topics for e, i in _pairs(first))
    second = build(text, project_config, first.state)
    stub = next(i for i in second.items if i.day == dt.date(2021, 1, 2))
    assert stub.pending is not None
    assert stub.link == "https://example.org/elsewhere"
    assert second.outputs["rss.xml"] == first.outputs["rss.xml"]


def _pairs(result: BuildResult) -> list[tuple[object, Item]]:
    by_id = {e.id: e for e in result.state.entries}
    return [(by_id[i.id], i) for i in result.items]


def test_a_config_made_in_code_is_salted_by_its_fields(project_config: Config) -> None:
    from feedpub.build import build_salt

    made = dataclasses.replace(project_config, path=None)
    other = dataclasses.replace(made, summary_length=made.summary_length + 1)
    assert build_salt(made) != build_salt(other)
    assert build_salt(made) == build_salt(dataclasses.replace(made))
    assert build_salt(project_config) != build_salt(made)


@pytest.mark.parametrize("edit", EDITS)
def test_letting_the_documents_go_once_read_changes_nothing(
    project_config: Config, edit: str
) -> None:
    first, changed = edited(project_config, edit)
    kept = build(changed, project_config, first.state)
    documents = [("news.txt", changed.encode())]
    released = compile_site(
        documents, project_config, state=first.state, now=LATER, salt=SALT, release=True
    )
    assert documents == []  # emptied once cut into blocks
    assert released.outputs == kept.outputs
    assert released.items == kept.items
    stubs = [i for i in released.items if i.pending is not None]
    loader = ItemLoader(project_config)  # a stub's block still holds its document
    assert [loader.item(i).paragraphs for i in stubs] == [
        ItemLoader(project_config).item(i).paragraphs
        for i in kept.items
        if i.pending is not None
    ]


def test_progress_counts_every_output_once_in_order(project_config: Config) -> None:
    calls: list[tuple[int, int]] = []
    result = compile_site(
        [("news.txt", SEED.encode())],
        project_config,
        progress=lambda done, total: calls.append((done, total)),
    )
    total = len(result.outputs) - 1  # the state file is not an output of the plan
    assert calls == [(done, total) for done in range(1, total + 1)]


def test_a_build_of_every_output_from_stubs_reads_each_one_once(
    project_config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rendering everything (``build --force``, or a repair) from stubs: the
    pages of a year go right after the archive documents of that year, so
    the stubs loaded for those are still loaded for them. Here the loader
    keeps fewer items than there are (1,365; about 550 a year), as a
    large archive's does."""
    config = dataclasses.replace(project_config, archive_size=20, limit=20)
    text = archive(910, start=dt.date(2018, 1, 1))
    first = build(text, config, None)
    monkeypatch.setattr(site, "ItemLoader", functools.partial(ItemLoader, size=800))
    reads = 0
    real = site.read_block

    def counted(block: Block) -> RawItem:
        nonlocal reads
        reads += 1
        return real(block)

    monkeypatch.setattr(site, "read_block", counted)
    again = build(text, config, first.state)
    stubs = sum(1 for i in again.items if i.pending is not None)
    assert stubs == len(again.items) > 800  # more than the loader keeps
    assert reads == stubs
    assert again.outputs == first.outputs | {STATE: again.outputs[STATE]}


def test_records_of_other_code_or_config_are_read_once_the_sources_are(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No day can be taken from the records of a build under other code or
    config (their block digests are salted with it): the state's item
    records are read after the sources, so a large build holds the records
    or the blocks, not both at once. Under the same, they are read before
    the sources, for the stubs. Either way the shell reads them apart from
    the rest of the state, so that it does not hold them while the build
    renders, and every record keeps its id, times and fingerprint: a change
    of config alone edits no item."""
    config_file = copy_project(tmp_path)
    out = tmp_path / "feeds"
    assert run_build(load_config(config_file), output=out)[0] is not None
    first = read_state_file(out, STATE)
    assert first is not None

    def kept(entries: Sequence[Entry]) -> list[tuple[object, ...]]:
        return [(e.id, e.published, e.updated, e.fingerprint) for e in entries]

    events: list[str] = []
    real_state, real_read = shell.read_state, site._read

    def read_state(*args: object, records: bool = True) -> State | None:
        events.append(f"state records={records}")
        return real_state(*args, records=records)  # type: ignore[arg-type]

    def read(*args: object, **kwargs: object) -> list[Item]:
        events.append("sources")
        return real_read(*args, **kwargs)  # type: ignore[arg-type]

    real_in_place = shell.files_in_place

    def in_place(*args: object) -> list[OutputRecord]:
        events.append("outputs")
        return real_in_place(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(shell, "read_state", read_state)
    monkeypatch.setattr(site, "_read", read)
    monkeypatch.setattr(shell, "files_in_place", in_place)
    config_file.write_text(config_file.read_text().replace("limit = 50", "limit = 40"))
    result, _ = run_build(load_config(config_file), output=out)
    assert result is not None
    # Every output's key holds the salt: no output record is looked at.
    assert events == ["state records=False", "sources", "state records=True"]
    assert result.state.entries == ()  # put aside while rendering, then written
    assert kept(_entries(out)) == kept(first.entries)
    assert len(first.entries) == 9
    events.clear()
    result, _ = run_build(
        load_config(config_file), output=out, options=BuildOptions(force=True)
    )
    # The same code and config: every day a stub of its records, read
    # apart from the state, before the sources.
    assert events == ["state records=False", "state records=True", "sources"]
    assert result is not None
    assert all(item.pending is not None for item in result.items)
    assert kept(_entries(out)) == kept(first.entries)
    events.clear()
    monkeypatch.setattr(shell, "read_tail", lambda *_: None)  # the whole way
    seed = next((tmp_path / "seeds").glob("*.txt"))
    seed.write_text(seed.read_text() + "\n")  # other inputs, the same items
    # A whole build under the same: the outputs in place are kept.
    result, report = run_build(load_config(config_file), output=out)
    assert events == ["state records=False", "outputs", "state records=True", "sources"]
    assert result is not None
    assert report.written == (STATE,)  # the other outputs kept by their records
    assert len(result.kept) == len(read_tree(out)) - 1


def _entries(out: Path) -> tuple[Entry, ...]:
    """The item records of the state file in ``out``."""
    state = read_state_file(out, STATE)
    assert state is not None
    return state.entries


def test_under_other_config_every_file_is_compared_with_what_it_holds(
    tmp_path: Path,
) -> None:
    """Under other code or config every output renders (its key holds the
    salt), and the build holds no record of the outputs: each rendered file
    is compared with the bytes the published one holds, so a file rendered
    the same is left alone, and one edited by hand (its size the same,
    which a build under the same config does not look past) is put right."""
    config_file = copy_project(tmp_path)
    out = tmp_path / "feeds"
    run_build(load_config(config_file), output=out)
    before = read_tree(out)
    script = out / "embed.js"
    edited = script.read_bytes().replace(b"function", b"FUNCTION", 1)
    assert edited != before["embed.js"]
    script.write_bytes(edited)
    # The seed has 9 items: a limit of 40 instead of 50 changes no file.
    config_file.write_text(config_file.read_text().replace("limit = 50", "limit = 40"))
    result, report = run_build(load_config(config_file), output=out)
    assert result is not None
    assert report.written == ("embed.js", STATE)
    after = read_tree(out)
    assert {p for p in after if after[p] != before[p]} == {STATE}
