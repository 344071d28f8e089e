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
  list the newest first);
* a topic that no item reaches: a keyword misspelt, or a topic without
  keywords that no ``@tags:`` line names (``lint_topics``, for a check of
  all the configured sources).
"""

from __future__ import annotations

import datetime as dt
import re
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


# The header of a ``[[topic]]`` table (TOML allows spaces inside the brackets,
# and a comment after them).
_TOPIC_HEADER = re.compile(r"[ \t]*\[\[[ \t]*topic[ \t]*\]\][ \t]*(?:#.*)?")


def lint_topics(
    items: Sequence[Item], config: Config, config_name: str, config_text: str
) -> list[Diagnostic]:
    """A warning for each topic that none of ``items`` is in (its feeds would
    stay empty), at the line of its ``[[topic]]`` table in ``config_text``
    (the config file, shown as ``config_name``; line 0 when its topics are
    not written as such tables)."""
    reached = {slug for item in items for slug in item.topics}
    headers = [
        number
        for number, line in enumerate(config_text.split("\n"), start=1)
        if _TOPIC_HEADER.fullmatch(line)
    ]
    if len(headers) != len(config.topics):
        headers = [0] * len(config.topics)
    warnings: list[Diagnostic] = []
    for topic, line in zip(config.topics, headers, strict=True):
        if topic.slug in reached:
            continue
        if topic.keywords:
            rules = f"its keywords ({', '.join(topic.keywords)})"
            if topic.exclude:
                rules += f" without its exclude rules ({', '.join(topic.exclude)})"
            message = (
                f"topic {topic.name!r} holds no item: no text has {rules},"
                " and no @tags: line names it"
            )
        else:
            message = (
                f"topic {topic.name!r} holds no item: it has no keywords,"
                " and no @tags: line names it"
            )
        warnings.append(Diagnostic(source=config_name, line=line, message=message))
    return warnings
