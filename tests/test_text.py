"""Tests for feedpub.text: sentences, titles, cutting, cleaning, slugs."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedpub.text import (
    SLUG_PATTERN,
    _ends_sentence,
    collapse_space,
    cut,
    cut_point,
    first_sentence,
    slugify,
    strip_illegal,
    title_from,
    title_span,
)

SEED = (
    Path(__file__).resolve().parents[1] / "seeds" / "demografiewerkstatt-kommunen.txt"
)


def seed_line(number: int) -> str:
    """Return line ``number`` (1-based) of the seed document."""
    return SEED.read_text(encoding="utf-8").split("\n")[number - 1]


# --- first_sentence: full stops that do not end a sentence -------------------

NOT_AN_END = [
    ("Am 13. Januar 2020 kamen alle. Danach", "Am 13. Januar 2020 kamen alle."),
    (
        "Wir trafen uns am 25. Januar in Mestlin. Dann",
        "Wir trafen uns am 25. Januar in Mestlin.",
    ),
    ("Seit dem 8. September läuft es. Gut", "Seit dem 8. September läuft es."),
    ("Es gibt z. B. Kuchen. Danach", "Es gibt z. B. Kuchen."),
    ("Es gibt z.B. Kuchen. Danach", "Es gibt z.B. Kuchen."),
    ("Kinder bzw. Jugendliche kamen. Dann", "Kinder bzw. Jugendliche kamen."),
    ("Es kamen ca. 20 Gäste. Dann", "Es kamen ca. 20 Gäste."),
    ("Ca. 20 Gäste kamen. Dann", "Ca. 20 Gäste kamen."),
    ("Es sprach Dr. Müller zum Thema. Dann", "Es sprach Dr. Müller zum Thema."),
    ("Es sprach Prof. Schulz zum Thema. Dann", "Es sprach Prof. Schulz zum Thema."),
    ("Der Verein e.V. Mestlin lud ein. Dann", "Der Verein e.V. Mestlin lud ein."),
    ("Der Verein e. V. Mestlin lud ein. Dann", "Der Verein e. V. Mestlin lud ein."),
    ("Es kamen u.a. Landräte. Dann", "Es kamen u.a. Landräte."),
    ("Siehe Heft Nr. 5 zum Thema. Dann", "Siehe Heft Nr. 5 zum Thema."),
    ("Ab 01.01.2020 gilt das. Dann", "Ab 01.01.2020 gilt das."),
    (
        "Wir fuhren nach Adorf/Vogtl. Dort war es schön. Ja",
        "Wir fuhren nach Adorf/Vogtl. Dort war es schön.",
    ),
    (
        "Er nannte es „z.B. Kunst“ und ging. Danach",
        "Er nannte es „z.B. Kunst“ und ging.",
    ),
    ("Er traf (Dr. Meier) im Amt. Danach", "Er traf (Dr. Meier) im Amt."),
]
NOT_AN_END_IDS = [
    "13-januar-2020",
    "am-25-januar",
    "8-september",
    "z-space-b",
    "zB",
    "bzw",
    "ca",
    "Ca-20-sentence-start",
    "Dr",
    "Prof",
    "eV",
    "e-space-V",
    "ua",
    "Nr",
    "numeric-date",
    "Adorf-Vogtl",
    "abbrev-after-opening-quote",
    "abbrev-after-parenthesis",
]


@pytest.mark.parametrize(("text", "expected"), NOT_AN_END, ids=NOT_AN_END_IDS)
def test_first_sentence_ignores_non_final_full_stops(text: str, expected: str) -> None:
    assert first_sentence(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Das ist gut. Das auch.", "Das ist gut."),
        ("Wie geht das? Ganz einfach.", "Wie geht das?"),
        ("Wie geht das?was", "Wie geht das?was"),
        ("Das ist toll! Ganz sicher.", "Das ist toll!"),
        ("Das war 2020. Danach kam mehr.", "Das war 2020."),
        ("Er sagte „Wir bleiben.“ Dann ging er.", "Er sagte „Wir bleiben.“"),
        ('Er sagte "Wir bleiben." Dann ging er.', 'Er sagte "Wir bleiben."'),
        ("Er rief „Los!“ Dann lief er.", "Er rief „Los!“"),
        (
            "Das Motto „LUP leben!“, welches gilt. Dann",
            "Das Motto „LUP leben!“, welches gilt.",
        ),
        ("Ein Satz. „Zitat“ folgt.", "Ein Satz."),
        ("Ein Satz. 2020 folgt.", "Ein Satz."),
        ("Nur ein Satz ohne Ende", "Nur ein Satz ohne Ende"),
        ("Nur ein Satz.", "Nur ein Satz."),
        ("", ""),
    ],
    ids=[
        "full-stop",
        "question-mark",
        "question-mark-glued",
        "exclamation-mark",
        "year-at-end",
        "typographic-closing-quote",
        "straight-closing-quote",
        "exclamation-in-quotes",
        "exclamation-quote-comma-continues",
        "next-starts-with-opening-quote",
        "next-starts-with-digit",
        "no-end-at-all",
        "single-sentence",
        "empty",
    ],
)
def test_first_sentence_real_ends(text: str, expected: str) -> None:
    assert first_sentence(text) == expected


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            3,
            "Mit Projektstart im Januar wurde beschlossen, auch bei DWK-Integration"
            " ein Austauschtreffen durchzuführen, um die Vernetzung untereinander und"
            " das Lernen voneinander in diesem Teilprojekt der DWK zu ermöglichen.",
        ),
        (7, "Manchmal liegt das Gute so nah."),
        (
            15,
            "In der Stadt Hagenow (Landkreis Ludwigslust-Parchim) nimmt das Thema"
            " Integration von Neuzugewanderten frischen Wind auf, weshalb am"
            " 27. Februar 2020 die Kick-Off-Veranstaltung zum Projekt DWK-Integration"
            " im Rathaus in Hagenow stattfand.",
        ),
        (
            19,
            "Der Landkreis Ludwigslust-Parchim veranstaltete am 25. Januar den"
            " diesjährigen Neujahrsempfang in dem Kulturhaus Mestlin.",
        ),
        (
            27,
            "Resultierend aus den bereits gesammelten Erfahrungen des Projektes"
            " Demografiewerkstatt Kommunen ist zum Januar 2020 ein neues Teilprojekt"
            " zum Thema Integration von Menschen mit Flucht- bzw."
            " Migrationshintergrund im Kontext des demografischen Wandels, kurz"
            " „DWK-Integration“, gestartet.",
        ),
        (
            31,
            "18 ausgewählte Landkreise erhalten im Rahmen des Projektes „Hauptamt"
            " stärkt Ehrenamt“ für drei Jahre bis zu 150.000 Euro pro Jahr aus dem"
            " Bundesprogramm Ländliche Entwicklung (BULE).",
        ),
    ],
    ids=["16.09.20", "07.07.20", "31.03.20", "25.02.20", "20.01.20", "01.12.19"],
)
def test_first_sentence_of_seed_items(line: int, expected: str) -> None:
    assert first_sentence(seed_line(line)) == expected


# --- title_from --------------------------------------------------------------


def test_title_of_seed_item_24_02_20_does_not_stop_at_the_day() -> None:
    text = seed_line(23)
    assert text.startswith("Am Montag, 13. Januar 2020 kamen rund 150 Personen")
    assert title_from(text, 90) == (
        "Am Montag, 13. Januar 2020 kamen rund 150 Personen des Landkreises aus"
        " verschiedensten…"
    )


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        (
            "Manchmal liegt das Gute so nah. Diese Erfahrung",
            90,
            "Manchmal liegt das Gute so nah",
        ),
        ("Wie geht das? Ganz einfach.", 90, "Wie geht das?"),
        (
            "Das Jahresmotto lautet „LUP leben!“ Mehr",
            90,
            "Das Jahresmotto lautet „LUP leben!“",
        ),
        ("Er sagte „Wir bleiben.“ Dann ging er.", 90, "Er sagte „Wir bleiben.“"),
        ('Er sagte "Wir bleiben." Dann ging er.', 90, 'Er sagte "Wir bleiben."'),
        ("Und dann... Danach", 90, "Und dann..."),
        (
            "Am 13. Januar 2020 trafen sich alle. Dann",
            90,
            "Am 13. Januar 2020 trafen sich alle",
        ),
        ("Ca. 20 Gäste kamen zum Fest. Dann", 90, "Ca. 20 Gäste kamen zum Fest"),
        (
            "Neuer Vorstand beim Heimatverein e.V.",
            90,
            "Neuer Vorstand beim Heimatverein e.V.",
        ),
        ("Das ist ein langer erster Satz. Kurz.", 20, "Das ist ein langer…"),
        ("Kurzer Satz ohne Punkt", 90, "Kurzer Satz ohne Punkt"),
    ],
    ids=[
        "full-stop-dropped",
        "question-mark-kept",
        "exclamation-in-quotes-kept",
        "full-stop-inside-typographic-quote-kept",
        "full-stop-inside-straight-quote-kept",
        "ellipsis-kept",
        "ordinal-day-not-an-end",
        "Ca-not-an-end",
        "abbreviation-stop-at-end-kept",
        "cut-to-limit",
        "no-full-stop",
    ],
)
def test_title_from(text: str, limit: int, expected: str) -> None:
    assert title_from(text, limit) == expected


# --- cut ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("kurz", 10, "kurz"),
        ("zehn Zeich", 10, "zehn Zeich"),
        ("Das ist ein langer Satz", 12, "Das ist ein…"),
        ("Das ist ein langer Satz", 10, "Das ist…"),
        ("Das ist ein langer Satz", 11, "Das ist…"),
        ("Donaudampfschifffahrt", 10, "Donaudamp…"),
        ("Erstens, zweitens und so weiter", 10, "Erstens…"),
        ("Neu – jetzt mit mehr Inhalt", 8, "Neu…"),
        ("Anfang: danach kommt mehr", 10, "Anfang…"),
    ],
    ids=[
        "shorter-than-limit",
        "exactly-limit",
        "space-right-after-head",
        "inside-a-word-back-to-boundary",
        "would-fit-without-ellipsis-only",
        "single-long-word",
        "trailing-comma-removed",
        "trailing-dash-removed",
        "trailing-colon-removed",
    ],
)
def test_cut(text: str, limit: int, expected: str) -> None:
    result = cut(text, limit)
    assert result == expected
    assert len(result) <= limit
    point = cut_point(text, limit)
    assert (text if point is None else text[:point] + "…") == expected


@settings(database=None)
@given(text=st.text(), limit=st.integers(min_value=20, max_value=200))
def test_cut_never_exceeds_limit(text: str, limit: int) -> None:
    result = cut(text, limit)
    assert len(result) <= limit
    if len(text) <= limit:
        assert result == text
    else:
        assert result.endswith("…")


@settings(database=None)
@given(text=st.text(), limit=st.integers(min_value=20, max_value=200))
def test_cut_point_leaves_room_for_the_ellipsis_and_no_trailing_mark(
    text: str, limit: int
) -> None:
    # Items keep their summary as this number (model.Item.summary_cut).
    point = cut_point(text, limit)
    if len(text) <= limit:
        assert point is None
        return
    assert point is not None
    assert 0 <= point <= limit - 1
    head = text[:point]
    assert head == head.rstrip(" ,;:–—-")


def _title_span_whole(text: str, limit: int) -> tuple[int, bool]:
    """``title_span`` by its definition: the whole first sentence, without
    the full stop that ends it, cut to ``limit``."""
    sentence = first_sentence(text)
    last = sentence.rsplit(maxsplit=1)[-1] if sentence.strip() else ""
    if last.endswith(".") and not last.endswith("..") and _ends_sentence(last, None):
        sentence = sentence[:-1]
    point = cut_point(sentence, limit)
    return (len(sentence), False) if point is None else (point, True)


_SENTENCES = st.lists(
    st.sampled_from(
        ["Ca.", "z. B.", "e.V.", "13.", "Mai.", "Dr.", "gut.", "gut!", "so?", "„Ja.“"]
    )
    | st.text(alphabet="abcAB .", min_size=1, max_size=12),
    max_size=40,
).map(" ".join)


@settings(database=None)
@given(text=_SENTENCES | st.text(), limit=st.integers(min_value=20, max_value=120))
def test_a_title_looks_no_further_than_it_can_reach(text: str, limit: int) -> None:
    # title_span stops looking for the end of the first sentence past
    # ``limit`` + 1 characters: the same as looking at the whole sentence.
    assert title_span(text, limit) == _title_span_whole(text, limit)


@pytest.mark.parametrize("stop", [".", "!", "?“", " e.V.", " Ca."])
@pytest.mark.parametrize("limit", [20, 21, 90])
def test_a_title_whose_sentence_ends_near_its_limit(stop: str, limit: int) -> None:
    for length in range(limit - 4, limit + 5):  # where the first sentence ends
        words = ("Wort " * limit)[: length - len(stop) - 1] + "x"
        sentence = words + stop
        assert len(sentence) == length
        text = sentence + " Danach folgt ein zweiter Satz. Und ein dritter."
        assert title_span(text, limit) == _title_span_whole(text, limit), length


# --- strip_illegal -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a\x00b", ("ab", ("U+0000",))),
        ("a\x01b\x08c\x1bd", ("abcd", ("U+0001", "U+0008", "U+001B"))),
        ("a\x7fb", ("ab", ("U+007F",))),
        ("a\x80b\x9fc", ("abc", ("U+0080", "U+009F"))),
        ("a\ufffeb\uffffc", ("abc", ("U+FFFE", "U+FFFF"))),
        ("a\ufdd0b", ("ab", ("U+FDD0",))),
        ("a\U0001fffeb", ("ab", ("U+1FFFE",))),
        ("a\ud800b\udfffc", ("abc", ("U+D800", "U+DFFF"))),
        ("a\x0bb", ("a b", ("U+000B",))),
        ("a\x0cb", ("a b", ("U+000C",))),
        ("\x00a\x0bb\x7f", ("a b", ("U+0000", "U+000B", "U+007F"))),
        ("Tab\tund\nNeu\r", ("Tab\tund\nNeu\r", ())),
        (
            "Grüße aus Köln: „Zitat“ – A & B < C > D ß",
            ("Grüße aus Köln: „Zitat“ – A & B < C > D ß", ()),
        ),
        ("\u00a0\u2013\u2014\u20ac", ("\u00a0\u2013\u2014\u20ac", ())),
        ("", ("", ())),
    ],
    ids=[
        "nul",
        "c0-controls",
        "del",
        "c1-controls",
        "fffe-ffff",
        "noncharacter-fdd0",
        "noncharacter-plane-1",
        "lone-surrogates",
        "vertical-tab-to-space",
        "form-feed-to-space",
        "mixed-in-order",
        "tab-newline-cr-kept",
        "german-text-and-markup-chars-kept",
        "nbsp-dashes-euro-kept",
        "empty",
    ],
)
def test_strip_illegal(text: str, expected: tuple[str, tuple[str, ...]]) -> None:
    assert strip_illegal(text) == expected


# --- collapse_space ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a   b", "a b"),
        ("a\t\n b", "a b"),
        ("  a b  ", "a b"),
        ("\n\ta\n", "a"),
        ("5\u00a0km", "5\u00a0km"),
        ("5\u202fkm", "5\u202fkm"),
        ("a\u00a0\u00a0b", "a b"),
        ("a \u00a0b", "a b"),
        ("a\u2003b", "a b"),
        ("a  b   c", "a b c"),
        (" \t\n", ""),
        ("", ""),
    ],
    ids=[
        "spaces-run",
        "mixed-run",
        "ends-trimmed",
        "ends-trimmed-tab-newline",
        "single-nbsp-kept",
        "single-narrow-nbsp-kept",
        "double-nbsp-collapsed",
        "space-plus-nbsp-collapsed",
        "em-space-to-space",
        "several-runs",
        "only-white-space",
        "empty",
    ],
)
def test_collapse_space(text: str, expected: str) -> None:
    assert collapse_space(text) == expected


# --- slugify -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Förderung", "foerderung"),
        ("Straße", "strasse"),
        ("Ärzte & Öko", "aerzte-oeko"),
        ("ÜBER", "ueber"),
        ("Café Crème", "cafe-creme"),
        ("Ça déjà", "ca-deja"),
        ("  Kinder und Jugend  ", "kinder-und-jugend"),
        ("A/B--C", "a-b-c"),
        ("2020: Rückblick!", "2020-rueckblick"),
        ("---", ""),
        ("", ""),
        ("Fo\u0308rderung", "foerderung"),
    ],
    ids=[
        "oe",
        "sharp-s",
        "ae-oe-ampersand",
        "upper-umlaut",
        "accents-stripped",
        "cedilla-and-accents",
        "trimmed",
        "punctuation-runs",
        "digits-kept",
        "only-punctuation",
        "empty",
        "decomposed-umlaut-nfd",
    ],
)
def test_slugify(name: str, expected: str) -> None:
    assert slugify(name) == expected


@settings(database=None)
@given(name=st.text())
def test_slugify_always_matches_pattern_or_is_empty(name: str) -> None:
    slug = slugify(name)
    assert slug == "" or SLUG_PATTERN.fullmatch(slug) is not None
    assert slugify(slug) == slug


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("Am Mo. 13.01. war es kalt. Dann taute es.", "Am Mo. 13.01. war es kalt"),
        (
            "Das Fest fand in der Hauptstr. 5 statt. Alle kamen.",
            "Das Fest fand in der Hauptstr. 5 statt",
        ),
        ("So war es. Dann nicht mehr.", "So war es"),
    ],
)
def test_weekday_and_street_abbreviations(text: str, title: str) -> None:
    assert title_from(text, 90) == title
