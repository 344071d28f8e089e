"""The preview server, spoken to over raw HTTP: types, validators, CORS, and no
way out of the output folder."""

from __future__ import annotations

import email.utils
import os
import socket
import subprocess
import sys
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from reader import make_reader

from feedpub.cli import cli
from feedpub.publish import read_sources, write_outputs
from feedpub.serve import content_type, make_server, server_url
from feedpub.site import compile_site
from tests.conftest import ROOT, load_config

SECRET = b"secret outside the output folder"
BROWSER_ACCEPT = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,"
    "image/webp,*/*;q=0.8"
)


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seed's build, with a secret next to it and links in and out."""
    base = tmp_path_factory.mktemp("serve")
    out = base / "out"
    outputs = compile_site(
        read_sources([ROOT / "seeds"]), load_config(ROOT / "feedpub.toml")
    ).outputs
    write_outputs(outputs, out)
    (base / "secret.txt").write_bytes(SECRET)
    (base / "out-sibling").mkdir()
    (base / "out-sibling" / "secret.txt").write_bytes(SECRET)
    (out / "leak.txt").symlink_to(base / "secret.txt")
    (out / "leakdir").symlink_to(base)
    (out / "alias.xml").symlink_to(out / "rss.xml")
    (out / ".hidden.txt").write_bytes(SECRET)
    (out / "empty").mkdir()
    return out


@pytest.fixture(scope="module")
def port(site: Path) -> Iterator[int]:
    server = make_server(site, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def raw(
    port: int, target: str, method: str = "GET", headers: dict[str, str] | None = None
) -> Response:
    """Send one request exactly as written, bypassing any client-side cleanup."""
    lines = [f"{method} {target} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    lines += ["Connection: close", "", ""]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall("\r\n".join(lines).encode("latin-1"))
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    data = b"".join(chunks)
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    fields = dict(line.split(": ", 1) for line in header_lines)
    return Response(
        status=int(status_line.split()[1]),
        headers={k.lower(): v for k, v in fields.items()},
        body=body,
    )


@pytest.mark.parametrize(
    ("target", "name", "kind"),
    [
        ("/rss.xml", "rss.xml", "application/rss+xml"),
        ("/atom.xml", "atom.xml", "application/atom+xml"),
        ("/feed.json", "feed.json", "application/feed+json"),
        ("/topics/jugend/rss.xml", "topics/jugend/rss.xml", "application/rss+xml"),
        ("/topics/jugend/atom.xml", "topics/jugend/atom.xml", "application/atom+xml"),
        (
            "/topics/jugend/feed.json",
            "topics/jugend/feed.json",
            "application/feed+json",
        ),
        ("/index.html", "index.html", "text/html; charset=utf-8"),
        ("/", "index.html", "text/html; charset=utf-8"),
        ("/topics/jugend/", "topics/jugend/index.html", "text/html; charset=utf-8"),
        (
            "/topics/jugend/?x=1#y",
            "topics/jugend/index.html",
            "text/html; charset=utf-8",
        ),
        ("/feed.xsl", "feed.xsl", "text/xsl; charset=utf-8"),
        ("/feeds.opml", "feeds.opml", "text/x-opml; charset=utf-8"),
        ("/embed.js", "embed.js", "text/javascript; charset=utf-8"),
        ("/embed/all.html", "embed/all.html", "text/html; charset=utf-8"),
        ("/alias.xml", "rss.xml", "application/xml"),  # a link inside is fine
        ("/topics/corona/../jugend/rss.xml", None, None),
    ],
)
def test_files_are_served_with_their_media_types(
    site: Path, port: int, target: str, name: str | None, kind: str | None
) -> None:
    answer = raw(port, target)
    if name is None:  # ".." is refused even when it would stay inside
        assert answer.status == 404
        return
    assert answer.status == 200, answer
    assert answer.body == (site / name).read_bytes()
    assert answer.headers["content-type"] == kind
    assert answer.headers["content-length"] == str(len(answer.body))
    assert answer.headers["access-control-allow-origin"] == "*"
    assert "ETag" in answer.headers["access-control-expose-headers"]
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_a_folder_without_slash_is_redirected(port: int) -> None:
    answer = raw(port, "/topics/jugend")
    assert answer.status == 301
    assert answer.headers["location"] == "/topics/jugend/"


def test_head_sends_the_headers_of_get_and_no_body(port: int) -> None:
    get = raw(port, "/feed.json")
    head = raw(port, "/feed.json", "HEAD")
    assert head.status == 200
    assert head.body == b""
    for name in ("content-type", "content-length", "etag", "last-modified"):
        assert head.headers[name] == get.headers[name], name


def test_etag_and_last_modified_answer_conditional_requests(
    site: Path, port: int
) -> None:
    first = raw(port, "/rss.xml")
    etag = first.headers["etag"]
    assert etag.startswith('"')
    assert etag.endswith('"')  # strong: no W/ prefix
    assert raw(port, "/rss.xml").headers["etag"] == etag
    assert raw(port, "/atom.xml").headers["etag"] != etag
    modified = first.headers["last-modified"]
    assert email.utils.parsedate_to_datetime(modified).timestamp() == int(
        (site / "rss.xml").stat().st_mtime
    )
    for headers in (
        {"If-None-Match": etag},
        {"If-None-Match": f'"other", {etag}'},
        {"If-None-Match": f"W/{etag}"},  # GET compares weakly (RFC 9110 13.1.2)
        {"If-None-Match": "*"},
        {"If-Modified-Since": modified},
        {"If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"},
    ):
        answer = raw(port, "/rss.xml", headers=headers)
        assert answer.status == 304, headers
        assert answer.body == b""
        assert answer.headers["etag"] == etag
        assert answer.headers["access-control-allow-origin"] == "*"
    for headers in (
        {"If-None-Match": '"other"'},
        {"If-Modified-Since": "Thu, 01 Jan 1970 00:00:00 GMT"},
        {"If-Modified-Since": "not a date"},
        # If-None-Match wins over a fresh If-Modified-Since (RFC 9110 13.2.2)
        {"If-None-Match": '"other"', "If-Modified-Since": modified},
    ):
        answer = raw(port, "/rss.xml", headers=headers)
        assert answer.status == 200, headers
        assert answer.body == first.body


def test_a_changed_file_gets_a_new_etag(site: Path, port: int) -> None:
    path = site / "changing.txt"
    path.write_bytes(b"one")
    first = raw(port, "/changing.txt")
    path.write_bytes(b"two")
    second = raw(
        port, "/changing.txt", headers={"If-None-Match": first.headers["etag"]}
    )
    assert second.status == 200
    assert second.body == b"two"
    assert second.headers["etag"] != first.headers["etag"]


def test_browsers_get_feeds_as_xml_so_they_apply_the_stylesheet(port: int) -> None:
    """Chromium shows application/rss+xml as plain text; as XML it runs the XSL."""
    reader_view = raw(port, "/rss.xml", headers={"Accept": "application/rss+xml"})
    browser_view = raw(port, "/rss.xml", headers={"Accept": BROWSER_ACCEPT})
    assert reader_view.headers["content-type"] == "application/rss+xml"
    assert browser_view.headers["content-type"] == "application/xml"
    assert browser_view.body == reader_view.body
    assert reader_view.headers["vary"] == browser_view.headers["vary"] == "Accept"
    assert browser_view.headers["etag"] != reader_view.headers["etag"]
    atom = raw(port, "/atom.xml", headers={"Accept": BROWSER_ACCEPT})
    assert atom.headers["content-type"] == "application/xml"
    refused = raw(port, "/atom.xml", headers={"Accept": "text/html;q=0, */*"})
    assert refused.headers["content-type"] == "application/atom+xml"
    json_feed = raw(port, "/feed.json", headers={"Accept": BROWSER_ACCEPT})
    assert json_feed.headers["content-type"] == "application/feed+json"
    assert "vary" not in json_feed.headers


@pytest.mark.parametrize(
    "target",
    [
        "/missing.xml",
        "/topics/missing/",
        "/empty/",  # a folder without index.html: no listing
        "/../secret.txt",
        "/topics/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E/%2e%2e/secret.txt",
        "/topics/%2e%2e/%2e%2e/secret.txt",
        "/..%2fsecret.txt",
        "/topics%2f..%2f..%2fsecret.txt",
        "/%2E%2E%2Fsecret.txt",
        "/..%5csecret.txt",
        "/..\\secret.txt",
        "/%c0%ae%c0%ae/secret.txt",  # overlong UTF-8 for "."
        "/../out-sibling/secret.txt",
        "/leak.txt",  # a symbolic link to a file outside
        "/leakdir/secret.txt",  # a symbolic link to a folder outside
        "/leakdir/",
        "/.hidden.txt",
        "/%00",
        "//etc/passwd",
        "http://127.0.0.1/../secret.txt",
        "*",
    ],
)
def test_nothing_outside_the_folder_is_served(port: int, target: str) -> None:
    answer = raw(port, target)
    assert answer.status in (400, 404), (target, answer.status)
    assert SECRET not in answer.body
    assert b"root:" not in answer.body


def test_other_methods_are_refused_and_cors_preflight_is_answered(port: int) -> None:
    assert raw(port, "/rss.xml", "POST").status == 501
    assert raw(port, "/rss.xml", "DELETE").status == 501
    preflight = raw(
        port,
        "/feed.json",
        "OPTIONS",
        {"Origin": "https://host.example", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "GET" in preflight.headers["access-control-allow-methods"]


def test_a_feed_reader_subscribes_over_http(site: Path, port: int) -> None:
    """lemon24's reader fetches all three formats from the preview server."""
    names = ["rss.xml", "atom.xml", "feed.json", "topics/jugend/feed.json"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        reader = make_reader(":memory:")
        try:
            for name in names:
                reader.add_feed(f"http://127.0.0.1:{port}/{name}")
            reader.update_feeds()
            counts = {}
            for name in names:
                feed = reader.get_feed(f"http://127.0.0.1:{port}/{name}")
                assert feed.last_exception is None, (name, feed.last_exception)
                counts[name] = len(list(reader.get_entries(feed=feed)))
        finally:
            reader.close()
    assert counts == {
        "rss.xml": 9,
        "atom.xml": 9,
        "feed.json": 9,
        "topics/jugend/feed.json": 1,
    }


def test_serve_command_prints_the_real_address(site: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "feedpub", "serve", "-o", str(site), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("FEEDPUB_")},
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        prefix = f"serving {site}/ at http://127.0.0.1:"
        assert line.startswith(prefix), line
        port = int(line.removeprefix(prefix).rstrip("/\n"))
        assert port > 0
        answer = raw(port, "/feed.json")
        assert answer.status == 200
        assert answer.body == (site / "feed.json").read_bytes()
    finally:
        process.terminate()
        process.wait(10)
        assert process.stdout is not None
        process.stdout.close()


def test_serve_takes_the_output_folder_from_the_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "site.toml").write_text(
        'output = "public"\n[feed]\nbase_url = "https://example.org/"\n', "utf-8"
    )
    result = CliRunner().invoke(cli, ["serve", "-c", "site.toml", "--port", "0"])
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert result.stderr == (
        "public: expected the output folder, found nothing (run feedpub build first)\n"
    )


def test_serve_reports_a_port_in_use(site: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        result = CliRunner().invoke(
            cli, ["serve", "-o", str(site), "--port", str(busy)]
        )
    assert result.exit_code == 1
    assert result.stderr.startswith(f"cannot listen on 127.0.0.1:{busy}: ")
    assert result.stdout == ""


def test_server_url_names_the_bound_port(site: Path) -> None:
    server = make_server(site, "127.0.0.1", 0)
    try:
        assert server_url(server) == f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.server_close()


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("archive/rss-0001.xml", "application/rss+xml"),
        ("archive/atom-0012.xml", "application/atom+xml"),
        ("topics/jugend/archive/rss-12345.xml", "application/rss+xml"),
        ("topics/jugend/archive/atom-0001.xml", "application/atom+xml"),
        ("archive/2020.html", "text/html; charset=utf-8"),
        ("rss-0001.xml", "application/xml"),  # not an archive document
        ("archive/rss-1.xml", "application/xml"),
        ("archive/rss.xml", "application/rss+xml"),  # a topic named "archive"
    ],
)
def test_archive_documents_are_served_as_feeds(name: str, kind: str) -> None:
    assert content_type(Path(name)) == kind
