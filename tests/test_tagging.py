"""Topic rules: word stems, compounds, in-word matches, phrases, exclusions, tags."""

from __future__ import annotations

import datetime as dt
import functools
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedpub import tagging
from feedpub.model import Item, Topic, evolve
from feedpub.tagging import Tagger, compile_rules, tag_items

NOON = dt.datetime(2020, 1, 1, 12, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("keyword", "text", "matches"),
    [
        ("Ehrenamt", "im Bereich des Ehrenamtes", True),
        ("Ehrenamt", "ehrenamtlich engagiert", True),
        ("Ehrenamt", "„Hauptamt stärkt Ehrenamt“", True),
        ("Ehrenamt", "das Nebenehrenamt", False),
        ("Integration", "bei DWK-Integration", True),
        ("Integration", "Desintegration", False),
        ("*förder", "mit Mitteln gefördert", True),
        ("*förder", "die Forderung", False),
        ("Straße", "STRASSENFEST", True),
        ("ältere Menschen", "für Ältere   Menschen", True),
        ("ältere Menschen", "für ältere, kranke Menschen", False),
        ("demografisch Wandel", "des demografischen Wandels", True),
        ("Jugend", "Jugend2020", True),
        ("Jugend", "Kinder- und Jugendhilfe", True),
        ("Corona", "Coronakrise", True),
        ("Corona", "Anticorona", False),
    ],
)
def test_keyword_rules(keyword: str, text: str, matches: bool) -> None:
    rule = compile_rules([keyword])
    assert rule is not None
    assert bool(rule.search(text.casefold())) is matches


def test_no_usable_keyword_gives_no_rule() -> None:
    assert compile_rules([]) is None
    assert compile_rules(["--", "*"]) is None


def _item(text: str, tags: tuple[str, ...] = ()) -> Item:
    return Item(
        id="tag:x,2020-01-01:1",
        given_anchor="a",
        given_title=text,
        paragraphs=(text,),
        day=NOON.date(),
        published=NOON,
        link="https://x/",
        tags=tags,
        source="doc.txt",
        line=3,
    )


TOPICS = (
    Topic(
        name="Kommunen", slug="kommunen", keywords=("Kommune",), exclude=("Auftakt",)
    ),
    Topic(name="Förderung", slug="foerderung", keywords=("*förder",)),
    Topic(name="Leer", slug="leer", keywords=()),
)


def test_topics_in_config_order_with_exclusions_and_explicit_tags() -> None:
    items = [
        _item("Gefördert werden Kommunen."),
        _item("Auftakt in den Kommunen."),
        _item("Auftakt in den Kommunen.", tags=("kommunen",)),
        _item("Nichts davon.", tags=("leer", "Förderung", "Unbekannt")),
    ]
    tagged, warnings = tag_items(items, TOPICS)
    assert [(i.topics, [(c.term, c.label) for c in i.categories]) for i in tagged] == [
        (
            ("kommunen", "foerderung"),
            [("kommunen", "Kommunen"), ("foerderung", "Förderung")],
        ),
        ((), []),
        (("kommunen",), [("kommunen", "Kommunen")]),
        (
            ("foerderung", "leer"),
            [("foerderung", "Förderung"), ("leer", "Leer"), ("Unbekannt", "Unbekannt")],
        ),
    ]
    assert [str(w) for w in warnings] == [
        "doc.txt:3: warning: tag 'Unbekannt' names no topic"
        " (topics: Kommunen, Förderung, Leer); kept as a category"
    ]


@given(st.text(alphabet="aeiKmnoörtudfg„“ .-", max_size=60))
def test_tokens_at_hand_tag_as_the_text_does(text: str) -> None:
    # read_run splits an item once, for its tags and its sketch.
    item = _item(text)
    tokens = item.tokens()
    alone, given_tokens = Tagger(TOPICS), Tagger(TOPICS)
    tagged = alone.tag(item, [])
    assert given_tokens.tag(item, [], tokens) == tagged
    assert tokens == item.tokens()  # the caller's set, left whole
    # A fresh item, held by nothing else, takes its topics itself.
    fresh = evolve(item)
    assert given_tokens.tag(fresh, [], tokens, in_place=True) is fresh
    assert fresh == tagged


def test_topics_made_in_code_with_decomposed_letters_match_the_text() -> None:
    """Source text is NFC (normalise.clean_text); so are a Topic's name and rules."""
    nfd = functools.partial(unicodedata.normalize, "NFD")
    topics = (
        Topic(
            name=nfd("Förderung"),
            slug="foerderung",
            keywords=(nfd("*förder"),),
            exclude=(nfd("Rückforderung"),),
        ),
        Topic(name="Jugend", slug="jugend", keywords=(nfd("Jugend ohne Grenzen"),)),
    )
    assert (topics[0].name, topics[0].keywords, topics[0].exclude) == (
        "Förderung",
        ("*förder",),
        ("Rückforderung",),
    )
    items = [
        _item("Gefördert wird Jugend ohne Grenzen."),
        _item("Die Rückforderung der Förderung."),
        _item("Nichts davon.", tags=("Förderung",)),
    ]
    tagged, warnings = tag_items(items, topics)
    assert [i.topics for i in tagged] == [
        ("foerderung", "jugend"),
        (),
        ("foerderung",),
    ]
    assert warnings == []


def test_a_tagger_remembers_a_bounded_number_of_tokens(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A real archive's vocabulary has no bound: a tagger forgets the tokens
    # it has not met for a while, and what it finds stays the same.
    monkeypatch.setattr(tagging, "_REMEMBERED", 8)
    examined: list[str] = []
    examine = tagging._Rules._examine

    def counted(rules: tagging._Rules, token: str) -> frozenset[int]:
        examined.append(token)
        return examine(rules, token)

    monkeypatch.setattr(tagging._Rules, "_examine", counted)
    tagger = Tagger(TOPICS)
    for n in range(60):
        text = (
            f"Wort{n} Oft" + f" Kommune{n}" * (n % 2) + f" gefördert{n}" * (n % 3 == 0)
        )
        text += " Auftakt" * (n % 5 == 0)
        expected = ("kommunen",) * (n % 2 == 1 and n % 5 != 0)
        expected += ("foerderung",) * (n % 3 == 0)
        assert tagger.tag(_item(text), []).topics == expected, text
        # two generations of fewer than 8 tokens, and one text's (5 at most)
        assert tagger._rules.remembered() < 2 * 8 + 5
    # a token met in every text is examined once; one met long ago, again
    assert examined.count("Oft") == 1
    assert tagger.tag(_item("Wort0 Kommune"), []).topics == ("kommunen",)
    assert examined.count("Wort0") == 2


@settings(database=None)
@given(
    keywords=st.lists(st.text("abäßA*- ", min_size=1, max_size=5), max_size=4),
    token=st.text("abäßAẞ_-.\u0130", max_size=10),
)
def test_a_token_carries_the_stems_its_words_have(
    keywords: list[str], token: str
) -> None:
    # _examine searches all stems at once before it looks at them one by one.
    rules = tagging._Rules([Topic(name="T", slug="t", keywords=tuple(keywords))])
    words = tagging.WORDS.findall(token.casefold())
    by_definition = frozenset(
        index
        for index, (stem, anywhere) in enumerate(rules._stems)
        if any((stem in w) if anywhere else w.startswith(stem) for w in words)
    )
    assert rules._examine(token) == by_definition
