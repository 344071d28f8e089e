"""Rendering keeps every item, its order and its exact text (read back with lxml)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from feedpub.model import Category, FeedSpec, Item
from feedpub.render.rss_atom import render_atom, render_rss

ATOM = "{http://www.w3.org/2005/Atom}"
# What normalise lets through: no control, surrogate or unassigned characters.
TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Cn")), min_size=1
).filter(str.strip)
START = dt.datetime(2020, 1, 1, 12, tzinfo=dt.UTC)


def _spec(entries: list[tuple[str, list[str]]]) -> FeedSpec:
    items = tuple(
        Item(
            id=f"tag:example.org,2020-01-01:{n}",
            given_anchor=f"item-{n}",
            given_title=title,
            paragraphs=tuple(paragraphs),
            day=START.date(),
            published=START - dt.timedelta(minutes=n),
            link=f"https://example.org/a.html#item-{n}",
            categories=(Category(term="t", label=title),),
        )
        for n, (title, paragraphs) in enumerate(entries)
    )
    return FeedSpec(
        key="",
        title="Test <&>",
        description="Beschreibung",
        language="de",
        author="Redaktion",
        home_url="https://example.org/",
        rss_url="https://example.org/rss.xml",
        atom_url="https://example.org/atom.xml",
        updated=START,
        timezone=ZoneInfo("Europe/Berlin"),
        items=items,
    )


ENTRIES = st.lists(st.tuples(TEXT, st.lists(TEXT, max_size=3)), max_size=6)


@settings(deadline=None)
@given(ENTRIES)
def test_rss_keeps_items_order_and_text(entries: list[tuple[str, list[str]]]) -> None:
    spec = _spec(entries)
    channel = etree.fromstring(render_rss(spec)).find("channel")
    assert channel is not None
    items = channel.findall("item")
    assert [i.findtext("title") for i in items] == [t for t, _ in entries]
    assert [i.findtext("guid") for i in items] == [i.id for i in spec.items]
    assert [i.findtext("category") for i in items] == [t for t, _ in entries]
    for element, (_, paragraphs) in zip(items, entries, strict=True):
        body = etree.fromstring(f"<div>{element.findtext('description') or ''}</div>")
        assert [p.text or "" for p in body.findall("p")] == paragraphs


@settings(deadline=None)
@given(ENTRIES)
def test_atom_keeps_items_order_and_text(entries: list[tuple[str, list[str]]]) -> None:
    spec = _spec(entries)
    feed = etree.fromstring(render_atom(spec))
    entries_out = feed.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries_out] == [t for t, _ in entries]
    for element, (title, paragraphs) in zip(entries_out, entries, strict=True):
        summary = element.findtext(f"{ATOM}summary")
        assert summary == (paragraphs[0] if paragraphs else title)
        content = element.findtext(f"{ATOM}content")
        if paragraphs:
            body = etree.fromstring(f"<div>{content}</div>")
            assert [p.text or "" for p in body.findall("p")] == paragraphs
        else:
            assert content is None
