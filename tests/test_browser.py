"""The pages, the XSL view and the embed kit in a real browser: Debian's
Chromium driven by Playwright, against ``feedpub serve`` started as a process.

These tests never skip: without /usr/bin/chromium they fail (``.ci/run``
installs it with apt-get; no browser is ever downloaded).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urldefrag

import pytest
from lxml import html as lhtml
from playwright.sync_api import Browser, ConsoleMessage, Dialog, Page, sync_playwright

from feedpub.config import Config
from feedpub.publish import read_sources, write_outputs
from feedpub.site import compile_site
from tests.conftest import DATA, load_config

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
MARKUP_TITLE = (
    "<script>window.feedpubPwned = true</script> & \"Zitat\" 'einfach' <b>fett</b>"
)
MARKUP_TEXT = (
    'Markup im Text: <img src="x" onerror="window.feedpubPwned = true"> und &amp;'
    " sowie „Anführungszeichen“ & <script>window.feedpubPwned = true</script>."
)
FEED_TYPES = {
    "application/rss+xml": "application/rss+xml",
    "application/atom+xml": "application/atom+xml",
    "application/feed+json": "application/feed+json",
}


class Server:
    """``feedpub serve`` on a free port, as a real process."""

    def __init__(self, folder: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "feedpub", "serve", "-o", str(folder), "-p", "0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={k: v for k, v in os.environ.items() if not k.startswith("FEEDPUB_")},
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line.startswith(f"serving {folder}/ at http://127.0.0.1:"), line
        self.url = line.split(" at ", 1)[1].strip()

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(10)
        assert self.process.stdout is not None
        self.process.stdout.close()


@pytest.fixture(scope="module")
def config() -> Config:
    return load_config(DATA / "web.toml")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, config: Config) -> Path:
    out = tmp_path_factory.mktemp("site")
    sources = [DATA / "tricky", DATA / "web"]
    write_outputs(compile_site(read_sources(sources), config).outputs, out)
    return out


@pytest.fixture(scope="module")
def feeds(site: Path) -> Iterator[Server]:
    server = Server(site)
    yield server
    server.close()


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory, feeds: Server) -> Iterator[Server]:
    """Another site, on another origin, that embeds the feeds."""
    folder = tmp_path_factory.mktemp("host")
    (folder / "index.html").write_text(
        f"""<!DOCTYPE html>
<html lang="de">
<head><meta charset="utf-8"><title>Partnerseite</title></head>
<body>
<h1>Partnerseite</h1>
<div id="topic" data-feedpub-feed="{feeds.url}topics/treffen-meldungen/feed.json"
     data-feedpub-limit="2"><a href="{feeds.url}topics/treffen-meldungen/">Meldungen</a></div>
<div id="all" data-feedpub-feed="{feeds.url}feed.json" data-feedpub-limit="10"></div>
<div id="broken" data-feedpub-feed="{feeds.url}topics/missing/feed.json"><p>Ersatz</p></div>
<iframe id="topic-frame" title="Treffen" src="{feeds.url}embed/treffen-meldungen.html"></iframe>
<iframe id="markup-frame" title="Sicherheit" src="{feeds.url}embed/sicherheit.html"></iframe>
<script src="{feeds.url}embed.js" defer></script>
</body>
</html>
""",
        "utf-8",
    )
    server = Server(folder)
    assert server.url != feeds.url
    yield server
    server.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert CHROMIUM.is_file(), (
        f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium);"
        " .ci/run does this"
    )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


class Watched:
    """A page plus everything it did that a test may need to rule out."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("dialog", self._dialog)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _console(self, message: ConsoleMessage) -> None:
        where = message.location["url"]
        # the browser asks every origin for /favicon.ico on its own
        if message.type == "error" and not where.endswith("/favicon.ico"):
            self.errors.append(f"{where}: {message.text}")

    def pwned(self) -> bool:
        flags = [self.page.evaluate("() => window.feedpubPwned")]
        flags += [f.evaluate("() => window.feedpubPwned") for f in self.page.frames]
        return any(flags) or bool(self.dialogs)


@pytest.fixture
def watched(browser: Browser) -> Iterator[Watched]:
    context = browser.new_context()
    watched = Watched(context.new_page())
    yield watched
    context.close()


def _served(url: str, config: Config, feeds: Server) -> str:
    """Where an absolute URL of the published site is in the preview."""
    if url.startswith(config.base_url):
        return feeds.url + url.removeprefix(config.base_url)
    return url


def _json(site: Path, name: str) -> dict[str, object]:
    data = json.loads((site / name).read_bytes())
    assert isinstance(data, dict)
    return data


def _titles(site: Path, name: str, count: int) -> list[str]:
    items = _json(site, name)["items"]
    assert isinstance(items, list)
    return [str(item["title"]) for item in items[:count]]


# (a) The landing page: discovery links, and every link resolves ----------------


@pytest.mark.parametrize("path", ["", "topics/sicherheit/"])
def test_feed_pages_advertise_every_feed_and_every_link_resolves(
    watched: Watched, feeds: Server, config: Config, path: str
) -> None:
    page = watched.page
    response = page.goto(feeds.url + path)
    assert response is not None
    assert response.status == 200
    assert page.evaluate("() => document.documentElement.lang") == config.language
    discovery = page.eval_on_selector_all(
        "link[rel=alternate]", "links => links.map(l => [l.type, l.href, l.title])"
    )
    prefixes = ["", *(f"topics/{t.slug}/" for t in config.topics)]
    names = {"application/rss+xml": "rss.xml", "application/atom+xml": "atom.xml"}
    names["application/feed+json"] = "feed.json"
    expected = sorted(
        (kind, f"{config.base_url}{prefix}{name}")
        for prefix in prefixes
        for kind, name in names.items()
    )
    assert sorted((kind, href) for kind, href, _ in discovery) == expected
    own = [href for _, href, _ in discovery[:3]]
    assert own == [f"{config.base_url}{path}{n}" for n in names.values()]
    for kind, href, title in discovery:
        assert title
        answer = page.request.get(_served(href, config, feeds))
        assert answer.status == 200, href
        assert answer.headers["content-type"] == FEED_TYPES[kind], href

    links = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
    assert len(links) > 20
    pages: dict[str, bytes] = {}
    for link in links:
        if link.startswith("https://www.example.org/"):
            continue  # an item's explicit @link: to the publisher's site
        url, anchor = urldefrag(_served(link, config, feeds))
        assert url.startswith(feeds.url), link
        if url not in pages:
            answer = page.request.get(url)
            assert answer.status == 200, link
            pages[url] = answer.body()
        if anchor:
            ids = lhtml.fromstring(pages[url]).xpath("//@id")
            assert anchor in ids, link
    # an item link opens the archive at the item
    first = page.locator("main article h2 a").first
    href = first.get_attribute("href")
    assert href
    assert "#" in href
    page.goto(_served(first.evaluate("a => a.href"), config, feeds))
    assert page.evaluate("() => document.querySelector(':target') !== null")

    # nothing is loaded from anywhere else, and no script runs at all
    assert all(url.startswith(feeds.url) for url in watched.requests), watched.requests
    assert watched.errors == []
    assert not watched.pwned()


def test_landing_page_is_usable_by_keyboard_and_labels_its_fields(
    watched: Watched, feeds: Server, config: Config
) -> None:
    page = watched.page
    page.goto(feeds.url)
    field = page.get_by_label("Feed-Adresse zum Kopieren", exact=True)
    assert field.get_attribute("readonly") is not None
    assert field.input_value() == f"{config.base_url}rss.xml"
    topic = page.get_by_label(
        "Feed-Adresse zum Kopieren (Webtest „Zitat“ & <Klammern> – Förderung)"
    )
    assert topic.input_value() == f"{config.base_url}topics/foerderung/rss.xml"
    page.keyboard.press("Tab")
    focused = page.evaluate(
        """() => {
            const e = document.activeElement, box = e.getBoundingClientRect();
            return [e.textContent, getComputedStyle(e).outlineStyle,
                    box.left >= 0 && box.top >= 0 && box.width > 0];
        }"""
    )
    assert focused == ["Zum Inhalt springen", "solid", True]
    page.keyboard.press("Enter")
    # The link's navigation ends after the key press returns: wait for it
    # (it failed once, read at once), then check where it went.
    page.wait_for_function("location.hash === '#main'", timeout=5000)
    assert page.url.endswith("#main")


# (b) Another origin embeds a topic: with embed.js and with the iframe ----------


def test_another_site_embeds_a_topic_with_the_script_and_the_iframe(
    watched: Watched, feeds: Server, host: Server, site: Path
) -> None:
    page = watched.page
    page.goto(host.url)
    assert page.evaluate("() => location.origin") + "/" == host.url
    page.wait_for_selector("#topic[data-feedpub-state=ready]")
    page.wait_for_selector("#all[data-feedpub-state=ready]")
    page.wait_for_selector("#broken[data-feedpub-state=error]")

    topic = _json(site, "topics/treffen-meldungen/feed.json")["items"]
    assert isinstance(topic, list)
    assert len(topic) > 2
    shown = page.eval_on_selector_all(
        "#topic li.feedpub-item",
        """items => items.map(li => {
            const a = li.querySelector("a.feedpub-link"), t = li.querySelector("time");
            return [a.textContent, a.href, a.target, a.rel, t.dateTime, t.textContent];
        })""",
    )
    assert shown == [
        [
            item["title"],
            item["url"],
            "_blank",
            "noopener",
            item["date_published"][:10],
            "{2}.{1}.{0}".format(*item["date_published"][:10].split("-")),
        ]
        for item in topic[:2]
    ]
    assert page.locator("#all li").count() == 10
    # a feed that cannot be loaded leaves the host's own content
    assert page.locator("#broken").inner_text() == "Ersatz"

    frame = page.frame_locator("#topic-frame")
    frame_titles = frame.locator("li a").all_text_contents()
    assert frame_titles == _titles(site, "topics/treffen-meldungen/feed.json", 3)
    for link in frame.locator("a").all():
        assert link.get_attribute("target") == "_blank"
        assert link.get_attribute("rel") == "noopener"
    child = next(
        f for f in page.frames if f.url.endswith("embed/treffen-meldungen.html")
    )
    assert child.url.startswith(feeds.url)
    assert child.evaluate("() => document.scripts.length") == 0
    assert watched.errors == [
        f"{feeds.url}topics/missing/feed.json: Failed to load resource:"
        " the server responded with a status of 404 (Not Found)"
    ]


# (c) Markup in the source is shown as text, everywhere --------------------------


def test_markup_in_an_item_is_text_in_the_embeds(
    watched: Watched, host: Server
) -> None:
    page = watched.page
    page.goto(host.url)
    page.wait_for_selector("#all[data-feedpub-state=ready]")
    first = page.locator("#all li a").first
    assert first.text_content() == MARKUP_TITLE
    assert page.locator("#all script, #all img, #all b").count() == 0
    frame = page.frame_locator("#markup-frame")
    assert frame.locator("li a").first.text_content() == MARKUP_TITLE
    assert frame.locator("script, img, b").count() == 0
    assert not watched.pwned()


@pytest.mark.parametrize("path", ["", "topics/sicherheit/", "archive/2022.html"])
def test_markup_in_an_item_is_text_in_the_pages(
    watched: Watched, feeds: Server, path: str
) -> None:
    page = watched.page
    page.goto(feeds.url + path)
    article = page.locator("main article").first
    assert article.locator("h2 a").text_content() == MARKUP_TITLE
    assert article.locator("p").nth(1).text_content() == MARKUP_TEXT
    assert page.locator("main script, main img, main b").count() == 0
    assert not watched.pwned()


# The XSL view: a feed opened in the browser is a page --------------------------


@pytest.mark.parametrize("name", ["rss.xml", "atom.xml", "topics/sicherheit/atom.xml"])
def test_a_feed_opened_in_the_browser_is_shown_as_a_page(
    watched: Watched, feeds: Server, site: Path, config: Config, name: str
) -> None:
    page = watched.page
    response = page.goto(feeds.url + name)
    assert response is not None
    assert response.headers["content-type"] == "application/xml"
    json_name = name.replace("rss.xml", "feed.json").replace("atom.xml", "feed.json")
    feed = _json(site, json_name)
    assert page.locator("h1").text_content() == feed["title"]
    assert page.title() == feed["title"]
    shown = page.locator("article h2 a").all_text_contents()
    assert shown == _titles(site, json_name, config.limit)
    assert shown[0] == MARKUP_TITLE
    field = page.get_by_label("Feed-Adresse zum Kopieren")
    assert field.input_value() == config.base_url + name
    assert page.locator("article script, article img, article b").count() == 0
    assert not watched.pwned()


# The iframe is transparent on the host's background, in either OS mode ------

LIGHT_HOST = (250, 240, 200)
DARK_HOST = (20, 40, 60)
SCHEMES = {  # name: host page's color-scheme, iframe's, fragment, background
    "plain": ("", "", "", LIGHT_HOST),
    "dark-site": ("color-scheme: dark", "", "#dark", DARK_HOST),
    "dark-frame": ("", "color-scheme: dark", "#dark", DARK_HOST),
    "auto-site": ("color-scheme: light dark", "", "#auto", None),
}
BLACK, WHITE = "rgb(0, 0, 0)", "rgb(255, 255, 255)"


@pytest.fixture(scope="module")
def kit_host(
    tmp_path_factory: pytest.TempPathFactory, feeds: Server
) -> Iterator[Server]:
    """A second host site: iframes on light and dark pages, and embed.js with
    feeds that are empty or are no JSON Feed."""
    folder = tmp_path_factory.mktemp("kit-host")
    for name, (root, frame, fragment, background) in SCHEMES.items():
        colour = "" if background is None else f"background: rgb{background};"
        (folder / f"{name}.html").write_text(
            f"""<!DOCTYPE html>
<html lang="de" style="{root}">
<head><meta charset="utf-8"><title>Partnerseite</title></head>
<body style="margin: 0; {colour}">
<iframe title="Meldungen" src="{feeds.url}embed/all.html{fragment}"
        width="320" height="600" style="border: 0; {frame}"></iframe>
</body>
</html>
""",
            "utf-8",
        )
    version = "https://jsonfeed.org/version/1.1"
    documents = {
        "empty-en.json": {"version": version, "language": "en", "items": []},
        "object.json": {},
        "array.json": [],
        "null.json": None,
        "no-version.json": {"items": [{"title": "T", "url": "https://example.org/"}]},
        "items-object.json": {"version": version, "items": {}},
    }
    for name, document in documents.items():
        (folder / name).write_text(json.dumps(document), "utf-8")
    invalid = "".join(
        f'<div class="invalid" data-feedpub-feed="{name}"><p>Ersatz</p></div>\n'
        for name in documents
        if name != "empty-en.json"
    )
    (folder / "index.html").write_text(
        f"""<!DOCTYPE html>
<html lang="de">
<head><meta charset="utf-8"><title>Partnerseite</title></head>
<body>
<div id="empty" data-feedpub-feed="{feeds.url}topics/leer/feed.json"><p>Ersatz</p></div>
<div id="empty-en" data-feedpub-feed="empty-en.json"><p>Ersatz</p></div>
{invalid}<iframe id="empty-frame" title="Leer" src="{feeds.url}embed/leer.html"></iframe>
<script src="{feeds.url}embed.js" defer></script>
</body>
</html>
""",
        "utf-8",
    )
    server = Server(folder)
    yield server
    server.close()


def _pixel(page: Page, x: float, y: float) -> tuple[int, int, int]:
    """The colour of one pixel of the page as shown."""
    png = page.screenshot(clip={"x": x, "y": y, "width": 1, "height": 1})
    data, at = b"", 8
    while at < len(png):  # PNG chunks: length, type, data, CRC
        size = int.from_bytes(png[at : at + 4], "big")
        if png[at + 4 : at + 8] == b"IDAT":
            data += png[at + 8 : at + 8 + size]
        at += 12 + size
    # One pixel: a filter byte, then its samples, which every filter keeps as
    # they are (there are no neighbours to predict from).
    raw = zlib.decompress(data)
    return raw[1], raw[2], raw[3]


@pytest.mark.parametrize("os_scheme", ["light", "dark"])
@pytest.mark.parametrize("case", list(SCHEMES))
def test_the_embed_frame_shows_the_host_background_in_either_os_mode(
    browser: Browser, kit_host: Server, os_scheme: str, case: str
) -> None:
    background = SCHEMES[case][3]
    dark = case != "plain" and (case != "auto-site" or os_scheme == "dark")
    if background is None:  # the browser's own canvas of the host page
        background = (18, 18, 18) if dark else (255, 255, 255)
    context = browser.new_context(color_scheme=os_scheme)
    try:
        page = context.new_page()
        page.goto(f"{kit_host.url}{case}.html")
        child = next(f for f in page.frames if "/embed/all.html" in f.url)
        child.wait_for_load_state()
        box = page.locator("iframe").bounding_box()
        assert box is not None
        assert child.evaluate("() => document.body.scrollHeight") < box["height"] - 10
        # below the frame's content, where only its canvas can be
        for x in (box["x"] + 2, box["x"] + box["width"] - 3):
            assert _pixel(page, x, box["y"] + box["height"] - 3) == background
        text = child.evaluate("() => getComputedStyle(document.body).color")
        assert text == (WHITE if dark else BLACK)
    finally:
        context.close()


# embed.js: an empty feed says so; something that is no JSON Feed is an error --


def test_embed_script_says_a_feed_is_empty_and_keeps_the_fallback_on_junk(
    watched: Watched, kit_host: Server, site: Path
) -> None:
    assert _json(site, "topics/leer/feed.json")["items"] == []
    page = watched.page
    page.goto(kit_host.url)
    page.wait_for_selector("#empty[data-feedpub-state=ready]", state="attached")
    page.wait_for_selector("#empty-en[data-feedpub-state=ready]", state="attached")
    frame_text = page.frame_locator("#empty-frame").locator("main > p").first
    assert frame_text.text_content() == "Noch keine Meldungen."
    assert page.locator("#empty").inner_html() == (
        '<p class="feedpub-empty">Noch keine Meldungen.</p>'
    )
    assert page.locator("#empty-en").inner_html() == (
        '<p class="feedpub-empty">No news yet.</p>'
    )
    invalid = page.locator(".invalid")
    assert invalid.count() == 5
    page.wait_for_function(
        "() => [...document.querySelectorAll('.invalid')]"
        ".every(e => e.dataset.feedpubState === 'error')"
    )
    assert (
        invalid.evaluate_all("es => es.map(e => e.innerHTML)") == ["<p>Ersatz</p>"] * 5
    )
    assert watched.errors == []


# A long unbroken title does not widen the pages on a phone ------------------

LONG_TITLE = "https://www.example.org/" + "a" * 176


@pytest.fixture(scope="module")
def long_site(
    tmp_path_factory: pytest.TempPathFactory, config: Config
) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("long")
    source = folder / "sources" / "lang.txt"
    source.parent.mkdir()
    source.write_text(
        f"03.01.24\n@title: {LONG_TITLE}\n\nMehr unter {LONG_TITLE} im Netz.\n",
        "utf-8",
    )
    out = folder / "out"
    write_outputs(compile_site(read_sources([source.parent]), config).outputs, out)
    server = Server(out)
    yield server
    server.close()


@pytest.mark.parametrize(
    "path", ["index.html", "archive/2024.html", "rss.xml", "embed/all.html"]
)
def test_a_long_unbroken_title_fits_a_phone(
    browser: Browser, long_site: Server, path: str
) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 640})
    try:
        page = context.new_page()
        page.goto(long_site.url + path)
        assert LONG_TITLE in page.locator("body").inner_text().replace("\n", "")
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
    finally:
        context.close()
