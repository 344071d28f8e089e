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

import re
from collections.abc import Sequence

from feedpub.model import Category, Diagnostic, Item, Topic, evolve

_WORD = r"[^\W_]"
_WORDS = re.compile(rf"{_WORD}+")


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


_Rule = tuple[int, re.Pattern[str] | None]  # (stem index, whole rule if 2+ words)


_REMEMBERED = 1 << 15  # tokens a tagger remembers: a few MB at most


class _Rules:
    """Every keyword and exclude rule of the topics, matched word by word.

    A rule of one word matches exactly when a word of the text starts with its
    stem (contains it, for ``*``): words never cross white space, so each
    distinct white-space-separated token is examined once per build and its
    stems remembered. A rule of several words can only match where its first
    stem does; only then is its regular expression run on the text.
    """

    def __init__(self, topics: Sequence[Topic]) -> None:
        self._stems: list[tuple[str, bool]] = []  # (casefolded stem, anywhere)
        self._include = [self._rules(t.keywords) for t in topics]
        self._exclude = [self._rules(t.exclude) for t in topics]
        # Only topics with a keyword stem in the text need a closer look.
        self._topics_by_stem: dict[int, set[int]] = {}
        for index, rules in enumerate(self._include):
            for stem, _ in rules:
                self._topics_by_stem.setdefault(stem, set()).add(index)
        # What tokens were found to carry, forgotten all at once when they
        # pass ``_REMEMBERED``: a real archive's vocabulary has no bound, and
        # the tokens met again and again are met again soon after.
        self._hits: dict[str, frozenset[int]] = {}  # token -> stems it carries
        self._plain: set[str] = set()  # tokens known to carry no stem

    def _rules(self, patterns: Sequence[str]) -> list[_Rule]:
        rules: list[_Rule] = []
        for pattern in patterns:
            words = re.findall(rf"{_WORD}+", pattern.casefold())
            if not words:
                continue
            stem = (words[0], pattern.startswith("*"))
            if stem not in self._stems:
                self._stems.append(stem)
            whole = compile_rules([pattern]) if len(words) > 1 else None
            rules.append((self._stems.index(stem), whole))
        return rules

    def matching_topics(self, text: str) -> set[int]:
        """The indexes of the topics whose keywords, net of excludes, match."""
        stems = self._stems_in(text)
        candidates = {t for s in stems for t in self._topics_by_stem.get(s, ())}
        folded = ""  # the casefolded text, made once a rule of several words needs it

        def matches(rules: list[_Rule]) -> bool:
            nonlocal folded
            for stem, whole in rules:
                if stem in stems:
                    if whole is None:
                        return True
                    folded = folded or text.casefold()
                    if whole.search(folded):
                        return True
            return False

        return {
            t
            for t in candidates
            if matches(self._include[t]) and not matches(self._exclude[t])
        }

    def _stems_in(self, text: str) -> set[int]:
        found: set[int] = set()
        tokens = set(text.split())
        tokens -= self._plain
        for token in tokens:
            hits = self._hits.get(token)
            if hits is None:
                hits = self._examine(token)
            found |= hits
        return found

    def _examine(self, token: str) -> frozenset[int]:
        # casefold() maps each character on its own and never adds or removes
        # white space, so folding a token equals folding the text around it.
        words = _WORDS.findall(token.casefold())
        hits = frozenset(
            index
            for index, (stem, anywhere) in enumerate(self._stems)
            if any((stem in w) if anywhere else w.startswith(stem) for w in words)
        )
        if len(self._hits) + len(self._plain) >= _REMEMBERED:
            self._hits.clear()
            self._plain.clear()
        if hits:
            self._hits[token] = hits
        else:
            self._plain.add(token)
        return hits

    def remembered(self) -> int:
        """How many tokens are remembered now (at most ``_REMEMBERED``)."""
        return len(self._hits) + len(self._plain)


class Tagger:
    """Tags items one by one with the rules of ``topics``, compiled once."""

    def __init__(self, topics: Sequence[Topic]) -> None:
        self._topics = tuple(topics)
        self._rules = _Rules(topics)
        self._categories = [Category(term=t.slug, label=t.name) for t in topics]
        self._by_name = {t.name.casefold(): t for t in topics} | {
            t.slug: t for t in topics
        }
        # topic indexes -> (slugs, categories): at most one pair per set of
        # topics an item has, so a large build holds a few, not one per item
        self._shared: dict[
            tuple[int, ...], tuple[tuple[str, ...], tuple[Category, ...]]
        ] = {}

    def tag(self, item: Item, warnings: list[Diagnostic]) -> Item:
        """The item with its topics (in config order) and categories; appends a
        warning to ``warnings`` for each explicit tag that names no topic."""
        topics, by_name = self._topics, self._by_name
        matched = self._rules.matching_topics(" ".join((item.title, *item.paragraphs)))
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
        chosen = tuple(
            index
            for index, topic in enumerate(topics)
            if index in matched or topic.slug in explicit
        )
        shared = self._shared.get(chosen)
        if shared is None:  # items with the same topics share their tuples
            shared = self._shared[chosen] = (
                tuple(topics[i].slug for i in chosen),
                tuple(self._categories[i] for i in chosen),
            )
        slugs, categories = shared
        if unknown:
            categories += tuple(Category(term=tag, label=tag) for tag in unknown)
        return evolve(item, topics=slugs, categories=categories)


def tag_items(
    items: Sequence[Item], topics: Sequence[Topic]
) -> tuple[list[Item], list[Diagnostic]]:
    """Give each item its topics (in config order) and categories.

    Returns:
        The tagged items and a warning for each explicit tag that names no topic.
    """
    tagger = Tagger(topics)
    warnings: list[Diagnostic] = []
    return [tagger.tag(item, warnings) for item in items], warnings
