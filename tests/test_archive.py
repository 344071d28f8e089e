"""RFC 5005 archived feeds: complete, linked, valid, the same items as the
subscription feeds, and full pages that never change when news is added."""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import re
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from feedpub.config import Config
from feedpub.errors import ValidationError
from feedpub.keys import spec_key
from feedpub.model import ArchiveSpec, Category, FeedSpec, Item
from feedpub.plan import plan_feeds
from feedpub.publish import read_sources, write_outputs
from feedpub.render.archive import FragmentCache, archive_frame, render_archive
from feedpub.render.rss_atom import render_atom, render_rss
from feedpub.site import BuildResult, compile_site
from feedpub.validate import (
    archive_problems,
    check_fragments,
    fragment_problems,
    xml_problems,
)
from tests.conftest import DATA, load_config
from tests.cronkit import write_corpus
from tests.feedcheck import (
    ATOM,
    check_atom,
    check_feedparser,
    check_reader,
    check_rss,
)

FH = "{http://purl.org/syndication/history/1.0}"
ARCHIVE_DOC = re.compile(r"(?:topics/[^/]+/)?archive/(rss|atom)-(\d{4,})\.xml")


def _config(limit: int = 4, size: int = 3) -> Config:
    config = load_config(DATA / "archive.toml")
    return dataclasses.replace(config, limit=limit, archive_size=size)


def _build(config: Config, sources: list[Path] | None = None) -> BuildResult:
    return compile_site(read_sources(sources or [DATA / "tricky"]), config)


def _prefixes(config: Config) -> list[str]:
    return ["", *(f"topics/{t.slug}/" for t in config.topics)]


def _archives(outputs: dict[str, bytes], prefix: str, kind: str) -> list[str]:
    """A feed's archive documents of one kind, oldest first."""
    found = []
    for name in outputs:
        match = ARCHIVE_DOC.fullmatch(name)
        if match and name.startswith(f"{prefix}archive/") and match[1] == kind:
            found.append((int(match[2]), name))
    numbers = [n for n, _ in sorted(found)]
    assert numbers == list(range(1, len(found) + 1)), "pages are numbered 1, 2, …"
    return [name for _, name in sorted(found)]


def _ids(data: bytes) -> list[str]:
    root = etree.fromstring(data)
    if root.tag == "rss":
        return [i.findtext("guid") or "" for i in root.iter("item")]
    return [e.findtext(f"{ATOM}id") or "" for e in root.findall(f"{ATOM}entry")]


def _links(data: bytes) -> dict[str, str]:
    root = etree.fromstring(data)
    head = root.find("channel") if root.tag == "rss" else root
    assert head is not None
    links = head.findall(f"{ATOM}link")
    rels = [ln.get("rel") for ln in links]
    assert len(rels) == len(set(rels)), "each relation once"
    return {str(ln.get("rel")): str(ln.get("href")) for ln in links}


def _feed_items(result: BuildResult, prefix: str) -> list[Item]:
    slug = prefix.removeprefix("topics/").rstrip("/")
    chosen = [i for i in result.items if not slug or slug in i.topics]
    return sorted(chosen, key=lambda i: (i.published, i.id), reverse=True)


# Complete: every item is in the subscription feed or a full archive page ----


@pytest.mark.parametrize(
    ("limit", "size"),
    [(4, 3), (5, 5), (17, 17), (16, 1), (1, 1), (9, 4), (50, 50)],
)
def test_subscription_and_archives_hold_every_item(limit: int, size: int) -> None:
    config = _config(limit, size)
    result = _build(config)
    assert len(result.items) == 17  # 17 = 1 x 17 = 17 x 1: exact multiples above
    for prefix in _prefixes(config):
        items = _feed_items(result, prefix)
        for kind in ("rss", "atom"):
            current = result.outputs[f"{prefix}{kind}.xml"]
            pages = _archives(result.outputs, prefix, kind)
            assert len(pages) == len(items) // size, prefix
            archived = [_ids(result.outputs[p]) for p in pages]
            assert all(len(ids) == size for ids in archived), "only full pages"
            # page 1 holds the oldest items; each page is newest first
            oldest_first = [i.id for i in reversed(items)]
            assert [i for ids in archived for i in reversed(ids)] == oldest_first[
                : len(pages) * size
            ]
            union = set(_ids(current)).union(*map(set, archived))
            assert union == {i.id for i in items}, (prefix, kind)


def test_no_archives_while_everything_fits() -> None:
    config = _config(50, 50)
    result = _build(config)
    assert not [n for n in result.outputs if ARCHIVE_DOC.fullmatch(n)]
    for prefix in _prefixes(config):
        assert "prev-archive" not in _links(result.outputs[f"{prefix}rss.xml"])
        assert "prev-archive" not in _links(result.outputs[f"{prefix}atom.xml"])


# Linked as RFC 5005 section 4 says ------------------------------------------


def test_archives_are_linked_and_a_reader_can_walk_back() -> None:
    config = _config()
    result = _build(config)
    outputs = result.outputs
    base = config.base_url
    walked = 0
    for prefix in _prefixes(config):
        for kind in ("rss", "atom"):
            current = f"{prefix}{kind}.xml"
            pages = _archives(outputs, prefix, kind)
            links = _links(outputs[current])
            assert links["self"] == base + current
            if not pages:
                assert "prev-archive" not in links
                continue
            assert links["prev-archive"] == base + pages[-1]
            for index, page in enumerate(pages):
                links = _links(outputs[page])
                assert links["self"] == base + page
                assert links["current"] == base + current
                older = pages[index - 1] if index else None
                newer = pages[index + 1] if index + 1 < len(pages) else None
                assert links.get("prev-archive") == (older and base + older)
                assert links.get("next-archive") == (newer and base + newer)
                root = etree.fromstring(outputs[page])
                head = root.find("channel") if kind == "rss" else root
                assert head is not None
                assert len(head.findall(f"{FH}archive")) == 1
            # a reader backfilling: follow prev-archive from the subscription
            seen: list[str] = list(_ids(outputs[current]))
            url = _links(outputs[current]).get("prev-archive")
            while url:
                data = outputs[url.removeprefix(base)]
                seen += _ids(data)
                url = _links(data).get("prev-archive")
                walked += 1
            assert set(seen) == {i.id for i in _feed_items(result, prefix)}
        subscription = etree.fromstring(outputs[f"{prefix}rss.xml"])
        assert subscription.find(f"channel/{FH}archive") is None
    assert walked == 2 * (5 + 3 + 1)  # main, Meldungen & Berichte, Förderung


def test_the_rss_feed_keeps_its_stylesheet_and_channel_link() -> None:
    config = _config()
    data = _build(config).outputs["rss.xml"]
    lines = data.splitlines()
    assert lines[1] == b'<?xml-stylesheet type="text/xsl" href="feed.xsl"?>'
    channel = etree.fromstring(data).find("channel")
    assert channel is not None
    assert channel.findtext("link") == f"{config.base_url}index.html"
    rels = [ln.get("rel") for ln in channel.findall(f"{ATOM}link")]
    assert rels == ["self", "prev-archive"]
    assert xml_problems(data) == []


# Valid, and read by real clients -------------------------------------------


def test_every_archive_document_is_valid_and_readable(tmp_path: Path) -> None:
    config = _config()
    result = _build(config)
    write_outputs(result.outputs, tmp_path)
    names = sorted(n for n in result.outputs if ARCHIVE_DOC.fullmatch(n))
    assert len(names) == 2 * (5 + 3 + 1)
    counts = {}
    for name in names:
        assert xml_problems(result.outputs[name]) == [], name
        url = config.base_url + name
        if "/rss-" in name:
            values = check_rss(tmp_path / name, url)
        else:
            values = check_atom(tmp_path / name, url, config.language)
        assert len(values) == config.archive_size
        check_feedparser(tmp_path / name, config.archive_size)
        counts[name] = config.archive_size
    check_reader(tmp_path, names, counts)


# The same items as the subscription feeds ------------------------------------


def _rss_values(element: etree._Element) -> tuple[object, ...]:
    return (
        element.findtext("guid"),
        element.findtext("title"),
        element.findtext("link"),
        element.findtext("pubDate"),
        element.findtext("description"),
        [c.text for c in element.findall("category")],
        element.findtext("{http://purl.org/dc/elements/1.1/}creator"),
    )


def _atom_values(element: etree._Element) -> tuple[object, ...]:
    return (
        element.findtext(f"{ATOM}id"),
        element.findtext(f"{ATOM}title"),
        [ln.get("href") for ln in element.findall(f"{ATOM}link")],
        element.findtext(f"{ATOM}published"),
        element.findtext(f"{ATOM}updated"),
        element.findtext(f"{ATOM}summary"),
        element.findtext(f"{ATOM}content"),
        [(c.get("term"), c.get("label")) for c in element.findall(f"{ATOM}category")],
        element.findtext(f"{ATOM}author/{ATOM}name"),
    )


def _values(data: bytes) -> dict[str, tuple[object, ...]]:
    root = etree.fromstring(data)
    if root.tag == "rss":
        return {str(i.findtext("guid")): _rss_values(i) for i in root.iter("item")}
    return {
        str(e.findtext(f"{ATOM}id")): _atom_values(e)
        for e in root.findall(f"{ATOM}entry")
    }


def test_archives_and_subscription_feeds_give_the_same_item_data() -> None:
    # limit 17: each subscription feed holds every item, so every archived
    # item can be compared with feedgen's rendering of it.
    config = _config(17, 3)
    result = _build(config)
    compared = 0
    for prefix in _prefixes(config):
        for kind in ("rss", "atom"):
            subscription = _values(result.outputs[f"{prefix}{kind}.xml"])
            for page in _archives(result.outputs, prefix, kind):
                for item_id, values in _values(result.outputs[page]).items():
                    assert values == subscription[item_id], (page, item_id)
                    compared += 1
    assert compared == 2 * (15 + 9 + 3)


_ITEM = re.compile(rb"    <item>\n.*?\n    </item>\n", re.DOTALL)
_ENTRY = re.compile(rb"  <entry>\n.*?\n  </entry>\n", re.DOTALL)
TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Cn")), min_size=1
).filter(str.strip)
START = dt.datetime(2020, 3, 29, 0, 30, tzinfo=dt.UTC)  # summer time begins


@st.composite
def items(draw: st.DrawFn) -> list[Item]:
    drawn = []
    for n in range(draw(st.integers(1, 4))):
        paragraphs = tuple(draw(st.lists(TEXT, max_size=3)))
        published = START - dt.timedelta(hours=n * 7)
        edited = draw(st.sampled_from([None, dt.timedelta(days=3)]))
        labels = draw(st.lists(TEXT, max_size=2, unique=True))
        drawn.append(
            Item(
                id=f"tag:example.org,2020-03-29:{draw(TEXT)}{n}",
                given_anchor=f"item-{n}",
                given_title=draw(TEXT),
                paragraphs=paragraphs,
                day=published.date(),
                published=published,
                updated=None if edited is None else published + edited,
                link='https://example.org/a?x=1&y="2"#item-' + str(n),
                author=draw(st.none() | TEXT),
                categories=tuple(
                    Category(term=f"{label}-{i}", label=label)
                    for i, label in enumerate(labels)
                ),
            )
        )
    return drawn


@settings(deadline=None)
@given(items(), st.sampled_from(["Europe/Berlin", "UTC", "America/St_Johns"]))
def test_fragments_are_the_bytes_feedgen_writes(chosen: list[Item], zone: str) -> None:
    """Byte for byte: escaping, element order, both date formats, every branch."""
    timezone = ZoneInfo(zone)
    feed = FeedSpec(
        key="",
        title="T",
        description="D",
        language="de",
        author="A",
        home_url="https://example.org/",
        rss_url="https://example.org/rss.xml",
        atom_url="https://example.org/atom.xml",
        updated=START,
        timezone=timezone,
        items=tuple(chosen),
    )
    cache = FragmentCache()
    rss = _ITEM.findall(render_rss(feed))
    atom = _ENTRY.findall(render_atom(feed))
    assert rss == [cache.rss(item, timezone) for item in chosen]
    assert atom == [cache.atom(item, timezone) for item in chosen]


def test_dates_are_english_under_a_german_locale() -> None:
    import locale

    old = locale.setlocale(locale.LC_ALL)
    locale.setlocale(locale.LC_ALL, "de_DE.UTF-8")  # .ci/run generates it
    try:
        data = _build(_config(4, 3)).outputs["archive/rss-0004.xml"]
    finally:
        locale.setlocale(locale.LC_ALL, old)
    assert b"<pubDate>Fri, 04 Sep 2020 14:00:00 +0200</pubDate>" in data
    assert b"<lastBuildDate>Sat, 05 Sep 2020 13:59:00 +0200</lastBuildDate>" in data


# Full pages never change when news is added ---------------------------------

TOPICS = """
[[topic]]
name = "Ehrenamt"
keywords = ["Ehrenamt"]

[[topic]]
name = "Jugend"
keywords = ["Jugend"]
"""


def _corpus_config(tmp_path: Path, items: int) -> Config:
    write_corpus(tmp_path / "news.txt", items)
    (tmp_path / "feedpub.toml").write_text(
        '[feed]\nbase_url = "https://example.org/news/"\nlimit = 6\n'
        'archive_size = 4\nid_authority = "example.org"\n' + TOPICS,
        "utf-8",
    )
    return load_config(tmp_path / "feedpub.toml")


def _add_on_top(path: Path, day: str, text: str) -> None:
    path.write_text(f"{day}\n\n{text}\n\n" + path.read_text("utf-8"), "utf-8")


def _archive_outputs(result: BuildResult) -> dict[str, bytes]:
    return {n: d for n, d in result.outputs.items() if ARCHIVE_DOC.fullmatch(n)}


def _feed_key(name: str) -> str:
    """An archive document's feed folder and kind: ``topics/x/archive/rss-``."""
    match = ARCHIVE_DOC.fullmatch(name)
    assert match
    return name[: match.start(2)]


def _newest(outputs: dict[str, bytes]) -> dict[str, int]:
    """The newest page number of each feed folder and kind."""
    newest: dict[str, int] = {}
    for name in outputs:
        key = _feed_key(name)
        newest[key] = max(newest.get(key, 0), int(name[len(key) : -len(".xml")]))
    return newest


def test_full_pages_stay_byte_identical_as_news_arrives(tmp_path: Path) -> None:
    config = _corpus_config(tmp_path, 39)
    source = [tmp_path / "news.txt"]
    before = compile_site(read_sources(source), config)
    grown = changed = 0
    for n, day in enumerate(["01.01.25", "02.01.25", "03.01.25", "04.01.25"]):
        # the main feed's page 10 fills first, then the topics' pages
        text = "Ehrenamt und Jugend im Dorf." if n else "Neues aus dem Dorf."
        _add_on_top(tmp_path / "news.txt", day, text)
        after = compile_site(read_sources(source), config, state=before.state)
        old, new = _archive_outputs(before), _archive_outputs(after)
        assert set(old) <= set(new), "no archive document disappears"
        old_newest, new_newest = _newest(old), _newest(new)
        for key, number in new_newest.items():
            assert number - old_newest.get(key, 0) in (0, 1), "at most one new page"
        for name, data in old.items():
            if new[name] == data:
                continue
            # Only the newest page changes, once, when its successor appears,
            # by one line: its next-archive link.
            key = _feed_key(name)
            changed += 1
            assert name == f"{key}{old_newest[key]:04d}.xml"
            assert new_newest[key] == old_newest[key] + 1
            diff = [
                line
                for line in difflib.ndiff(
                    data.decode().splitlines(), new[name].decode().splitlines()
                )
                if line[:1] in "+-"
            ]
            assert len(diff) == 1, diff
            assert diff[0].startswith("+ ")
            assert 'rel="next-archive"' in diff[0]
        grown += sum(new_newest.values()) - sum(old_newest.values())
        before = after
    # 39 items + 4: the main feed fills page 10 with the first new item;
    # Ehrenamt (37 + 3) fills its page 10 and Jugend (33 + 3) its page 9 last.
    assert _newest(_archive_outputs(before)) == {
        "archive/rss-": 10,
        "archive/atom-": 10,
        "topics/ehrenamt/archive/rss-": 10,
        "topics/ehrenamt/archive/atom-": 10,
        "topics/jugend/archive/rss-": 9,
        "topics/jugend/archive/atom-": 9,
    }
    assert grown == 6
    assert changed == 6  # each predecessor gained its next-archive link


def test_keys_change_exactly_when_the_bytes_do(tmp_path: Path) -> None:
    config = _corpus_config(tmp_path, 30)
    source = [tmp_path / "news.txt"]
    first = compile_site(read_sources(source), config)
    # edit the oldest item's text: its pages change, no other page does
    text = (tmp_path / "news.txt").read_text("utf-8")
    last = text.rstrip().rpartition("\n")
    (tmp_path / "news.txt").write_text(
        last[0] + "\n" + last[2].replace(".", " und noch ein Satz."), "utf-8"
    )
    second = compile_site(
        read_sources(source),
        config,
        state=first.state,
        now=dt.datetime(2025, 2, 1, tzinfo=dt.UTC),
    )
    plans = [
        {a.path: a for a in plan_feeds(r.items, config, r.state.retired).archives}
        for r in (first, second)
    ]
    assert sorted(plans[0]) == sorted(plans[1])
    changed = 0
    for path, page in plans[0].items():
        same_bytes = first.outputs[path] == second.outputs[path]
        key = archive_key(page.spec)
        assert (key == archive_key(plans[1][path].spec)) == same_bytes, path
        assert render_archive(page.spec) == first.outputs[path]
        changed += not same_bytes
    assert changed >= 2  # page 1 of the main feed, RSS and Atom


def archive_key(spec: ArchiveSpec) -> str:
    """The key the build gives an archive document (see site._jobs)."""
    return spec_key(("archive", spec), salt="")


def test_a_key_covers_the_feed_and_page_data() -> None:
    page = plan_feeds(_build(_config()).items, _config()).archives[0]
    spec = page.spec
    changes: list[ArchiveSpec] = [
        dataclasses.replace(spec, title="Anders"),
        dataclasses.replace(spec, next_url=""),
        dataclasses.replace(spec, timezone=ZoneInfo("UTC")),
        dataclasses.replace(spec, kind="atom"),
        # An item's text, byline, tags and topics are in its fingerprint; its
        # summary and category labels follow from those and the config.
        dataclasses.replace(
            spec,
            items=(
                dataclasses.replace(spec.items[0], fingerprint="0" * 16),
                *spec.items[1:],
            ),
        ),
        dataclasses.replace(
            spec,
            items=(
                dataclasses.replace(spec.items[0], link="https://example.org/x"),
                *spec.items[1:],
            ),
        ),
    ]
    keys = {archive_key(s) for s in changes}
    assert archive_key(spec) not in keys
    assert len(keys) == len(changes)
    # The config (summary length, topic names) is in the salt of every key.
    assert spec_key(("archive", spec), salt="config 2") != archive_key(spec)


# People: each feed's page says where its older items continue ----------------


def test_feed_pages_link_to_where_their_older_items_continue() -> None:
    from lxml import html as lhtml

    config = _config()
    result = _build(config)
    for prefix in _prefixes(config):
        page = lhtml.fromstring(result.outputs[f"{prefix}index.html"])
        links = page.xpath("//main//a[text()='Ältere Meldungen im Archiv']/@href")
        items = _feed_items(result, prefix)
        if len(items) <= config.limit:
            assert links == [], prefix
            continue
        first = items[config.limit]  # the newest item the page leaves out
        back = "../../" if prefix else ""
        assert links == [f"{back}archive/{first.day.year}.html#{first.anchor}"]


def test_archives_can_be_switched_off(tmp_path: Path) -> None:
    text = (DATA / "archive.toml").read_text()
    (tmp_path / "off.toml").write_text(
        text.replace("[feed]\n", "[feed]\narchives = false\n", 1).replace(
            'sources = ["tricky"]', f'sources = ["{DATA / "tricky"}"]'
        )
    )
    config = load_config(tmp_path / "off.toml")
    assert config.archives is False
    on = compile_site(
        read_sources(load_config(DATA / "archive.toml").sources),
        load_config(DATA / "archive.toml"),
    )
    off = compile_site(read_sources(config.sources), config)
    assert any("/rss-0001.xml" in n or n.startswith("archive/rss-") for n in on.outputs)
    assert not any("rss-0" in n or "atom-0" in n for n in off.outputs)
    assert b"prev-archive" not in off.outputs["rss.xml"]
    assert set(off.outputs) < set(on.outputs)


# Checked by parts ------------------------------------------------------------


def test_an_archive_document_is_its_frame_with_its_checked_fragments() -> None:
    config = _config()
    result = _build(config)
    plan = plan_feeds(result.items, config)
    assert plan.archives
    checked: list[tuple[str, list[tuple[str, bytes, bytes]]]] = []
    cache = FragmentCache(check=lambda where, batch: checked.append((where, batch)))
    for page in plan.archives:
        spec = page.spec
        zone = spec.timezone
        data = render_archive(spec, cache)
        assert data == result.outputs[page.path]
        cache.check_new(page.path)
        take = cache.rss if spec.kind == "rss" else cache.atom
        fragments = [take(item, zone) for item in spec.items]
        head, tail = archive_frame(spec)
        # The frame the rendering made, kept for the document's check.
        assert cache.frame(spec) == (head, tail)
        # The frame and the fragments, in this order, are the whole document.
        assert data == b"".join([head, *fragments, tail])
        assert (
            archive_problems(spec.kind, head + tail, [i.id for i in spec.items]) == []
        )
        assert xml_problems(data) == []
    # Each archived item's fragments were handed to the check once, and pass.
    made = [f for _, batch in checked for f in batch]
    archived = {i.id for page in plan.archives for i in page.spec.items}
    assert sorted(i for i, _, _ in made) == sorted(archived)
    for where, batch in checked:
        check_fragments(where, batch)


def _real_fragments() -> tuple[list[str], list[bytes], list[bytes]]:
    """Ids, RSS and Atom fragments of real items: with and without text,
    byline and categories."""
    chosen = _build(_config()).items
    zone = ZoneInfo("Europe/Berlin")
    cache = FragmentCache()
    return (
        [i.id for i in chosen],
        [cache.rss(i, zone) for i in chosen],
        [cache.atom(i, zone) for i in chosen],
    )


def test_real_fragments_have_their_form() -> None:
    ids, rss, atom = _real_fragments()
    assert any(b"<dc:creator>" in f for f in rss)  # every branch is there
    assert any(b"<category>" in f for f in rss)
    assert fragment_problems("rss", rss, ids) == []
    assert fragment_problems("atom", atom, ids) == []
    assert fragment_problems("rss", rss[:2], [ids[0], ids[0]]) == [
        f"{ids[0]}: expected that id, found {ids[1]!r}"
    ]


def test_a_fragment_out_of_its_form_is_refused() -> None:
    ids, rss, atom = _real_fragments()
    rss_item, atom_entry, item_id = rss[0], atom[0], ids[0]
    assert b"</title>" in rss_item
    assert b"</title>" in atom_entry
    shape = "not an <item> element as archive documents carry it"
    for broken, why in (
        (rss_item.replace(b"</title>", b"<b></title>", 1), "not well-formed XML"),
        (rss_item.replace(b"</title>", b"&</title>", 1), "not well-formed XML"),
        (rss_item.replace(b"</title>", b"&#0;</title>", 1), "not well-formed XML"),
        (rss_item.replace(b"</title>", b"\x01</title>", 1), "not well-formed XML"),
        (rss_item.replace(b"</title>", b"\xef\xbf\xbe</title>", 1), "XML"),
        (rss_item.replace(b"</title>", b"\xff</title>", 1), "not UTF-8"),
        (rss_item.replace(b"</title>", b"]]></title>", 1), "not well-formed XML"),
        (rss_item.replace(b"</title>", b"<!-- --></title>", 1), shape),
        (rss_item.replace(b"</title>", b"<![CDATA[x]]></title>", 1), shape),
        (rss_item.replace(b"</title>", b"<b/></title>", 1), shape),
        (rss_item.replace(b"<title>", b"<?x y?><title>", 1), shape),
        (re.sub(rb"<pubDate>[^<]*", b"<pubDate>29.03.2020", rss_item), "RFC 822"),
        (re.sub(rb"\n *<guid[^\n]*", b"", rss_item), "has no <guid>"),
        (rss_item + b"<x>", "not well-formed XML"),
        (rss_item.rstrip(), shape),
    ):
        assert broken != rss_item
        found = fragment_problems("rss", [broken], [item_id])
        assert len(found) == 1, found
        assert found[0].startswith(f"{item_id}: {shape}"), found
        assert why in found[0], found
    # Well-formed together, not each on its own: each is refused.
    torn = [rss[0] + b"<x>", b"</x>" + rss[1]]
    found = fragment_problems("rss", torn, ids[:2])
    assert [
        p.startswith(f"{i}: {shape}") for p, i in zip(found, ids, strict=False)
    ] == [
        True,
        True,
    ]
    # An RSS item needs a title or a description.
    untitled = re.sub(rb"<title>[^<]*</title>", b"<title> </title>", rss_item)
    untitled = re.sub(rb"\n *<description>[^<]*</description>", b"", untitled)
    assert fragment_problems("rss", [untitled], [item_id]) == [
        f"{item_id}: neither title nor description"
    ]
    found = fragment_problems(
        "atom", [re.sub(rb"<updated>[^<]*", b"<updated>gestern", atom_entry)], ids[:1]
    )
    assert "entry 1: <updated> missing or not RFC 3339" in found[0]
    # Parsers read a carriage return as a line feed: x\ry would be x\ny.
    returned = item_id[:-1] + "\r" + item_id[-1]
    assert fragment_problems(
        "atom", [atom_entry.replace(item_id.encode(), returned.encode())], [returned]
    ) == [f"{returned}: a carriage return in an id"]
    escaped = atom_entry.replace(b"<id>", b"<id>&amp;", 1)
    assert fragment_problems("atom", [escaped], [item_id]) == [
        f"{item_id}: expected that id, found {'&' + item_id!r}"
    ]


HOSTILE = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1)


@settings(deadline=None, max_examples=200)
@given(HOSTILE, HOSTILE, HOSTILE, st.sampled_from(["rss", "atom"]))
def test_a_frame_of_its_form_is_a_well_formed_valid_feed(
    title: str, description: str, author: str, kind: Literal["rss", "atom"]
) -> None:
    """Whatever the channel's text: a frame that has its form parses as a
    feed that meets every rule, declaring the namespaces fragments use; text
    XML allows always gives that form."""
    spec = _FRAME_SPEC
    spec = dataclasses.replace(
        spec, kind=kind, title=title, description=description, author=author
    )
    frame = b"".join(archive_frame(spec))
    acceptable = all(map(_xml_char, title + description + author))
    if archive_problems(kind, frame, []) == []:
        assert xml_problems(frame) == []
        declared = etree.fromstring(frame).nsmap
        assert {
            "rss": {"dc": "http://purl.org/dc/elements/1.1/", "atom": ATOM_NS},
            "atom": {None: ATOM_NS},
        }[kind].items() <= declared.items()
    else:
        assert not acceptable or not title.strip() or not description.strip()


ATOM_NS = "http://www.w3.org/2005/Atom"
_FRAME_SPEC = ArchiveSpec(
    kind="rss",
    number=2,
    feed_id="https://example.org/atom.xml",
    title="T",
    description="D",
    language="de",
    author="A",
    home_url="https://example.org/",
    timezone=ZoneInfo("Europe/Berlin"),
    self_url="https://example.org/archive/rss-0002.xml",
    current_url="https://example.org/rss.xml",
    prev_url="https://example.org/archive/rss-0001.xml",
    updated=START,
    items=(),
)


@settings(deadline=None, max_examples=300)
@given(
    items(),
    HOSTILE,
    HOSTILE,
    st.sampled_from([b"", b"<", b">", b"&", b"&amp;", b"&#1;", b"]]>", b"<x/>"]),
)
def test_a_fragment_of_its_form_is_a_well_formed_valid_item(
    chosen: list[Item], title: str, text: str, inserted: bytes
) -> None:
    """Whatever the text (controls, noncharacters, markup) and whatever bytes
    are slipped into it: a fragment that has its form parses, in a document,
    as an item that meets every rule; text without characters XML forbids
    always gives fragments of their form."""
    chosen[0] = dataclasses.replace(
        chosen[0], given_title=title, paragraphs=(text, *chosen[0].paragraphs)
    )
    zone = ZoneInfo("Europe/Berlin")
    cache = FragmentCache()
    acceptable = all(map(_xml_char, title + text)) and inserted in (b"", b"&amp;")
    kinds: tuple[tuple[Literal["rss", "atom"], bytes, bytes], ...] = (
        (
            "rss",
            b'<rss xmlns:dc="http://purl.org/dc/elements/1.1/" version="2.0">'
            b"<channel><title>t</title><link>l</link><description>d</description>"
            b'<atom:link xmlns:atom="http://www.w3.org/2005/Atom" href="h" rel="self"/>',
            b"</channel></rss>",
        ),
        (
            "atom",
            b'<feed xmlns="http://www.w3.org/2005/Atom"><id>f</id><title>t</title>'
            b"<updated>2000-01-01T00:00:00Z</updated><author><name>a</name></author>"
            b'<link href="h" rel="self"/>',
            b"</feed>",
        ),
    )
    for kind, head, tail in kinds:
        take = cache.rss if kind == "rss" else cache.atom
        for item in chosen:
            fragment = take(item, zone)
            if item is chosen[0]:
                fragment = fragment.replace(b"</title>", inserted + b"</title>", 1)
            if fragment_problems(kind, [fragment], [item.id]) == []:
                assert xml_problems(head + fragment + tail) == []
            else:
                assert item is chosen[0]
                assert not acceptable


def _xml_char(c: str) -> bool:
    code = ord(c)
    return (
        code in (0x9, 0xA, 0xD)
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or code >= 0x10000
    )


def test_frames_out_of_their_form_are_refused() -> None:
    archives = plan_feeds(_build(_config()).items, _config()).archives
    kinds = {page.spec.kind for page in archives}
    assert kinds == {"rss", "atom"}
    for page in archives:  # first, middle and newest pages, every feed
        assert not archive_problems(
            page.spec.kind, b"".join(archive_frame(page.spec)), []
        )
    spec = archives[0].spec
    assert spec.kind == "rss"
    frame = b"".join(archive_frame(spec))
    assert archive_problems("rss", frame, ["a", "b", "a"]) == [
        "duplicate item id(s) 'a'"
    ]
    assert archive_problems("rss", frame.replace(b"<title>", b"<title/><x>", 1), [])
    shape = "not an archive document's frame as feedpub writes it"
    untitled = re.sub(rb"<title>[^<]*</title>", b"<title> </title>", frame, count=1)
    assert archive_problems("rss", untitled, []) == ["channel has no <title>"]
    for broken, found in (
        (frame.replace(b"</title>", b"\x01</title>", 1), "not well-formed XML"),
        (frame.replace(b"</title>", b"&</title>", 1), "not well-formed XML"),
        (frame.replace(b"</title>", b"\xff</title>", 1), "not well-formed XML"),
        (re.sub(rb"<pubDate>[^<]*", b"<pubDate>gestern", frame), shape),
        (frame.replace(b"<fh:archive/>", b"<fh:archive/><x/>", 1), shape),
        (re.sub(rb' *<atom:link [^>]*rel="self"[^>]*>\n', b"", frame), "self"),
        (frame.replace(b"</channel>", b"<x/></channel>", 1), shape),
    ):
        assert broken != frame
        problems = archive_problems("rss", broken, [])
        assert len(problems) == 1, problems
        assert found in problems[0], problems
    # Fragments may use dc:creator: a frame that does not declare dc fails.
    undeclared = frame.replace(b' xmlns:dc="http://purl.org/dc/elements/1.1/"', b"")
    assert archive_problems("rss", undeclared, []) == [
        'the root does not declare xmlns:dc="http://purl.org/dc/elements/1.1/"'
    ]


def test_a_build_refuses_an_archive_fragment_that_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import feedpub.render.archive as archive

    made = archive._fragments

    def broken(item: Item, zone: dt.tzinfo) -> tuple[bytes, bytes]:
        rss, atom = made(item, zone)
        return rss.replace(b"</item>", b"", 1), atom

    monkeypatch.setattr(archive, "_fragments", broken)
    with pytest.raises(
        ValidationError,
        match=r"archive/atom-0001.xml: RSS fragments: tag:.* not an <item> element",
    ):
        _build(_config())


def test_a_build_refuses_a_document_that_is_not_its_frame_and_items(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import feedpub.site as site

    rendered = site._render_archive

    def padded(spec: ArchiveSpec, fragments: FragmentCache) -> bytes:
        return rendered(spec, fragments) + b" "

    monkeypatch.setattr(site, "_render_archive", padded)
    with pytest.raises(ValidationError, match="is not its frame with its items"):
        _build(_config())
