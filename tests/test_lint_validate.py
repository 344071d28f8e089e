"""`feedpub check` as a lint, and the validation every file passes before it is published."""

from __future__ import annotations

import datetime as dt
import importlib
import tomllib
from pathlib import Path

import pytest

from feedpub.build import build
from feedpub.config import Config, config_from_dict
from feedpub.errors import ValidationError
from feedpub.lint import lint_items, lint_topics
from feedpub.publish import read_sources
from feedpub.site import compile_items, compile_site
from feedpub.validate import html_problems, validate_outputs, xml_problems
from tests.conftest import ROOT, read_tree

TODAY = dt.date(2020, 6, 1)


def lint(text: str, config: Config) -> list[str]:
    items, _ = compile_items([("news.txt", text.encode())], config)
    return [str(d) for d in lint_items(items, config, TODAY)]


def test_each_lint_rule_names_file_and_line(project_config: Config) -> None:
    long_sentence = "Der Landkreis " + "und die Gemeinde " * 20 + "trafen sich."
    text = (
        "01.07.20\n\nIntegration im Juli, ein Termin in der Zukunft.\n\n"
        "01.03.20\n\nIntegration zweimal gemeldet.\n\n"
        "01.03.20\n\nIntegration zweimal gemeldet.\n\n"
        "02.03.20\n\nEin Ehrenamt kommt nach dem älteren Datum.\n\n"
        "01.02.20\n\nÜber das Wetter.\n\n"
        f"01.01.20\n\n{long_sentence}\n\n"
        "01.12.19\n@title: " + "Sehr langer Titel " * 6 + "\n\nIntegration.\n"
    )
    assert lint(text, project_config) == [
        "news.txt:1: warning: dated 2020-07-01, after today (2020-06-01)",
        "news.txt:9: warning: same date and text as the item at news.txt:5",
        "news.txt:13: warning: dated 2020-03-02, later than the item above it"
        " (2020-03-01 at line 9); sources list the newest first",
        "news.txt:17: warning: matches no topic (add keywords or @tags:)",
        "news.txt:21: warning: matches no topic (add keywords or @tags:)",
        f"news.txt:21: warning: first sentence has {len(long_sentence)} characters;"
        " the title shows only its first 90 (end the sentence or give @title:)",
        "news.txt:25: warning: @title has 107 characters, more than title_length (90)",
    ]


def test_clean_source_has_no_lint_warning(project_config: Config) -> None:
    assert (
        lint("01.03.20\n\nIntegration vor Ort. Mehr dazu bald.\n", project_config) == []
    )


def test_a_topic_that_holds_no_item_is_named_at_its_table() -> None:
    text = """\
[feed]
base_url = "https://example.org/"

[[topic]]
name = "Ehrenamt"
keywords = ["Ehrenamt"]

[[ topic ]]  # misspelt
name = "Tippfehler"
keywords = ["Ehrenammt"]

[[topic]]
name = "Nur getaggt"

[[topic]]
name = "Ausgeschlossen"
keywords = ["Ehrenamt"]
exclude = ["Verein"]

[[topic]]
name = "Getaggt"
"""
    config = config_from_dict(tomllib.loads(text), Path("feedpub.toml"))
    items, _ = compile_items(
        [
            (
                "news.txt",
                b"02.03.20\n@tags: Getaggt\n\nEhrenamt im Verein.\n\n"
                b"01.03.20\n\nDer Verein sucht Ehrenamtliche.\n",
            )
        ],
        config,
    )
    assert [str(d) for d in lint_topics(items, config, "feedpub.toml", text)] == [
        "feedpub.toml:8: warning: topic 'Tippfehler' holds no item: no text has its"
        " keywords (Ehrenammt), and no @tags: line names it",
        "feedpub.toml:12: warning: topic 'Nur getaggt' holds no item: it has no"
        " keywords, and no @tags: line names it",
        "feedpub.toml:15: warning: topic 'Ausgeschlossen' holds no item: no text has"
        " its keywords (Ehrenamt) without its exclude rules (Verein), and no @tags:"
        " line names it",
    ]
    # Topics given another way than as [[topic]] tables: no line to name.
    inline = 'topic = [{name = "Tippfehler", keywords = ["Ehrenammt"]}]\n'
    config = config_from_dict(
        {**tomllib.loads(inline), "feed": {"base_url": "https://example.org/"}},
        Path("feedpub.toml"),
    )
    assert [str(d) for d in lint_topics(items, config, "feedpub.toml", inline)] == [
        "feedpub.toml: warning: topic 'Tippfehler' holds no item: no text has its"
        " keywords (Ehrenammt), and no @tags: line names it",
    ]


def test_validation_finds_what_readers_trip_on() -> None:
    rss = (
        b'<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>'
        b"<title>t</title><link>https://x/</link><description>d</description>"
        b"<item><title>a</title><guid>1</guid><pubDate>Mai 2020</pubDate></item>"
        b"<item><title>b</title><guid>1</guid></item></channel></rss>"
    )
    assert xml_problems(rss) == [
        'channel has no <atom:link rel="self">',
        "item 1: pubDate 'Mai 2020' is not an RFC 822 date",
        "item 2: duplicate guid '1'",
    ]
    atom = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><id>x</id><title>t</title>'
        b"<updated>2020-01-01</updated><entry><id>e</id><title>a</title>"
        b"<updated>2020-01-01T00:00:00Z</updated></entry></feed>"
    )
    assert xml_problems(atom) == [
        "feed <updated> is not an RFC 3339 date",
        'feed has no <link rel="self">',
        "entry 1 has no author and the feed has none",
    ]
    assert xml_problems(b"<rss><channel>")[0].startswith("not well-formed XML")
    assert html_problems(b'<!DOCTYPE html><p id="a"></p><p id="a"></p>') == [
        "duplicate element id 'a'"
    ]


def test_every_output_of_a_real_build_validates(project_config: Config) -> None:
    result = compile_site(read_sources(project_config.sources), project_config)
    validate_outputs(result.outputs)  # raises on any problem


def test_build_refuses_to_publish_an_invalid_file(
    project_config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "feeds"
    build(project_config, output=out)
    before = read_tree(out)
    module = importlib.import_module("feedpub.site")
    original = module.render_page

    def broken(page: object) -> bytes:
        data: bytes = original(page)  # type: ignore[arg-type]
        return data.replace(b"<main", b'<p id="main"></p><main', 1)

    monkeypatch.setattr(module, "render_page", broken)
    (tmp_path / "seed.txt").write_text("01.01.21\n\nNeu im Jahr.\n")
    with pytest.raises(ValidationError) as caught:
        build(
            project_config, sources=[ROOT / "seeds", tmp_path / "seed.txt"], output=out
        )
    assert str(caught.value).startswith("refusing to publish: ")
    # The first page rendered is named (the pages go by their newest item).
    assert "  - archive/2019.html: duplicate element id 'main'" in str(caught.value)
    assert read_tree(out) == before


def test_whole_document_checks_agree_with_the_item_by_item_ones(
    project_config: Config, tricky_config: Config
) -> None:
    from lxml import etree

    from feedpub.validate import (
        ATOM,
        _atom_fine,
        _rss_fine,
        atom_problems,
        rss_problems,
    )

    checked = 0
    for config in (project_config, tricky_config):
        outputs = compile_site(read_sources(config.sources), config).outputs
        for name, data in outputs.items():
            if not name.endswith(".xml"):
                continue
            root = etree.fromstring(data)
            if root.tag == "rss":
                assert (_rss_fine(root), rss_problems(root)) == (True, []), name
                channel = root.find("channel")
                assert channel is not None
                items = channel.findall("item")
                if len(items) > 1:  # break it: the fast check must notice
                    guid = items[1].find("guid")
                    first = items[0].find("guid")
                    assert guid is not None
                    assert first is not None
                    guid.text = first.text
                    assert not _rss_fine(root)
                    assert rss_problems(root)
            else:
                assert root.tag == f"{ATOM}feed"
                assert (_atom_fine(root), atom_problems(root)) == (True, []), name
                entries = root.findall(f"{ATOM}entry")
                if entries:
                    updated = entries[-1].find(f"{ATOM}updated")
                    assert updated is not None
                    updated.text = "gestern"
                    assert not _atom_fine(root)
                    assert atom_problems(root)
            checked += 1
    assert checked > 20
