"""Topic rules -> the topics of each item. Pure.

A keyword matches case-insensitively at the start of a word, so it acts as a
word stem: ``Ehrenamt`` matches ``Ehrenamtes`` and ``ehrenamtlich``; words are
split at hyphens, so ``Integration`` matches ``DWK-Integration``. A keyword that
starts with ``*`` matches anywhere inside a word (``*förder`` matches
``gefördert``). A keyword of several words matches those word stems in a row.
An item that matches an ``exclude`` rule is not in the topic, unless its
``@tags:`` line names the topic: explicit tags always add.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

from feedpub.model import Category, Diagnostic, Item, Topic

_WORD = r"[^\W_]"


def compile_rules(patterns: Sequence[str]) -> re.Pattern[str] | None:
    """Compile keyword rules into one case-insensitive regular expression."""
    alternatives: list[str] = []
    for pattern in patterns:
        anywhere = pattern.startswith("*")
        words = re.findall(rf"{_WORD}+", pattern.casefold())
        if not words:
            continue
        body = rf"{_WORD}*(?:[\W_]+)".join(re.escape(w) for w in words)
        alternatives.append(body if anywhere else rf"(?<!{_WORD}){body}")
    if not alternatives:
        return None
    return re.compile("|".join(alternatives))


def tag_items(
    items: Sequence[Item], topics: Sequence[Topic]
) -> tuple[list[Item], list[Diagnostic]]:
    """Give each item its topics (in config order) and categories.

    Returns:
        The tagged items and a warning for each explicit tag that names no topic.
    """
    rules = [
        (topic, compile_rules(topic.keywords), compile_rules(topic.exclude))
        for topic in topics
    ]
    by_name = {t.name.casefold(): t for t in topics} | {t.slug: t for t in topics}
    warnings: list[Diagnostic] = []
    tagged: list[Item] = []
    for item in items:
        text = " ".join((item.title, *item.paragraphs)).casefold()
        explicit = {
            by_name[tag.casefold()].slug
            for tag in item.tags
            if tag.casefold() in by_name
        }
        unknown = tuple(tag for tag in item.tags if tag.casefold() not in by_name)
        for tag in unknown:
            known = ", ".join(t.name for t in topics) or "none configured"
            warnings.append(
                Diagnostic(
                    source=item.source,
                    line=item.tags_line or item.line,
                    message=f"tag {tag!r} names no topic (topics: {known});"
                    " kept as a category",
                )
            )
        chosen = [
            topic
            for topic, include, exclude in rules
            if topic.slug in explicit
            or (
                include is not None
                and include.search(text)
                and not (exclude is not None and exclude.search(text))
            )
        ]
        tagged.append(
            dataclasses.replace(
                item,
                topics=tuple(t.slug for t in chosen),
                categories=tuple(Category(term=t.slug, label=t.name) for t in chosen)
                + tuple(Category(term=tag, label=tag) for tag in unknown),
            )
        )
    return tagged, warnings
