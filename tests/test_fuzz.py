"""The fuzzer: hostile input thrown at the whole pipeline and at the CLI.

Whatever the bytes, the outcome is one of two: a ``SourceError`` whose every
message names ``file:line``, or feeds that are well-formed, that feedparser and
lemon24's ``reader`` accept, and that hold exactly one item per header. Never a
traceback.

``.ci/run`` runs these with ``--hypothesis-profile=ci`` (1,000 examples per
test); ``pytest tests/test_fuzz.py --hypothesis-profile=long`` runs 10,000.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from pathlib import Path

import feedparser
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from feedpub.cli import cli
from feedpub.config import Config
from feedpub.dates import WEEKDAY
from feedpub.errors import SourceError
from feedpub.model import Block, Topic
from feedpub.parse import decode_source, split_blocks, split_source
from feedpub.render.jsonfeed import json_feed_problems
from feedpub.site import compile_site
from tests.feedcheck import check_reader

CONFIG = Config(
    base_url="https://example.org/f/",
    id_authority="example.org",
    limit=5,
    topics=(
        Topic(name="Förderung", slug="foerderung", keywords=("*förder",)),
        Topic(name="Leer", slug="leer", keywords=("Raumfahrt",)),
    ),
)
SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
DIAGNOSTIC = re.compile(r"^doc\.txt:\d+: ")

# Hostile fragments: markup, CDATA ends, entities, bidi and invisible marks,
# controls, near-dates, look-alike field lines, very long words.
HOSTILE = st.sampled_from(
    [
        "<script>alert(1)</script>",
        "<b>fett</b> & <i>",
        "]]>",
        "<![CDATA[x]]>",
        "&amp; &lt; &#0; &#x1F600; &nbsp; &bogus;",
        "\"quoted\" 'single' „deutsch“ »guillemets«",
        "\u202eevil\u202c \u200f\u200e \u2066iso\u2069",
        "\u200b\u200c\u200d\u2060\ufeff",
        "\x00\x01\x07\x0b\x0c\x1b\x7f\x85\x9f",
        "\ufffe\uffff\U0010ffff",
        "31.02.20",
        "16.09.",
        "2020-13-45",
        "3. Mörz 2020",
        "3. October 2020",
        "Mi., 16.09.20",
        "Di., 16.09.20",
        "Mittwoch, den 3. Oktobr 2020",
        "@title: nicht hier",
        "x" * 3000,
        "Förderprogramm Raumfahrt",
    ]
)
WORD = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"),
    min_size=1,
    max_size=30,
)
# A body line starts with a word that cannot begin a header or a field line,
# so the headers can be counted; anything at all may follow it.
BODY_LINE = st.tuples(
    st.sampled_from(["Text", "Die", "»Zitat«", "<p>", "&amp;", "Über", "–"]),
    st.lists(st.one_of(WORD, HOSTILE), max_size=6),
).map(lambda t: " ".join([t[0], *t[1]]))
DAYS = st.dates(min_value=dt.date(1970, 1, 1), max_value=dt.date(2068, 12, 31))
MONTHS = (
    "Januar Februar März April Mai Juni Juli August September Oktober November Dezember"
)
WEEKDAYS = "Montag Dienstag Mittwoch Donnerstag Freitag Samstag Sonntag"
FORMS = st.sampled_from(
    ["%d.%m.%y", "%d.%m.%Y", "%Y-%m-%d", "%-d.%-m.%Y", "named", "weekday", "wd"]
)
BYLINES = st.sampled_from(
    ["", " Elke Ricken-Melchert", " Dr. Anna von der Heide", " Redaktion (dpa)"]
)
ITEM = st.tuples(
    DAYS,
    FORMS,
    BYLINES,
    st.lists(st.lists(BODY_LINE, min_size=1, max_size=3), max_size=3),
)


def _date(day: dt.date, form: str) -> str:
    if form == "named":
        return f"{day.day}. {MONTHS.split()[day.month - 1]} {day.year}"
    weekday = WEEKDAYS.split()[day.weekday()]
    if form == "weekday":
        return f"{weekday}, den {day.day}. {MONTHS.split()[day.month - 1]} {day.year}"
    if form == "wd":
        return f"{weekday[:2]}., {day:%d.%m.%y}"
    return day.strftime(form)


def _document(
    items: list[tuple[dt.date, str, str, list[list[str]]]], eol: str
) -> bytes:
    lines: list[str] = []
    for day, form, byline, paragraphs in items:
        lines += [_date(day, form) + byline, ""]
        for paragraph in paragraphs:
            lines += [*paragraph, ""]
    return eol.join(lines).encode("utf-8")


def _assert_valid(outputs: dict[str, bytes], items: int) -> None:
    for name, data in outputs.items():
        if name.endswith(".xml"):
            etree.fromstring(data)
            parsed = feedparser.parse(data)
            assert not parsed.bozo, (name, parsed.get("bozo_exception"))
        elif name.endswith(".json"):
            assert json_feed_problems(data) == [], name
        elif name.endswith((".opml", ".xsl")):
            etree.fromstring(data)
        elif name.endswith(".html"):
            assert data.startswith(b"<!DOCTYPE html>")
            assert b"<script>alert" not in data, name
    main = feedparser.parse(outputs["atom.xml"])
    assert len(main.entries) == min(items, CONFIG.limit)


@SETTINGS
@given(st.lists(ITEM, min_size=1, max_size=6), st.sampled_from(["\n", "\r\n", "\r"]))
def test_hostile_text_gives_one_item_per_header_and_valid_feeds(
    items: list[tuple[dt.date, str, str, list[list[str]]]], eol: str
) -> None:
    result = compile_site([("doc.txt", _document(items, eol))], CONFIG)
    assert len(result.items) == len(items)
    assert sorted(i.day for i in result.items) == sorted(day for day, *_ in items)
    ids = [i.id for i in result.items]
    assert len(set(ids)) == len(ids)
    _assert_valid(result.outputs, len(items))
    with tempfile.TemporaryDirectory() as folder:
        for name in ("rss.xml", "atom.xml"):
            (Path(folder) / name).write_bytes(result.outputs[name])
        shown = min(len(items), CONFIG.limit)
        check_reader(
            Path(folder), ["rss.xml", "atom.xml"], {"rss.xml": shown, "atom.xml": shown}
        )


def _assert_located(error: SourceError) -> None:
    assert error.diagnostics
    for diagnostic in error.diagnostics:
        assert diagnostic.source == "doc.txt"
        assert DIAGNOSTIC.match(str(diagnostic)) or diagnostic.line == 0, str(
            diagnostic
        )


def _header_lines(data: bytes) -> set[int]:
    """1-based numbers of the lines that start with a digit, or a weekday and
    a digit (after invisibles)."""
    text = data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    return {
        number
        for number, line in enumerate(text.split("\n"), start=1)
        if re.match(rf"[\s\ufeff\u200b\u200c\u200d\u2060]*(?:{WEEKDAY})?\d", line)
    }


ANY_TEXT = st.lists(
    st.one_of(
        st.text(max_size=60),
        HOSTILE,
        st.builds(_date, DAYS, FORMS),
        st.just("\n"),
        st.just("\n\n"),
    ),
    max_size=40,
).map("".join)


@SETTINGS
@given(ANY_TEXT)
def test_any_text_gives_a_located_error_or_valid_feeds(text: str) -> None:
    data = text.encode("utf-8", "surrogatepass")  # lone surrogates: invalid UTF-8
    try:
        result = compile_site([("doc.txt", data)], CONFIG)
    except SourceError as e:
        _assert_located(e)
        return
    lines = [i.line for i in result.items]
    assert len(set(lines)) == len(lines), "one item per header line"
    assert set(lines) <= _header_lines(data)
    _assert_valid(result.outputs, len(lines))


@SETTINGS
@given(
    st.binary(max_size=400) | ANY_TEXT.map(lambda t: t.encode("utf-8", "surrogatepass"))
)
def test_cli_never_shows_a_traceback(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "feedpub.toml").write_text(
            '[feed]\nbase_url = "https://example.org/f/"\n\n'
            '[[topic]]\nname = "Förderung"\nkeywords = ["*förder"]\n'
        )
        (root / "seeds").mkdir()
        (root / "seeds" / "doc.txt").write_bytes(data)
        result = CliRunner().invoke(
            cli, ["build", "-q", "-c", str(root / "feedpub.toml")]
        )
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            result.exception
        )
        assert "Traceback" not in result.output
        assert result.exit_code in (0, 1)
        if result.exit_code == 1:
            assert result.stderr
            for line in result.stderr.splitlines():
                assert re.match(
                    rf"^{re.escape(str(root))}/seeds/doc\.txt(:\d+)?: ", line
                ), line
        else:
            assert result.stdout == result.stderr == ""
            assert (root / "feeds" / "atom.xml").is_file()


@SETTINGS
@given(
    st.lists(ITEM, min_size=1, max_size=6),
    st.sampled_from(["\n", "\r\n", "\r"]),
    st.lists(st.one_of(BODY_LINE, HOSTILE, st.just("")), max_size=4),
    st.integers(min_value=1, max_value=64),
)
def test_splitting_in_pieces_gives_the_blocks_of_the_whole_document(
    items: list[tuple[dt.date, str, str, list[list[str]]]],
    eol: str,
    preamble: list[str],
    piece: int,
) -> None:
    """A large document is decoded and split piece by piece (cut at blank
    lines); the blocks, warnings and errors are those of the whole text."""
    data = eol.join([*preamble, ""]).encode() + _document(items, eol)
    blocks, warnings, errors = split_blocks(decode_source(data, "doc.txt"), "doc.txt")
    in_pieces = split_source(data, "doc.txt", piece=piece)
    assert (in_pieces[1], in_pieces[2]) == (warnings, errors)
    assert list(map(_seen, in_pieces[0])) == list(map(_seen, blocks))


def _seen(block: Block) -> tuple[object, ...]:
    """A block as a reader of it sees it, wherever its offsets point."""
    return (
        block.source,
        block.line,
        block.day,
        block.date_text,
        block.byline,
        block.header,
        block.body,
        block.body_bytes(),
    )
