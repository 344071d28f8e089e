"""Topic rules: word stems, compounds, in-word matches, phrases, exclusions, tags."""

from __future__ import annotations

import datetime as dt

import pytest

from feedpub.model import Item, Topic
from feedpub.tagging import compile_rules, tag_items

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
        anchor="a",
        title=text,
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
