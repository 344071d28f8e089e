"""Generate a deterministic benchmark corpus in feedpub's source format.

    python benchmarks/corpus.py --items 100000 --out /tmp/corpus100k

writes ``OUT/sources/news.txt`` (newest item first) and ``OUT/feedpub.toml``
(20 topics). The same arguments always give the same bytes: everything comes
from one seeded ``random.Random``; no clock, no hash order.

Each item has 1-3 topics, chosen by putting topic keywords into its text; the
filler vocabulary is checked against every keyword so it can never add a
topic by accident. Items mix the header date forms (``16.09.20``,
``16.09.2020``, ``16. September 2020``, ``3. Okt. 2020``, ISO), share days,
and some have bylines, several paragraphs, hard-wrapped lines or ``@title:``.

The filler text has a few hundred distinct words, where a real archive has
hundreds of thousands; ``--wide-vocabulary`` gives every fourth word of six
letters or more a made-up ending (``_Endings``), for a vocabulary like a
real archive's with the same items, topics and dates.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import random
import re
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

SOURCE_DIR = "sources"
SOURCE_FILE = "news.txt"
CONFIG_FILE = "feedpub.toml"
NEWEST_DAY = dt.date(2024, 6, 14)
# The corpus spans at most this many days, so every two-digit year stays in
# the 1969-2068 window that the POSIX rule reads back correctly.
MAX_SPAN_DAYS = 50 * 365


@dataclass(frozen=True)
class BenchTopic:
    """A topic: its name, its keyword rules, and words that carry them."""

    name: str
    keywords: tuple[str, ...]
    phrases: tuple[str, ...]  # text that matches the keywords
    exclude: tuple[str, ...] = ()


TOPICS: tuple[BenchTopic, ...] = (
    BenchTopic(
        "Integration",
        ("Integration", "Zuwanderung"),
        ("Integration", "die Integrationsarbeit", "DWK-Integration", "Zuwanderung"),
    ),
    BenchTopic(
        "Ehrenamt",
        ("Ehrenamt", "Freiwillig"),
        ("das Ehrenamt", "ehrenamtlich Engagierte", "Freiwilligen"),
    ),
    BenchTopic(
        "Demografie",
        ("Demografie", "demografisch Wandel"),
        ("die Demografiestrategie", "den demografischen Wandel"),
    ),
    BenchTopic("Jugend", ("Jugend",), ("Jugendliche", "die Jugendarbeit")),
    BenchTopic(
        "Corona",
        ("Corona", "Pandemie", "Covid"),
        ("die Corona-Krise", "die Pandemie", "Covid-Regeln"),
    ),
    BenchTopic(
        "Förderung",
        ("*förder", "Bundesprogramm"),
        ("gefördert", "Fördermittel", "das Bundesprogramm"),
    ),
    BenchTopic("Pflege", ("Pflege",), ("Pflegeeinrichtungen", "die Pflegekräfte")),
    BenchTopic(
        "Bildung", ("Bildung", "Grundschul"), ("Bildungsangebote", "die Grundschule")
    ),
    BenchTopic(
        "Mobilität",
        ("Mobilität", "Nahverkehr", "Radweg"),
        ("Mobilität", "den Nahverkehr", "neue Radwege"),
    ),
    BenchTopic(
        "Digitalisierung",
        ("Digitalisierung", "Breitband"),
        ("die Digitalisierung", "Breitbandausbau"),
    ),
    BenchTopic(
        "Gesundheit",
        ("Gesundheit", "Arztpraxis", "Hausarzt"),
        ("Gesundheitsvorsorge", "eine Arztpraxis", "Hausarztpraxen"),
        exclude=("Gesundheitswesen Tierhaltung",),
    ),
    BenchTopic(
        "Wohnen", ("Wohnraum", "Wohnungsbau"), ("bezahlbaren Wohnraum", "Wohnungsbau")
    ),
    BenchTopic(
        "Klimaschutz",
        ("Klimaschutz", "Energiewende", "Photovoltaik"),
        ("Klimaschutz", "die Energiewende", "Photovoltaikanlagen"),
    ),
    BenchTopic(
        "Kultur", ("Kultur", "Museum"), ("Kulturangebote", "das Museum", "Kultur")
    ),
    BenchTopic(
        "Sport",
        ("Sportverein", "Sportplatz", "Turnhalle"),
        ("Sportvereine", "den Sportplatz", "die Turnhalle"),
        exclude=("Sportwette",),
    ),
    BenchTopic(
        "Wirtschaft",
        ("Wirtschaft", "Fachkräfte", "Unternehmer"),
        ("die Wirtschaft", "Fachkräfte", "Unternehmerinnen"),
    ),
    BenchTopic("Familie", ("Familie", "Kita"), ("Familien", "Kitaplätze")),
    BenchTopic(
        "Ältere Menschen",
        ("Senior", "ältere Menschen"),
        ("Seniorinnen und Senioren", "ältere Menschen"),
    ),
    BenchTopic(
        "Landwirtschaft",
        ("Landwirtschaft", "Landwirt", "Ernte"),
        ("die Landwirtschaft", "Landwirte", "Erntefest"),
    ),
    BenchTopic(
        "Tourismus", ("Tourismus", "Urlaub"), ("Tourismus", "Urlaubsgäste", "Urlaub")
    ),
)

# Filler vocabulary: German words free of every topic keyword (checked below).
_SUBJECTS = (
    "Der Landkreis",
    "Die Stadt",
    "Das Amt",
    "Die Gemeinde",
    "Der Kreistag",
    "Die Bürgermeisterin",
    "Der Landrat",
    "Ein Arbeitskreis",
    "Die Projektgruppe",
    "Der Verein",
    "Die Koordinierungsstelle",
    "Das Netzwerk",
    "Die Verwaltung",
    "Eine Initiative",
)
_VERBS = (
    "stellte",
    "plant",
    "diskutierte",
    "eröffnete",
    "unterstützt",
    "organisierte",
    "beschloss",
    "präsentierte",
    "begleitet",
    "bewertet",
    "lud",
    "startete",
)
_OBJECTS = (
    "ein neues Konzept",
    "die Ergebnisse der Befragung",
    "einen Aktionstag",
    "das Jahresprogramm",
    "eine Austauschrunde",
    "die nächsten Schritte",
    "ein Modellvorhaben",
    "den Abschlussbericht",
    "eine Informationsveranstaltung",
    "die Zusammenarbeit mit den Nachbarkommunen",
    "einen Workshop",
    "die Planung für das kommende Jahr",
)
_PLACES = (
    "im Kreistagssaal in Ludwigslust",
    "im Rathaus in Hagenow",
    "in Parchim",
    "in der Stadthalle",
    "im Gemeindezentrum",
    "auf dem Marktplatz",
    "online",
    "in Schwerin",
    "vor Ort",
    "in Adorf/Vogtl. und Umgebung",
)
_TIMES = (
    "am Montag",
    "am 25. Januar",
    "am 8. September",
    "im Frühjahr",
    "in dieser Woche",
    "Anfang des Monats",
    "seit dem 1. März",
    "bis Ende Mai",
)
_CLAUSES = (
    "Rund 150 Personen aus Politik und Verwaltung nahmen teil.",
    "Die Teilnahme ist kostenfrei, eine Anmeldung ist bis zum 15. Mai möglich.",
    "Weitere Informationen gibt es bei der Koordinierungsstelle, z. B. telefonisch.",
    "Dabei wurden u. a. Erfahrungen aus anderen Regionen vorgestellt.",
    "Die Veranstaltung fand in Kooperation mit dem Verein e. V. statt.",
    "Ca. 40 Gäste kamen, darunter Vertreterinnen aus zehn Gemeinden.",
    "Im Anschluss gab es Gelegenheit zum Austausch bei Kaffee und Kuchen.",
    "„Wir wollen gemeinsam vorankommen“, sagte die Leiterin des Amtes.",
    "Die Ergebnisse sollen bis zum Herbst ausgewertet werden.",
    "Das Angebot richtet sich an alle Interessierten aus der Region.",
    "Nach Angaben der Verwaltung wurden 12.500 Euro bereitgestellt.",
    "Ein Rückblick auf das Treffen vom 17.05.2017 rundete den Abend ab.",
    "Die Termine stehen im Veranstaltungskalender bzw. auf der Internetseite.",
    "Fragen beantwortet Dr. Weber, Tel. 03871 722-0.",
)
_CONNECTORS = (
    "Dabei geht es um",
    "Im Mittelpunkt stehen",
    "Thema war auch",
    "Es ging um",
)
_BYLINES = (
    "Elke Ricken-Melchert",
    "Anna Schmidt",
    "Peter von Berg",
    "Redaktion (dpa)",
    "Jana Krüger",
    "Thomas Meyer",
    "Karin de Vries",
    "M. Lehmann",
)
_MONTHS = (
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
)
_MONTH_ABBREVIATIONS = (
    "Jan.",
    "Feb.",
    "März",
    "Apr.",
    "Mai",
    "Juni",
    "Juli",
    "Aug.",
    "Sept.",
    "Okt.",
    "Nov.",
    "Dez.",
)


def _stems(topic: BenchTopic) -> list[tuple[str, bool]]:
    """Each keyword's first word, casefolded, and whether it matches anywhere."""
    return [
        (k.lstrip("*").split()[0].casefold(), k.startswith("*")) for k in topic.keywords
    ]


def _matches(text: str, topic: BenchTopic) -> bool:
    """Whether ``text`` matches a keyword of ``topic`` (first words, stem rule)."""
    words = re.split(r"[\W_]+", text.casefold())
    return any(
        (stem in word) if anywhere else word.startswith(stem)
        for stem, anywhere in _stems(topic)
        for word in words
    )


def _check_vocabulary() -> None:
    """Fail loudly if filler text, or one topic's words, would add a topic."""
    filler = " ".join(
        _SUBJECTS + _VERBS + _OBJECTS + _PLACES + _TIMES + _CLAUSES + _CONNECTORS
    )
    for topic in TOPICS:
        if _matches(filler + " Meldung vom Thema", topic):
            raise AssertionError(f"filler text matches topic {topic.name}")
        for other in TOPICS:
            for phrase in other.phrases:
                if _matches(phrase, topic) != (other is topic):
                    raise AssertionError(f"{phrase!r} and topic {topic.name}")


def _format_date(rng: random.Random, day: dt.date) -> str:
    form = rng.random()
    if form < 0.40:
        if rng.random() < 0.8:
            return f"{day.day:02d}.{day.month:02d}.{day.year % 100:02d}"
        return f"{day.day}.{day.month}.{day.year % 100:02d}"
    if form < 0.65:
        return f"{day.day:02d}.{day.month:02d}.{day.year:04d}"
    if form < 0.80:
        return f"{day.day}. {_MONTHS[day.month - 1]} {day.year}"
    if form < 0.85:
        return f"{day.day}. {_MONTH_ABBREVIATIONS[day.month - 1]} {day.year}"
    return day.isoformat()


def _sentence(rng: random.Random, phrase: str | None) -> str:
    parts = [rng.choice(_SUBJECTS), rng.choice(_VERBS), rng.choice(_OBJECTS)]
    if rng.random() < 0.6:
        parts.append(rng.choice(_TIMES))
    parts.append(rng.choice(_PLACES))
    sentence = " ".join(parts)
    if phrase is not None:
        sentence += f" zum Thema {phrase}"
    return sentence + "."


def _body(rng: random.Random, topics: list[BenchTopic]) -> list[str]:
    """1-3 paragraphs, 40-120 words in all, naming every chosen topic."""
    target = rng.randint(40, 120)
    phrases = [rng.choice(t.phrases) for t in topics]
    sentences = [_sentence(rng, phrases[0])]
    for phrase in phrases[1:]:
        sentences.append(f"{rng.choice(_CONNECTORS)} {phrase}.")
    words = sum(len(s.split()) for s in sentences)
    while words < target:
        extra = rng.choice(_CLAUSES) if rng.random() < 0.5 else _sentence(rng, None)
        if words + len(extra.split()) > 120:
            break
        sentences.append(extra)
        words += len(extra.split())
    while words < 40:  # a short filler sentence always fits below 120
        sentences.append("Alle sind herzlich eingeladen.")
        words += 4
    count = 1 if rng.random() < 0.7 else rng.randint(2, 3)
    count = min(count, len(sentences))
    cuts = sorted(rng.sample(range(1, len(sentences)), count - 1))
    bounds = [0, *cuts, len(sentences)]
    return [" ".join(sentences[a:b]) for a, b in itertools.pairwise(bounds)]


# Endings without d, e or r: appended to a word, they cannot complete a stem
# ("förder") across the join, and a word's start never changes, so no
# ending adds or removes a topic.
_SYLLABLES = ("ka", "lo", "mi", "nu", "ta", "vi", "zo", "pu", "gu", "sa", "bi", "fo")
_LONG_WORD = re.compile(r"\b[^\W\d_]{6,}\b")


class _Endings:
    """Gives every fourth word of six letters or more an ending of 2-4
    made-up syllables, from a generator of its own: the corpus without
    endings stays the same bytes."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)
        self._count = 0

    def __call__(self, text: str) -> str:
        return _LONG_WORD.sub(self._ending, text)

    def _ending(self, word: re.Match[str]) -> str:
        self._count += 1
        if self._count % 4:
            return word[0]
        count = self._rng.randint(2, 4)
        return word[0] + "".join(self._rng.choice(_SYLLABLES) for _ in range(count))


def _item(
    rng: random.Random,
    day: dt.date,
    endings: Callable[[str], str] | None = None,
) -> str:
    chosen = rng.sample(TOPICS, rng.choice((1, 1, 2, 2, 2, 3)))
    lines = [_format_date(rng, day)]
    if rng.random() < 0.15:
        lines[0] += " " + rng.choice(_BYLINES)
    if rng.random() < 0.05:
        lines.append(f"@title: Meldung vom {day.day}. {_MONTHS[day.month - 1]}")
    lines.append("")
    for index, paragraph in enumerate(_body(rng, chosen)):
        if endings is not None:
            paragraph = endings(paragraph)
        if index:
            lines.append("")
        if rng.random() < 0.2:  # hard-wrapped, as typed in an editor
            lines.extend(textwrap.wrap(paragraph, width=72, break_on_hyphens=False))
        else:
            lines.append(paragraph)
    return "\n".join(lines) + "\n"


def generate_items(count: int, seed: int = 2020, wide: bool = False) -> list[str]:
    """Return ``count`` items as source text, newest first; ``wide``: with
    made-up word endings (see the module's docstring)."""
    _check_vocabulary()
    rng = random.Random(seed)
    endings = _Endings(seed + 1) if wide else None
    # Mean items per day so the corpus fits the two-digit-year window.
    per_day = max(1.5, count * 2 / MAX_SPAN_DAYS)
    day = NEWEST_DAY
    items: list[str] = []
    for index in range(count):
        if index and rng.random() >= 1 - 1 / per_day:
            day -= dt.timedelta(days=rng.randint(1, 3))
        items.append(_item(rng, day, endings))
    return items


def config_text() -> str:
    """The ``feedpub.toml`` that goes with a generated corpus."""
    lines = [
        "# Generated by benchmarks/corpus.py; do not edit.",
        f'sources = ["{SOURCE_DIR}"]',
        'output = "feeds"',
        "",
        "[feed]",
        'title = "Kreisnachrichten"',
        'description = "Neuigkeiten aus dem Landkreis"',
        'base_url = "https://bench.example.org/news/"',
        'language = "de"',
        'author = "Pressestelle"',
        'timezone = "Europe/Berlin"',
        'id_authority = "bench.example.org"',
        "limit = 50",
    ]
    for topic in TOPICS:
        lines += ["", "[[topic]]", f'name = "{topic.name}"']
        lines.append("keywords = [" + ", ".join(f'"{k}"' for k in topic.keywords) + "]")
        if topic.exclude:
            lines.append(
                "exclude = [" + ", ".join(f'"{k}"' for k in topic.exclude) + "]"
            )
    return "\n".join(lines) + "\n"


def write_corpus(out: Path, count: int, seed: int = 2020, wide: bool = False) -> Path:
    """Write the corpus and its config below ``out``; return the config path."""
    sources = out / SOURCE_DIR
    sources.mkdir(parents=True, exist_ok=True)
    text = "\n".join(generate_items(count, seed, wide))
    (sources / SOURCE_FILE).write_bytes(text.encode("utf-8"))
    config = out / CONFIG_FILE
    config.write_bytes(config_text().encode("utf-8"))
    return config


def new_item(seed: int = 1, days: int = 1) -> str:
    """One more item, dated ``days`` after the newest (0: on the newest day),
    for the top of a corpus."""
    return _item(random.Random(seed), NEWEST_DAY + dt.timedelta(days=days))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, required=True, help="number of items")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--seed", type=int, default=2020, help="random seed")
    parser.add_argument(
        "--wide-vocabulary",
        action="store_true",
        help="give every fourth long word a made-up ending",
    )
    args = parser.parse_args(argv)
    if args.items < 1:
        parser.error("--items must be at least 1")
    config = write_corpus(args.out, args.items, args.seed, args.wide_vocabulary)
    print(
        f"wrote {args.items} items to {args.out / SOURCE_DIR / SOURCE_FILE}, {config}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
