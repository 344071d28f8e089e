"""Tests for feedpub.dates: German day-first header dates, and how a moment is
shown in the configured zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from feedpub.dates import (
    DateToken,
    expand_year,
    is_month,
    local_time,
    looks_like_month,
    looks_like_weekday,
    match_date,
)


@pytest.mark.parametrize(
    ("line", "token"),
    [
        ("16.09.20", DateToken("16.09.20", 2020, 9, 16)),
        ("16.09.2020", DateToken("16.09.2020", 2020, 9, 16)),
        ("3.9.2020", DateToken("3.9.2020", 2020, 9, 3)),
        ("3.9.20", DateToken("3.9.20", 2020, 9, 3)),
        ("16. September 2020", DateToken("16. September 2020", 2020, 9, 16)),
        ("16.September 2020", DateToken("16.September 2020", 2020, 9, 16)),
        ("3. März 2020", DateToken("3. März 2020", 2020, 3, 3)),
        ("3. Maerz 2020", DateToken("3. Maerz 2020", 2020, 3, 3)),
        ("3. Okt. 2020", DateToken("3. Okt. 2020", 2020, 10, 3)),
        ("3. Mai 2020", DateToken("3. Mai 2020", 2020, 5, 3)),
        ("1. Januar 2021", DateToken("1. Januar 2021", 2021, 1, 1)),
        ("24. Dezember 2019", DateToken("24. Dezember 2019", 2019, 12, 24)),
        ("2020-09-16", DateToken("2020-09-16", 2020, 9, 16)),
        ("05.09.20", DateToken("05.09.20", 2020, 9, 5)),
        ("12.01.2020", DateToken("12.01.2020", 2020, 1, 12)),
    ],
    ids=[
        "dd.mm.yy",
        "dd.mm.yyyy",
        "d.m.yyyy",
        "d.m.yy",
        "named-month",
        "named-month-no-space",
        "maerz-umlaut",
        "maerz-ae",
        "abbreviated-month-with-stop",
        "mai",
        "januar",
        "dezember",
        "iso",
        "day-first-05.09.20",
        "day-first-12.01.2020",
    ],
)
def test_match_date_accepted_forms(line: str, token: DateToken) -> None:
    assert match_date(line) == (token, "")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("16.09.20 Anna Muster", (DateToken("16.09.20", 2020, 9, 16), " Anna Muster")),
        ("16.09.2020\tRed.", (DateToken("16.09.2020", 2020, 9, 16), "\tRed.")),
        (
            "3. Okt. 2020 Max von Muster",
            (DateToken("3. Okt. 2020", 2020, 10, 3), " Max von Muster"),
        ),
        (
            "2020-09-16  zwei Leerzeichen ",
            (DateToken("2020-09-16", 2020, 9, 16), "  zwei Leerzeichen "),
        ),
        ("16.09.20 ", (DateToken("16.09.20", 2020, 9, 16), " ")),
    ],
    ids=["numeric-byline", "tab-byline", "named-byline", "iso-rest-verbatim", "space"],
)
def test_match_date_returns_rest_of_line(
    line: str, expected: tuple[DateToken, str]
) -> None:
    assert match_date(line) == expected


@pytest.mark.parametrize(
    ("line", "year"),
    [
        ("01.01.68", 2068),
        ("01.01.69", 1969),
        ("01.01.99", 1999),
        ("01.01.00", 2000),
        ("01.01.20", 2020),
        ("01.01.1968", 1968),
        ("01.01.2069", 2069),
    ],
    ids=["68-2068", "69-1969", "99-1999", "00-2000", "20-2020", "1968", "2069"],
)
def test_two_digit_year_pivot(line: str, year: int) -> None:
    found = match_date(line)
    assert found == (DateToken(line, year, 1, 1), "")


@pytest.mark.parametrize(
    ("digits", "year"),
    [
        ("68", 2068),
        ("69", 1969),
        ("99", 1999),
        ("00", 2000),
        ("07", 2007),
        ("2020", 2020),
        ("1969", 1969),
        ("0099", 99),
    ],
    ids=["68", "69", "99", "00", "07", "2020", "1969", "four-digit-0099"],
)
def test_expand_year(digits: str, year: int) -> None:
    assert expand_year(digits) == year


@pytest.mark.parametrize(
    ("line", "token"),
    [
        ("31.02.20", DateToken("31.02.20", 2020, 2, 31)),
        ("29.02.2021", DateToken("29.02.2021", 2021, 2, 29)),
        ("00.01.2020", DateToken("00.01.2020", 2020, 1, 0)),
        ("01.13.2020", DateToken("01.13.2020", 2020, 13, 1)),
        ("31. April 2020", DateToken("31. April 2020", 2020, 4, 31)),
        ("2020-02-30", DateToken("2020-02-30", 2020, 2, 30)),
    ],
    ids=["31.02.20", "29.02.2021", "day-00", "month-13", "31-april", "iso-02-30"],
)
def test_impossible_dates_parse_but_do_not_convert(line: str, token: DateToken) -> None:
    assert match_date(line) == (token, "")
    with pytest.raises(ValueError, match=r"out of range|must be in"):
        token.to_date()


@pytest.mark.parametrize(
    ("line", "day"),
    [
        ("29.02.2020", dt.date(2020, 2, 29)),
        ("29.02.00", dt.date(2000, 2, 29)),
        ("31.12.99", dt.date(1999, 12, 31)),
        ("16.09.20", dt.date(2020, 9, 16)),
        ("3. März 2020", dt.date(2020, 3, 3)),
        ("2020-09-16", dt.date(2020, 9, 16)),
    ],
    ids=["leap-2020", "leap-2000", "end-1999", "16.09.20", "named", "iso"],
)
def test_to_date(line: str, day: dt.date) -> None:
    found = match_date(line)
    assert found is not None
    assert found[0].to_date() == day


@pytest.mark.parametrize(
    "line",
    [
        "17.05.2017, 10:10 Uhr",
        "17.05.2017, 10:10 Uhr. Mit dabei ist …",
        "13. Teilnehmer 2020",
        "13. Gäste 2020",
        "13. Mais 2020",
        "16.09.20.",
        "16.09.20,",
        "16.09.2020:",
        "1.2.3",
        "2020-9-16",
        "2020-09-16T10:00",
        "16.09.202",
        "116.09.20",
        "16/09/20",
        "September 16, 2020",
        "Am 16.09.20",
        " 16.09.20",
        "16.09",
        "16. September",
        "",
    ],
    ids=[
        "date-comma-time",
        "hard-wrapped-body-line",
        "ordinal-noun-year",
        "ordinal-umlaut-noun-year",
        "not-a-month-name",
        "trailing-full-stop",
        "trailing-comma",
        "trailing-colon",
        "1.2.3",
        "iso-single-digit-month",
        "iso-with-time",
        "three-digit-year",
        "three-digit-day",
        "slashes",
        "english-order",
        "date-not-at-start",
        "leading-space",
        "no-year",
        "named-no-year",
        "empty",
    ],
)
def test_non_dates_return_none(line: str) -> None:
    assert match_date(line) is None


def _fixed(hours: int, minutes: int, seconds: int) -> dt.timezone:
    sign = -1 if hours < 0 else 1
    return dt.timezone(
        sign * dt.timedelta(hours=abs(hours), minutes=minutes, seconds=seconds)
    )


@pytest.mark.parametrize(
    ("zone", "shown"),
    [
        (ZoneInfo("Europe/Berlin"), "1885-05-03T12:53:00+00:53"),  # LMT +00:53:28
        (ZoneInfo("Pacific/Kiritimati"), "1885-05-03T01:31:00-10:29"),  # -10:29:20
        (_fixed(0, 53, 31), "1885-05-03T12:54:00+00:54"),
        (_fixed(-10, 29, 40), "1885-05-03T01:30:00-10:30"),
        (ZoneInfo("UTC"), "1885-05-03T12:00:00+00:00"),
    ],
)
def test_local_time_rounds_an_offset_with_seconds_to_whole_minutes(
    zone: dt.tzinfo, shown: str
) -> None:
    moment = dt.datetime(1885, 5, 3, 12, tzinfo=dt.UTC)
    local = local_time(moment, zone)
    assert local.isoformat() == shown
    assert local == moment  # the same instant
    assert local.strftime("%z") == shown[-6:].replace(":", "")  # RFC 822 +HHMM


def test_local_time_keeps_the_zone_where_its_offset_is_whole_minutes() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    for moment in (
        dt.datetime(2020, 9, 16, 12, tzinfo=dt.UTC),
        dt.datetime(1893, 4, 1, 12, tzinfo=dt.UTC),  # the first day of CET
    ):
        assert local_time(moment, berlin) == moment
        assert local_time(moment, berlin).tzinfo is berlin


# --- a weekday before the date, month names that are none --------------------


@pytest.mark.parametrize(
    ("line", "token"),
    [
        ("Mittwoch, 30.12.2020", DateToken("30.12.2020", 2020, 12, 30, "Mittwoch")),
        ("Mi., 16.09.2020", DateToken("16.09.2020", 2020, 9, 16, "Mi")),
        ("Mi, 16.09.20", DateToken("16.09.20", 2020, 9, 16, "Mi")),
        ("Mi. 16.09.20", DateToken("16.09.20", 2020, 9, 16, "Mi")),
        ("Mi 16.09.20", DateToken("16.09.20", 2020, 9, 16, "Mi")),
        ("Mittwoch,16.09.2020", DateToken("16.09.2020", 2020, 9, 16, "Mittwoch")),
        (
            "Mittwoch, den 16. September 2020",
            DateToken("16. September 2020", 2020, 9, 16, "Mittwoch"),
        ),
        ("Sonnabend, 19.09.20", DateToken("19.09.20", 2020, 9, 19, "Sonnabend")),
        ("So., 2020-09-20", DateToken("2020-09-20", 2020, 9, 20, "So")),
        ("Mi., 1.1.69", DateToken("1.1.69", 1969, 1, 1, "Mi")),
        ("So., 1.1.68", DateToken("1.1.68", 2068, 1, 1, "So")),
    ],
    ids=[
        "full-name-comma",
        "two-letters-stop-comma",
        "two-letters-comma",
        "two-letters-stop",
        "two-letters-space",
        "comma-no-space",
        "den-named-month",
        "sonnabend",
        "iso",
        "two-digit-69-is-1969",
        "two-digit-68-is-2068",
    ],
)
def test_match_date_after_a_weekday(line: str, token: DateToken) -> None:
    assert match_date(line) == (token, "")
    assert token.wrong_weekday(token.to_date()) is None


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Dienstag, 16.09.2020", "Mittwoch"),
        ("Di., 16.09.20", "Mittwoch"),
        ("Mi., 01.01.70", "Donnerstag"),  # 1970, not 2070 (a Wednesday)
        ("Sa., 20.09.2020", "Sonntag"),
        ("16.09.2020", None),
    ],
    ids=["full-name", "two-letters", "two-digit-year", "sonntag", "no-weekday"],
)
def test_wrong_weekday_names_the_right_one(line: str, expected: str | None) -> None:
    found = match_date(line)
    assert found is not None
    assert found[0].wrong_weekday(found[0].to_date()) == expected


@pytest.mark.parametrize(
    "line",
    [
        "Die 16.09.20",
        "Mittwoch16.09.2020",
        "Mittwoch, 16.09",
        "Mittwoch, den",
        "mittwoch, 16.09.2020",
        "Wednesday, 16.09.2020",
        "Mittwoch, 3. Oktobr 2020",
        "Am Mittwoch, 16.09.2020",
    ],
)
def test_not_dates_after_a_weekday(line: str) -> None:
    assert match_date(line) is None


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("Oktobr", True),
        ("Septmber", True),
        ("October", True),
        ("Dec", True),
        ("Mörz", True),
        ("Quartal", False),
        ("Halbjahr", False),
        ("Advent", False),
        ("Jahr", False),
        ("Gäste", False),
    ],
)
def test_looks_like_month(word: str, expected: bool) -> None:
    assert looks_like_month(word) is expected
    assert not is_month(word)


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("Mitwoch", True),
        ("Donerstag", True),
        ("Donnerstga", True),  # two letters swapped
        ("Freitg", True),
        ("Sontag", True),
        ("mittwoch", True),  # a weekday, in the wrong case
        ("Wednesday", True),
        ("SUNDAY", True),
        ("Mittwoch", False),  # a weekday: no look-alike
        ("Sonnabend", False),
        ("Mi", False),
        # Words of their own: a weekday with an ending, compounds, and
        # words that differ from a weekday by more than a letter.
        ("Montags", False),
        ("Montage", False),
        ("Sonntagen", False),
        ("Dienstage", False),
        ("Sonnabends", False),
        ("Kreistag", False),
        ("Karfreitag", False),
        ("Feiertag", False),
        ("Reisetag", False),
        ("Amtstag", False),
        ("Dienste", False),
        ("Monatstag", False),
        ("Sitzung", False),
        ("Woche", False),
        ("Insgesamt", False),
    ],
)
def test_looks_like_weekday(word: str, expected: bool) -> None:
    assert looks_like_weekday(word) is expected
