"""Items added at the top of the sources: read those, not the whole archive.

When the last build left a state with a summary and its files are in place,
a build whose sources are the old ones with new text above them reads only
the new items and the state's records of the newest years
(``site.compile_appended``). It must publish exactly what a build that
reads everything publishes, byte for byte, state file included; and
whatever does not fit (an edit below the top, a new year, a warning) must
not take it, with the same result. The projects here span two years, so
an edit goes the whole way; ``test_edited.py`` has the builds that read the
newest years again (``site.compile_edited``) when older years are left.
"""

from __future__ import annotations

import datetime as dt
import importlib
import random
from pathlib import Path

import pytest

import feedpub.site
from feedpub.build import BuildOptions, build
from feedpub.config import load_config
from feedpub.errors import SourceError
from feedpub.site import BuildResult
from feedpub.state import load_tail, place, unplace
from tests.conftest import read_tree

SHELL = importlib.import_module("feedpub.build")  # feedpub.build is the function

WORDS = (
    "Die Gemeinde plant ein Treffen im Rathaus. Der Verein lädt zur Sitzung ein."
    " Alle Bürgerinnen und Bürger sind willkommen. Die Ergebnisse folgen im Herbst."
).split()
TOPICS = {
    "Integration": "Integration",
    "Ehrenamt": "Ehrenamt",
    "Jugend": "Jugend",
}
CONFIG = """\
sources = ["sources"]
output = "feeds"

[feed]
title = "Nachrichten"
description = "Aus dem Landkreis"
base_url = "https://example.org/news/"
language = "de"
timezone = "Europe/Berlin"
id_authority = "example.org"
limit = {limit}
archive_size = {size}
{extra}
[[topic]]
name = "Integration"
keywords = ["Integration"]

[[topic]]
name = "Ehrenamt"
keywords = ["Ehrenamt"]

[[topic]]
name = "Jugend"
keywords = ["Jugend"]
"""


def item(day: dt.date, seed: int) -> str:
    """One item of ``day``: 12-30 words, with 0-2 of the topics' keywords."""
    rng = random.Random(seed)
    words = [rng.choice(WORDS) for _ in range(rng.randint(12, 30))]
    words += rng.sample(sorted(TOPICS.values()), rng.randint(0, 2))
    return f"{day:%d.%m.%Y}\n\n{' '.join(words)} Nummer {seed}.\n\n"


def archive(days: int, start: dt.date = dt.date(2019, 11, 1)) -> str:
    """One or two items a day for ``days`` days from ``start``, newest first."""
    parts = []
    for offset in range(days):
        day = start + dt.timedelta(days=offset)
        parts += [item(day, offset * 2 + n) for n in range(1 + offset % 2)]
    return "".join(reversed(parts))


class Project:
    """Two copies of one project: one built as it comes, one the whole way."""

    def __init__(self, root: Path, text: str, **config: object) -> None:
        self.roots = (root / "appended", root / "whole")
        settings = {"limit": 5, "size": 3, "extra": ""} | config
        for folder in self.roots:
            (folder / "sources").mkdir(parents=True)
            (folder / "feedpub.toml").write_text(CONFIG.format(**settings))
        self.write(text)
        for whole in (False, True):
            assert not self.build(whole).appended

    def write(self, text: str, name: str = "news.txt") -> None:
        for folder in self.roots:
            (folder / "sources" / name).write_text(text)

    def build(self, whole: bool = False) -> BuildResult:
        folder = self.roots[whole]
        config = load_config(folder / "feedpub.toml")
        with _whole_way(whole):
            result, _ = build(
                config, [folder / "sources"], folder / "feeds", BuildOptions()
            )
        assert result is not None
        return result

    def both(self) -> BuildResult:
        """Build both copies; check they published the same bytes."""
        appended = self.build()
        whole = self.build(whole=True)
        assert not whole.appended
        assert read_tree(self.roots[0] / "feeds") == read_tree(self.roots[1] / "feeds")
        assert appended.count == whole.count
        return appended


class _whole_way:
    """Within it (when ``on``), builds never read the state's summary nor
    take the appended path."""

    def __init__(self, on: bool) -> None:
        self.on = on
        self.saved = feedpub.site.compile_appended, SHELL.read_tail

    def __enter__(self) -> None:
        if self.on:
            feedpub.site.compile_appended = lambda *a, **k: None
            SHELL.read_tail = lambda *a, **k: None

    def __exit__(self, *exc: object) -> None:
        feedpub.site.compile_appended, SHELL.read_tail = self.saved


@pytest.fixture(autouse=True)
def _clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both copies build at one time: an edited item is dated by the build."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1600000000")


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project(tmp_path, archive(520, start=dt.date(2019, 1, 1)))


def newest(text: str) -> dt.date:
    """The day of the first item (``item`` writes DD.MM.YYYY)."""
    day, month, year = text.split("\n", 1)[0].split(".")
    return dt.date(int(year), int(month), int(day))


def test_one_new_item_reads_only_the_newest_years(project: Project) -> None:
    text = (project.roots[0] / "sources" / "news.txt").read_text()
    project.write(item(newest(text) + dt.timedelta(days=1), 9000) + text)
    result = project.both()
    assert result.appended
    assert result.count == text.count("\n\n") // 2 + 1
    assert len(result.items) < result.count / 2  # the newest year's, not all
    assert {i.day.year for i in result.items} == {newest(text).year}


def test_new_items_one_by_one_fill_archive_documents(project: Project) -> None:
    """Each added item is read alone; archive documents fill up (3 items)
    and their predecessors gain next-archive links, as a whole build has."""
    text = (project.roots[0] / "sources" / "news.txt").read_text()
    day = newest(text)
    for step in range(1, 8):
        text = item(day + dt.timedelta(days=step), 9000 + step) + text
        project.write(text)
        assert project.both().appended


def test_several_new_items_at_once_with_a_preamble(tmp_path: Path) -> None:
    """Blank lines above the first header stay above the new items."""
    text = archive(200)
    project = Project(tmp_path, "\n\n" + text)
    day = newest(text)
    added = "".join(item(day + dt.timedelta(days=n), 500 + n) for n in (3, 2, 2, 1))
    project.write("\n\n" + added + text)
    assert project.both().appended


def test_items_added_to_one_of_two_sources(tmp_path: Path) -> None:
    project = Project(tmp_path, archive(150))
    older = archive(100, start=dt.date(2019, 2, 1))
    project.write(older, "older.txt")
    assert not project.both().appended  # a new source: read in full
    text = archive(150)
    project.write(item(newest(text) + dt.timedelta(days=2), 700) + text)
    assert project.both().appended


@pytest.mark.parametrize(
    "change",
    [
        "a day before the newest",
        "edit below the top",
        "a new year",
        "a warning above",
        "added at the bottom",
        "no blank line above the old top",
    ],
)
def test_what_does_not_fit_goes_the_whole_way(project: Project, change: str) -> None:
    text = (project.roots[0] / "sources" / "news.txt").read_text()
    day = newest(text)
    if change == "a day before the newest":
        text = item(day - dt.timedelta(days=1), 9100) + text
    elif change == "edit below the top":
        assert "Nummer 4." in text
        text = item(day + dt.timedelta(days=1), 9101) + text.replace(
            "Nummer 4.", "Nummer vier.", 1
        )
    elif change == "a new year":
        text = item(dt.date(day.year + 1, 1, 2), 9102) + text
    elif change == "a warning above":
        text = (
            item(day + dt.timedelta(days=1), 9103) + "05.05.2020 um 10 Uhr\n\n" + text
        )
    elif change == "added at the bottom":
        text = text + item(dt.date(2019, 1, 5), 9104)
    else:
        text = item(day + dt.timedelta(days=1), 9105).rstrip("\n") + "\n" + text
    project.write(text)
    assert not project.both().appended


@pytest.mark.parametrize("where", ["an old year", "the newest year"])
def test_a_warning_that_stays_in_the_sources_leaves_the_appended_path(
    tmp_path: Path, where: str
) -> None:
    """The old text gives the warnings it gave (the summary counts them): a
    build that adds items at the top does not read it, warning or not. In
    the newest year, the warned item is in the window, planned from its
    record: its topics are kept although its block, which gave a warning
    when read, has no digest."""
    text = archive(520, start=dt.date(2019, 1, 1))
    marks = [m for m in range(len(text)) if text.startswith("Nummer", m)]
    at = marks[1] if where == "the newest year" else marks[-5]
    below = text.index("\n\n", at) + 2  # below that item's paragraph
    text = (
        text[:at]
        + "Ehrenamt\x07 "  # a control character: a warning when read
        + text[at:below]
        + "05.05.2019 um 10 Uhr\n\n"  # a warning when cut into items
        + text[below:]
    )
    project = Project(tmp_path, text)
    for seed in range(3):
        text = (project.roots[0] / "sources" / "news.txt").read_text()
        project.write(item(newest(text) + dt.timedelta(days=1), 9200 + seed) + text)
        result = project.both()
        assert result.appended
        assert result.warnings == ()  # shown by builds that read it, and check
        assert result.state.summary.warnings == 2


def test_items_added_above_text_before_the_first_header(tmp_path: Path) -> None:
    """Text above a source's first header gives a warning; an item added
    above it takes that text as its own, and the warning goes: the whole
    way counts it no more, so this build reads everything."""
    body = archive(400, start=dt.date(2019, 1, 1))
    text = "Vorspann ohne Datum.\n\n" + body
    project = Project(tmp_path, text)
    state = project.roots[0] / "feeds" / "feedpub-state.jsonl"
    tail = load_tail(state.read_bytes(), str(state))
    assert tail is not None
    assert tail.summary.warnings == 1
    project.write(item(newest(body) + dt.timedelta(days=1), 9300) + text)
    result = project.both()
    assert not result.appended
    assert result.state.summary.warnings == 0
    # Blank lines alone above the first header give none, and take this path.
    text = (project.roots[0] / "sources" / "news.txt").read_text()
    project.write("\n\n" + text)
    project.both()
    project.write(item(newest(text) + dt.timedelta(days=2), 9301) + "\n\n" + text)
    assert project.both().appended


def test_items_added_on_the_newest_day(project: Project) -> None:
    """The whole way reads the newest day again and matches its items to
    their records; added on that day, items are numbered and timed after
    them, one build after another, and the day's records stay as they are."""
    text = (project.roots[0] / "sources" / "news.txt").read_text()
    day = newest(text)
    assert text.count(f"{day:%d.%m.%Y}\n") == 2
    ids = []
    for seed in (9400, 9401, 9402):
        text = item(day, seed) + text
        project.write(text)
        result = project.both()
        assert result.appended
        ids.append(max(i.id for i in result.items if i.day == day))
    assert [i.rpartition(":")[2] for i in ids] == ["3", "4", "5"]
    day += dt.timedelta(days=1)
    for seed in (9403, 9404):
        text = item(day, seed) + text
        project.write(text)
        assert project.both().appended
    # Items on the newest day and the next in one build.
    text = item(day + dt.timedelta(days=1), 9405) + item(day, 9406) + text
    project.write(text)
    assert project.both().appended


def test_an_item_added_beside_an_edited_one(project: Project) -> None:
    """The newest day's records need not be as first published: an edited
    item's record has a later ``updated``, which it keeps."""
    text = (project.roots[0] / "sources" / "news.txt").read_text()
    day = newest(text)
    top = text.index("Nummer ")
    text = text[:top] + "Geändert, " + text[top:]
    project.write(text)
    result = project.both()
    assert not result.appended  # an edit: the whole way
    edited = [i for i in result.items if i.day == day and i.updated is not None]
    assert len(edited) == 1
    project.write(item(day, 9500) + text)
    result = project.both()
    assert result.appended
    assert [i.updated for i in result.items if i.id == edited[0].id] == [
        edited[0].updated
    ]


def test_an_item_added_on_the_newest_day_of_another_source(tmp_path: Path) -> None:
    """The day's older items are in the second source: ranks and times are
    counted over both sources, in build order. An item added at the top of
    the second source is listed below the first source's: it is published
    before them, which the appended path leaves to the whole way."""
    text = archive(120, start=dt.date(2019, 12, 1))
    project = Project(tmp_path, text)
    day = newest(text) + dt.timedelta(days=1)
    termine = item(day, 960) + item(day, 961)
    project.write(termine, "termine.txt")
    project.both()
    text = item(day, 962) + text  # news.txt is built first
    project.write(text)
    assert project.both().appended
    # Listed below 962, above the day's older items: published between
    # them, so not after every recorded item: the whole way.
    project.write(item(day, 963) + termine, "termine.txt")
    result = project.both()
    assert not result.appended
    times = {i.paragraphs[0][-4:]: i.published for i in result.items if i.day == day}
    assert times["962."] > times["963."] > times["960."] > times["961."]


@pytest.mark.parametrize("change", ["twin", "re-added", "removed and new"])
def test_the_newest_day_with_records_that_would_change(
    project: Project, change: str
) -> None:
    """An item added on the newest day that a record of the day would take
    (a twin of one of its items, or an item removed and added again) takes
    the whole way, with the same result; one unlike any record does not."""
    text = (project.roots[0] / "sources" / "news.txt").read_text()
    day = newest(text)
    first = text[: text.index("\n\n", text.index("\n\n") + 2) + 2]  # the top item
    if change == "twin":
        project.write(first + text)
        assert not project.both().appended
        return
    text = text[len(first) :]  # removed: a build from the second item on
    project.write(text)
    assert not project.both().appended
    if change == "re-added":
        project.write(first + text)
        assert not project.both().appended
    else:
        project.write(f"{day:%d.%m.%Y}\n\nEin Sommerfest am Badesee.\n\n" + text)
        assert project.both().appended


def test_nothing_left_to_read_before_the_window(tmp_path: Path) -> None:
    """A feed whose items are all in the newest years plans them all; when
    a feed would need every year, the whole way is taken."""
    text = archive(60, start=dt.date(2020, 11, 15))  # two years, few items
    project = Project(tmp_path, text, limit=50, size=50)
    project.write(item(newest(text) + dt.timedelta(days=1), 800) + text)
    assert not project.both().appended  # the main feed needs both years
    text = (project.roots[0] / "sources" / "news.txt").read_text()
    project.write(item(newest(text) + dt.timedelta(days=1), 801) + text)
    assert not project.both().appended


def test_items_added_below_twins(project: Project) -> None:
    """Two items alike on one day: a whole build may match each to the
    other's record; every later build goes the whole way, as that one."""
    text = (project.roots[0] / "sources" / "news.txt").read_text()
    day = newest(text) + dt.timedelta(days=1)
    twin = f"{day:%d.%m.%Y}\n\nGleich und gleich.\n\n"
    text = twin + twin + text
    project.write(text)
    assert project.both().appended  # new days: read either way
    text = item(day + dt.timedelta(days=1), 9300) + text
    project.write(text)
    assert not project.both().appended


def test_invalid_utf8_in_the_new_text_is_reported_as_a_whole_build_does(
    project: Project,
) -> None:
    text = (project.roots[0] / "sources" / "news.txt").read_bytes()
    day = newest(text.decode()) + dt.timedelta(days=1)
    bad = f"{day:%d.%m.%Y}\n\nNeu.\n".encode() + b"\xff\n" + text
    for folder in project.roots:
        (folder / "sources" / "news.txt").write_bytes(bad)
    messages = []
    for whole in (False, True):
        with pytest.raises(SourceError) as caught:
            project.build(whole)
        messages.append(str(caught.value).split("news.txt", 1)[1])
    assert messages[0] == messages[1]
    assert messages[0].startswith(":4: expected UTF-8 text")


def test_a_window_with_the_oldest_item_of_a_source(tmp_path: Path) -> None:
    """A small second source: its last block ends at the end of the file."""
    text = archive(120, start=dt.date(2019, 12, 1))
    project = Project(tmp_path, text)
    project.write(item(dt.date(2020, 3, 1), 950), "termine.txt")
    project.both()
    project.write(item(newest(text) + dt.timedelta(days=1), 951) + text)
    assert project.both().appended


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b'"feeds": [["", ', b'"feeds": [["", 1'),  # the summary: a feed's count
        (b'"day": "2019-06-01"', b'"day":  "2019-06-01"'),  # an item record
    ],
)
def test_a_state_edited_by_hand_is_read_in_full(
    project: Project, old: bytes, new: bytes
) -> None:
    """The summary names its own sha256 and that of the item records: one
    edited since is not used; the whole way reads and checks the state, and
    publishes what the sources say."""
    for folder in project.roots:
        state = folder / "feeds" / "feedpub-state.jsonl"
        data = state.read_bytes()
        edited = data.replace(old, new, 1)
        assert edited != data
        state.write_bytes(edited)
    text = (project.roots[0] / "sources" / "news.txt").read_text()
    project.write(item(newest(text) + dt.timedelta(days=1), 9200) + text)
    assert not project.both().appended


def test_a_state_of_other_code_or_config_is_not_read_as_a_tail(
    project: Project,
) -> None:
    """Under another salt the appended path cannot apply: the summary says
    so before the item records are hashed."""
    data = (project.roots[0] / "feeds" / "feedpub-state.jsonl").read_bytes()
    tail = load_tail(data, "state")
    assert tail is not None
    assert load_tail(data, "state", tail.summary.salt) is not None
    assert load_tail(data, "state", "another salt") is None


@pytest.mark.parametrize(
    "numbers", [(0, 1, 0, 1), (3, 5_000_000, 4_999_000, 77), (65535, 2**40 - 1, 0, 0)]
)
def test_a_place_is_four_numbers_in_one(numbers: tuple[int, int, int, int]) -> None:
    packed = place(*numbers)
    assert packed > 0  # 0: not in the sources
    assert unplace(packed) == numbers


@pytest.mark.parametrize(
    "numbers", [(-1, 1, 0, 1), (0, 2**40, 0, 0), (1 << 16, 1, 0, 0)]
)
def test_a_place_out_of_range_is_refused(numbers: tuple[int, int, int, int]) -> None:
    with pytest.raises(ValueError, match="a place is four numbers"):
        place(*numbers)


@pytest.mark.parametrize("change", ["edit", "removal", "insertion"])
def test_places_kept_true_by_whole_builds(project: Project, change: str) -> None:
    """A whole build after a change below the top moves the blocks under
    it; the places it records must be their new ones, which the next build
    of items added at the top reads its window's text from."""
    text = (project.roots[0] / "sources" / "news.txt").read_text()
    assert "Nummer 1000." in text  # an item of the newest year, not the first
    if change == "edit":
        text = text.replace("Nummer 1000.", "Nummer eintausend, neu.", 1)
    elif change == "removal":
        at = text.index("Nummer 1000.")
        first = text.rindex("\n\n", 0, text.rindex("\n\n", 0, at)) + 2
        text = text[:first] + text[text.index("\n\n", at) + 2 :]
    else:  # an older item, a third of the way down
        cut = text.index("\n\n", len(text) // 3) + 2
        while not text[cut].isdigit():
            cut = text.index("\n\n", cut) + 2
        text = text[:cut] + item(newest(text[cut:]), 1234) + text[cut:]
    project.write(text)
    assert not project.both().appended
    for step in (1, 2):
        text = item(newest(text) + dt.timedelta(days=step), 9500 + step) + text
        project.write(text)
        assert project.both().appended
