"""Tests for feedpub.parse: decoding, bylines, header rules, fields, items."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedpub import parse
from feedpub.errors import SourceError
from feedpub.model import Diagnostic, Field, RawItem, SourceLine
from feedpub.parse import (
    block_at,
    decode_source,
    is_byline,
    parse_document,
    split_blocks,
    split_source,
)

SRC = "news.txt"
SEED = (
    Path(__file__).resolve().parents[1] / "seeds" / "demografiewerkstatt-kommunen.txt"
)

Paragraphs = Sequence[Sequence[tuple[int, str]]]


def doc(*lines: str) -> str:
    return "\n".join(lines)


def raw(
    line: int,
    day: dt.date,
    date_text: str,
    paragraphs: Paragraphs = (),
    *,
    byline: str | None = None,
    fields: Sequence[Field] = (),
) -> RawItem:
    return RawItem(
        source=SRC,
        line=line,
        day=day,
        date_text=date_text,
        byline=byline,
        fields=tuple(fields),
        paragraphs=tuple(
            tuple(SourceLine(number=n, text=t) for n, t in para) for para in paragraphs
        ),
    )


def warning(line: int, message: str) -> Diagnostic:
    return Diagnostic(source=SRC, line=line, message=message)


def error(line: int, message: str) -> Diagnostic:
    return Diagnostic(source=SRC, line=line, message=message, severity="error")


SEP16 = dt.date(2020, 9, 16)
SEP17 = dt.date(2020, 9, 17)
SEP18 = dt.date(2020, 9, 18)


# --- decode_source -----------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"16.09.20\n\nText", "16.09.20\n\nText"),
        (b"\xef\xbb\xbf16.09.20\n\nText", "16.09.20\n\nText"),
        (b"\xef\xbb\xbf", ""),
        (b"16.09.20\r\n\r\nText\r\n", "16.09.20\n\nText\n"),
        (b"16.09.20\r\rText\r", "16.09.20\n\nText\n"),
        (b"a\r\n\rb\nc\r", "a\n\nb\nc\n"),
        ("Grüße „LUP“ – ß".encode(), "Grüße „LUP“ – ß"),
        (b"", ""),
    ],
    ids=[
        "plain-utf8",
        "bom-stripped",
        "bom-only",
        "crlf",
        "lone-cr",
        "mixed-line-ends",
        "umlauts-and-quotes",
        "empty",
    ],
)
def test_decode_source(data: bytes, expected: str) -> None:
    assert decode_source(data, SRC) == expected


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            b"16.09.20\n\nAb\xffc",
            "news.txt:3: expected UTF-8 text, found byte(s) ff at column 3"
            " (byte offset 12)",
        ),
        (
            b"\xe4rger",
            "news.txt:1: expected UTF-8 text, found byte(s) e4 at column 1"
            " (byte offset 0)",
        ),
        (
            b"16.09.20\r\n\r\nAb\xff",
            "news.txt:3: expected UTF-8 text, found byte(s) ff at column 3"
            " (byte offset 14)",
        ),
        (
            b"a\nb\n\xc3",
            "news.txt:3: expected UTF-8 text, found byte(s) c3 at column 1"
            " (byte offset 4)",
        ),
    ],
    ids=["latin1-byte-line-3", "first-byte", "after-crlf", "truncated-sequence"],
)
def test_decode_source_invalid_utf8(data: bytes, expected: str) -> None:
    with pytest.raises(SourceError) as info:
        decode_source(data, SRC)
    assert str(info.value) == expected
    assert len(info.value.diagnostics) == 1
    assert info.value.diagnostics[0].severity == "error"


@pytest.mark.parametrize(
    ("data", "line", "ending"),
    [
        (b"\xef\xbb\xbfAb\xff", 1, "(byte offset 5)"),
        (b"\xef\xbb\xbf16.09.20\n\nAb\xff", 3, "(byte offset 15)"),
        (b"16.09.20\r\rAb\xff", 3, "found byte(s) ff at column 3 (byte offset 12)"),
    ],
    ids=["offset-counts-bom", "offset-counts-bom-line-3", "lone-cr-line-and-column"],
)
def test_decode_source_invalid_utf8_location(
    data: bytes, line: int, ending: str
) -> None:
    """The line, column and byte offset name the place in the file as given."""
    with pytest.raises(SourceError) as info:
        decode_source(data, SRC)
    (diagnostic,) = info.value.diagnostics
    assert diagnostic.line == line, diagnostic.message
    assert diagnostic.message.endswith(ending), diagnostic.message


@pytest.mark.parametrize(
    "data",
    [
        "16.09.20\n\nText".encode("utf-16"),
        b"\xff\xfe1\x006\x00",
        b"\xfe\xff\x001\x006",
    ],
    ids=["utf-16-native", "utf-16-le-bom", "utf-16-be-bom"],
)
def test_decode_source_refuses_utf16(data: bytes) -> None:
    with pytest.raises(SourceError) as info:
        decode_source(data, SRC)
    assert info.value.diagnostics == (
        error(1, "expected UTF-8 text, found a UTF-16 byte order mark"),
    )
    assert str(info.value) == (
        "news.txt:1: expected UTF-8 text, found a UTF-16 byte order mark"
    )


# --- is_byline ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Anna Muster", True),
        ("Redaktion", True),
        ("Max von Muster", True),
        ("Hans-Peter Müller", True),
        ("Anna M.", True),
        ("A. B. Muster", True),
        ("Dr. Anna Muster", True),
        ("Anna Muster und Max Muster", True),
        ("Özlem Çelik", True),
        ("(Red.)", True),
        ("Eins Zwei Drei Vier Fünf Sechs Sieben Acht", True),
        ("Eins Zwei Drei Vier Fünf Sechs Sieben Acht Neun", False),
        ("", False),
        ("   ", False),
        ("Mit dabei ist", False),
        ("mit dabei waren alle", False),
        ("anna muster", False),
        ("Anna Muster.", False),
        ("Anna Muster,", False),
        ("Anna Muster:", False),
        ("Anna Muster!", False),
        ("Wer Kommt?", False),
        ("Team 2020", False),
        ("Anna Muster 2", False),
        (", 10:10 Uhr. Mit dabei ist …", False),
        ("A" * 81, False),
    ],
    ids=[
        "two-names",
        "one-name",
        "particle-von",
        "hyphenated",
        "initial-at-end",
        "initials",
        "title-dr",
        "particle-und",
        "non-ascii-capitals",
        "parenthesised-abbreviation",
        "eight-words",
        "nine-words",
        "empty",
        "blank",
        "sentence",
        "lower-case-sentence",
        "lower-case-name",
        "full-stop-at-end",
        "comma-at-end",
        "colon-at-end",
        "exclamation-at-end",
        "question-at-end",
        "digits",
        "trailing-digit",
        "time-rest",
        "too-long",
    ],
)
def test_is_byline(text: str, expected: bool) -> None:
    assert is_byline(text) is expected


# --- parse_document: header rules and items ----------------------------------

SCENARIOS: list[tuple[str, str, list[RawItem], list[Diagnostic]]] = [
    (
        "hard-wrapped-date-line-is-body",
        doc(
            "16.09.20",
            "",
            "Das Treffen begann am",
            "17.05.2017, 10:10 Uhr. Mit dabei ist …",
        ),
        [
            raw(
                1,
                SEP16,
                "16.09.20",
                [
                    [
                        (3, "Das Treffen begann am"),
                        (4, "17.05.2017, 10:10 Uhr. Mit dabei ist …"),
                    ]
                ],
            )
        ],
        [],
    ),
    (
        "date-comma-paragraph-after-blank-is-body",
        doc(
            "16.09.20",
            "",
            "Erster Absatz.",
            "",
            "17.05.2017, 10:10 Uhr. Mit dabei ist …",
        ),
        [
            raw(
                1,
                SEP16,
                "16.09.20",
                [
                    [(3, "Erster Absatz.")],
                    [(5, "17.05.2017, 10:10 Uhr. Mit dabei ist …")],
                ],
            )
        ],
        [
            warning(
                5,
                "line starts with a date but is not an item header"
                " (',' follows the date); kept as part of the item at line 1",
            )
        ],
    ),
    (
        "date-line-without-blank-above-is-body",
        doc("16.09.20", "", "Text der Meldung", "17.09.20", "", "Weiter."),
        [
            raw(
                1,
                SEP16,
                "16.09.20",
                [[(3, "Text der Meldung"), (4, "17.09.20")], [(6, "Weiter.")]],
            )
        ],
        [],
    ),
    (
        "date-byline-without-blank-above-is-body",
        doc("16.09.20", "", "Text der Meldung", "17.09.20 Anna Muster", "", "Mehr."),
        [
            raw(
                1,
                SEP16,
                "16.09.20",
                [
                    [(3, "Text der Meldung"), (4, "17.09.20 Anna Muster")],
                    [(6, "Mehr.")],
                ],
            )
        ],
        [],
    ),
    (
        "date-byline-followed-by-text-is-body",
        doc("16.09.20", "", "Erste Meldung.", "", "17.09.20 Anna Muster", "Zweite."),
        [
            raw(
                1,
                SEP16,
                "16.09.20",
                [
                    [(3, "Erste Meldung.")],
                    [(5, "17.09.20 Anna Muster"), (6, "Zweite.")],
                ],
            )
        ],
        [
            warning(
                5,
                "line starts with a date but is not an item header (a header with"
                " a byline needs a blank line below it); kept as part of the item"
                " at line 1",
            )
        ],
    ),
    (
        "date-byline-followed-by-blank-is-header",
        doc("16.09.20", "", "Erste.", "", "17.09.20 Anna Muster", "", "Zweite."),
        [
            raw(1, SEP16, "16.09.20", [[(3, "Erste.")]]),
            raw(5, SEP17, "17.09.20", [[(7, "Zweite.")]], byline="Anna Muster"),
        ],
        [],
    ),
    (
        "date-byline-at-end-of-document-is-header",
        doc("16.09.20", "", "Erste.", "", "17.09.20 Max von Muster"),
        [
            raw(1, SEP16, "16.09.20", [[(3, "Erste.")]]),
            raw(5, SEP17, "17.09.20", byline="Max von Muster"),
        ],
        [warning(5, "item has no text")],
    ),
    (
        "date-byline-followed-by-field-is-header",
        doc("16.09.20 Anna Muster", "@title: Eigener Titel", "", "Text."),
        [
            raw(
                1,
                SEP16,
                "16.09.20",
                [[(4, "Text.")]],
                byline="Anna Muster",
                fields=[Field(key="title", value="Eigener Titel", line=2)],
            )
        ],
        [],
    ),
    (
        "date-with-non-byline-rest-is-body",
        doc("16.09.20", "", "Text.", "", "17.09.20 mit dabei waren alle", "", "Mehr."),
        [
            raw(
                1,
                SEP16,
                "16.09.20",
                [
                    [(3, "Text.")],
                    [(5, "17.09.20 mit dabei waren alle")],
                    [(7, "Mehr.")],
                ],
            )
        ],
        [
            warning(
                5,
                "line starts with a date but is not an item header ('mit dabei"
                " waren alle' after the date is not a byline); kept as part of the"
                " item at line 1",
            )
        ],
    ),
    (
        "date-only-header-followed-by-text-is-header",
        doc("16.09.20", "Erste Meldung.", "", "17.09.20", "Zweite Meldung."),
        [
            raw(1, SEP16, "16.09.20", [[(2, "Erste Meldung.")]]),
            raw(4, SEP17, "17.09.20", [[(5, "Zweite Meldung.")]]),
        ],
        [],
    ),
    (
        "header-line-trimmed",
        doc("  16. September 2020  ", "", "Text."),
        [raw(1, SEP16, "16. September 2020", [[(3, "Text.")]])],
        [],
    ),
    (
        "leading-blank-lines-are-no-preamble",
        doc("", "   ", "2020-09-16", "", "Text."),
        [raw(3, SEP16, "2020-09-16", [[(5, "Text.")]])],
        [],
    ),
    (
        "several-paragraphs-kept-separate",
        doc(
            "16.09.20",
            "",
            "Erster Absatz Zeile eins",
            "Zeile zwei  ",
            "",
            "",
            "Zweiter Absatz",
            "   ",
            "Dritter Absatz",
            "",
        ),
        [
            raw(
                1,
                SEP16,
                "16.09.20",
                [
                    [(3, "Erster Absatz Zeile eins"), (4, "Zeile zwei  ")],
                    [(7, "Zweiter Absatz")],
                    [(9, "Dritter Absatz")],
                ],
            )
        ],
        [],
    ),
    (
        "every-header-one-item",
        doc("16.09.20", "", "17.09.20", "", "18.09.20", "", "Text."),
        [
            raw(1, SEP16, "16.09.20"),
            raw(3, SEP17, "17.09.20"),
            raw(5, SEP18, "18.09.20", [[(7, "Text.")]]),
        ],
        [warning(1, "item has no text"), warning(3, "item has no text")],
    ),
    (
        "header-without-body-at-end",
        doc("16.09.20", "", "Text.", "", "17.09.20", ""),
        [
            raw(1, SEP16, "16.09.20", [[(3, "Text.")]]),
            raw(5, SEP17, "17.09.20"),
        ],
        [warning(5, "item has no text")],
    ),
    (
        "preamble-one-line",
        doc("Vorwort der Redaktion", "", "16.09.20", "", "Text."),
        [raw(3, SEP16, "16.09.20", [[(5, "Text.")]])],
        [
            warning(
                1,
                "text before the first date header belongs to no item"
                " (1 line, up to line 1)",
            )
        ],
    ),
    (
        "preamble-several-lines",
        doc("", "Vorwort", "zweite Zeile", "", "16.09.20.", "", "16.09.20", "", "X"),
        [raw(7, SEP16, "16.09.20", [[(9, "X")]])],
        [
            warning(
                2,
                "text before the first date header belongs to no item"
                " (3 lines, up to line 5)",
            ),
            warning(
                5,
                "line starts with a date but is not an item header ('.' follows the"
                " date); kept as part of the text before the first header",
            ),
        ],
    ),
    (
        "preamble-warning-comes-first",
        doc("Vorwort", "", "16.09.20", ""),
        [raw(3, SEP16, "16.09.20")],
        [
            warning(
                1,
                "text before the first date header belongs to no item"
                " (1 line, up to line 1)",
            ),
            warning(3, "item has no text"),
        ],
    ),
    (
        "fields-right-after-header",
        doc(
            "16.09.20 Anna Muster",
            "@title: Eigener Titel",
            "@tags:  Jugend, Integration  ",
            "",
            "Text.",
            "@link: https://example.org/x",
            "",
            "@author: Jemand",
        ),
        [
            raw(
                1,
                SEP16,
                "16.09.20",
                [
                    [(5, "Text."), (6, "@link: https://example.org/x")],
                    [(8, "@author: Jemand")],
                ],
                byline="Anna Muster",
                fields=[
                    Field(key="title", value="Eigener Titel", line=2),
                    Field(key="tags", value="Jugend, Integration", line=3),
                ],
            )
        ],
        [],
    ),
    (
        "fields-as-first-paragraph",
        doc(
            "16.09.20",
            "",
            "@link: https://example.org/a",
            "@author: Erika Muster",
            "",
            "Text.",
            "",
            "@title: Zu spät",
        ),
        [
            raw(
                1,
                SEP16,
                "16.09.20",
                [[(6, "Text.")], [(8, "@title: Zu spät")]],
                fields=[
                    Field(key="link", value="https://example.org/a", line=3),
                    Field(key="author", value="Erika Muster", line=4),
                ],
            )
        ],
        [],
    ),
    (
        "all-four-fields",
        doc(
            "16.09.20",
            "@title: T",
            "@tags: a, b",
            "@link: https://example.org/",
            "@author: A. Muster",
            "Text.",
        ),
        [
            raw(
                1,
                SEP16,
                "16.09.20",
                [[(6, "Text.")]],
                fields=[
                    Field(key="title", value="T", line=2),
                    Field(key="tags", value="a, b", line=3),
                    Field(key="link", value="https://example.org/", line=4),
                    Field(key="author", value="A. Muster", line=5),
                ],
            )
        ],
        [],
    ),
    (
        "unknown-field-in-body-is-text",
        doc("16.09.20", "", "Text.", "@foo: bar", "", "@title:"),
        [
            raw(
                1,
                SEP16,
                "16.09.20",
                [[(3, "Text."), (4, "@foo: bar")], [(6, "@title:")]],
            )
        ],
        [],
    ),
    (
        "upper-case-key-is-text",
        doc("16.09.20", "", "@Title: Kein Feld"),
        [raw(1, SEP16, "16.09.20", [[(3, "@Title: Kein Feld")]])],
        [],
    ),
    (
        "fields-only-item-has-no-text",
        doc("16.09.20", "@title: Nur ein Titel"),
        [
            raw(
                1,
                SEP16,
                "16.09.20",
                fields=[Field(key="title", value="Nur ein Titel", line=2)],
            )
        ],
        [warning(1, "item has no text")],
    ),
]


@pytest.mark.parametrize(
    ("text", "items", "warnings"),
    [s[1:] for s in SCENARIOS],
    ids=[s[0] for s in SCENARIOS],
)
def test_parse_document(
    text: str, items: list[RawItem], warnings: list[Diagnostic]
) -> None:
    assert parse_document(text, SRC) == (items, warnings)


def test_parse_document_empty() -> None:
    assert parse_document("", SRC) == ([], [])
    assert parse_document("\n  \n\n", SRC) == ([], [])


ERRORS: list[tuple[str, str, list[Diagnostic]]] = [
    (
        "unknown-field-after-header",
        doc("16.09.20", "@foo: bar", "", "Text."),
        [error(2, "expected one of @title:, @tags:, @link:, @author: found @foo:")],
    ),
    (
        "unknown-field-as-first-paragraph",
        doc("16.09.20", "", "@summary: x", "", "Text."),
        [error(3, "expected one of @title:, @tags:, @link:, @author: found @summary:")],
    ),
    (
        "duplicate-field",
        doc("16.09.20", "@title: Eins", "@title: Zwei", "", "Text."),
        [error(3, "expected @title: once per item, found it again")],
    ),
    (
        "empty-field-value",
        doc("16.09.20", "@tags:", "", "Text."),
        [error(2, "expected a value after @tags:, found none")],
    ),
    (
        "blank-field-value",
        doc("16.09.20", "@author:    ", "", "Text."),
        [error(2, "expected a value after @author:, found none")],
    ),
    (
        "impossible-header-date",
        doc("31.02.20", "", "Text."),
        [
            error(
                1,
                "expected a real calendar date, found '31.02.20'"
                " (31.02.2020 does not exist)",
            )
        ],
    ),
    (
        "two-impossible-header-dates",
        doc(
            "31.02.20",
            "",
            "Text.",
            "",
            "16.09.20",
            "",
            "Gut.",
            "",
            "29.02.2021 Anna Muster",
            "",
            "Mehr.",
        ),
        [
            error(
                1,
                "expected a real calendar date, found '31.02.20'"
                " (31.02.2020 does not exist)",
            ),
            error(
                9,
                "expected a real calendar date, found '29.02.2021'"
                " (29.02.2021 does not exist)",
            ),
        ],
    ),
    (
        "all-bad-lines-at-once",
        doc(
            "16.09.20",
            "@foo: x",
            "@tags:",
            "",
            "Text.",
            "",
            "00.01.2020",
            "",
            "Mehr.",
        ),
        [
            error(2, "expected one of @title:, @tags:, @link:, @author: found @foo:"),
            error(3, "expected a value after @tags:, found none"),
            error(
                7,
                "expected a real calendar date, found '00.01.2020'"
                " (00.01.2020 does not exist)",
            ),
        ],
    ),
    (
        "year-before-1000",  # feeds write four-digit years; 01.01.0001 is a typo
        doc(
            "01.01.0001",
            "",
            "Tippfehler.",
            "",
            "0999-12-31",
            "",
            "Auch.",
            "",
            "1. Januar 1000",
            "",
            "Gut.",
        ),
        [
            error(
                1,
                "expected a year from 1000 on, found '01.01.0001'"
                " (feeds write dates with four-digit years)",
            ),
            error(
                5,
                "expected a year from 1000 on, found '0999-12-31'"
                " (feeds write dates with four-digit years)",
            ),
        ],
    ),
    (
        "no-header-at-all",
        doc("Nur Text ohne Datum.", "", "17.05.2017, 10:10 Uhr."),
        [error(1, "expected a date header such as 16.09.20, found none")],
    ),
]


@pytest.mark.parametrize(
    ("text", "diagnostics"),
    [e[1:] for e in ERRORS],
    ids=[e[0] for e in ERRORS],
)
def test_parse_document_errors(text: str, diagnostics: list[Diagnostic]) -> None:
    with pytest.raises(SourceError) as info:
        parse_document(text, SRC)
    assert info.value.diagnostics == tuple(diagnostics)
    assert str(info.value) == "\n".join(
        f"news.txt:{d.line}: {d.message}" for d in diagnostics
    )


def test_impossible_date_error_str_names_file_and_line() -> None:
    text = doc("16.09.20", "", "Gut.", "", "31.02.20", "", "Text.")
    with pytest.raises(SourceError) as info:
        parse_document(text, SRC)
    assert str(info.value) == (
        "news.txt:5: expected a real calendar date, found '31.02.20'"
        " (31.02.2020 does not exist)"
    )


# --- the seed document -------------------------------------------------------

SEED_HEADERS = [
    (1, "16.09.20", dt.date(2020, 9, 16)),
    (5, "07.07.20", dt.date(2020, 7, 7)),
    (9, "07.07.20", dt.date(2020, 7, 7)),
    (13, "31.03.20", dt.date(2020, 3, 31)),
    (17, "25.02.20", dt.date(2020, 2, 25)),
    (21, "24.02.20", dt.date(2020, 2, 24)),
    (25, "20.01.20", dt.date(2020, 1, 20)),
    (29, "01.12.19", dt.date(2019, 12, 1)),
    (33, "02.05.19", dt.date(2019, 5, 2)),
]


def test_seed_document_parses_into_nine_items() -> None:
    source = "seeds/demografiewerkstatt-kommunen.txt"
    text = decode_source(SEED.read_bytes(), source)
    lines = text.split("\n")
    items, warnings = parse_document(text, source)
    assert warnings == []
    assert [(i.line, i.date_text, i.day) for i in items] == SEED_HEADERS
    assert items == [
        RawItem(
            source=source,
            line=line,
            day=day,
            date_text=date_text,
            byline=None,
            fields=(),
            paragraphs=((SourceLine(number=line + 2, text=lines[line + 1]),),),
        )
        for line, date_text, day in SEED_HEADERS
    ]
    assert (
        items[5]
        .paragraphs[0][0]
        .text.startswith("Am Montag, 13. Januar 2020 kamen rund 150 Personen")
    )


# --- rules added after review: near-headers are reported, invisible characters,
# --- bylines that must start with a capital, doubled CR line ends.


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("15.09.20:", "':' follows the date"),
        ("14.09.2020.", "'.' follows the date"),
        ("2020-09-13,", "',' follows the date"),
        (
            "12.09.20 Neujahrsempfang im Kulturhaus",
            "'Neujahrsempfang im Kulturhaus' after the date is not a byline",
        ),
        ("11.09.20 Elke Ricken.", "'Elke Ricken.' after the date is not a byline"),
        (
            "10.09.20 – Pressemitteilung",
            "'– Pressemitteilung' after the date is not a byline",
        ),
        ("3. Oktobr 2020", "'Oktobr' is not a German month name"),
        ("2. Septmber 2020", "'Septmber' is not a German month name"),
        ("3. October 2020", "'October' is not a German month name"),
        ("3. Oct. 2020 Elke Ricken", "'Oct' is not a German month name"),
        ("16. September 2020:", "':' follows the date"),
        ("Mittwoch, 16.09.2020:", "':' follows the date"),
        ("Mi., 3. Oktobr 2020", "'Oktobr' is not a German month name"),
        (
            "Mi., 16.09.2020, 18 Uhr: Sitzung",
            "',' follows the date",
        ),
        (
            "Mittwoch, 16.09.2020 fand die Sitzung statt.",
            "'fand die Sitzung statt.' after the date is not a byline",
        ),
        ("Mitwoch, 16.09.2020", "'Mitwoch' is not a German weekday"),
        ("Donerstag, den 17. September 2020", "'Donerstag' is not a German weekday"),
        ("Freitg 18.09.20 Elke Ricken", "'Freitg' is not a German weekday"),
        ("Wednesday, 2020-09-16", "'Wednesday' is not a German weekday"),
        ("mittwoch, 16.09.2020", "'mittwoch' is not a German weekday"),
    ],
)
def test_near_headers_are_reported_not_swallowed(line: str, reason: str) -> None:
    items, warnings = parse_document(
        doc("16.09.20", "", "Erstes.", "", line, "", "Text."), SRC
    )
    assert len(items) == 1
    assert [[s.text for s in p] for p in items[0].paragraphs] == [
        ["Erstes."],
        [line],
        ["Text."],
    ]
    assert warnings == [
        warning(
            5,
            f"line starts with a date but is not an item header ({reason});"
            " kept as part of the item at line 1",
        )
    ]


@pytest.mark.parametrize(
    "line",
    [
        "1. Quartal 2020",
        "2. Halbjahr 2020",
        "3. Advent 2020",
        "13. Gäste 2020",
        # Words before a date that are no weekday, misspelt or not, and
        # prose after a word that reads like one.
        "Sitzung 16.09.2020 im Rathaus",
        "Woche 38, 16.09.2020",
        "Insgesamt 120 Gäste kamen.",
        "Am 16.09.2020 fand die Sitzung statt.",
        "Stand: 16.09.2020",
        "Kreistag, 28.09.2020 im großen Saal.",
        "Karfreitag, 2. April 2021 bleiben die Ämter zu.",
        "Feiertag 3. Oktober 2020 geschlossen.",
        "Montags 14.09.2020 begann der Kurs.",
        "Sonntags 20.09.2020 ist das Museum geöffnet.",
        "Samstags, 19.09.2020 Flohmarkt am Hafen",
        "Montage 16.09.2020 im Gewerbegebiet.",
        "Freitags um 16.09 Uhr",
        "Mitwoch, 16.09.2020 fand die Sitzung statt.",
    ],
)
def test_a_word_that_is_no_month_is_text(line: str) -> None:
    items, warnings = parse_document(
        doc("16.09.20", "", "Erstes.", "", line, "", "Text."), SRC
    )
    assert [[s.text for s in p] for p in items[0].paragraphs] == [
        ["Erstes."],
        [line],
        ["Text."],
    ]
    assert warnings == []


@pytest.mark.parametrize(
    ("header", "day", "date_text", "byline"),
    [
        ("Mittwoch, 30.12.2020", dt.date(2020, 12, 30), "30.12.2020", None),
        ("Mi., 16.09.2020", SEP16, "16.09.2020", None),
        ("Mi, 16.09.20", SEP16, "16.09.20", None),
        ("Mittwoch, den 16. September 2020", SEP16, "16. September 2020", None),
        ("Mi., 16.09.20 Elke Ricken", SEP16, "16.09.20", "Elke Ricken"),
        ("Do., 1.1.70", dt.date(1970, 1, 1), "1.1.70", None),
        ("\u200bSa., 01.01.00", dt.date(2000, 1, 1), "01.01.00", None),
    ],
)
def test_a_weekday_before_the_date_is_a_header(
    header: str, day: dt.date, date_text: str, byline: str | None
) -> None:
    text = doc("17.12.20", "", "Erstes.", "", header, "", "Zweites.")
    items, warnings = parse_document(text, SRC)
    assert items[1:] == [
        raw(5, day, date_text, [[(7, "Zweites.")]], byline=byline),
    ]
    assert warnings == []


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (
            "Dienstag, 16.09.2020",
            "expected Mittwoch, the weekday of '16.09.2020', found 'Dienstag'",
        ),
        ("Di., 16.09.20", "expected Mittwoch, the weekday of '16.09.20', found 'Di'"),
        ("Mi., 01.01.70", "expected Donnerstag, the weekday of '01.01.70', found 'Mi'"),
        (
            "Mo., 31.02.20",
            "expected a real calendar date, found '31.02.20'"
            " (31.02.2020 does not exist)",
        ),
    ],
    ids=["full-name", "two-letters", "two-digit-year", "no-such-date"],
)
def test_a_weekday_that_contradicts_the_date_is_an_error(
    header: str, message: str
) -> None:
    text = doc("17.12.20", "", "Erstes.", "", header, "", "Zweites.")
    with pytest.raises(SourceError) as info:
        parse_document(text, SRC)
    assert info.value.diagnostics == (error(5, message),)
    assert str(info.value) == f"news.txt:5: {message}"


@pytest.mark.parametrize(
    "below",
    ["16.09.20", "16.09.20 Elke Ricken", "Mittwoch, 16.09.2020", "17.09.20"],
)
def test_a_header_right_below_a_header_is_reported(below: str) -> None:
    items, warnings = parse_document(doc("17.09.20", below, "", "Text."), SRC)
    assert items == [raw(1, SEP17, "17.09.20", [[(2, below)], [(4, "Text.")]])]
    assert warnings == [
        warning(
            2,
            "line starts with a date but is not an item header (a header needs"
            " a blank line above it); kept as part of the item at line 1",
        )
    ]


@pytest.mark.parametrize(
    "lines",
    [
        ["17.05.2017, 10:10 Uhr. Mit dabei ist die Stadt."],
        ["16.09.20 Elke Ricken", "war auch da."],
        ["16.09.20 war ein Mittwoch."],
        ["Mi., 16.09.20: Sitzung"],
        ["3. Oktobr 2020 war ein Samstag."],
    ],
)
def test_text_right_below_a_header_is_not_reported(lines: list[str]) -> None:
    items, warnings = parse_document(doc("17.09.20", *lines, "", "Text."), SRC)
    assert (len(items), warnings) == (1, [])


def test_hard_wrapped_date_lines_are_not_reported() -> None:
    text = doc(
        "16.09.20", "", "Das Treffen war am", "17.05.2017, 10:10 Uhr. Mit dabei."
    )
    items, warnings = parse_document(text, SRC)
    assert (len(items), warnings) == (1, [])


def test_invisible_characters_do_not_hide_blank_lines_or_headers() -> None:
    text = doc(
        "16.09.20", "", "Erstes.", "\u200b", "\ufeff15.09.20", "\u2060", "Zweites."
    )
    items, warnings = parse_document(text, SRC)
    assert [(i.line, i.day) for i in items] == [(1, SEP16), (5, dt.date(2020, 9, 15))]
    assert [[s.text for s in p] for i in items for p in i.paragraphs] == [
        ["Erstes."],
        ["Zweites."],
    ]
    assert warnings == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Elke Ricken (dpa)", True),
        ("Redaktion (Schwerin)", True),
        ("von Elke Ricken", False),
        ("– Pressemitteilung", False),
        ("(dpa)", False),
    ],
)
def test_byline_starts_with_a_capital(text: str, expected: bool) -> None:
    assert is_byline(text) is expected


def test_doubled_carriage_returns_are_one_line_end() -> None:
    assert (
        decode_source(b"16.09.20\r\r\n\r\r\nText.\r\r\n", SRC) == "16.09.20\n\nText.\n"
    )
    with pytest.raises(SourceError) as caught:
        decode_source(b"16.09.20\r\r\n\r\r\nAb\xff", SRC)
    assert str(caught.value) == (
        f"{SRC}:3: expected UTF-8 text, found byte(s) ff at column 3 (byte offset 16)"
    )


def test_split_source_in_pieces_reports_bad_utf8_like_the_whole() -> None:
    data = b"16.09.20\n\nEins.\n\n" * 50 + b"17.09.20\n\nAb\xff cd\n"
    with pytest.raises(SourceError) as whole:
        decode_source(data, SRC)
    with pytest.raises(SourceError) as pieces:
        split_source(data, SRC, piece=16)
    assert pieces.value.diagnostics == whole.value.diagnostics
    assert str(whole.value.diagnostics[0]).startswith(f"{SRC}:203: ")


@pytest.mark.parametrize("piece", [1, 5, 1 << 22])
def test_a_line_that_trims_to_an_invisible_character_is_not_blank(piece: int) -> None:
    """_trim() strips three layers; a date below such a line is body text,
    at the start of the document and at the start of any piece."""
    weird = "\u200b \u200b \u200b"
    blocks, _, errors = split_source(
        f"{weird}\n01.02.20\n\nText.\n".encode(), SRC, piece=piece
    )
    assert (blocks, [d.line for d in errors]) == ([], [1])
    blocks, _, errors = split_source(
        f"01.01.20\n\nA.\n\n{weird}\n02.01.20\n\nB.\n".encode(), SRC, piece=piece
    )
    assert ([b.line for b in blocks], errors) == ([1], [])


@pytest.mark.parametrize("start", [b"", b"\xef\xbb\xbf"])
@pytest.mark.parametrize("eol", [b"\n", b"\r\n", b"\r"])
def test_split_source_in_pieces_names_the_offset_in_the_file(
    start: bytes, eol: bytes
) -> None:
    data = start + (b"16.09.20" + eol + eol + b"Eins." + eol + eol) * 50 + b"Ab\xff"
    with pytest.raises(SourceError) as whole:
        decode_source(data, SRC)
    with pytest.raises(SourceError) as pieces:
        split_source(data, SRC, piece=16)
    assert pieces.value.diagnostics == whole.value.diagnostics
    offset = data.index(b"\xff")
    assert f"(byte offset {offset})" in str(whole.value)


NEAR_HEADERS = doc(
    "Mi., 16.09.20",
    "",
    "Eins.",
    "",
    "3. Oktobr 2020",
    "",
    "Zwei.",
    "",
    "Mittwoch, den 16. September 2020 Elke Ricken",
    "@title: Drei",
    "",
    "15.09.20",
    "14.09.20",
    "",
    "Vier.",
    "",
    "Di., 14.09.20",
    "",
    "Fünf.",
    "",
    "Mo, 14.09.2020:",
    "",
)


@pytest.mark.parametrize("piece", [1, 5, 17, 1 << 22])
def test_split_source_in_pieces_finds_weekday_and_near_headers_like_the_whole(
    piece: int,
) -> None:
    blocks, warnings, errors = split_blocks(NEAR_HEADERS, SRC)
    in_pieces = split_source(NEAR_HEADERS.encode(), SRC, piece=piece)
    assert [(b.line, b.day, b.byline, b.body) for b in in_pieces[0]] == [
        (b.line, b.day, b.byline, b.body) for b in blocks
    ]
    assert (in_pieces[1], in_pieces[2]) == (warnings, errors)
    for b in in_pieces[0]:  # a later build finds a block again by its place
        assert block_at(b.document, SRC, b.head, b.end, b.line) == b
    assert [(b.line, b.day, b.byline) for b in blocks] == [
        (1, SEP16, None),
        (9, SEP16, "Elke Ricken"),
        (12, dt.date(2020, 9, 15), None),
    ]
    assert [w.line for w in warnings] == [5, 13, 21]
    assert errors == [
        error(17, "expected Montag, the weekday of '14.09.20', found 'Di'")
    ]


# One blank line per candidate match, as the same candidates as before ---------

_RUN_OF_BLANKS = re.compile(  # the pattern before: quadratic on a run of blanks
    rf"\n[\s{parse._INVISIBLE_CLASS}]*\n{parse._STARTS_LIKE_A_DATE}"
)


@settings(deadline=None, max_examples=400)
@given(
    st.lists(
        st.sampled_from(
            [
                "",
                " ",
                "\t \u00a0",
                "\u200b",
                "\ufeff ",
                "\r",
                "Text.",
                "16.09.20",
                " 3. Oktober 2020",
                "Mi., 16.09.20",
                "Mittwoch, 1.1.21",
                "1 Satz.",
            ]
        ),
        max_size=30,
    )
)
def test_candidates_are_those_of_a_pattern_over_runs_of_blank_lines(
    pieces: list[str],
) -> None:
    text = "\n".join(pieces)
    found = parse._candidates(text)
    with mock.patch.object(parse, "_CANDIDATE", _RUN_OF_BLANKS):
        assert parse._candidates(text) == found
