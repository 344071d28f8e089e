"""Ids and dates survive edits: the state file and the matching of items to it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import struct
import zlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feedpub import identity
from feedpub.config import Config
from feedpub.errors import StateError
from feedpub.identity import (
    LIKENESS,
    likeness,
    reconcile,
    sketch,
)
from feedpub.model import Item, Topic, evolve
from feedpub.normalise import normalise_items
from feedpub.parse import parse_document
from feedpub.plan import STATE, item_link
from feedpub.publish import read_state
from feedpub.site import BuildResult, compile_site
from feedpub.state import Entry, State, dump_state, load_state
from feedpub.tagging import tag_items
from tests.conftest import ROOT

SEED = (ROOT / "seeds" / "demografiewerkstatt-kommunen.txt").read_text()
FIRST = dt.datetime(2021, 1, 1, 8, 0, tzinfo=dt.UTC)
LATER = dt.datetime(2021, 2, 1, 9, 30, tzinfo=dt.UTC)
SAME_DAY = """07.07.20

Manchmal liegt das Gute so nah. Diese Erfahrung konnte wieder einmal im Landkreis gemacht werden, als die Nachbarn zusammen den Dorfplatz pflegten.

07.07.20

Als ein Ergebnis der ersten digitalen Zukunftswerkstatt wurde deutlich, dass die Jugendlichen eigene Räume für Begegnungen brauchen.

07.07.20

Die Bibliothek verlängert ihre Öffnungszeiten am Donnerstag, damit Berufstätige Bücher ausleihen können.
"""


def build(
    text: str, config: Config, previous: BuildResult | None, now: dt.datetime
) -> BuildResult:
    state = previous.state if previous else None
    return compile_site([("news.txt", text.encode())], config, state=state, now=now)


def by_text(result: BuildResult) -> dict[str, Item]:
    return {i.paragraphs[0][:40]: i for i in result.items}


@pytest.fixture
def config(project_config: Config) -> Config:
    return project_config


def test_without_state_ids_are_the_core_ones_and_a_rebuild_changes_nothing(
    config: Config,
) -> None:
    first = build(SEED, config, None, FIRST)
    assert [i.id.rsplit(",", 1)[1] for i in first.items][:3] == [
        "2020-09-16:1",
        "2020-07-07:2",
        "2020-07-07:1",
    ]
    assert all(i.updated is None for i in first.items)
    again = build(SEED, config, first, LATER)
    assert again.outputs == first.outputs


def test_typo_fix_keeps_id_and_date_and_moves_updated_once(config: Config) -> None:
    first = build(SEED, config, None, FIRST)
    fixed = SEED.replace(
        "Manchmal liegt das Gute so nah.", "Manchmal liegt das Gute ganz nah."
    )
    second = build(fixed, config, first, LATER)
    old, new = first.items[1], second.items[1]
    assert (new.id, new.anchor, new.published) == (old.id, old.anchor, old.published)
    assert new.updated == LATER
    unchanged = [i for i in second.items if i.id != old.id]
    assert all(i.updated is None for i in unchanged)
    # the next build sees no change: updated stays at the build that saw it
    third = build(fixed, config, second, LATER + dt.timedelta(days=3))
    assert third.items[1].updated == LATER
    assert third.outputs == second.outputs
    atom = second.outputs["atom.xml"].decode()
    assert "<updated>2021-02-01T10:30:00+01:00</updated>" in atom


def test_rewritten_first_sentence_is_the_same_item(config: Config) -> None:
    first = build(SEED, config, None, FIRST)
    old = first.items[3]  # 31.03.20
    sentence = old.paragraphs[0].split(". ")[0]
    text = SEED.replace(
        sentence,
        "Hagenow zeigt seit Jahren, wie Ankommen in einer Kleinstadt gelingen kann",
    )
    second = build(text, config, first, LATER)
    new = second.items[3]
    assert new.title != old.title
    assert (new.id, new.published, new.updated) == (old.id, old.published, LATER)


def test_a_change_to_the_config_alone_edits_no_item(config: Config) -> None:
    first = build(SEED, config, None, FIRST)
    topics = (
        *config.topics,
        Topic(name="Hagenow", slug="hagenow", keywords=("Hagenow",)),
    )
    other = dataclasses.replace(config, topics=topics, title_length=40)
    second = build(SEED, other, first, LATER)
    pairs = list(zip(first.items, second.items, strict=True))
    assert any(new.topics != old.topics for old, new in pairs)
    assert any(new.title != old.title for old, new in pairs)
    for old, new in pairs:
        assert (new.id, new.published, new.updated) == (old.id, old.published, None)

    def identities(result: BuildResult) -> list[tuple[object, ...]]:
        return [
            (e.id, e.published, e.updated, e.fingerprint) for e in result.state.entries
        ]

    assert identities(second) == identities(first)  # their topics are the new ones


def test_other_tags_are_an_edit(config: Config) -> None:
    first = build(SEED, config, None, FIRST)
    old = first.items[3]
    line = old.paragraphs[0]
    second = build(SEED.replace(line, f"@tags: Hagenow\n{line}"), config, first, LATER)
    new = second.items[3]
    assert new.tags == ("Hagenow",)
    assert (new.id, new.published, new.updated) == (old.id, old.published, LATER)
    assert all(n.updated is None for n in second.items if n is not new)


# The state of the project's feeds as the code of 3c39e7c wrote it, before
# fingerprints left out derived titles and topics (`git show
# 3c39e7c:feeds/feedpub-state.jsonl`), from the same seed and config.
OLDER_STATE = ROOT / "tests" / "data" / "state-3c39e7c.jsonl"


@pytest.mark.parametrize("new_topic", [False, True])
def test_records_with_the_older_fingerprint_are_matched_unchanged(
    config: Config, new_topic: bool
) -> None:
    older = load_state(OLDER_STATE.read_bytes(), OLDER_STATE.name)
    if new_topic:  # and the config changed with the upgrade
        topics = (
            *config.topics,
            Topic(name="Hagenow", slug="hagenow", keywords=("Hagenow",)),
        )
        config = dataclasses.replace(config, topics=topics)
    fresh = build(SEED, config, None, FIRST)
    assert {e.fingerprint for e in older.entries}.isdisjoint(
        e.fingerprint for e in fresh.state.entries
    )
    second = compile_site([("news.txt", SEED.encode())], config, state=older, now=LATER)
    recorded = {e.id: e for e in older.entries}
    assert len(second.items) == len(recorded)
    for item in second.items:
        entry = recorded[item.id]
        assert item.published == entry.published
        assert item.modified == entry.updated  # none marked updated
    # Each record takes the new fingerprint.
    assert [e.fingerprint for e in second.state.entries] == [
        e.fingerprint for e in fresh.state.entries
    ]


def test_reordering_same_day_items_keeps_each_id(config: Config) -> None:
    first = build(SAME_DAY, config, None, FIRST)
    blocks = SAME_DAY.split("\n\n07.07.20\n\n")
    reordered = "\n\n07.07.20\n\n".join(
        [
            blocks[2].replace("07.07.20\n\n", ""),
            blocks[0].replace("07.07.20\n\n", ""),
            blocks[1],
        ]
    )
    second = build("07.07.20\n\n" + reordered, config, first, LATER)
    before, after = by_text(first), by_text(second)
    assert before.keys() == after.keys()
    for key, old in before.items():
        assert (after[key].id, after[key].published, after[key].updated) == (
            old.id,
            old.published,
            None,
        )


def test_removed_and_readded_item_gets_its_id_back(config: Config) -> None:
    first = build(SAME_DAY, config, None, FIRST)
    middle = "\n\n07.07.20\n\nAls ein Ergebnis"
    without = (
        SAME_DAY.replace(middle, "\n\nXX").split("\n\nXX")[0]
        + "\n\n07.07.20\n\nDie Bibliothek"
        + SAME_DAY.split("Die Bibliothek")[1]
    )
    second = build(without, config, first, LATER)
    assert len(second.items) == 2
    records = {e.id for e in second.state.entries}
    assert records == {e.id for e in first.state.entries}, (
        "the removed item's record stays"
    )
    third = build(SAME_DAY, config, second, LATER)
    assert [(i.id, i.published, i.updated) for i in third.items] == [
        (i.id, i.published, None) for i in first.items
    ]


def test_new_item_on_the_same_day_is_never_taken_for_an_edit(config: Config) -> None:
    first = build(SAME_DAY, config, None, FIRST)
    new = "07.07.20\n\nDer Kreistag beschließt einen neuen Haushalt mit mehr Mitteln für Straßenbau und Radwege.\n\n"
    second = build(new + SAME_DAY, config, first, LATER)
    old_ids = {i.id for i in first.items}
    added = second.items[0]
    assert added.id not in old_ids
    assert added.id.endswith(":4")
    assert [(i.id, i.published) for i in second.items[1:]] == [
        (i.id, i.published) for i in first.items
    ]
    # listed first, so newest: after every older item of the day, all distinct
    assert added.published > max(i.published for i in first.items)
    assert len({i.published for i in second.items}) == 4
    assert added.updated is None


def test_new_items_listed_between_published_ones_keep_the_day_in_order(
    config: Config,
) -> None:
    """Items inserted below the day's newest are published between the
    items around them, as the source lists them, each at its own time."""
    first = build(SAME_DAY, config, None, FIRST)
    second_block = "07.07.20\n\nAls ein Ergebnis"
    inserted = (
        "07.07.20\n\nDer Kreistag beschließt einen neuen Haushalt für Radwege.\n\n"
        "07.07.20\n\nDie Feuerwehr weiht ein neues Gerätehaus im Ortsteil ein.\n\n"
    )
    text = SAME_DAY.replace(second_block, inserted + second_block, 1)
    second = build(text, config, first, LATER)
    times = [i.published for i in second.items]
    assert times == sorted(times, reverse=True)  # newest first, as listed
    assert len(set(times)) == 5
    assert [(i.id, i.published) for i in (second.items[0], *second.items[3:])] == [
        (i.id, i.published) for i in first.items
    ]


def test_edit_and_new_item_together(config: Config) -> None:
    first = build(SAME_DAY, config, None, FIRST)
    edited = SAME_DAY.replace(
        "ihre Öffnungszeiten am Donnerstag", "ihre Öffnungszeiten am Freitag"
    )
    new = "07.07.20\n\nDer Kreistag beschließt einen neuen Haushalt mit mehr Mitteln für Straßenbau.\n\n"
    second = build(new + edited, config, first, LATER)
    assert second.items[3].id == first.items[2].id
    assert second.items[3].updated == LATER
    assert second.items[0].id not in {i.id for i in first.items}


def test_deleting_one_item_and_adding_another_does_not_inherit(config: Config) -> None:
    first = build(SAME_DAY, config, None, FIRST)
    replaced = SAME_DAY.replace(
        SAME_DAY.split("\n\n07.07.20\n\n")[2],
        "Heute wurde der neue Spielplatz an der Schule mit einem Fest für alle Familien eröffnet.\n",
    )
    second = build(replaced, config, first, LATER)
    assert second.items[2].id not in {i.id for i in first.items}


def test_lost_state_degrades_to_the_core_ids(config: Config) -> None:
    first = build(SEED, config, None, FIRST)
    fixed = SEED.replace("Manchmal liegt", "Manchmal lag")
    without_state = build(fixed, config, None, LATER)
    assert [i.id for i in without_state.items] == [i.id for i in first.items]
    assert all(i.updated is None for i in without_state.items)


def test_likeness_separates_edits_from_other_news(config: Config) -> None:
    items = build(SEED, config, None, FIRST).items
    sketches = [sketch(i) for i in items]
    others = [likeness(a, b) for n, a in enumerate(sketches) for b in sketches[n + 1 :]]
    assert max(others) < LIKENESS / 2
    typo = dataclasses.replace(
        items[0],
        paragraphs=(items[0].paragraphs[0].replace("Projektstart", "Projecktstart"),),
    )
    assert likeness(sketch(typo), sketches[0]) > 0.8


def test_state_file_round_trips_and_is_ordered(config: Config) -> None:
    result = build(SEED, config, None, FIRST)
    data = result.outputs[STATE]
    state = load_state(data, STATE)
    assert state == result.state
    lines = data.decode().splitlines()
    assert lines[0].startswith('{"format": "feedpub-state/2"')
    kinds = [line.split('"', 2)[1] for line in lines]
    assert kinds == sorted(
        kinds, key=["format", "output", "topic", "retired", "id", "summary"].index
    )
    assert len([k for k in kinds if k == "id"]) == len(result.items)
    assert kinds[-1] == "summary"
    # A file of format 1 (no places, no summary) is read as it was written.
    old = b"".join(
        line.replace(b"feedpub-state/2", b"feedpub-state/1").split(b', "at": ')[0]
        + (b"}\n" if b', "at": ' in line else b"")
        for line in data.splitlines(keepends=True)
        if not line.startswith(b'{"summary"')
    )
    assert load_state(old, STATE) == dataclasses.replace(
        state,
        summary=None,
        entries=tuple(dataclasses.replace(e, at=0) for e in state.entries),
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            b'{"format": "other/9"}\n',
            "feedpub-state.jsonl:1: expected format 'feedpub-state/2'",
        ),
        (
            b'{"format": "feedpub-state/1"}\nnot json\n',
            "feedpub-state.jsonl:2: expected a JSON object",
        ),
        (
            b'{"format": "feedpub-state/1"}\n{"id": "x", "day": "2020-01-01"}\n',
            "feedpub-state.jsonl:2: invalid state record: missing 'published'",
        ),
        (
            b'{"format": "feedpub-state/1"}\n{"id": "x", "day": "2020-01-01", "published": "2020-01-01T12:00:00Z",'
            b' "updated": "2019-01-01T12:00:00Z", "fingerprint": "f", "sketch": ""}\n',
            "feedpub-state.jsonl:2: invalid state record: updated is before published",
        ),
    ],
)
def test_invalid_state_names_file_and_line(data: bytes, message: str) -> None:
    with pytest.raises(StateError) as caught:
        load_state(data, "feedpub-state.jsonl")
    assert str(caught.value).startswith(message)


def test_removed_topic_retires_its_feeds_with_a_notice(config: Config) -> None:
    first = build(SEED, config, None, FIRST)
    fewer = dataclasses.replace(
        config, topics=tuple(t for t in config.topics if t.slug != "jugend")
    )
    second = build(SEED, fewer, first, LATER)
    rss = second.outputs["topics/jugend/rss.xml"].decode()
    assert "wird nicht mehr aktualisiert" in rss
    assert "https://feeds.example.org/dwk/rss.xml" in rss
    assert [r.slug for r in second.state.retired] == ["jugend"]
    assert second.state.retired[0].since == LATER
    page = second.outputs["index.html"].decode()
    assert "topics/jugend/" not in page, "a retired topic is no longer offered"
    # later builds keep the same notice, byte for byte
    third = build(SEED, fewer, second, LATER + dt.timedelta(days=9))
    assert third.outputs == second.outputs
    # and a topic that comes back is a topic again
    back = build(SEED, config, third, LATER + dt.timedelta(days=10))
    assert back.state.retired == ()
    assert back.outputs["topics/jugend/rss.xml"].count(b"<item>") == first.outputs[
        "topics/jugend/rss.xml"
    ].count(b"<item>")
    assert [(i.id, i.published, i.topics) for i in back.items] == [
        (i.id, i.published, i.topics) for i in first.items
    ]


def test_unchanged_outputs_are_not_rendered_again(config: Config) -> None:
    salt = "code:config"
    first = compile_site([("news.txt", SEED.encode())], config, now=FIRST, salt=salt)
    fixed = SEED.replace(
        "Manchmal liegt das Gute so nah.", "Manchmal liegt das Gute ganz nah."
    )
    in_place = {r.path: r for r in first.state.outputs}
    second = compile_site(
        [("news.txt", fixed.encode())],
        config,
        state=first.state,
        now=LATER,
        salt=salt,
        reuse=in_place,
    )
    full = compile_site(
        [("news.txt", fixed.encode())], config, state=first.state, now=LATER, salt=salt
    )
    rendered = set(second.outputs) - {STATE}
    assert second.kept
    assert rendered.isdisjoint(second.kept)
    assert rendered | set(second.kept) == set(full.outputs) - {STATE}
    # exactly the files whose bytes change are rendered; the kept ones are equal
    assert rendered == {n for n in rendered if full.outputs[n] != first.outputs[n]}
    assert all(full.outputs[n] == first.outputs[n] for n in second.kept)
    assert second.outputs[STATE] == full.outputs[STATE]
    # another salt (new code or config) renders everything
    other = compile_site(
        [("news.txt", fixed.encode())],
        config,
        state=first.state,
        now=LATER,
        salt="new",
        reuse=in_place,
    )
    assert other.kept == ()


def test_a_state_file_with_a_byte_order_mark_still_loads(config: Config) -> None:
    result = build(SEED, config, None, FIRST)
    data = result.outputs[STATE]
    assert load_state(b"\xef\xbb\xbf" + data, STATE) == result.state
    with pytest.raises(StateError, match=r"feedpub-state.jsonl:2: expected a JSON"):
        load_state(data.replace(b"\n", b"\n[1,\n", 1), STATE)


def test_a_state_file_reads_the_same_line_by_line(
    config: Config, tmp_path: Path
) -> None:
    # publish.read_state gives load_state the open file, not its bytes.
    data = build(SEED, config, None, FIRST).outputs[STATE]
    for variant in (
        data,
        b"\xef\xbb\xbf" + data,
        data.replace(b"\n", b"\n\n", 3),  # blank lines
        data.rstrip(b"\n"),  # no line end at the end
    ):
        (tmp_path / STATE).write_bytes(variant)
        assert read_state(tmp_path, STATE) == load_state(variant, STATE)
    (tmp_path / STATE).write_bytes(data.replace(b"\n", b"\n\n[1,\n", 2))
    with pytest.raises(StateError, match=r"feedpub-state.jsonl:3: expected a JSON"):
        read_state(tmp_path, STATE)


_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
_MOMENT = st.datetimes(  # naive bounds, as hypothesis wants them; made UTC below
    min_value=dt.datetime(1900, 1, 1),  # noqa: DTZ001
    max_value=dt.datetime(2200, 1, 1),  # noqa: DTZ001
).map(lambda m: m.replace(microsecond=0, tzinfo=dt.UTC))
_HEX = st.text("0123456789abcdef", min_size=1, max_size=24)


@st.composite
def _entries(draw: st.DrawFn) -> Entry:
    published = draw(_MOMENT)
    block = draw(st.one_of(st.just(""), _HEX))
    return Entry(
        id=draw(_TEXT),
        day=draw(st.dates()),
        published=published,
        updated=published + draw(st.sampled_from([dt.timedelta(0), LATER - FIRST])),
        fingerprint=draw(_HEX),
        sketch=draw(st.binary(max_size=12).map(lambda b: b[: len(b) // 4 * 4])),
        block=block,
        topics=tuple(draw(st.lists(_TEXT, max_size=3))) if block else (),
        link=draw(_TEXT) if block else "",
    )


@given(st.lists(_entries(), max_size=6, unique_by=lambda e: e.id))
def test_item_records_read_back_as_written(entries: list[Entry]) -> None:
    data = dump_state(State(inputs="sha256:0", entries=tuple(entries)))
    state = load_state(data, STATE)
    assert sorted(state.entries, key=lambda e: e.id) == sorted(
        entries, key=lambda e: e.id
    )
    assert dump_state(state) == data


def _sketch_by_definition(item: Item) -> bytes:
    """The sketch as identity.sketch defines it, the slow way."""
    text = " ".join((item.title, *item.paragraphs)).casefold()
    words = set(re.findall(r"\w{4,}", text))
    hashes = sorted(zlib.crc32(word.encode()) for word in words)[:32]
    return struct.pack(f">{len(hashes)}I", *hashes)


@given(st.text(max_size=40), st.lists(st.text(max_size=200), max_size=3))
def test_sketch_is_its_definition(title: str, paragraphs: list[str]) -> None:
    item = Item(
        id="x",
        given_anchor="x",
        given_title=title,
        paragraphs=tuple(paragraphs),
        day=dt.date(2020, 1, 1),
        published=FIRST,
    )
    assert sketch(item) == _sketch_by_definition(item)
    assert sketch(item, item.tokens()) == sketch(item)


def test_the_words_of_tokens_are_remembered_for_a_bounded_while() -> None:
    remembered = identity._TokenWords(kept=4)
    tokens = [f"wort{n}" for n in range(10)]
    for token in tokens:
        assert remembered.add(token) == {token: zlib.crc32(token.encode())}
        assert len(remembered.newer) <= 4
        assert len(remembered.older) <= 4
    assert set(remembered.newer) == {"wort8", "wort9"}
    assert set(remembered.older) == {"wort4", "wort5", "wort6", "wort7"}
    # A token of the older generation moves to the newer, with its words.
    assert remembered.add("wort5") == {"wort5": zlib.crc32(b"wort5")}
    assert "wort5" not in remembered.older
    assert set(remembered.newer) == {"wort8", "wort9", "wort5"}
    # A token's words: its runs of 4+ word characters, casefolded.
    assert remembered.add("„Straße/Stadt-Rat“") == {
        w: zlib.crc32(w.encode()) for w in ("strasse", "stadt")
    }


def test_two_words_with_one_crc_both_count_in_a_sketch() -> None:
    assert zlib.crc32(b"zutdocbjiv") == zlib.crc32(b"xvmxlgbdlh")
    item = Item(
        id="x",
        given_anchor="x",
        given_title="zutdocbjiv xvmxlgbdlh",
        paragraphs=(),
        day=dt.date(2020, 1, 1),
        published=FIRST,
    )
    assert sketch(item) == _sketch_by_definition(item) == bytes.fromhex("1130c9aa") * 2


def test_matching_in_place_gives_what_matching_a_copy_gives(config: Config) -> None:
    first = build(SEED, config, None, FIRST)
    edited = "17.09.20\n\nEine neue Meldung ganz oben.\n\n" + SEED.replace(
        "Manchmal liegt das Gute so nah.", "Manchmal liegt das Gute ganz nah."
    )
    raw, _ = parse_document(edited, "news.txt")
    items, _ = tag_items(normalise_items(raw, config)[0], config.topics)
    # In place, nothing else holds the items: each takes its id, times,
    # fingerprint and link itself.
    copy = [evolve(item) for item in items]
    objects, before = list(copy), tuple(items)

    def link(item: Item, anchor: str) -> str:  # as the build gives them
        return item_link(item, "https://feeds.example.org/", anchor)

    given = reconcile(items, first.state.entries, LATER, link)
    in_place = reconcile(copy, first.state.entries, LATER, link, in_place=True)
    assert given == in_place
    assert in_place[0][0].link.endswith("#item-2020-09-17-1")
    assert in_place[0] is copy  # the very list, with the very items
    assert all(a is b for a, b in zip(copy, objects, strict=True))
    assert tuple(items) == before != tuple(copy)  # without in_place: left alone
