"""What readers and browsers get besides RSS and Atom: JSON Feed 1.1, OPML, the
XSL view of the feeds and the embed kit, read back with reader and lxml."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import io
import itertools
import json
import re
import warnings
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from lxml import html as lhtml
from reader import make_reader
from reader.opml import parse as parse_opml

from feedpub.config import Config
from feedpub.plan import embed_path
from feedpub.publish import read_sources, write_outputs
from feedpub.render.assets import embed_script
from feedpub.render.jsonfeed import VERSION, json_feed_problems
from feedpub.render.pages import _WORDS
from feedpub.site import compile_site
from tests.conftest import DATA, ROOT, load_config
from tests.feedcheck import ATOM, check_atom, check_rss

CASES = [
    pytest.param(ROOT / "feedpub.toml", [ROOT / "seeds"], id="seed"),
    pytest.param(DATA / "tricky.toml", [DATA / "tricky"], id="tricky"),
    pytest.param(DATA / "web.toml", [DATA / "tricky", DATA / "web"], id="web"),
    pytest.param(DATA / "archive.toml", [DATA / "tricky"], id="archive"),
]


def _build(config: Config, sources: list[Path], out: Path) -> dict[str, bytes]:
    outputs = compile_site(read_sources(sources), config).outputs
    write_outputs(outputs, out)
    return outputs


def _prefixes(config: Config) -> list[str]:
    return ["", *(f"topics/{t.slug}/" for t in config.topics)]


# JSON Feed ----------------------------------------------------------------


@pytest.mark.parametrize(("config_path", "sources"), CASES)
def test_json_feeds_follow_the_spec_and_match_atom(
    config_path: Path, sources: list[Path], tmp_path: Path
) -> None:
    config = load_config(config_path)
    outputs = _build(config, sources, tmp_path)
    for prefix in _prefixes(config):
        data = outputs[f"{prefix}feed.json"]
        assert json_feed_problems(data) == [], prefix
        feed = json.loads(data)
        url = f"{config.base_url}{prefix}atom.xml"
        atom = check_atom(tmp_path / prefix / "atom.xml", url, config.language)
        root = etree.fromstring(outputs[f"{prefix}atom.xml"])
        alternate = root.find(f"{ATOM}link[@rel='alternate']")
        assert alternate is not None
        assert feed["version"] == VERSION
        assert feed["title"] == root.findtext(f"{ATOM}title")
        assert feed["home_page_url"] == alternate.get("href")
        assert feed["feed_url"] == f"{config.base_url}{prefix}feed.json"
        assert feed["language"] == config.language
        assert feed["authors"] == [{"name": config.author}]
        got = [
            (
                i["id"],
                i["title"],
                i["url"],
                dt.datetime.fromisoformat(i["date_published"]),
                i.get("tags", []),
                i.get("authors", [{}])[0].get("name"),
            )
            for i in feed["items"]
        ]
        assert got == [
            (
                e["id"],
                e["title"],
                e["link"],
                e["published"],
                e["categories"],
                e["author"],
            )
            for e in atom
        ]
        for item, entry in zip(feed["items"], atom, strict=True):
            # the same text: HTML content as in Atom, or the title when none
            assert item.get("content_html", item.get("content_text")) == (
                entry["content"] or entry["title"]
            )


@pytest.mark.parametrize(("config_path", "sources"), CASES)
def test_reader_reads_every_json_feed(
    config_path: Path, sources: list[Path], tmp_path: Path
) -> None:
    config = load_config(config_path)
    outputs = _build(config, sources, tmp_path)
    names = [f"{prefix}feed.json" for prefix in _prefixes(config)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        reader = make_reader(":memory:", feed_root=str(tmp_path))
        try:
            for name in names:
                reader.add_feed(f"file:{name}")
            reader.update_feeds()
            for name in names:
                expected = json.loads(outputs[name])
                feed = reader.get_feed(f"file:{name}")
                assert feed.last_exception is None, (name, feed.last_exception)
                assert feed.title == expected["title"]
                assert feed.version == "json11"
                entries = {e.id: e for e in reader.get_entries(feed=feed)}
                assert sorted(entries) == sorted(i["id"] for i in expected["items"])
                for item in expected["items"]:
                    entry = entries[item["id"]]
                    assert entry.title == item["title"]
                    assert entry.link == item["url"]
                    assert entry.published == dt.datetime.fromisoformat(
                        item["date_published"]
                    )
        finally:
            reader.close()


def test_json_feed_keeps_markup_as_text_and_is_safe_inline(tmp_path: Path) -> None:
    config = load_config(DATA / "web.toml")
    data = _build(config, [DATA / "tricky", DATA / "web"], tmp_path)["feed.json"]
    for raw in (b"<", b">", b"&"):
        assert raw not in data  # escaped as \u003c, \u003e, \u0026
    titles = [i["title"] for i in json.loads(data)["items"]]
    assert (
        "<script>window.feedpubPwned = true</script> & \"Zitat\" 'einfach' <b>fett</b>"
        in titles
    )
    assert json.loads(data)["title"] == "Webtest „Zitat“ & <Klammern>"


def _valid() -> dict[str, Any]:
    return {
        "version": VERSION,
        "title": "T",
        "home_page_url": "https://example.org/",
        "feed_url": "https://example.org/feed.json",
        "authors": [{"name": "A"}],
        "_ext": {"anything": 1},
        "items": [
            {
                "id": "1",
                "url": "https://example.org/1",
                "content_text": "x",
                "date_published": "2020-09-16T14:00:00+02:00",
                "tags": ["a"],
            },
            {
                "id": "2",
                "content_html": "<p>x</p>",
                "date_modified": "2020-09-16T12:00:00.5Z",
                "attachments": [{"url": "https://example.org/a.mp3", "mime_type": "a"}],
            },
        ],
    }


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(feed: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = feed
        for key in parents:
            target = target[int(key)] if key.isdigit() else target[key]
        if value is KeyError:
            del target[last]
        else:
            target[last] = value

    return change


PROBLEMS = [
    (_set("version", "https://jsonfeed.org/version/1"), "version: expected"),
    (_set("title", KeyError), "title: required"),
    (_set("title", " "), "title: expected text, found an empty string"),
    (_set("items", KeyError), "items: required"),
    (_set("items", {}), "items: expected an array, found an object"),
    (_set("home_page_url", "/index.html"), "home_page_url: expected an absolute"),
    (_set("feed_url", "ftp://example.org/f"), "feed_url: expected an absolute"),
    (_set("authors", []), "authors: expected at least one author"),
    (_set("authors", [{"_email": "a"}]), "authors[0]: expected a name, url or avatar"),
    (_set("expired", "no"), "expired: expected true or false, found a string"),
    (_set("language", "deutsch!"), "language: expected an RFC 5646 language tag"),
    (_set("icons", "x"), "icons: unknown key (extensions start with _)"),
    (_set("items.0.id", KeyError), "items[0].id: required"),
    (_set("items.0.id", 1), "items[0].id: expected a string, found a int"),
    (_set("items.1.id", "1"), "items[1].id: '1' is used twice"),
    (_set("items.0.id", ""), "items[0].id: expected text, found an empty string"),
    (_set("items.0.content_text", KeyError), "items[0]: expected content_html or"),
    (_set("items.0.url", "example.org/1"), "items[0].url: expected an absolute"),
    (
        _set("items.0.date_published", "2020-09-16 14:00"),
        "items[0].date_published: expected an RFC 3339 date-time",
    ),
    (
        _set("items.0.date_published", "2020-02-30T10:00:00Z"),
        "items[0].date_published: expected a date that exists",
    ),
    (_set("items.0.tags", "a"), "items[0].tags: expected a list of strings"),
    (
        _set("items.1.attachments.0.mime_type", KeyError),
        "items[1].attachments[0].mime_type: required",
    ),
    (_set("items.1.summary", 3), "items[1].summary: expected a string, found a int"),
]


def test_a_valid_json_feed_has_no_problems() -> None:
    assert json_feed_problems(json.dumps(_valid()).encode()) == []


@pytest.mark.parametrize(("change", "problem"), PROBLEMS)
def test_json_feed_problems_finds_each_broken_rule(
    change: Callable[[dict[str, Any]], None], problem: str
) -> None:
    feed = copy.deepcopy(_valid())
    change(feed)
    problems = json_feed_problems(json.dumps(feed).encode())
    assert len(problems) == 1, problems
    assert problems[0].startswith(problem), problems


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"\xff{}", "expected UTF-8, found invalid bytes at offset 0"),
        (b'{"version": ', "expected JSON: "),
        (b"[]", "expected a JSON object at the top, found an array"),
    ],
)
def test_json_feed_problems_with_no_feed_at_all(data: bytes, problem: str) -> None:
    assert json_feed_problems(data)[0].startswith(problem)


# OPML ---------------------------------------------------------------------


@pytest.mark.parametrize(("config_path", "sources"), CASES)
def test_opml_lists_every_feed_and_imports_into_reader(
    config_path: Path, sources: list[Path], tmp_path: Path
) -> None:
    config = load_config(config_path)
    result = compile_site(read_sources(sources), config)
    data = result.outputs["feeds.opml"]
    # strict XML: no recovery from errors
    root = etree.fromstring(data, etree.XMLParser(recover=False))
    assert root.tag == "opml"
    assert root.get("version") == "2.0"
    assert root.findtext("head/title") == config.title
    created = parsedate_to_datetime(root.findtext("head/dateCreated") or "")
    assert created == min(i.published for i in result.items)  # moves with nothing
    expected = [
        (
            f"{config.base_url}{prefix}rss.xml",
            check_rss_title(result.outputs[f"{prefix}rss.xml"]),
            f"{config.base_url}{prefix}index.html",
        )
        for prefix in _prefixes(config)
    ]
    imported = parse_opml(io.BytesIO(data))
    assert [(f.url, f.title, f.link) for f in imported] == expected
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        reader = make_reader(":memory:")
        try:
            with (tmp_path / "feeds.opml").open("wb+") as file:
                file.write(data)
                file.seek(0)
                reader.import_feeds(file)
            assert sorted(f.url for f in reader.get_feeds()) == sorted(
                url for url, _, _ in expected
            )
        finally:
            reader.close()


def check_rss_title(data: bytes) -> str:
    title = etree.fromstring(data).findtext("channel/title")
    assert title
    return title


# XSL view -----------------------------------------------------------------


@pytest.mark.parametrize(("config_path", "sources"), CASES)
def test_feeds_reference_the_stylesheet_right_after_the_declaration(
    config_path: Path, sources: list[Path], tmp_path: Path
) -> None:
    config = load_config(config_path)
    outputs = _build(config, sources, tmp_path)
    assert b"<xsl:stylesheet" in outputs["feed.xsl"]
    for prefix in _prefixes(config):
        for name in ("rss.xml", "atom.xml"):
            lines = outputs[f"{prefix}{name}"].splitlines()
            assert lines[0] == b"<?xml version='1.0' encoding='UTF-8'?>"
            href = "../../feed.xsl" if prefix else "feed.xsl"
            assert (
                lines[1] == f'<?xml-stylesheet type="text/xsl" href="{href}"?>'.encode()
            )
            tree = etree.parse(str(tmp_path / prefix / name))
            instruction = tree.getroot().getprevious()
            assert isinstance(instruction, etree._XSLTProcessingInstruction)
            assert instruction.get("href") == href
            assert (tmp_path / prefix / href).resolve() == tmp_path / "feed.xsl"
            if name == "rss.xml":
                check_rss(tmp_path / prefix / name, config.base_url + prefix + name)
            else:
                check_atom(
                    tmp_path / prefix / name,
                    config.base_url + prefix + name,
                    config.language,
                )


def _transform(folder: Path, name: str) -> lhtml.HtmlElement:
    tree = etree.parse(str(folder / name))
    instruction = tree.getroot().getprevious()
    assert isinstance(instruction, etree._XSLTProcessingInstruction)
    xslt = etree.XSLT(
        etree.parse(str((folder / name).parent / instruction.get("href")))
    )
    result = xslt(tree)
    assert not xslt.error_log, xslt.error_log
    return lhtml.fromstring(str(result))


@pytest.mark.parametrize("name", ["rss.xml", "atom.xml"])
@pytest.mark.parametrize(("config_path", "sources"), CASES)
def test_the_stylesheet_turns_a_feed_into_a_page(
    config_path: Path, sources: list[Path], tmp_path: Path, name: str
) -> None:
    config = load_config(config_path)
    result = compile_site(read_sources(sources), config)
    write_outputs(result.outputs, tmp_path)
    for prefix in _prefixes(config):
        page = _transform(tmp_path, prefix + name)
        feed = etree.fromstring(result.outputs[prefix + name])
        title = feed.findtext("channel/title") or feed.findtext(f"{ATOM}title")
        assert page.get("lang") == config.language
        assert page.findtext(".//h1") == title
        assert page.findtext(".//title") == title
        field = page.get_element_by_id("feed-url")
        assert field.get("value") == config.base_url + prefix + name
        label = page.find(".//label[@for='feed-url']")
        assert label is not None
        assert label.text
        home = page.xpath("//header//a/@href")
        assert home == [f"{config.base_url}{prefix}index.html"]
        slug = prefix.removeprefix("topics/").rstrip("/")
        items = [i for i in result.items if not slug or slug in i.topics]
        items = sorted(items, key=lambda i: i.published, reverse=True)[: config.limit]
        articles = page.findall(".//article")
        assert [a.findtext("h2/a") for a in articles] == [i.title for i in items]
        assert [a.find("h2/a").get("href") for a in articles] == [i.link for i in items]
        dates = [a.findtext(".//time") for a in articles]
        assert dates == [
            i.published.astimezone(config.timezone).strftime("%d.%m.%Y") for i in items
        ]
        if name == "atom.xml":  # Atom carries a plain-text summary; RSS only HTML
            texts = [a.xpath("string(p[not(@class)])") for a in articles]
            assert texts == [i.summary for i in items]


def test_the_stylesheet_can_be_turned_off(project_config: Config) -> None:
    documents = read_sources([ROOT / "seeds"])
    with_xsl = compile_site(documents, project_config).outputs
    plain = compile_site(
        documents, dataclasses.replace(project_config, stylesheet=False)
    ).outputs
    assert "feed.xsl" in with_xsl
    assert "feed.xsl" not in plain
    assert set(with_xsl) - set(plain) == {"feed.xsl"}
    for name, data in plain.items():
        assert b"xml-stylesheet" not in data, name
        if name.endswith(("rss.xml", "atom.xml")):
            # the only difference is the processing instruction's line
            lines = with_xsl[name].splitlines(keepends=True)
            assert b"".join(lines[:1] + lines[2:]) == data


# Embed kit ----------------------------------------------------------------


@pytest.mark.parametrize(("config_path", "sources"), CASES)
def test_embed_pages_show_the_newest_items_without_scripts(
    config_path: Path, sources: list[Path]
) -> None:
    config = load_config(config_path)
    result = compile_site(read_sources(sources), config)
    for topic in (None, *config.topics):
        slug = topic.slug if topic else ""
        name = embed_path(slug)
        assert name == f"embed/{slug or 'all'}.html"
        data = result.outputs[name]
        text = data.decode("utf-8")
        assert "<script" not in text.lower()
        page = lhtml.fromstring(data)
        assert page.get("lang") == config.language
        assert not [
            (e.tag, a) for e in page.iter() for a in e.attrib if a.startswith("on")
        ], "event handler attributes run script"
        assert not page.xpath("//*[@src] | //link[@rel='stylesheet']")
        style = page.findtext(".//style") or ""
        for prop in ("--fp-text", "--fp-bg", "--fp-accent", "--fp-font"):
            assert re.search(rf"{prop}:", style), prop
            assert f"var({prop})" in style, prop
        links = page.findall(".//a")
        assert links
        for link in links:
            assert link.get("target") == "_blank"
            assert "noopener" in (link.get("rel") or "").split()
            assert link.get("href", "").startswith(("https://", "http://"))
        items = [i for i in result.items if not slug or slug in i.topics]
        items = sorted(items, key=lambda i: i.published, reverse=True)
        items = items[: min(config.limit, config.embed_limit)]
        shown = page.findall(".//li")
        assert [li.findtext("a") for li in shown] == [i.title for i in items]
        assert [li.get("id") for li in shown] == [i.anchor for i in items]


def test_embed_script_is_published_and_builds_no_html_from_text(
    project_config: Config,
) -> None:
    outputs = compile_site(read_sources([ROOT / "seeds"]), project_config).outputs
    script = outputs["embed.js"].decode("utf-8")
    assert outputs["embed.js"] == embed_script()
    assert (ROOT / "feedpub" / "static" / "embed.js").read_bytes() == embed_script()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write"):
        assert sink not in script, sink
    assert "eval(" not in script
    assert "new Function" not in script
    assert "textContent" in script
    assert "createElement" in script
    assert 'credentials: "omit"' in script
    # an empty feed: the embed pages' words
    for language, words in _WORDS.items():
        assert f'{language}: "{words["empty"]}"' in script, language


def test_embed_script_is_package_data() -> None:
    text = (ROOT / "pyproject.toml").read_text("utf-8")
    assert re.search(r'feedpub = \[[^]]*"static/\*"', text)


# Every URL we publish points at something we wrote --------------------------


def _ids(page: bytes) -> set[str]:
    return {str(i) for i in lhtml.fromstring(page).xpath("//@id")}


def _resolve(url: str, config: Config, outputs: dict[str, bytes], where: str) -> None:
    """An absolute URL under base_url names a written file (and anchor)."""
    if url.startswith("https://www.example.org/"):
        return  # an explicit @link: to the publisher's own site
    assert url.startswith(config.base_url), (where, url)
    path, _, anchor = url.removeprefix(config.base_url).partition("#")
    assert path in outputs, (where, url)
    if anchor:
        assert anchor in _ids(outputs[path]), (where, url)


@pytest.mark.parametrize(("config_path", "sources"), CASES)
def test_every_published_url_points_to_a_file_the_build_wrote(
    config_path: Path, sources: list[Path]
) -> None:
    config = load_config(config_path)
    outputs = compile_site(read_sources(sources), config).outputs
    checked = 0

    def check(url: str | None, where: str) -> None:
        nonlocal checked
        assert url, where
        _resolve(url, config, outputs, where)
        checked += 1

    xml = [n for n in outputs if n.endswith(".xml")]  # feeds and archive documents
    assert len(xml) >= 2 * len(_prefixes(config))
    for name in xml:
        root = etree.fromstring(outputs[name])
        if root.tag == "rss":
            rss = root.find("channel")
            assert rss is not None
            check(rss.findtext("link"), f"{name} channel link")
            for link in rss.findall(f"{ATOM}link"):
                check(link.get("href"), f"{name} atom:link")
            for item in rss.findall("item"):
                check(item.findtext("link"), f"{name} item link")
        else:
            assert root.tag == f"{ATOM}feed", name
            for link in root.iter(f"{ATOM}link"):
                check(link.get("href"), f"{name} link")
    for prefix in _prefixes(config):
        feed = json.loads(outputs[f"{prefix}feed.json"])
        check(feed["home_page_url"], "json home_page_url")
        check(feed["feed_url"], "json feed_url")
        for item in feed["items"]:
            check(item["url"], "json item url")
    opml = etree.fromstring(outputs["feeds.opml"])
    for outline in opml.iter("outline"):
        check(outline.get("xmlUrl"), "opml xmlUrl")
        check(outline.get("htmlUrl"), "opml htmlUrl")
    for name, data in outputs.items():
        if name.endswith(".html"):
            page = lhtml.fromstring(data)
            for link in page.xpath("//link[@rel='alternate']"):
                check(link.get("href"), f"{name} discovery link")
    assert checked > 10


@pytest.mark.parametrize(("config_path", "sources"), CASES)
def test_feed_pages_advertise_and_offer_every_feed(
    config_path: Path, sources: list[Path]
) -> None:
    config = load_config(config_path)
    outputs = compile_site(read_sources(sources), config).outputs
    feeds = [
        (
            f"{config.base_url}{prefix}rss.xml",
            f"{config.base_url}{prefix}atom.xml",
            f"{config.base_url}{prefix}feed.json",
        )
        for prefix in _prefixes(config)
    ]
    for prefix in _prefixes(config):
        page = lhtml.fromstring(outputs[f"{prefix}index.html"])
        assert page.get("lang") == config.language
        assert page.find(".//main") is not None
        assert page.find(".//nav") is not None
        discovery = [
            (link.get("type"), link.get("href"))
            for link in page.xpath("//link[@rel='alternate']")
        ]
        types = ("application/rss+xml", "application/atom+xml", "application/feed+json")
        expected = [(t, u) for urls in feeds for t, u in zip(types, urls, strict=True)]
        assert sorted(discovery) == sorted(expected)
        own = feeds[_prefixes(config).index(prefix)]
        assert discovery[:3] == list(zip(types, own, strict=True)), "own feed first"
        # a read-only, labelled field with each feed's address
        fields = page.xpath("//input[@readonly]")
        assert [f.get("value") for f in fields] == [own[0]] + [
            rss for rss, _, _ in feeds
        ]
        for field in fields:
            labels = page.xpath(f"//label[@for='{field.get('id')}']")
            assert len(labels) == 1
            assert labels[0].text_content().strip()
        assert len({f.get("id") for f in fields}) == len(fields)
        headings = [int(h.tag[1]) for h in page.iter("h1", "h2", "h3", "h4")]
        assert headings[0] == 1
        assert all(b - a <= 1 for a, b in itertools.pairwise(headings))
        # no resources from elsewhere: no scripts, images or style sheets at all
        assert not page.xpath("//script | //img | //link[@rel='stylesheet']")
