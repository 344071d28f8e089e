"""Items changed in the newest years: read those years again, not the archive.

When the last build left a state with a summary and its files are in place,
and the sources are the old ones below a place where their years part
(``state.Cut``), a build reads the text above that place and the state's
records of its years alone (``site.compile_edited``): an item edited,
inserted, moved or removed there, or added below the newest day. It must
publish exactly what a build that reads everything publishes, byte for
byte, state file included (``Project.both``, shared with ``test_append``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest

from feedpub.model import Block
from feedpub.parse import split_source
from feedpub.site import BuildResult, source_record
from feedpub.state import NO_ITEMS, Cut, _check, load_tail
from feedpub.state import STATE_FILE as STATE
from tests.test_append import Project, archive, item, newest


def way(result: BuildResult) -> str:
    if result.appended:
        return "appended"
    return f"from {result.read_from}" if result.read_from else "whole"


def source(project: Project, name: str = "news.txt") -> str:
    return (project.roots[0] / "sources" / name).read_text()


def years_read(result: BuildResult) -> set[int]:
    """The years of the items a build read (its stubs have no text)."""
    return {i.day.year for i in result.items if not i.pending}


@pytest.fixture(autouse=True)
def _clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both copies build at one time: an edited item is dated by the build."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1600000000")


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """Items from October 2018 to early June 2020, newest first: the
    newest years are read again only with an older one left to keep."""
    return Project(tmp_path, archive(610, start=dt.date(2018, 10, 1)))


@pytest.mark.parametrize(
    "change", ["edit", "removal", "insertion", "move", "below the newest day"]
)
def test_a_change_in_the_newest_year_reads_that_year(
    project: Project, change: str
) -> None:
    text = source(project)
    items = text.split("\n\n")  # header, body, header, body, ...
    assert newest(text).year == 2020
    blocks = ["\n\n".join(items[i : i + 2]) + "\n\n" for i in range(0, 60, 2)]
    top = "".join(blocks)
    assert text.startswith(top)
    if change == "edit":
        blocks[7] = blocks[7].replace(" Nummer ", " Geändert, Nummer ", 1)
    elif change == "removal":
        del blocks[5]
    elif change == "insertion":
        day = dt.date.fromisoformat("-".join(reversed(blocks[9][:10].split("."))))
        blocks.insert(9, item(day, 7000))
    elif change == "move":
        blocks[3], blocks[12] = blocks[12], blocks[3]
    else:
        blocks.insert(0, item(newest(text) - dt.timedelta(days=3), 7001))
    project.write("".join(blocks) + text[len(top) :])
    result = project.both()
    assert way(result) == "from 2020"
    assert not {2018, 2019} & years_read(result)
    assert result.count == len(blocks) + (text.count("\n\n") // 2 - 30)


def test_an_edit_in_the_year_before_reads_both_years(tmp_path: Path) -> None:
    text = archive(990, start=dt.date(2017, 10, 1))  # October 2017 to mid-2020
    project = Project(tmp_path, text)
    assert "Nummer 1000." in text  # an item of 2019
    assert text.index("01.01.2020") < text.index("Nummer 1000.")
    assert text.index("Nummer 1000.") < text.index("31.12.2018")
    project.write(text.replace("Nummer 1000.", "Nummer eintausend.", 1))
    result = project.both()
    assert way(result) == "from 2019"
    assert years_read(result) >= {2019, 2020}
    assert not {2017, 2018} & years_read(result)


def test_edits_one_build_after_another(project: Project) -> None:
    """Each build leaves cuts that the next one finds: edits, additions at
    the top and edits again, each the short way, each the same bytes."""
    text = source(project)
    day = newest(text)
    steps = [
        lambda t: t.replace(" Nummer ", " Erstens, Nummer ", 1),
        lambda t: item(day + dt.timedelta(days=1), 7100) + t,
        lambda t: t.replace(" Nummer ", " Zweitens, Nummer ", 3),
        lambda t: item(day + dt.timedelta(days=2), 7101) + t,
        lambda t: item(day, 7102) + t,
    ]
    ways = []
    for step in steps:
        text = step(text)
        project.write(text)
        ways.append(way(project.both()))
    assert ways == ["from 2020", "appended", "from 2020", "appended", "from 2020"]


def test_a_second_source_is_read_again_in_those_years(tmp_path: Path) -> None:
    """The years read again are read from every source, unchanged or not:
    the ids and times of a day count the items of all sources."""
    text = archive(650, start=dt.date(2018, 6, 1))
    project = Project(tmp_path, text)
    termine = archive(40, start=dt.date(2020, 2, 1)).replace("Nummer", "Termin")
    project.write(termine, "termine.txt")
    project.both()
    project.write(termine.replace(" Termin ", " Geändert, Termin ", 1), "termine.txt")
    assert way(project.both()) == "from 2020"
    project.write(text.replace(" Nummer ", " Geändert, Nummer ", 2))
    assert way(project.both()) == "from 2020"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("an edit in the oldest year", "whole"),
        ("an item of the oldest year at the top", "whole"),
        ("a new year at the top", "whole"),
        ("the newest year emptied", "whole"),
        ("no blank line above the newest year's cut", "whole"),
        ("an edit and a new item", "from 2020"),
    ],
)
def test_what_the_newest_years_cannot_hold(
    project: Project, change: str, expected: str
) -> None:
    text = source(project)
    if change == "an edit in the oldest year":
        assert "Nummer 20." in text
        text = text.replace("Nummer 20.", "Nummer zwanzig.", 1)
    elif change == "an item of the oldest year at the top":
        text = item(dt.date(2019, 3, 1), 7200) + text
    elif change == "a new year at the top":
        text = item(dt.date(2021, 1, 4), 7201) + text.replace(" Nummer ", " Neu ", 1)
    elif change == "the newest year emptied":
        text = text[text.index("31.12.2019") :]
    elif change == "no blank line above the newest year's cut":
        at = text.index("31.12.2019")  # the header below the cut: a line
        assert text[at - 2 : at] == "\n\n"  # of the paragraph above now
        text = text[: at - 1] + text[at:]
    else:
        text = item(newest(text) + dt.timedelta(days=1), 7202) + text.replace(
            " Nummer ", " Geändert, Nummer ", 1
        )
    project.write(text)
    assert way(project.both()) == expected


SPLIT = "05.05.2020 um 10 Uhr\n\n"  # a warning when cut into items
EDIT = (" Nummer ", " Geändert, Nummer ")


def warned(text: str, where: str, warning: str) -> str:
    """``text`` with a warning in the item of ``where`` (its header), of the
    kind ``warning``: a line cut into items (split) or read (read)."""
    at = text.index(where)
    if warning == "split":
        return text[:at] + SPLIT.replace("2020", where[-4:]) + text[at:]
    body = text.index("\n\n", at) + 2
    return text[:body] + "Mit Klingel\x07. " + text[body:]


@pytest.mark.parametrize("warning", ["split", "read"])
def test_warnings_of_the_newest_year_are_counted_again(
    project: Project, warning: str
) -> None:
    """A warning made, then fixed in the newest year: each build reads that
    year alone, shows the warnings of what it read, and counts them as the
    whole way does (both publish the same state)."""
    text = source(project)
    project.write(warned(text, "01.03.2020", warning))
    result = project.both()
    assert way(result) == "from 2020"
    assert [d.message[:20] for d in result.warnings] == [
        "line starts with a d" if warning == "split" else "removed 1 character("
    ]
    assert (result.state.summary.warnings, result.state.summary.warned) == (
        1,
        ((2020, 1),),
    )
    project.write(text.replace(*EDIT, 1))  # fixed, and another item edited
    result = project.both()
    assert way(result) == "from 2020"
    assert result.warnings == ()
    assert (result.state.summary.warnings, result.state.summary.warned) == (0, ())


@pytest.mark.parametrize("warning", ["split", "read"])
def test_a_warning_in_an_older_year_stays_counted(
    project: Project, warning: str
) -> None:
    """A warning below the years read again is the last build's: counted as
    it was, and not shown again (``feedpub check`` lists it)."""
    text = warned(source(project), "01.03.2019", warning)
    project.write(text)
    assert project.both().state.summary.warned == ((2019, 1),)
    for edit in range(1, 3):  # one build after another
        project.write(text.replace(*EDIT, edit))
        result = project.both()
        assert way(result) == "from 2020"
        assert result.warnings == ()
        assert result.state.summary.warned == ((2019, 1),)


def test_text_above_the_first_header_counts_with_the_newest_item(
    project: Project,
) -> None:
    text = "Vorspann ohne Datum.\n\n" + source(project)
    project.write(text)
    assert project.both().state.summary.warned == ((2020, 1),)
    project.write(text.replace(*EDIT, 1))
    result = project.both()
    assert way(result) == "from 2020"
    assert [d.line for d in result.warnings] == [1]
    project.write(  # gone, and the newest item edited again
        text[len("Vorspann ohne Datum.\n\n") :].replace(" Nummer ", " Neu, Nummer ", 1)
    )
    result = project.both()
    assert way(result) == "from 2020"
    assert result.state.summary.warnings == 0


def test_text_above_the_items_of_a_source_read_from_a_later_year(
    tmp_path: Path,
) -> None:
    """A source whose items are all older than the years read again, below
    text that gives a warning: that text, cut alone, holds no item, and the
    build reads everything; the warning counts with the source's newest
    item, in a year not read again."""
    project = Project(tmp_path, archive(610, start=dt.date(2018, 10, 1)))
    older = "Vorspann ohne Datum.\n\n" + archive(30, start=dt.date(2018, 1, 1))
    project.write(older.replace("Nummer", "Alt"), "alt.txt")
    assert project.both().state.summary.warned == ((2018, 1),)
    project.write(source(project).replace(*EDIT, 1))
    result = project.both()
    assert way(result) == "whole"
    assert result.state.summary.warned == ((2018, 1),)


def test_a_summary_that_does_not_place_its_warnings_reads_everything(
    project: Project,
) -> None:
    """A state written before warnings were counted by year: while one
    stands, an edit reads everything (read again from 2020 on, a warning
    fixed there would stay counted)."""
    text = warned(source(project), "01.03.2020", "split")
    project.write(text)
    project.both()
    for root in project.roots:
        path = root / "feeds" / STATE
        lines = path.read_bytes().split(b"\n")
        record = json.loads(lines[-2])
        del record["summary"]["warned"], record["summary"]["check"]
        record["summary"]["check"] = _check(record)
        lines[-2] = json.dumps(
            record, ensure_ascii=False, separators=(", ", ": ")
        ).encode()
        path.write_bytes(b"\n".join(lines))
        assert load_tail(path.read_bytes(), str(path)).summary.warned is None
    project.write(text.replace(*EDIT, 1))
    result = project.both()
    assert way(result) == "whole"
    assert result.state.summary.warned == ((2020, 1),)


def test_a_year_added_at_the_top_then_edited(project: Project) -> None:
    """A new year goes the whole way, which cuts between the two newest
    years; an edit in the new year then reads that year alone."""
    text = item(dt.date(2021, 1, 4), 7300) + item(dt.date(2021, 1, 2), 7301)
    text += source(project)
    project.write(text)
    assert way(project.both()) == "whole"
    project.write(text.replace(" Nummer ", " Geändert, Nummer ", 1))
    result = project.both()
    assert way(result) == "from 2021"
    assert years_read(result) == {2021} | (years_read(result) & {2020})


def blocks_of(text: str) -> tuple[bytes, list[Block]]:
    data = text.encode()
    blocks, warnings, errors = split_source(data, "news.txt")
    assert not warnings
    assert not errors
    return data, blocks


def test_cuts_part_the_years_of_a_source() -> None:
    text = (
        item(dt.date(2021, 2, 1), 1)
        + item(dt.date(2020, 5, 1), 2)
        + item(dt.date(2020, 4, 1), 3)
        + item(dt.date(2018, 6, 1), 4)  # out of order: no cut between 2019s
        + item(dt.date(2019, 6, 1), 5)
        + item(dt.date(2017, 1, 1), 6)
    )
    data, blocks = blocks_of("\n" + text)
    cuts = source_record("news", data, blocks).cuts
    heads = [len(data) - b.head for b in blocks]
    assert [(c.at, c.low, c.high) for c in cuts] == [
        (heads[0], 2021, 2021),
        (heads[1], 2020, 2020),
        (heads[3], 2018, 2019),
        (heads[5], 2017, 2017),
        (0, *NO_ITEMS),
    ]
    for cut, below in zip(cuts, [*cuts[1:], None], strict=False):
        part = data[len(data) - cut.at : len(data) - (below.at if below else 0)]
        assert cut.sha256 == hashlib.sha256(part).hexdigest()


def test_cuts_of_text_added_above_old_cuts() -> None:
    """The cuts of a build that read the top alone are those of a build that
    read everything: the old top cut goes when the new items share its year."""
    old_text = item(dt.date(2020, 5, 1), 2) + item(dt.date(2019, 4, 1), 3)
    for new_text in (item(dt.date(2020, 6, 1), 1), item(dt.date(2021, 1, 1), 1)):
        data, blocks = blocks_of(old_text)
        old = source_record("news", data, blocks).cuts
        data, blocks = blocks_of(new_text + old_text)
        whole = source_record("news", data, blocks).cuts
        top = [b for b in blocks if b.head < len(new_text.encode())]
        assert source_record("news", data, top, old).cuts == whole
        assert len(whole) == (4 if new_text.startswith("01.01.2021") else 3)


def test_cuts_are_kept_in_the_state(project: Project) -> None:
    data = (project.roots[0] / "feeds" / "feedpub-state.jsonl").read_bytes()
    tail = load_tail(data, "state")
    assert tail is not None
    (news,) = tail.summary.sources
    assert [(c.low, c.high) for c in news.cuts] == [
        (2020, 2020),
        (2019, 2019),
        (2018, 2018),
        NO_ITEMS,
    ]
    assert all(isinstance(c, Cut) for c in news.cuts)


def days(start: dt.date, count: int, seed: int, step: int = 1) -> str:
    """``count`` items from ``start``, one every ``step`` days, newest first."""
    found = [item(start + dt.timedelta(days=n * step), seed + n) for n in range(count)]
    return "".join(reversed(found))


@pytest.mark.parametrize(
    ("change", "expected"), [("removed", "from 2018"), ("redated", "whole")]
)
def test_items_gone_from_an_older_year_above_the_part_that_stayed(
    tmp_path: Path, change: str, expected: str
) -> None:
    """The parts a change replaced count with their old years: an item of
    2018 removed below the 2020 items of one source is read again as gone,
    from 2018 in every source, though no text of 2018 is left above the
    part that stayed; a 2018 date put right to 2020 leaves no item of 2018,
    which goes the whole way. (Counting the new text alone, the build read
    from 2020 and kept the 2018 item published.)"""
    old = item(dt.date(2018, 6, 1), 500)
    news = days(dt.date(2020, 1, 1), 12, 100) + old
    termine = days(dt.date(2019, 1, 1), 30, 300, step=5)
    if change == "removed":  # else news.txt has the only item of 2018
        termine += days(dt.date(2018, 2, 1), 5, 400, step=20)
    termine += days(dt.date(2017, 1, 5), 40, 450, step=8)  # enough to plan
    termine += days(dt.date(2016, 2, 1), 5, 500, step=20)  # with, and one more
    project = Project(tmp_path, news)
    project.write(termine, "termine.txt")
    assert way(project.both()) == "whole"  # a source added
    if change == "removed":
        news = news[: -len(old)]
    else:
        news = news.replace("01.06.2018", "13.01.2020")
    project.write(news)
    result = project.both()
    assert way(result) == expected
