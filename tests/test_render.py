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


# The markup of a page's item as a template writes it, autoescaped: what
# render/pages.py makes in Python for each item of a page must be these bytes.
_ARTICLE_TEMPLATE = """\
{% for item in items %}
<article id="{{ item.anchor }}">
<h2><a href="{{ item.link }}">{{ item.title }}</a></h2>
<p class="meta"><time datetime="{{ local(item).isoformat() }}">\
{{ local(item).strftime("%d.%m.%Y") }}</time>\
{% if item.author %} · {{ item.author }}{% endif %}\
{% if item.categories %} · {{ item.categories | map(attribute="label") | join(", ") }}\
{% endif %}</p>
{% if full_text %}{% for paragraph in item.paragraphs %}
<p>{{ paragraph }}</p>
{% endfor %}{% elif item.summary %}
<p>{{ item.summary }}</p>
{% endif %}
</article>
{% endfor %}
"""


@settings(deadline=None)
@given(
    ENTRIES,
    st.lists(st.one_of(st.none(), TEXT), min_size=6, max_size=6),
    st.booleans(),
)
def test_page_items_are_the_autoescaped_markup_of_a_template(
    entries: list[tuple[str, list[str]]], authors: list[str | None], full_text: bool
) -> None:
    import dataclasses

    import jinja2

    from feedpub.dates import local_time
    from feedpub.model import PageSpec
    from feedpub.render.pages import render_page

    feed = _spec(entries)
    items = tuple(
        dataclasses.replace(item, author=author, given_anchor=f"item-{n}-<'\"&>")
        for n, (item, author) in enumerate(zip(feed.items, authors, strict=False))
    )
    zone = ZoneInfo("Europe/Berlin")
    page = PageSpec(
        path="archive/2020.html",
        title="Archiv",
        language="de",
        timezone=zone,
        items=items,
        base_url="",  # links as they are: the reference does not relate them
        full_text=full_text,
    )
    environment = jinja2.Environment(
        autoescape=True, trim_blocks=True, lstrip_blocks=True
    )
    expected = environment.from_string(_ARTICLE_TEMPLATE).render(
        items=items, full_text=full_text, local=lambda i: local_time(i.published, zone)
    )
    html = render_page(page).decode("utf-8")
    if items:
        assert expected.strip() in html
        assert html.count("<article ") == len(items)
    else:
        assert "<article " not in html
        assert "<p>Noch keine Meldungen.</p>" in html


def test_a_page_title_like_the_items_marker_stays_text() -> None:
    from feedpub.model import PageSpec
    from feedpub.render.pages import render_page

    feed = _spec([("Titel", ["Text"])])
    marker = "<feedpub-articles/>"
    page = PageSpec(
        path="index.html",
        title=marker,
        language="de",
        timezone=ZoneInfo("Europe/Berlin"),
        items=feed.items,
        base_url="",
    )
    html = render_page(page).decode("utf-8")
    assert marker not in html
    assert "<title>&lt;feedpub-articles/&gt;</title>" in html
    main = html[html.index('<main id="main">') : html.index("</main>")]
    assert main.count("<article ") == 1
    assert "<p>Text</p>" in main
