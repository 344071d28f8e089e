"""Items + config -> what to publish: one feed per scope and the HTML pages.

Output paths are public API (subscribers depend on them) and live here only.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from feedpub.config import Config
from feedpub.model import (
    ArchiveKind,
    ArchivePage,
    ArchiveSpec,
    FeedSpec,
    Item,
    PageSpec,
)
from feedpub.state import STATE_FILE, Retired
from feedpub.text import MAIN_SLUG

RSS = "rss.xml"
ATOM = "atom.xml"
INDEX = "index.html"
TOPIC_DIR = "topics/{slug}/"
ARCHIVE = "archive/{year:04d}.html"
# RFC 5005 archive documents, below the feed's folder like its rss.xml; page 1
# holds the oldest items. No clash with the yearly pages: .xml, not .html.
ARCHIVE_FEED = "archive/{kind}-{number:04d}.xml"
KINDS: tuple[ArchiveKind, ...] = ("rss", "atom")
JSON_FEED = "feed.json"
OPML = "feeds.opml"
STYLESHEET = "feed.xsl"
EMBED = "embed/{slug}.html"  # the main feed's page is embed/all.html
EMBED_SCRIPT = "embed.js"

STATE = STATE_FILE
_NO_DATE = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def archive_path(prefix: str, kind: ArchiveKind, number: int) -> str:
    """An archive document of the feed in folder ``prefix`` (RSS or Atom)."""
    return f"{prefix}{ARCHIVE_FEED.format(kind=kind, number=number)}"


def embed_path(key: str) -> str:
    """The embed page of a feed: by topic slug, ``MAIN_SLUG`` for the main feed."""
    return EMBED.format(slug=key or MAIN_SLUG)


# Removing a topic from the config retires its feeds: they stay at their URLs,
# now holding one item that says the topic ended and where to subscribe instead.
# feedpub never deletes a published file; see README, "Removing a topic".
_RETIRED = {
    "de": (
        "Der Feed „{name}“ wird nicht mehr aktualisiert",
        "Das Thema „{name}“ wird seit dem {since} nicht mehr als eigener Feed"
        " veröffentlicht. Alle Meldungen stehen weiter im Feed {main}",
    ),
    "en": (
        "The feed “{name}” is no longer updated",
        "The topic “{name}” has not been published as a feed of its own since"
        " {since}. All news is still in the feed {main}",
    ),
}


def item_link(item: Item, base_url: str, anchor: str | None = None) -> str:
    """The item's ``@link:``, else its anchor in the yearly archive page."""
    return item.link or anchor_link(base_url, item.day, anchor or item.anchor)


def anchor_link(base_url: str, day: dt.date, anchor: str) -> str:
    """The URL of an item's anchor in the yearly archive page of ``day``."""
    return f"{base_url}{ARCHIVE.format(year=day.year)}#{anchor}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """Everything one build publishes, before rendering."""

    feeds: tuple[tuple[str, FeedSpec], ...]  # (folder prefix, spec)
    pages: tuple[PageSpec, ...]
    embeds: tuple[PageSpec, ...] = ()  # one iframe-able page per feed
    archives: tuple[ArchivePage, ...] = ()  # RFC 5005 archive documents


@dataclass(frozen=True, slots=True, kw_only=True)
class Window:
    """The newest items of all, given to ``plan_feeds`` without the others.

    A build that only added items at the top of its sources plans the items
    of the newest years (the window) alone; these say what the others add.
    """

    older: Mapping[str, int]  # feed key -> its items before the window
    years: tuple[int, ...]  # every year with items, in the window or before
    oldest: dt.datetime  # the first publication time of all items


def plan_archives(
    prefix: str,
    chosen: Sequence[Item],
    feed: FeedSpec,
    size: int,
    base_url: str,
    older: int = 0,
) -> list[ArchivePage]:
    """The RFC 5005 archive documents of one feed, RSS and Atom.

    Pages are counted from the oldest item: page 1 holds the oldest ``size``
    items, page 2 the next ``size``, and so on. Only full pages are published;
    the newest, incomplete chunk is in the subscription feed (``size`` is at
    most its limit). So a new item never changes a full page: when the chunk
    fills up, one new page appears, and its predecessor gains its
    ``next-archive`` link.

    Args:
        prefix: the feed's folder below the output ("" or ``topics/SLUG/``).
        chosen: the feed's items, newest first.
        feed: the subscription feed (its metadata and URLs).
        size: items per archive document.
        base_url: the absolute URL of the output folder.
        older: the feed's items older than ``chosen`` (see ``Window``): pages
            are counted from the oldest of all, and only those of items in
            ``chosen`` alone are planned.
    """
    oldest_first = chosen[::-1]
    count = (len(oldest_first) + older) // size
    # Each page's items and date, shared by its RSS and Atom documents.
    chunks = []
    for number in range(1, count + 1):
        first = (number - 1) * size - older
        if first < 0:
            continue  # a page with items before the window: not planned
        items = tuple(oldest_first[first : first + size][::-1])
        chunks.append((number, items, max(i.modified for i in items)))
    pages: list[ArchivePage] = []
    for kind in KINDS:
        current = feed.rss_url if kind == "rss" else feed.atom_url

        def url(number: int, kind: ArchiveKind = kind) -> str:
            if not 1 <= number <= count:
                return ""
            return f"{base_url}{archive_path(prefix, kind, number)}"

        for number, items, updated in chunks:
            spec = ArchiveSpec(
                kind=kind,
                number=number,
                feed_id=feed.atom_url,
                title=feed.title,
                description=feed.description,
                language=feed.language,
                author=feed.author,
                home_url=feed.home_url,
                timezone=feed.timezone,
                self_url=url(number),
                current_url=current,
                prev_url=url(number - 1),
                next_url=url(number + 1),
                updated=updated,
                items=items,
            )
            pages.append(
                ArchivePage(path=archive_path(prefix, kind, number), spec=spec)
            )
    return pages


def newest_first(items: Sequence[Item]) -> list[Item]:
    """Sort by publication time, newest first; ids break ties deterministically."""
    return sorted(items, key=lambda i: (i.published, i.id), reverse=True)


def listing(feed: FeedSpec) -> FeedSpec:
    """A feed as a list of feeds shows it: names and addresses, no items, no
    date, no link to its newest archive document.

    Pages and the OPML get these, so a new item changes only the outputs that
    show it (their keys, ``keys.py``, do not move with other feeds' items or
    archive documents).
    """
    return dataclasses.replace(
        feed, items=(), updated=_NO_DATE, rss_archive_url="", atom_archive_url=""
    )


def retirement_notice(topic: Retired, config: Config) -> Item:
    """The one item a retired topic's feeds keep: the topic ended, subscribe here."""
    language = config.language.split("-")[0].casefold()
    title, text = _RETIRED.get(language, _RETIRED["en"])
    since = topic.since.astimezone(config.timezone).date()
    shown = since.strftime("%d.%m.%Y") if language == "de" else since.isoformat()
    main = f"{config.base_url}{RSS}"
    return Item(
        id=f"tag:{config.id_authority},{since.isoformat()}:retired/{topic.slug}",
        given_anchor=f"retired-{topic.slug}",
        given_title=title.format(name=topic.name),
        paragraphs=(text.format(name=topic.name, since=shown, main=main),),
        day=since,
        published=topic.since,
        link=config.home_url or f"{config.base_url}{INDEX}",
    )


def plan_feeds(
    items: Sequence[Item],
    config: Config,
    retired: Sequence[Retired] = (),
    window: Window | None = None,
) -> Plan:
    """Plan the main feed, one feed per topic (also when empty) and the pages.

    Args:
        items: tagged and linked items, at least one.
        config: the validated configuration.
        retired: topics removed from the config; each keeps its feed files,
            holding only a notice (see ``retirement_notice``).
        window: ``items`` are the newest of more, all those of their years
            and of every later one, and each feed's newest ``config.limit``
            and more: the archive documents and yearly pages that show
            older items are left out (an earlier build planned them, the same).
    """
    ordered = newest_first(items)
    oldest = window.oldest if window else min(i.published for i in ordered)
    before = window.older if window else {}

    def spec(
        prefix: str,
        key: str,
        title: str,
        description: str,
        chosen: list[Item],
        *,
        archived: bool = True,
    ) -> FeedSpec:
        # A feed is as new as its newest change; an empty feed is dated at the
        # start of the archive: a date from the data that does not move with
        # every new item elsewhere.
        updated = max((i.modified for i in chosen[: config.limit]), default=oldest)
        home = (
            config.home_url
            if not key and config.home_url
            else f"{config.base_url}{prefix}{INDEX}"
        )
        archived = archived and config.archives
        total = len(chosen) + before.get(key, 0)
        newest = total // config.archive_size if archived else 0
        archive = {
            kind: f"{config.base_url}{archive_path(prefix, kind, newest)}"
            if newest
            else ""
            for kind in KINDS
        }
        return FeedSpec(
            key=key,
            title=title,
            description=description,
            language=config.language,
            author=config.author,
            home_url=home,
            rss_url=f"{config.base_url}{prefix}{RSS}",
            atom_url=f"{config.base_url}{prefix}{ATOM}",
            updated=updated,
            timezone=config.timezone,
            items=tuple(chosen[: config.limit]),
            json_url=f"{config.base_url}{prefix}{JSON_FEED}",
            embed_url=f"{config.base_url}{embed_path(key)}",
            # Relative, so browsers load it from the feed's own origin (XSLT
            # must be same-origin) wherever the folder is served.
            stylesheet=(
                posixpath.relpath(STYLESHEET, prefix or ".")
                if config.stylesheet
                else ""
            ),
            rss_archive_url=archive["rss"],
            atom_archive_url=archive["atom"],
        )

    feeds: list[tuple[str, FeedSpec]] = []
    archives: list[ArchivePage] = []
    older: dict[str, str] = {}  # feed key -> the first item its page leaves out

    def add(prefix: str, feed: FeedSpec, chosen: list[Item]) -> None:
        feeds.append((prefix, feed))
        if config.archives:
            archives.extend(
                plan_archives(
                    prefix,
                    chosen,
                    feed,
                    config.archive_size,
                    config.base_url,
                    before.get(feed.key, 0),
                )
            )
        if len(chosen) > config.limit:
            first = chosen[config.limit]
            older[feed.key] = (
                f"{config.base_url}{ARCHIVE.format(year=first.day.year)}#{first.anchor}"
            )

    add("", spec("", "", config.title, config.description, ordered), ordered)
    by_topic: dict[str, list[Item]] = {t.slug: [] for t in config.topics}
    for item in ordered:
        for slug in item.topics:
            if slug in by_topic:
                by_topic[slug].append(item)
    for topic in config.topics:
        prefix = TOPIC_DIR.format(slug=topic.slug)
        chosen = by_topic[topic.slug]
        description = topic.description or f"{config.description} – {topic.name}"
        add(
            prefix,
            spec(
                prefix,
                topic.slug,
                f"{config.title} – {topic.name}",
                description,
                chosen,
            ),
            chosen,
        )

    all_feeds = tuple(listing(f) for _, f in feeds)
    for gone in retired:
        prefix = TOPIC_DIR.format(slug=gone.slug)
        notice = retirement_notice(gone, config)
        feeds.append(
            (
                prefix,
                spec(
                    prefix,
                    gone.slug,
                    f"{config.title} – {gone.name}",
                    notice.title,
                    [notice],
                    archived=False,
                ),
            )
        )
    years = sorted({i.day.year for i in ordered}, reverse=True)
    years_urls = tuple(
        (year, f"{config.base_url}{ARCHIVE.format(year=year)}")
        for year in (sorted(window.years, reverse=True) if window else years)
    )
    pages = [
        PageSpec(
            path=f"{prefix}{INDEX}",
            title=feed.title,
            language=config.language,
            timezone=config.timezone,
            items=feed.items,
            base_url=config.base_url,
            feed=feed,
            feeds=all_feeds,
            archives=years_urls,
            opml_url=f"{config.base_url}{OPML}",
            older_url=older.get(feed.key, ""),  # retired feeds have none
        )
        for prefix, feed in feeds
    ]
    by_year: dict[int, list[Item]] = {year: [] for year in years}
    for item in ordered:
        by_year[item.day.year].append(item)
    for year in years:
        pages.append(
            PageSpec(
                path=ARCHIVE.format(year=year),
                title=f"{config.title} – {year}",
                language=config.language,
                timezone=config.timezone,
                items=tuple(by_year[year]),
                base_url=config.base_url,
                feeds=all_feeds,
                archives=years_urls,
                full_text=True,
                opml_url=f"{config.base_url}{OPML}",
            )
        )
    embeds = tuple(
        PageSpec(
            path=embed_path(feed.key),
            title=feed.title,
            language=config.language,
            timezone=config.timezone,
            items=feed.items[: config.embed_limit],
            base_url=config.base_url,
            feed=listing(feed),
        )
        for _, feed in feeds  # a retired topic's embed page shows its notice
    )
    return Plan(
        feeds=tuple(feeds),
        pages=tuple(pages),
        embeds=embeds,
        archives=tuple(archives),
    )
