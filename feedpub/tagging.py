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

from feedpub.model import Category, Diagnostic, Item, Topic, amend, evolve
from feedpub.text import WORD_CHAR, WORDS, rule_words


def compile_rules(patterns: Sequence[str]) -> re.Pattern[str] | None:
    """Compile keyword rules into one case-insensitive regular expression."""
    alternatives: list[str] = []
    for pattern in patterns:
        anywhere = pattern.startswith("*")
        words = rule_words(pattern)
        if not words:
            continue
        body = rf"{WORD_CHAR}*(?:[\W_]+)".join(re.escape(w) for w in words)
        alternatives.append(body if anywhere else rf"(?<!{WORD_CHAR}){body}")
    if not alternatives:
        return None
    return re.compile("|".join(alternatives))


_Rule = tuple[int, re.Pattern[str] | None]  # (stem index, whole rule if 2+ words)


_NONE: frozenset[int] = frozenset()
_REMEMBERED = 1 << 15  # tokens of a tagger's generation: a few MB in all


class _Rules:
    """Every keyword and exclude rule of the topics, matched word by word.

    A rule of one word matches exactly when a word of the text starts with its
    stem (contains it, for ``*``): words never cross white space, so each
    distinct white-space-separated token is examined on its own and its
    stems remembered while it is met (see ``__init__``). A rule of several
    words can only match where its first stem does; only then is its regular
    expression run on the text.
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
        # Whether a token carries a stem at all (most carry none), in one
        # search of its words joined by "\0", which no word holds: a stem
        # at the start of a word follows the start or a "\0", a stem for
        # anywhere in a word is anywhere. None: there are no stems.
        starts = [re.escape(stem) for stem, anywhere in self._stems if not anywhere]
        inside = [re.escape(stem) for stem, anywhere in self._stems if anywhere]
        found = [rf"(?:^|\0)(?:{'|'.join(starts)})"] * bool(starts) + inside
        self._any_stem = re.compile("|".join(found)) if found else None
        # What tokens were found to carry, in two generations: a real
        # archive's vocabulary has no bound, so when the newer one holds
        # ``_REMEMBERED`` tokens, the older one is forgotten and the newer
        # takes its place. A token met again moves to the newer one, so a
        # token met at least once a generation is examined only once.
        self._hits: dict[str, frozenset[int]] = {}  # token -> stems it carries
        self._plain: set[str] = set()  # tokens known to carry no stem
        self._older: tuple[dict[str, frozenset[int]], set[str]] = ({}, set())

    def _rules(self, patterns: Sequence[str]) -> list[_Rule]:
        rules: list[_Rule] = []
        for pattern in patterns:
            words = rule_words(pattern)
            if not words:
                continue
            stem = (words[0], pattern.startswith("*"))
            if stem not in self._stems:
                self._stems.append(stem)
            whole = compile_rules([pattern]) if len(words) > 1 else None
            rules.append((self._stems.index(stem), whole))
        return rules

    def matching_topics(self, text: str, tokens: set[str]) -> set[int]:
        """The indexes of the topics whose keywords, net of excludes, match
        ``text``, whose distinct white-space-separated tokens are
        ``tokens``."""
        stems = self._stems_in(tokens)
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

    def _stems_in(self, given: set[str]) -> set[int]:
        found: set[int] = set()
        tokens = given - self._plain  # a new set: the caller's stays whole
        older_hits, older_plain = self._older
        if older_plain and (again := tokens & older_plain):
            self._plain |= again
            tokens -= again
        for token in tokens:
            hits = self._hits.get(token)
            if hits is None:
                hits = older_hits.get(token)
                if hits is None:
                    hits = self._examine(token)
                self._remember(token, hits)
            found |= hits
        if len(self._hits) + len(self._plain) >= _REMEMBERED:
            self._older = (self._hits, self._plain)
            self._hits, self._plain = {}, set()
        return found

    def _examine(self, token: str) -> frozenset[int]:
        # casefold() maps each character on its own and never adds or removes
        # white space, so folding a token equals folding the text around it.
        words = WORDS.findall(token.casefold())
        if self._any_stem is None or not self._any_stem.search("\0".join(words)):
            return _NONE
        return frozenset(
            index
            for index, (stem, anywhere) in enumerate(self._stems)
            if any((stem in w) if anywhere else w.startswith(stem) for w in words)
        )

    def _remember(self, token: str, hits: frozenset[int]) -> None:
        if hits:
            self._hits[token] = hits
        else:
            self._plain.add(token)

    def remembered(self) -> int:
        """How many entries the two generations hold (a token moved to the
        newer one is in both until the older is forgotten): fewer than
        twice ``_REMEMBERED`` and the tokens of one text."""
        older_hits, older_plain = self._older
        return len(self._hits) + len(self._plain) + len(older_hits) + len(older_plain)


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
        self._slugs = [t.slug for t in topics]
        self._by_slugs: dict[
            tuple[str, ...], tuple[tuple[str, ...], tuple[Category, ...]]
        ] = {}

    def tag(
        self,
        item: Item,
        warnings: list[Diagnostic],
        tokens: set[str] | None = None,
        *,
        in_place: bool = False,
    ) -> Item:
        """The item with its topics (in config order) and categories; appends a
        warning to ``warnings`` for each explicit tag that names no topic.
        ``tokens``: ``item.tokens()``, if they are at hand. ``in_place``: the
        item is held by nothing else (fresh from ``normalise_item``): it
        takes them itself, and is returned, instead of a copy."""
        topics, by_name = self._topics, self._by_name
        text = " ".join((item.title, *item.paragraphs))
        matched = self._rules.matching_topics(
            text, item.tokens() if tokens is None else tokens
        )
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
        slugs, categories = self._pair(chosen)
        if unknown:
            categories += tuple(Category(term=tag, label=tag) for tag in unknown)
        change = amend if in_place else evolve
        return change(item, topics=slugs, categories=categories)

    def _pair(
        self, chosen: tuple[int, ...]
    ) -> tuple[tuple[str, ...], tuple[Category, ...]]:
        """The slugs and categories of the topics ``chosen`` (indexes), the
        same tuples for every item of those topics."""
        shared = self._shared.get(chosen)
        if shared is None:
            shared = self._shared[chosen] = (
                tuple(self._slugs[i] for i in chosen),
                tuple(self._categories[i] for i in chosen),
            )
        return shared

    def shared(self, items: list[Item]) -> list[Item]:
        """Give ``items``, tagged by this tagger or a copy of it in another
        process (whose items come back with tuples of their own), the topic
        tuples this tagger shares among the items of the same topics, so
        that a large build holds a few, not one per item. An item with
        tuples of its own takes the shared ones in place: ``items`` must be
        held by nothing else (fresh from ``site.read_run`` or a pickle)."""
        for item in items:
            shared = self._by_slugs.get(item.topics)
            if shared is None:
                shared = self._pair(tuple(map(self._slugs.index, item.topics)))
                self._by_slugs[shared[0]] = shared
            slugs, categories = shared
            if item.topics is not slugs:
                extra = item.categories[len(categories) :]  # explicit tags
                amend(item, topics=slugs, categories=categories + extra)
        return items


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
