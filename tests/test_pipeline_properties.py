"""Whole-pipeline properties: generated documents never crash the build, every
header gives exactly one item, and every feed stays well-formed and readable.
(The long-running fuzzer of hostile input belongs to the cron-hardening work.)"""

from __future__ import annotations

import datetime as dt
import re

import feedparser
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from feedpub.build import compile_site
from feedpub.config import Config
from feedpub.model import Topic
from feedpub.render.jsonfeed import json_feed_problems

CONFIG = Config(
    base_url="https://example.org/f/",
    id_authority="example.org",
    limit=5,
    topics=(
        Topic(name="Förderung", slug="foerderung", keywords=("*förder",)),
        Topic(name="Leer", slug="leer", keywords=("Raumfahrt",)),
    ),
)
_LEADS_WITH_DIGIT_OR_FIELD = re.compile(r"[\s\ufeff\u200b\u200c\u200d\u2060]*[\d@]")
# Body text: anything at all except a line break, but never a leading digit, so
# a body line cannot become a header by accident and headers can be counted.
BODY = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs",),  # surrogates cannot be in UTF-8 input at all
        blacklist_characters="\n\r",
    ),
    min_size=1,
    max_size=80,
).filter(lambda s: not _LEADS_WITH_DIGIT_OR_FIELD.match(s))
DAYS = st.dates(min_value=dt.date(1970, 1, 1), max_value=dt.date(2068, 12, 31))
FORMS = st.sampled_from(["%d.%m.%y", "%d.%m.%Y", "%Y-%m-%d", "%-d.%-m.%Y"])
BYLINES = st.sampled_from(
    ["", " Elke Ricken-Melchert", " Dr. Anna von der Heide", " Redaktion (dpa)"]
)
ITEM = st.tuples(
    DAYS, FORMS, BYLINES, st.lists(st.lists(BODY, min_size=1, max_size=3), max_size=3)
)


def _document(
    items: list[tuple[dt.date, str, str, list[list[str]]]], crlf: bool
) -> bytes:
    lines: list[str] = []
    for day, form, byline, paragraphs in items:
        lines += [day.strftime(form) + byline, ""]
        for paragraph in paragraphs:
            lines += [*paragraph, ""]
    text = ("\r\n" if crlf else "\n").join(lines)
    return text.encode("utf-8")


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ITEM, min_size=1, max_size=8), st.booleans())
def test_every_header_gives_one_item_and_valid_feeds(
    items: list[tuple[dt.date, str, str, list[list[str]]]], crlf: bool
) -> None:
    data = _document(items, crlf)
    result = compile_site([("gen.txt", data)], CONFIG)
    assert len(result.items) == len(items)
    assert sorted(i.day for i in result.items) == sorted(day for day, *_ in items)
    ids = [i.id for i in result.items]
    assert len(set(ids)) == len(ids)
    for name, output in result.outputs.items():
        if name.endswith(".xml"):
            etree.fromstring(output)
            parsed = feedparser.parse(output)
            assert not parsed.bozo, (name, parsed.get("bozo_exception"))
        elif name.endswith(".json"):
            assert json_feed_problems(output) == [], name
        elif name.endswith((".opml", ".xsl")):
            etree.fromstring(output)
        elif name.endswith(".html"):
            assert output.startswith(b"<!DOCTYPE html>")
        else:
            assert name == "embed.js", name
