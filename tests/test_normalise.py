"""Normalisation: the date-only time policy, ids, fields, text cleaning."""

from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from feedpub.config import Config
from feedpub.dates import FIRST_YEAR, local_time
from feedpub.errors import SourceError
from feedpub.model import Diagnostic, amend, evolve
from feedpub.normalise import item_time, normalise_items
from feedpub.parse import parse_document
from feedpub.plan import item_link
from feedpub.text import title_from

BERLIN = ZoneInfo("Europe/Berlin")
CONFIG = Config(base_url="https://example.org/f/", id_authority="example.org")


def _normalise(text: str, config: Config = CONFIG) -> tuple[list, list[Diagnostic]]:  # type: ignore[type-arg]
    raw, warnings = parse_document(text, "doc.txt")
    items, more = normalise_items(raw, config)
    return items, warnings + more


def test_berlin_summer_and_winter_time() -> None:
    summer = item_time(dt.date(2020, 9, 16), 0, 1, BERLIN)
    winter = item_time(dt.date(2020, 1, 20), 0, 1, BERLIN)
    assert summer.isoformat() == "2020-09-16T12:00:00+00:00"
    assert summer.astimezone(BERLIN).isoformat() == "2020-09-16T14:00:00+02:00"
    assert winter.astimezone(BERLIN).isoformat() == "2020-01-20T13:00:00+01:00"


@given(
    day=st.dates(min_value=dt.date(1970, 1, 1), max_value=dt.date(2100, 12, 31)),
    count=st.integers(min_value=1, max_value=60),
    data=st.data(),
)
def test_calendar_date_holds_from_utc_minus_11_to_plus_11(
    day: dt.date, count: int, data: st.DataObject
) -> None:
    index = data.draw(st.integers(min_value=0, max_value=count - 1))
    moment = item_time(day, index, count, BERLIN)
    for hours in range(-11, 12):
        zone = dt.timezone(dt.timedelta(hours=hours))
        assert moment.astimezone(zone).date() == day, hours
    assert moment.astimezone(BERLIN).date() == day


@pytest.mark.parametrize("count", [2, 3, 60, 61, 500, 3600])
def test_same_day_items_get_distinct_times_in_source_order(count: int) -> None:
    day = dt.date(2021, 3, 28)  # the day summer time starts in Berlin
    times = [item_time(day, i, count, BERLIN) for i in range(count)]
    assert times == sorted(set(times), reverse=True)  # distinct, first listed newest
    for moment in (times[0], times[-1]):
        for hours in (-11, 11):
            assert (
                moment.astimezone(dt.timezone(dt.timedelta(hours=hours))).date() == day
            )


@pytest.mark.parametrize(
    "zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago", "Asia/Kolkata"]
)
def test_far_zones_keep_the_publishers_date(zone: str) -> None:
    tz = ZoneInfo(zone)
    for day in (dt.date(2020, 1, 1), dt.date(2020, 7, 1)):
        assert item_time(day, 0, 2, tz).astimezone(tz).date() == day
        assert item_time(day, 1, 2, tz).astimezone(tz).date() == day


def test_local_mean_time_gives_whole_minutes_on_the_day() -> None:
    # Europe/Berlin is at +00:53:28 before April 1893: 12:00 UTC is shown at
    # +00:53. America/Sitka is at +14:58:47 before 1867: local noon, at +14:59.
    sitka = ZoneInfo("America/Sitka")
    assert [
        local_time(item_time(dt.date(1885, 5, 3), i, 2, BERLIN), BERLIN).isoformat()
        for i in range(2)
    ] == ["1885-05-03T12:53:00+00:53", "1885-05-03T12:52:00+00:53"]
    assert [
        local_time(item_time(dt.date(1860, 7, 4), i, 2, sitka), sitka).isoformat()
        for i in range(2)
    ] == ["1860-07-04T12:00:00+14:59", "1860-07-04T11:59:00+14:59"]


def test_twelve_hours_behind_utc_a_day_starts_at_local_noon() -> None:
    zone = ZoneInfo("Etc/GMT+12")  # UTC-12: 12:00 UTC is local midnight
    day = dt.date(2021, 5, 5)
    assert [
        local_time(item_time(day, i, 2, zone), zone).isoformat() for i in (0, 1)
    ] == [
        "2021-05-05T12:00:00-12:00",
        "2021-05-05T11:59:00-12:00",
    ]
    assert item_time(day, 0, 1, zone) == item_time(day, 0, 2, zone)


@pytest.mark.parametrize("count", [1, 2, 60, 61, 3600, 3602])
@pytest.mark.parametrize(
    "zone",
    [
        "Etc/GMT+12",
        "Etc/GMT+11",
        "Etc/GMT-11",
        "Etc/GMT-12",
        "Etc/GMT-14",
        "Pacific/Chatham",
        "America/St_Johns",
        "Europe/Berlin",
    ],
)
def test_every_item_of_a_day_stays_on_its_local_day(zone: str, count: int) -> None:
    tz = ZoneInfo(zone)
    for day in (dt.date(2021, 1, 5), dt.date(2021, 7, 5)):
        times = [item_time(day, i, count, tz) for i in range(count)]
        assert times == sorted(set(times), reverse=True)
        assert {local_time(t, tz).date() for t in times} == {day}


def _day_exists(day: dt.date, zone: dt.tzinfo) -> bool:
    """Whether local noon of ``day`` is a real time in ``zone``: Samoa skipped
    30.12.2011 when it moved west of the date line, and nothing is shown on it."""
    noon = dt.datetime.combine(day, dt.time(12), tzinfo=zone)
    return noon.astimezone(dt.UTC).astimezone(zone).date() == day


@given(
    zone=st.sampled_from(sorted(available_timezones())),
    day=st.dates(min_value=dt.date(FIRST_YEAR, 1, 1), max_value=dt.date(9999, 12, 30)),
    count=st.integers(min_value=1, max_value=90),
)
def test_items_are_on_their_day_at_whole_minutes_in_every_zone(
    zone: str, day: dt.date, count: int
) -> None:
    tz = ZoneInfo(zone)
    assume(_day_exists(day, tz))
    times = [item_time(day, i, count, tz) for i in range(count)]
    assert times == sorted(set(times), reverse=True)
    shown = [local_time(t, tz) for t in times]
    assert {s.date() for s in shown} == {day}
    assert [s.utcoffset() % dt.timedelta(minutes=1) for s in shown] == [
        dt.timedelta(0)
    ] * count
    if count <= 60:
        assert {s.second for s in shown} == {0}


@pytest.mark.parametrize("zone", ["Etc/GMT+12", "Pacific/Kiritimati"])
def test_a_day_whose_times_pass_the_year_9999_is_an_error_at_its_line(
    zone: str,
) -> None:
    far = dataclasses.replace(CONFIG, timezone=ZoneInfo(zone))
    text = "01.02.21\n\nGut.\n\n31.12.9999\n\nTippfehler.\n"
    with pytest.raises(SourceError) as caught:
        _normalise(text, far)
    assert str(caught.value) == (
        "doc.txt:5: expected a date whose items fit before the year 10000"
        f" in time zone {zone}, found '31.12.9999'"
    )
    items, _ = _normalise(text)  # 13:00 in Berlin
    assert items[1].published == dt.datetime(9999, 12, 31, 12, tzinfo=dt.UTC)


DOC = """16.09.20

Erste Meldung. Mit Text.

16.09.20

Zweite Meldung des Tages.

15.09.20

Vortag.
"""


def test_ids_count_each_day_from_its_oldest_item() -> None:
    items, _ = _normalise(DOC)
    assert [i.id for i in items] == [
        "tag:example.org,2020-09-16:2",
        "tag:example.org,2020-09-16:1",
        "tag:example.org,2020-09-15:1",
    ]
    assert [item_link(i, CONFIG.base_url) for i in items] == [
        "https://example.org/f/archive/2020.html#item-2020-09-16-2",
        "https://example.org/f/archive/2020.html#item-2020-09-16-1",
        "https://example.org/f/archive/2020.html#item-2020-09-15-1",
    ]


def test_ids_survive_a_typo_fix_and_a_new_item_on_top() -> None:
    before, _ = _normalise(DOC)
    fixed, _ = _normalise(DOC.replace("Erste Meldung", "Erste Meldnug"))
    assert [i.id for i in fixed] == [i.id for i in before]
    added, _ = _normalise("16.09.20\n\nGanz neu.\n\n" + DOC)
    assert [i.id for i in added[1:]] == [i.id for i in before]
    assert added[0].id == "tag:example.org,2020-09-16:3"


def test_ids_do_not_depend_on_base_url() -> None:
    moved = dataclasses.replace(CONFIG, base_url="https://elsewhere.example/x/")
    assert [i.id for i in _normalise(DOC, moved)[0]] == [
        i.id for i in _normalise(DOC)[0]
    ]


def test_fields_byline_and_titles() -> None:
    text = (
        "01.02.21 Anna Beispiel\n@title: Gesetzter Titel\n@link: https://ex.org/a?b=1&c=2\n"
        "@tags: Eins, Zwei, Eins\n\nText. Mehr.\n\n"
        "31.01.21\n@author: Bea Autorin\n\nAbsatz eins.\n\nAbsatz zwei.\n\n"
        "30.01.21 Carl Byline\n"
    )
    items, warnings = _normalise(text)
    first, second, third = items
    assert (first.title, first.link, first.author, first.tags) == (
        "Gesetzter Titel",
        "https://ex.org/a?b=1&c=2",
        "Anna Beispiel",
        ("Eins", "Zwei"),
    )
    assert (second.title, second.author, second.paragraphs) == (
        "Absatz eins",
        "Bea Autorin",
        ("Absatz eins.", "Absatz zwei."),
    )
    assert (third.title, third.paragraphs, third.summary) == ("30.01.2021", (), "")
    assert [str(w) for w in warnings] == ["doc.txt:15: warning: item has no text"]


def test_a_derived_title_is_held_as_numbers() -> None:
    # A large build holds every item: a title taken from the text is kept as
    # where it ends in the first paragraph, not as a second string.
    long = "Ein sehr langer erster Satz " + "mit vielen Wörtern " * 8 + "am Ende."
    text = (
        f"03.02.21\n\n{long} Zweiter Satz.\n\n"
        "02.02.21\n\nKurz und gut. Noch ein Satz.\n\n"
        "01.02.21\n@title: Gesetzt\n\nText.\n\n"
        f"31.01.21\n\n{'-' * 200}\n\n"
        "30.01.21\n\n.\n"
    )
    cut, short, given, dashes, dot = _normalise(text)[0]
    limit = CONFIG.title_length
    assert cut.title == title_from(long, limit)
    assert cut.title.endswith("…")
    assert (cut.given_title, cut.title_end, cut.title_cut) == (
        "",
        len(cut.title) - 1,
        True,
    )
    assert (short.title, short.given_title, short.title_cut) == (
        "Kurz und gut",
        "",
        False,
    )
    assert (given.title, given.given_title, given.title_end) == (
        "Gesetzt",
        "Gesetzt",
        0,
    )
    # nothing of the text before a cut: the "…" is all the title has
    assert (dashes.title, dashes.given_title) == ("…", "…")
    assert title_from("-" * 200, limit) == "…"
    with pytest.raises(ValueError, match="ends past its first paragraph"):
        dataclasses.replace(cut, paragraphs=("Kurz.",))
    # nothing at all: the day, as for an item without text
    assert (dot.title, dot.given_title, dot.title_end) == (
        "30.01.2021",
        "30.01.2021",
        0,
    )


def test_an_anchor_follows_the_day_and_the_id() -> None:
    # Items a build reads hold no anchor string: it is the day and the number
    # at the end of the id, and moves with the id.
    items = _normalise(DOC)[0]
    for item in items:
        number = item.id.rpartition(":")[2]
        assert item.given_anchor == ""
        assert item.anchor == f"item-{item.day.isoformat()}-{number}"
    moved = evolve(items[0], id=f"{items[0].id.rpartition(':')[0]}:7")
    assert moved.anchor == f"item-{items[0].day.isoformat()}-7"
    assert evolve(items[0], given_anchor="notice").anchor == "notice"


def test_evolve_is_dataclasses_replace_with_the_same_checks() -> None:
    item = _normalise(DOC)[0][0]
    changed = evolve(item, id="tag:x,2020-01-01:9", block="b", topics=("a",))
    assert changed == dataclasses.replace(
        item, id="tag:x,2020-01-01:9", block="b", topics=("a",)
    )
    assert (changed.paragraphs, changed.published) == (item.paragraphs, item.published)
    copy = evolve(item)
    assert copy == item
    assert copy is not item
    with pytest.raises(TypeError, match=r"Item has no field\(s\) nope, other"):
        evolve(item, id="x", nope=1, other=2)
    with pytest.raises(ValueError, match="before its publication"):  # __post_init__
        evolve(item, updated=item.published - dt.timedelta(days=1))


def test_amend_is_evolve_without_the_copy() -> None:
    item = _normalise(DOC)[0][0]
    expected = evolve(item, id="tag:x,2020-01-01:9", topics=("a",))
    assert amend(item, id="tag:x,2020-01-01:9", topics=("a",)) is item
    assert item == expected
    with pytest.raises(TypeError, match=r"Item has no field\(s\) nope"):
        amend(item, nope=1)
    with pytest.raises(ValueError, match="before its publication"):  # __post_init__
        amend(item, updated=item.published - dt.timedelta(days=1))


def test_bad_link_is_an_error_at_its_line() -> None:
    with pytest.raises(SourceError) as caught:
        _normalise("01.02.21\n@link: javascript:alert(1)\n\nText.\n")
    assert str(caught.value) == (
        "doc.txt:2: expected an absolute http(s) URL after @link:,"
        " found 'javascript:alert(1)'"
    )


def test_control_characters_removed_with_a_warning_at_their_line() -> None:
    items, warnings = _normalise("01.02.21\n\nSauber.\nMit\x00 Null\x0bund Tab\t.\n")
    assert items[0].paragraphs == ("Sauber. Mit Null und Tab .",)
    assert [str(w) for w in warnings] == [
        "doc.txt:4: warning: removed 2 character(s) not allowed in XML (U+0000, U+000B)"
    ]


def test_text_is_nfc_and_kept_exactly() -> None:
    decomposed = "U\u0308berraschung"  # Ü as U + combining diaeresis
    items, _ = _normalise(f"01.02.21\n\n{decomposed}: „A“ – B & <c>.\n")
    assert items[0].paragraphs == ("Überraschung: „A“ – B & <c>.",)
