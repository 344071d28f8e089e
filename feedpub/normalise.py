"""Raw items -> normalised items: clean text, titles, timestamps and ids.

Date-only items (the source gives no time of day) get this policy:

* The first-listed item of a day is placed at 12:00 UTC on that date. 12:00 UTC
  falls on the same calendar date everywhere from UTC-11 to UTC+11, and is
  13:00 (winter) or 14:00 (summer time) in Europe/Berlin. Feeds show it in the
  configured zone (``dates.local_time``). Where 12:00 UTC or the hour before
  it, which the day's items take, is on another date (a zone more than 11
  hours from UTC), the first is placed at local noon instead, so the
  publisher's own date holds for every item of the day.
* Items of the same day keep their source order: the source lists newest first,
  so each later-listed item of that day is one minute older (3600 / count
  seconds older, at least one, when a day has more than 60 items), which keeps
  every timestamp distinct.

Ids are RFC 4151 ``tag:`` URIs: ``tag:AUTHORITY,YYYY-MM-DD:N``, where N counts
the items of that day from the oldest (the last-listed) up. They do not depend
on the text, the title, the build time or the output folder, so fixing a typo
keeps the id, and a new item added on top of a day leaves the older ids alone.
"""

from __future__ import annotations

import datetime as dt
import functools
import unicodedata
from collections import defaultdict
from collections.abc import Sequence

from feedpub.config import Config
from feedpub.dates import local_time
from feedpub.errors import SourceError
from feedpub.model import Diagnostic, Item, RawItem, SourceLine
from feedpub.text import collapse_space, cut_point, strip_illegal, title_span, to_uri

UTC = dt.UTC
_NOON = dt.time(12)
_HOUR = dt.timedelta(hours=1)


def item_time(day: dt.date, index: int, count: int, zone: dt.tzinfo) -> dt.datetime:
    """Timestamp of the ``index``-th listed of ``count`` date-only items of a day.

    The first-listed is at 12:00 UTC, unless 12:00 UTC or the hour before it,
    where the day's items go (further back on a day of more than 3601 items),
    is shown on another date in ``zone``: then at 12:00 local time, as
    ``local_time`` shows it (so 12:00:00 also where the zone's offset has
    seconds). The others follow one step older each. Up to 3601 items, the
    window does not depend on their number: a day's first item keeps its
    time when another is added.
    """
    moment, step = _day_times(day, count, zone)
    return moment - index * step


# The items of a day come one after the other: each but the first takes the
# day's times from here.
@functools.lru_cache(maxsize=1 << 10)
def _day_times(
    day: dt.date, count: int, zone: dt.tzinfo
) -> tuple[dt.datetime, dt.timedelta]:
    """The time of the first-listed of ``count`` items of ``day``, and the
    step between them (``item_time``)."""
    step = dt.timedelta(seconds=60 if count <= 60 else max(1, 3600 // count))
    moment = dt.datetime.combine(day, _NOON, tzinfo=UTC)
    oldest = moment - max(_HOUR, (count - 1) * step)
    if local_time(moment, zone).date() != day or local_time(oldest, zone).date() != day:
        noon = dt.datetime.combine(day, _NOON, tzinfo=zone)
        moment = noon.replace(tzinfo=local_time(noon, zone).tzinfo).astimezone(UTC)
    return moment, step


def clean_text(
    lines: Sequence[SourceLine], source: str, warnings: list[Diagnostic]
) -> str:
    """Join a paragraph's lines into one clean string, reporting bad characters."""
    parts: list[str] = []
    for line in lines:
        text, removed = strip_illegal(unicodedata.normalize("NFC", line.text))
        if removed:
            shown = ", ".join(sorted(set(removed)))
            warnings.append(
                Diagnostic(
                    source=source,
                    line=line.number,
                    message=f"removed {len(removed)} character(s) not allowed"
                    f" in XML ({shown})",
                )
            )
        parts.append(text)
    return collapse_space(" ".join(parts))


def normalise_items(
    raw_items: Sequence[RawItem], config: Config
) -> tuple[list[Item], list[Diagnostic]]:
    """Normalise every raw item, in source order.

    Args:
        raw_items: all items of all documents, documents in build order.
        config: supplies the time zone, the id authority and the lengths.

    Returns:
        The items (same order, same count) and the warnings found.

    Raises:
        SourceError: a field holds a value that cannot be used (a bad link).
    """
    warnings: list[Diagnostic] = []
    errors: list[Diagnostic] = []
    items = [
        normalise_item(raw, rank, count, config, warnings, errors)
        for raw, (rank, count) in zip(
            raw_items, day_positions([raw.day for raw in raw_items]), strict=True
        )
    ]
    if errors:
        raise SourceError(errors)
    return items, warnings


def day_positions(days: Sequence[dt.date]) -> list[tuple[int, int]]:
    """For each item (by its day, in source order): its rank among the items
    of its day and how many that day has; ``normalise_item`` needs both."""
    by_day: dict[dt.date, list[int]] = defaultdict(list)
    for index, day in enumerate(days):
        by_day[day].append(index)
    positions = [(0, 0)] * len(days)
    for indexes in by_day.values():
        for rank, index in enumerate(indexes):
            positions[index] = (rank, len(indexes))
    return positions


def normalise_item(
    raw: RawItem,
    rank: int,
    count: int,
    config: Config,
    warnings: list[Diagnostic],
    errors: list[Diagnostic],
    block: str = "",
    at: int = 0,
) -> Item:
    """Normalise one raw item, the ``rank``-th listed of ``count`` on its day,
    appending what it finds to ``warnings`` and ``errors``; ``block`` is the
    digest of its source block (``site.block_digest``) and ``at`` where it is
    (``state.place``), kept on the item."""
    paragraphs = tuple(
        text
        for para in raw.paragraphs
        if (text := clean_text(para, raw.source, warnings))
    )
    fields = {f.key: f for f in raw.fields}
    values = {
        key: clean_text([SourceLine(number=f.line, text=f.value)], raw.source, warnings)
        for key, f in fields.items()
    }
    number = count - rank  # counted from the oldest item of the day
    link = ""
    if "link" in values:
        uri = to_uri(values["link"])
        if uri is None:
            errors.append(
                Diagnostic(
                    source=raw.source,
                    line=fields["link"].line,
                    message="expected an absolute http(s) URL after @link:,"
                    f" found {values['link']!r}",
                    severity="error",
                )
            )
        link = uri or ""
    title = values.get("title") or ""
    title_end, title_cut = 0, False
    if not title and paragraphs:
        title_end, title_cut = title_span(paragraphs[0], config.title_length)
        if not title_end:  # nothing before the cut: "…" on its own
            title = "…" if title_cut else ""
    if not title and not title_end:
        title = raw.day.strftime("%d.%m.%Y")
    tags: list[str] = []  # first spelling wins, repeats in any case dropped
    for part in values.get("tags", "").split(","):
        tag = part.strip()
        if tag and tag.casefold() not in {t.casefold() for t in tags}:
            tags.append(tag)
    try:
        published = item_time(raw.day, rank, count, config.timezone)
    except OverflowError:  # 31.12.9999 far from UTC: a time in the year 10000
        published = dt.datetime.combine(raw.day, _NOON, tzinfo=UTC)
        errors.append(
            Diagnostic(
                source=raw.source,
                line=raw.line,
                message="expected a date whose items fit before the year 10000"
                f" in time zone {config.timezone}, found {raw.date_text!r}",
                severity="error",
            )
        )
    byline = None
    if raw.byline is not None:
        byline = clean_text(
            [SourceLine(number=raw.line, text=raw.byline)], raw.source, warnings
        )
    return Item(
        id=f"tag:{config.id_authority},{raw.day.isoformat()}:{number}",
        given_title=title,
        paragraphs=paragraphs,
        day=raw.day,
        published=published,
        link=link,
        author=values.get("author") or byline or None,
        tags=tuple(tags),
        source=raw.source,
        line=raw.line,
        tags_line=fields["tags"].line if "tags" in fields else 0,
        block=block,
        at=at,
        summary_cut=cut_point(paragraphs[0], config.summary_length)
        if paragraphs
        else None,
        title_end=title_end,
        title_cut=title_cut,
    )
