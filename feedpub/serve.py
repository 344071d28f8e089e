"""A preview server for the output folder: the shell around ``http.server``.

Serves only regular files inside the folder, with the feeds' media types,
strong ``ETag`` and ``Last-Modified`` validators (answering 304), and
``Access-Control-Allow-Origin: *`` so other sites can embed the feeds.
"""

from __future__ import annotations

import email.utils
import hashlib
import logging
import re
import socket
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from feedpub.errors import ServeError
from feedpub.plan import ATOM, INDEX, RSS

log = logging.getLogger(__name__)

# By file name first (the feeds are all *.xml), then by suffix.
_BY_NAME = {
    RSS: "application/rss+xml",
    ATOM: "application/atom+xml",
}
_ARCHIVE_NAME = re.compile(r"(?:rss|atom)-\d{4,}\.xml")
_BY_SUFFIX = {
    ".html": "text/html; charset=utf-8",
    ".json": "application/feed+json",  # every JSON file feedpub writes is a feed
    ".xml": "application/xml",
    ".xsl": "text/xsl; charset=utf-8",
    ".opml": "text/x-opml; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/vnd.microsoft.icon",
}
# What a browser gets for RSS and Atom when it navigates to a feed: Chromium
# shows application/rss+xml and application/atom+xml as plain text and never
# applies the feed's XSL; as application/xml it does.
BROWSER_FEED_TYPE = "application/xml"


def _feed_type(path: Path) -> str | None:
    """The type of a subscription feed or of an archive document (see ``plan``)."""
    name = path.name
    if path.parent.name == "archive" and _ARCHIVE_NAME.fullmatch(name):
        name = f"{name.partition('-')[0]}.xml"  # archive/rss-0001.xml: as rss.xml
    return _BY_NAME.get(name)


def content_type(path: Path) -> str:
    """The media type the preview server sends for a file."""
    return _feed_type(path) or _BY_SUFFIX.get(
        path.suffix.lower(), "application/octet-stream"
    )


def _wants_html(accept: str) -> bool:
    """True when a browser navigates: its Accept header asks for text/html."""
    for part in accept.split(","):
        kind, *params = (p.strip() for p in part.split(";"))
        if kind.lower() == "text/html":
            return not any(p.replace(" ", "") in ("q=0", "q=0.0") for p in params)
    return False


@dataclass(frozen=True, slots=True)
class _File:
    path: Path
    data: bytes
    mtime: float


class _Handler(BaseHTTPRequestHandler):
    server_version = "feedpub"
    protocol_version = "HTTP/1.1"
    root: Path  # set on the subclass that make_server creates

    def do_GET(self) -> None:
        self._answer(body=True)

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def do_OPTIONS(self) -> None:  # CORS preflight: only GET and HEAD exist
        self.send_response(HTTPStatus.NO_CONTENT)
        self._cors()
        self.send_header("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
        self.send_header("Access-Control-Max-Age", "600")
        self.send_header("Allow", "GET, HEAD, OPTIONS")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        log.info("%s %s", self.address_string(), format % args)

    def _answer(self, *, body: bool) -> None:
        found = self._find()
        if isinstance(found, str):  # a redirect to the folder's URL with "/"
            self._send_status(HTTPStatus.MOVED_PERMANENTLY, body, location=found)
            return
        if found is None:
            self._send_status(HTTPStatus.NOT_FOUND, body)
            return
        kind = content_type(found.path)
        vary = _feed_type(found.path) is not None
        if vary and _wants_html(self.headers.get("Accept", "")):
            kind = BROWSER_FEED_TYPE
        # Strong: the hash of the exact bytes and the type they are sent as.
        digest = hashlib.sha256(kind.encode() + b"\0" + found.data).hexdigest()
        etag = f'"{digest[:32]}"'
        modified = email.utils.formatdate(found.mtime, usegmt=True)
        status = HTTPStatus.NOT_MODIFIED if self._fresh(etag, found.mtime) else None
        self.send_response(status or HTTPStatus.OK)
        self._cors()
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", modified)
        self.send_header("Cache-Control", "no-cache")  # a preview: always revalidate
        if vary:
            self.send_header("Vary", "Accept")
        if status is None:
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(found.data)))
            self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        if body and status is None:
            self.wfile.write(found.data)

    def _fresh(self, etag: str, mtime: float) -> bool:
        """RFC 9110 section 13.2.2: If-None-Match wins over If-Modified-Since."""
        match = self.headers.get("If-None-Match")
        if match is not None:
            tags = [t.strip().removeprefix("W/") for t in match.split(",")]
            return "*" in tags or etag in tags
        since = self.headers.get("If-Modified-Since")
        if since is None:
            return False
        try:
            when = email.utils.parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
        if when.tzinfo is None:
            return False
        return int(mtime) <= when.timestamp()

    def _find(self) -> _File | str | None:
        """The file a request names, a redirect target, or None for 404."""
        target = self.path
        if not target.startswith("/") or target.startswith("//"):
            return None
        raw_path = urlsplit(target).path
        # An encoded slash or backslash would let one segment climb out.
        lowered = raw_path.lower()
        if "%2f" in lowered or "%5c" in lowered or "\\" in raw_path:
            return None
        try:
            path = unquote(raw_path, errors="strict")
        except UnicodeDecodeError:
            return None
        parts = [p for p in path.split("/") if p]
        if any(p in (".", "..") or p.startswith(".") or "\0" in p for p in parts):
            return None
        root = self.root
        candidate = root.joinpath(*parts)
        try:
            resolved = candidate.resolve(strict=True)
        except (OSError, RuntimeError):
            return None
        if resolved != root and root not in resolved.parents:
            return None  # a symbolic link that leads out of the folder
        if resolved.is_dir():
            if not raw_path.endswith("/"):
                return raw_path + "/"
            return self._read(candidate / INDEX, root)
        return self._read(candidate, root)

    @staticmethod
    def _read(path: Path, root: Path) -> _File | None:
        """Read a regular file inside ``root``; ``path`` keeps the asked name."""
        try:
            resolved = path.resolve(strict=True)
            if root not in resolved.parents or not resolved.is_file():
                return None
            stat = resolved.stat()
            return _File(path=path, data=resolved.read_bytes(), mtime=stat.st_mtime)
        except OSError:
            return None

    def _cors(self) -> None:
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Expose-Headers", "ETag, Last-Modified")

    def _send_status(
        self, status: HTTPStatus, body: bool, *, location: str | None = None
    ) -> None:
        text = f"{status.value} {status.phrase}\n".encode()
        self.send_response(status)
        self._cors()
        if location is not None:
            self.send_header("Location", location)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        if body:
            self.wfile.write(text)


class _Server(ThreadingHTTPServer):
    daemon_threads = True


class _Server6(_Server):
    address_family = socket.AF_INET6


def make_server(folder: Path, host: str = "127.0.0.1", port: int = 8000) -> _Server:
    """Bind a preview server for ``folder``; call ``serve_forever()`` on it.

    Args:
        folder: the output folder; only files inside it are served.
        host: the address to listen on.
        port: the port; 0 picks a free one (see ``server_url``).

    Raises:
        ServeError: the folder does not exist or the address cannot be bound.
    """
    if not folder.is_dir():
        raise ServeError(
            f"{folder}: expected the output folder, found nothing"
            " (run feedpub build first)"
        )
    handler = type("Handler", (_Handler,), {"root": folder.resolve()})
    server_class = _Server6 if ":" in host else _Server
    try:
        return server_class((host, port), handler)
    except OSError as e:
        raise ServeError(f"cannot listen on {host}:{port}: {e.strerror or e}") from e


def server_url(server: ThreadingHTTPServer) -> str:
    """The URL a server listens at, with the port it really got."""
    host, port = server.server_address[:2]
    name = host.decode() if isinstance(host, bytes) else host
    shown = f"[{name}]" if ":" in name else name
    return f"http://{shown}:{port}/"
