"""``feedpub check``: warnings about the source that a build alone does not give. Pure.

Each warning names ``file:line``. The parser already reports what it could not
use (text before the first header, headers without text, near-miss headers,
removed characters, unknown tags); this adds what is legal but likely a
mistake:

* an item dated after today (in the configured time zone);
* the same item twice (same date and same content);
* an item that matches no topic, when topics are configured;
* an ``@title:`` longer than ``title_length``, or a first sentence longer than
  three times ``title_length``, of which the title shows only the start (a
  missing full stop, or text that needs an ``@title:``);
* an item dated later than the item above it in the same document (sources
  list the newest first).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from feedpub.config import Config
from feedpub.identity import fingerprint
from feedpub.model import Diagnostic, Item
from feedpub.text import first_sentence, title_from


def lint_items(
    items: Sequence[Item], config: Config, today: dt.date
) -> list[Diagnostic]:
    """The lint warnings for normalised, tagged items in source order."""
    warnings: list[Diagnostic] = []

    def warn(item: Item, message: str) -> None:
        warnings.append(Diagnostic(source=item.source, line=item.line, message=message))

    first_seen: dict[tuple[dt.date, str], Item] = {}
    above: dict[str, Item] = {}
    for item in items:
        if item.day > today:
            warn(
                item, f"dated {item.day.isoformat()}, after today ({today.isoformat()})"
            )
        key = (item.day, item.fingerprint or fingerprint(item))
        if key in first_seen:
            twin = first_seen[key]
            warn(item, f"same date and text as the item at {twin.source}:{twin.line}")
        else:
            first_seen[key] = item
        if config.topics and not item.topics:
            warn(item, "matches no topic (add keywords or @tags:)")
        _check_title(item, config.title_length, warn)
        previous = above.get(item.source)
        if previous is not None and item.day > previous.day:
            warn(
                item,
                f"dated {item.day.isoformat()}, later than the item above it"
                f" ({previous.day.isoformat()} at line {previous.line});"
                " sources list the newest first",
            )
        above[item.source] = item
    return warnings


def _check_title(item: Item, limit: int, warn: Callable[[Item, str], None]) -> None:
    derived = bool(item.paragraphs) and item.title == title_from(
        item.paragraphs[0], limit
    )
    if derived:
        sentence = len(first_sentence(item.paragraphs[0]))
        if sentence > 3 * limit:
            warn(
                item,
                f"first sentence has {sentence} characters; the title shows only"
                f" its first {len(item.title)} (end the sentence or give @title:)",
            )
    elif len(item.title) > limit:
        warn(
            item,
            f"@title has {len(item.title)} characters,"
            f" more than title_length ({limit})",
        )
