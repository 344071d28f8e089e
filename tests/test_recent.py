"""``feed.history = "recent"``: publish, and read, only the newest years.

Such a build reads the items of the newest years, a whole year at a time,
until the main feed and every topic's hold their newest ``limit`` items and
one more (``site._reached``); older items are cut into blocks but neither
read nor published. So a first build must publish what a build with
``feed.archives = false`` publishes from the items of those years alone, byte
for byte (only the state file differs: it describes the whole sources), and
a later one what a first build of the same text does, given the same
history (ids and dates carry over in the state). The fast paths
(``compile_appended``, ``compile_edited``) do not apply: every build goes
the whole way, over those years.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import posixpath
import re
from pathlib import Path
from urllib.parse import urljoin

import pytest

from feedpub.build import BuildOptions, build
from feedpub.config import Config, load_config
from feedpub.errors import ConfigError, SourceError
from feedpub.plan import STATE
from feedpub.publish import read_sources
from feedpub.site import BuildResult, compile_items, compile_site
from tests.conftest import read_tree
from tests.test_append import CONFIG, archive, item, newest

ITEM = re.compile(r"(\d\d)\.(\d\d)\.(\d{4})\n\n[^\n]*\n\n")
SPORT = '\n[[topic]]\nname = "Sport"\nkeywords = ["Sportplatz"]\n'


class Site:
    """One project folder: its sources, config and feeds."""

    def __init__(self, folder: Path, text: str, extra: str, topics: str = "") -> None:
        self.folder = folder
        (folder / "sources").mkdir(parents=True)
        settings = {"limit": 5, "size": 3, "extra": extra}
        (folder / "feedpub.toml").write_text(CONFIG.format(**settings) + topics)
        self.write(text)

    def write(self, text: str) -> None:
        (self.folder / "sources" / "news.txt").write_text(text)

    def build(self) -> BuildResult:
        config = load_config(self.folder / "feedpub.toml")
        result, _ = build(
            config, [self.folder / "sources"], self.folder / "feeds", BuildOptions()
        )
        assert result is not None
        self.listed = {r.path for r in result.state.outputs}
        return result

    def published(self) -> dict[str, bytes]:
        """The files the last build published, as its state lists them, but
        the state file. (A file no build lists any more stays where it is:
        feedpub never deletes what it published.)"""
        found = read_tree(self.folder / "feeds")
        assert STATE in found
        assert self.listed <= set(found)
        return {path: found[path] for path in sorted(self.listed)}


def years_of(result: BuildResult) -> set[int]:
    return {i.day.year for i in result.items}


def since(text: str, year: int) -> str:
    """The items of ``text`` of ``year`` and later, in their order."""
    return "".join(m[0] for m in ITEM.finditer(text) if int(m[3]) >= year)


def with_word(text: str, word: str, year: int, every: int) -> str:
    """``text`` with ``word`` added to every ``every``-th item of ``year``."""
    count = 0

    def add(match: re.Match[str]) -> str:
        nonlocal count
        if int(match[3]) != year:
            return match[0]
        count += 1
        return match[0][:-3] + f" {word}.\n\n" if count % every == 0 else match[0]

    return ITEM.sub(add, text)


@pytest.fixture(autouse=True)
def _clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1600000000")


TEXT = archive(900, start=dt.date(2017, 6, 1))  # June 2017 to November 2019


def oracle(tmp_path: Path, text: str, years: set[int], topics: str = "") -> Site:
    """An ``archives = false`` build of the items of ``years`` alone."""
    cut = Site(tmp_path / "cut", since(text, min(years)), "archives = false", topics)
    assert years_of(cut.build()) == years
    return cut


def test_it_reads_and_publishes_the_newest_year_that_fills_every_feed(
    tmp_path: Path,
) -> None:
    site = Site(tmp_path / "recent", TEXT, 'history = "recent"')
    result = site.build()
    assert years_of(result) == {2019}
    assert result.count == len(result.items) < len(ITEM.findall(TEXT)) / 2
    published = site.published()
    assert published == oracle(tmp_path, TEXT, {2019}).published()
    assert "archive/2019.html" in published
    assert not any(p.startswith("archive/201") and "2019" not in p for p in published)
    assert not any(re.search(r"(rss|atom)-\d+\.xml", p) for p in published)
    assert unresolved(published) == []
    without = {p: d for p, d in published.items() if p != "archive/2019.html"}
    assert len(unresolved(without)) > 5  # the check finds what is missing


def test_a_topic_of_older_items_takes_the_years_it_needs(tmp_path: Path) -> None:
    text = with_word(TEXT, "Sportplatz", 2018, every=40)  # 9 items of 2018
    site = Site(tmp_path / "recent", text, 'history = "recent"', SPORT)
    result = site.build()
    assert years_of(result) == {2018, 2019}
    assert site.published() == oracle(tmp_path, text, {2018, 2019}, SPORT).published()
    sport = site.published()["topics/sport/rss.xml"].decode()
    assert sport.count("<item>") == 5


def test_a_topic_without_items_takes_every_year(tmp_path: Path) -> None:
    site = Site(tmp_path / "recent", TEXT, 'history = "recent"', SPORT)
    result = site.build()
    assert years_of(result) == {2017, 2018, 2019}
    assert (
        site.published() == oracle(tmp_path, TEXT, years_of(result), SPORT).published()
    )


def test_the_years_read_follow_the_sources_build_after_build(tmp_path: Path) -> None:
    """Items added at the top fill the topic in the newest year: the year
    before is no longer published; removed again, it is published as before.
    Each build publishes what a first build of the same text does."""
    text = with_word(TEXT, "Sportplatz", 2018, every=40)
    site = Site(tmp_path / "recent", text, 'history = "recent"', SPORT)
    first = site.build()
    assert years_of(first) == {2018, 2019}
    before = site.published()
    day = newest(text)
    added = "".join(
        item(day + dt.timedelta(days=n), 5000 + n).replace(".\n\n", " Sportplatz.\n\n")
        for n in range(6, 0, -1)
    )
    site.write(added + text)
    second = site.build()
    assert (second.appended, second.read_from) == (False, 0)
    assert years_of(second) == {2019}
    assert "archive/2018.html" not in site.published()
    assert b"2018.html" not in site.published()["index.html"]
    assert unresolved(site.published()) == []
    fresh = Site(tmp_path / "fresh", added + text, 'history = "recent"', SPORT)
    fresh.build()
    assert site.published() == fresh.published()
    site.write(text)
    third = site.build()
    assert years_of(third) == {2018, 2019}
    assert site.published() == before
    # The items of 2018 kept their records while not published.
    assert {i.id for i in third.items} == {i.id for i in first.items}


def test_items_not_read_are_not_checked_but_feedpub_check_reads_them(
    tmp_path: Path,
) -> None:
    old = ITEM.search(TEXT[len(TEXT) // 2 :])
    assert old is not None
    assert int(old[3]) < 2019
    broken = old[0].replace("\n\n", "\n@tilte: Tippfehler\n\n", 1)
    text = TEXT.replace(old[0], broken, 1)
    site = Site(tmp_path / "recent", text, 'history = "recent"')
    assert years_of(site.build()) == {2019}
    config = load_config(site.folder / "feedpub.toml")
    with pytest.raises(SourceError) as caught:
        compile_items(read_sources([site.folder / "sources"]), config)
    line = text[: text.index(broken)].count("\n") + 2
    assert [(d.line, d.severity) for d in caught.value.diagnostics] == [(line, "error")]
    assert "@tilte:" in caught.value.diagnostics[0].message
    # The same mistake in an item of a year that is published stops the build.
    site.write(text.replace("\n\n", "\n@tilte: Tippfehler\n\n", 1))
    with pytest.raises(SourceError):
        site.build()


def unresolved(published: dict[str, bytes]) -> list[str]:
    """Links into the site to a file not published or to an anchor that file
    does not have: absolute ones in any file, and in pages also relative
    ``href`` and ``src`` values, resolved against the page's own address."""
    base = "https://example.org/news/"
    missing = []
    for path, data in published.items():
        found = {
            m.decode()
            for m in re.findall(rb'"(https://example\.org/news/[^"]*)"', data)
        }
        if path.endswith(".html"):
            found |= {
                urljoin(base + path, m.decode())
                for m in re.findall(rb'(?:href|src)="([^"]*)"', data)
            }
        for link in found:
            if not link.startswith(base):
                continue  # another site
            target, _, anchor = link[len(base) :].partition("#")
            target = posixpath.normpath(target or "index.html")
            if link[len(base) :].split("#")[0].endswith("/"):
                target += "/index.html"
            page = published.get(target)
            if page is None or (anchor and f'id="{anchor}"'.encode() not in page):
                missing.append(f"{path}: {link}")
    return sorted(missing)


def test_every_link_resolves_also_to_the_item_after_a_feeds_newest(
    tmp_path: Path,
) -> None:
    """The topic's five newest items are of 2019, its sixth of 2018: its
    page links to that one as the first older item, so 2018 is published."""
    text = with_word(
        with_word(TEXT, "Sportplatz", 2019, every=96), "Sportplatz", 2018, every=40
    )
    newest_year = [m for m in ITEM.finditer(text) if m[3] == "2019"]
    assert sum("Sportplatz" in m[0] for m in newest_year) == 5
    site = Site(tmp_path / "recent", text, 'history = "recent"', SPORT)
    assert years_of(site.build()) == {2018, 2019}
    published = site.published()
    assert b"archive/2018.html#item-" in published["topics/sport/index.html"]
    assert unresolved(published) == []
    assert (
        len(
            re.findall(
                rb"https://example.org/news/archive/2019.html#", published["rss.xml"]
            )
        )
        == 5
    )


def test_a_config_made_in_code_cannot_ask_for_archives_of_recent_years() -> None:
    config = Config(base_url="https://example.org/news/", history="recent")
    assert config.archives  # the dataclass's default; load_config sets False
    with pytest.raises(ConfigError, match="publishes no archive documents"):
        compile_site([("news.txt", TEXT.encode())], config)
    items = compile_site(
        [("news.txt", TEXT.encode())], dataclasses.replace(config, archives=False)
    ).items
    assert {i.day.year for i in items} == {2019}
