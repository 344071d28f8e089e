"""Frozen data passed between the stages. No I/O here."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, Literal, TypeVar

from feedpub.basics import Diagnostic as Diagnostic
from feedpub.basics import Severity as Severity
from feedpub.basics import Topic as Topic

ArchiveKind = Literal["rss", "atom"]
_Record = TypeVar("_Record")
_new = object.__new__


def evolve(record: _Record, /, **changes: Any) -> _Record:
    """``dataclasses.replace`` for the frozen, slotted records of feedpub, at
    a fraction of its cost: a build replaces each item a few times.

    Like ``replace``, fields that are not ``__init__`` arguments get their
    defaults again, and ``__post_init__`` checks the result. Unlike it, a
    change to a field that is not an ``__init__`` argument is a TypeError,
    and fields with a ``default_factory`` that are not ``__init__`` arguments
    and ``InitVar``s are not supported: feedpub's records have neither.
    """
    kind: type = type(record)
    layout = _layout(kind)
    new: Any = _new(kind)
    for put, get in layout.copied:
        put(new, get(record))
    for put, default in layout.fixed:
        put(new, default)
    return _changed(new, layout, changes)  # type: ignore[no-any-return]


def amend(record: _Record, /, **changes: Any) -> _Record:
    """``evolve`` without the copy, for a record that nothing else holds
    (fresh from a reader, or from a pickle): its fields change in its own
    slots, and ``__post_init__`` checks it again. A large build gives each
    of its items its topics and its id this way."""
    kind: type = type(record)
    return _changed(record, _layout(kind), changes)


def _changed(record: _Record, layout: _Layout, changes: dict[str, Any]) -> _Record:
    """``record`` with ``changes`` put in its slots, checked."""
    for name, value in changes.items():
        put_field = layout.put.get(name)
        if put_field is None:
            unknown = ", ".join(n for n in changes if n not in layout.put)
            raise TypeError(f"{type(record).__name__} has no field(s) {unknown}")
        put_field(record, value)
    check = getattr(record, "__post_init__", None)
    if check is not None:
        check()
    return record


@dataclass(frozen=True, slots=True)
class _Layout:
    """How ``evolve`` fills a record: through its slots' own setters and
    getters, which skip the lookups ``setattr`` and ``getattr`` make."""

    copied: tuple[tuple[Any, Any], ...]  # (set, get) of each init field
    fixed: tuple[tuple[Any, object], ...]  # (set, default) of the other fields
    put: dict[str, Any]  # the setter of each init field, by name


@functools.cache
def _layout(kind: type) -> _Layout:
    copied: list[tuple[Any, Any]] = []
    fixed: list[tuple[Any, object]] = []
    put: dict[str, Any] = {}
    for f in fields(kind):
        slot = getattr(kind, f.name)  # a member descriptor: the record has slots
        if f.init:
            copied.append((slot.__set__, slot.__get__))
            put[f.name] = slot.__set__
        elif f.default is not MISSING:
            fixed.append((slot.__set__, f.default))
        else:
            raise TypeError(f"{kind.__name__}.{f.name}: no default to evolve with")
    return _Layout(copied=tuple(copied), fixed=tuple(fixed), put=put)


def item_anchor(day: dt.date, number: int) -> str:
    """The element id of the ``number``-th item of ``day`` in the pages."""
    return f"item-{day.isoformat()}-{number}"


def item_number(item_id: str) -> int:
    """The day's item number at the end of an id (``...:N``), else 0."""
    tail = item_id.rpartition(":")[2]
    return int(tail) if tail.isdigit() else 0


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceLine:
    """One line of a source document with its 1-based line number."""

    number: int
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Field:
    """An explicit ``@key: value`` line given below an item's header."""

    key: str
    value: str
    line: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Block:
    """An item's header and the lines below it, as the source has them."""

    source: str
    line: int  # of the header
    day: dt.date
    date_text: str
    byline: str | None
    header: str  # the header line
    # The lines below the header up to the next header line are
    # ``document[start:end]``: the decoded document or, for a document split
    # in pieces (parse.split_source), its UTF-8 bytes, shared by its blocks.
    document: str | bytes = field(repr=False, compare=False)
    head: int = 0  # where the header line starts in ``document``
    start: int
    end: int

    @property
    def body(self) -> str:
        """The lines below the header, "\\n"-joined, up to the next header."""
        part = self.document[self.start : self.end]
        return part if isinstance(part, str) else part.decode()

    def body_bytes(self) -> bytes:
        """The body in UTF-8, as in the document."""
        part = self.document[self.start : self.end]
        return part.encode() if isinstance(part, str) else part


@dataclass(frozen=True, slots=True, kw_only=True)
class RawItem:
    """An item as the parser found it: header data plus unprocessed lines."""

    source: str
    line: int
    day: dt.date
    date_text: str
    byline: str | None
    fields: tuple[Field, ...]
    paragraphs: tuple[tuple[SourceLine, ...], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Category:
    """A category of an item: a topic (slug, name) or an explicit tag."""

    term: str
    label: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Item:
    """One normalised news item, ready to be tagged and rendered."""

    id: str
    # The element id of the item in the pages when it is not the one its day
    # and id give (``anchor``), as for a notice; "" for every item a build
    # reads: a large build holds every item, and the anchor of each would
    # be one more string.
    given_anchor: str = ""
    paragraphs: tuple[str, ...]
    # The title, unless it is the start of the first paragraph: the @title:,
    # the day (an item without text, or whose text gives no title), "…" (a
    # first sentence cut before its first word), or what the maker of the
    # item gave. "" when ``title_end`` is set.
    given_title: str = ""
    day: dt.date
    published: dt.datetime
    updated: dt.datetime | None = None  # last content change; None: as published
    link: str = ""  # the explicit @link:, else set by identity.reconcile()
    author: str | None = None
    tags: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()  # topic slugs, in config order
    categories: tuple[Category, ...] = ()
    source: str = ""
    line: int = 0
    tags_line: int = 0  # the line of the @tags: field, for messages
    fingerprint: str = ""  # digest of what readers see, set by identity.reconcile()
    # The digest of the item's source block under this build's code and config
    # (site.block_digest); "" when not known or when the block gave warnings.
    block: str = ""
    # Where its block is in the sources (state.place); 0 when not known.
    at: int = 0
    # Set on a stub: an item of an unchanged day, made from its state record
    # without reading its text; site.ItemLoader reads it when it is rendered.
    pending: Block | None = None
    # The summary is the first paragraph cut to its first ``summary_cut``
    # characters and "…" (``text.cut_point``); None: the whole paragraph.
    # Kept as a number: a large build holds every item, and a summary string
    # beside its paragraph would add a third to the text it holds. Whatever
    # changes ``paragraphs`` must set it again (normalise.normalise_item does).
    summary_cut: int | None = None
    # A title derived from the text is the first ``title_end`` characters of
    # the first paragraph, and "…" when ``title_cut`` (``text.title_span``);
    # 0: the title is ``given_title``. Kept as numbers like ``summary_cut``:
    # most derived titles are cut, and the "…" alone makes Python store one
    # at two bytes a character. Whatever changes ``paragraphs`` must set
    # them again (normalise.normalise_item does).
    title_end: int = 0
    title_cut: bool = False

    def __post_init__(self) -> None:
        offset = self.published.utcoffset()
        if offset is None or offset != dt.timedelta(0):
            raise ValueError(f"published of {self.id!r} must be aware UTC")
        if self.updated is not None and self.updated < self.published:
            raise ValueError(f"updated of {self.id!r} is before its publication")
        if self.title_end and (
            not self.paragraphs or self.title_end > len(self.paragraphs[0])
        ):
            raise ValueError(f"title of {self.id!r} ends past its first paragraph")

    @property
    def anchor(self) -> str:
        """The element id of the item in the pages: ``given_anchor``, else
        ``item-DAY-N``, N the day's item number at the end of its id."""
        if self.given_anchor:
            return self.given_anchor
        return item_anchor(self.day, item_number(self.id))

    @property
    def title(self) -> str:
        """The title: ``given_title``, or derived from the text (``title_end``)."""
        if not self.title_end:
            return self.given_title
        head = self.paragraphs[0][: self.title_end]
        return head + "…" if self.title_cut else head

    @property
    def summary(self) -> str:
        """The first paragraph, cut (see ``summary_cut``); "" without text."""
        if not self.paragraphs:
            return ""
        first = self.paragraphs[0]
        return first if self.summary_cut is None else first[: self.summary_cut] + "…"

    @property
    def modified(self) -> dt.datetime:
        """When the item's content last changed (its publication, if never)."""
        return self.published if self.updated is None else self.updated

    def tokens(self) -> set[str]:
        """The distinct white-space-separated tokens of the title and the
        text: what tagging (``tagging.Tagger.tag``) and the word sketch
        (``identity.sketch``) look at, split once for both."""
        found = set(self.title.split())
        for paragraph in self.paragraphs:
            found.update(paragraph.split())
        return found


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedSpec:
    """Everything a renderer needs for one feed; renderers never read config."""

    key: str  # "" for the main feed, else the topic slug
    title: str
    description: str
    language: str
    author: str
    home_url: str  # the HTML page the feed belongs to
    rss_url: str
    atom_url: str
    updated: dt.datetime
    timezone: dt.tzinfo
    items: tuple[Item, ...]
    json_url: str = ""  # the JSON Feed; "" when none is published
    embed_url: str = ""  # the iframe-able page of the newest items
    stylesheet: str = ""  # XSL href for RSS and Atom, relative to the feed; "" for none
    # The newest RFC 5005 archive document of each format; "" while there is none.
    rss_archive_url: str = ""
    atom_archive_url: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ArchiveSpec:
    """One RFC 5005 archive document: a full page of a feed's older items."""

    kind: ArchiveKind
    number: int  # 1 holds the feed's oldest items
    feed_id: str  # the Atom id of the logical feed: its subscription document's
    title: str
    description: str
    language: str
    author: str
    home_url: str
    timezone: dt.tzinfo
    self_url: str
    current_url: str  # the subscription document of the same format
    prev_url: str = ""  # the next older archive document; "" for the first
    next_url: str = ""  # the next newer archive document; "" for the newest
    updated: dt.datetime  # the newest change among the page's items
    items: tuple[Item, ...]  # newest first, as in the subscription feed


@dataclass(frozen=True, slots=True, kw_only=True)
class ArchivePage:
    """An archive document to publish at ``path`` (relative to the output)."""

    path: str
    spec: ArchiveSpec


@dataclass(frozen=True, slots=True, kw_only=True)
class PageSpec:
    """One HTML page: a feed's landing page or a year of the archive."""

    path: str
    title: str
    language: str
    timezone: dt.tzinfo
    items: tuple[Item, ...]
    base_url: str
    feed: FeedSpec | None = None  # the feed a landing page belongs to
    feeds: tuple[FeedSpec, ...] = ()  # all feeds, for the list of subscriptions
    archives: tuple[tuple[int, str], ...] = ()  # (year, URL) of every archive page
    full_text: bool = False
    opml_url: str = ""  # the OPML list of every feed
    older_url: str = ""  # where the items older than the page's continue
