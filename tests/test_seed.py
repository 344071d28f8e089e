"""The project's own seed and config: items, titles, ids and the topic table."""

from __future__ import annotations

import datetime as dt

from feedpub.config import Config
from feedpub.publish import read_sources
from feedpub.site import compile_items
from tests.conftest import ROOT

SEED = "seeds/demografiewerkstatt-kommunen.txt"


def _items(config: Config) -> list:  # type: ignore[type-arg]
    items, warnings = compile_items(read_sources([ROOT / SEED]), config)
    assert warnings == []
    return items


def test_whole_topic_table(project_config: Config) -> None:
    table = {t.slug: [] for t in project_config.topics}  # type: ignore[var-annotated]
    for item in _items(project_config):
        for slug in item.topics:
            table[slug].append(f"{item.day:%d.%m.%y}/{item.line}")
    assert table == {
        "integration": ["16.09.20/1", "31.03.20/13", "20.01.20/25"],
        "ehrenamt": ["24.02.20/21", "01.12.19/29"],
        "demografie": [
            "25.02.20/17",
            "24.02.20/21",
            "20.01.20/25",
            "01.12.19/29",
            "02.05.19/33",
        ],
        "jugend": ["07.07.20/9"],
        "corona": ["16.09.20/1", "07.07.20/5"],
        "foerderung": ["20.01.20/25", "01.12.19/29"],
    }


def test_titles_ids_and_times(project_config: Config) -> None:
    got = [
        (i.title, i.id, i.published.astimezone(project_config.timezone).isoformat())
        for i in _items(project_config)
    ]
    tag = "tag:feeds.example.org"
    assert got == [
        (
            "Mit Projektstart im Januar wurde beschlossen, auch bei DWK-Integration ein…",
            f"{tag},2020-09-16:1",
            "2020-09-16T14:00:00+02:00",
        ),
        (
            "Manchmal liegt das Gute so nah",
            f"{tag},2020-07-07:2",
            "2020-07-07T14:00:00+02:00",
        ),
        (
            "Als ein Ergebnis der ersten digitalen Zukunftswerkstatt des Landkreises"
            " wurde deutlich…",
            f"{tag},2020-07-07:1",
            "2020-07-07T13:59:00+02:00",
        ),
        (
            "In der Stadt Hagenow (Landkreis Ludwigslust-Parchim) nimmt das Thema"
            " Integration von…",
            f"{tag},2020-03-31:1",
            "2020-03-31T14:00:00+02:00",
        ),
        (
            "Der Landkreis Ludwigslust-Parchim veranstaltete am 25. Januar den"
            " diesjährigen…",
            f"{tag},2020-02-25:1",
            "2020-02-25T13:00:00+01:00",
        ),
        (
            "Am Montag, 13. Januar 2020 kamen rund 150 Personen des Landkreises aus"
            " verschiedensten…",
            f"{tag},2020-02-24:1",
            "2020-02-24T13:00:00+01:00",
        ),
        (
            "Resultierend aus den bereits gesammelten Erfahrungen des Projektes"
            " Demografiewerkstatt…",
            f"{tag},2020-01-20:1",
            "2020-01-20T13:00:00+01:00",
        ),
        (
            "18 ausgewählte Landkreise erhalten im Rahmen des Projektes „Hauptamt"
            " stärkt Ehrenamt“ für…",
            f"{tag},2019-12-01:1",
            "2019-12-01T13:00:00+01:00",
        ),
        (
            "Mit dem Projekt Demografiewerkstatt Kommunen unterstützt das"
            " Bundesfamilienministerium…",
            f"{tag},2019-05-02:1",
            "2019-05-02T14:00:00+02:00",
        ),
    ]
    assert all(len(title) <= 90 for title, _, _ in got)


def test_seed_text_is_kept_exactly(project_config: Config) -> None:
    items = {i.line: i for i in _items(project_config)}
    assert items[9].paragraphs[-1].endswith('unter die „LUPe" nehmen.')
    # a stray no-break space and a trailing one: the lone one between words stays
    assert "die\u00a0Region zukunftsfest" in items[21].paragraphs[0]
    assert items[25].paragraphs[0].endswith("des BMFSFJ gefördert.")
    assert items[1].day == dt.date(2020, 9, 16)
    assert items[1].author is None
