"""JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/): render and check.

The same items, ids, dates and categories as the RSS and Atom feeds.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from feedpub.dates import local_time
from feedpub.model import FeedSpec, Item
from feedpub.render.markup import html_body

VERSION = "https://jsonfeed.org/version/1.1"
MEDIA_TYPE = "application/feed+json"

# RFC 3339 section 5.6 date-time (the "T" and "Z" may be lower case).
_RFC3339 = re.compile(
    r"\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(?:\.\d+)?(?:[Zz]|[+-]\d\d:\d\d)"
)
_HTML_SAFE = (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e"))
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")
_FEED_KEYS = {
    "version": "string",
    "title": "string",
    "home_page_url": "url",
    "feed_url": "url",
    "description": "string",
    "user_comment": "string",
    "next_url": "url",
    "icon": "url",
    "favicon": "url",
    "author": "author",  # JSON Feed 1.0; 1.1 readers still accept it
    "authors": "authors",
    "language": "language",
    "expired": "boolean",
    "hubs": "hubs",
    "items": "items",
}
_ITEM_KEYS = {
    "id": "string",
    "url": "url",
    "external_url": "url",
    "title": "string",
    "content_html": "string",
    "content_text": "string",
    "summary": "string",
    "image": "url",
    "banner_image": "url",
    "date_published": "date",
    "date_modified": "date",
    "author": "author",
    "authors": "authors",
    "tags": "strings",
    "language": "language",
    "attachments": "attachments",
}


def _item(item: Item, zone: dt.tzinfo) -> dict[str, Any]:
    data: dict[str, Any] = {"id": item.id, "url": item.link, "title": item.title}
    if item.paragraphs:
        data["content_html"] = html_body(item)
        data["summary"] = item.summary
    else:  # the spec requires content_html or content_text
        data["content_text"] = item.title
    # isoformat() as feedgen writes Atom dates: the same instant, same text.
    data["date_published"] = local_time(item.published, zone).isoformat()
    if item.updated is not None:  # only after an edit, as Atom's <updated> moves
        data["date_modified"] = local_time(item.updated, zone).isoformat()
    if item.author:
        data["authors"] = [{"name": item.author}]
    if item.categories:  # as RSS <category>: the display names
        data["tags"] = [c.label for c in item.categories]
    return data


def render_json_feed(spec: FeedSpec) -> bytes:
    """Render one feed as JSON Feed 1.1, UTF-8, keys in a fixed order."""
    feed: dict[str, Any] = {
        "version": VERSION,
        "title": spec.title,
        "home_page_url": spec.home_url,
    }
    if spec.json_url:
        feed["feed_url"] = spec.json_url
    feed["description"] = spec.description
    feed["language"] = spec.language
    feed["authors"] = [{"name": spec.author}]
    feed["items"] = [_item(item, spec.timezone) for item in spec.items]
    text = json.dumps(feed, ensure_ascii=False, indent=2)
    # The same JSON, but safe to inline in an HTML <script> block and never
    # mistaken for markup: these characters only occur inside strings here.
    for char, escape in _HTML_SAFE:
        text = text.replace(char, escape)
    return (text + "\n").encode("utf-8")


def json_feed_problems(data: bytes) -> list[str]:
    """Check a document against the rules of JSON Feed 1.1.

    Checks the version URL, the required title and items, the type of every
    known key, that item ids are unique non-empty strings, that each item has
    ``content_html`` or ``content_text``, RFC 3339 dates, absolute URLs and
    that unknown keys are extensions (start with ``_``).

    Returns:
        one message per problem, with a JSON path; empty when the feed is valid.
    """
    try:
        feed = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as e:
        return [f"expected UTF-8, found invalid bytes at offset {e.start}"]
    except json.JSONDecodeError as e:
        return [f"expected JSON: {e}"]
    problems: list[str] = []
    if not isinstance(feed, dict):
        return [f"expected a JSON object at the top, found {_kind(feed)}"]
    if feed.get("version") != VERSION:
        problems.append(f"version: expected {VERSION!r}, found {feed.get('version')!r}")
    for key in ("title", "items"):
        if key not in feed:
            problems.append(f"{key}: required")
    if isinstance(feed.get("title"), str) and not feed["title"].strip():
        problems.append("title: expected text, found an empty string")
    _check_object(feed, _FEED_KEYS, "", problems)
    items = feed.get("items")
    if isinstance(items, list):
        seen: set[str] = set()
        for index, item in enumerate(items):
            where = f"items[{index}]"
            if not isinstance(item, dict):
                problems.append(f"{where}: expected an object, found {_kind(item)}")
                continue
            _check_object(item, _ITEM_KEYS, f"{where}.", problems)
            item_id = item.get("id")
            if item_id is None:
                problems.append(f"{where}.id: required")
            elif isinstance(item_id, str):
                if not item_id.strip():
                    problems.append(f"{where}.id: expected text, found an empty string")
                elif item_id in seen:
                    problems.append(f"{where}.id: {item_id!r} is used twice")
                seen.add(item_id)
            if "content_html" not in item and "content_text" not in item:
                problems.append(f"{where}: expected content_html or content_text")
    return problems


def _check_object(
    data: Mapping[str, Any], known: Mapping[str, str], where: str, problems: list[str]
) -> None:
    for key, value in data.items():
        if key.startswith("_"):
            continue  # extensions are free-form
        kind = known.get(key)
        if kind is None:
            problems.append(f"{where}{key}: unknown key (extensions start with _)")
            continue
        problem = _check_value(kind, value, f"{where}{key}", problems)
        if problem:
            problems.append(f"{where}{key}: {problem}")


def _check_value(kind: str, value: Any, where: str, problems: list[str]) -> str:
    """Check one value; return a problem, or "" (nested ones go to ``problems``)."""
    if kind == "string":
        return (
            "" if isinstance(value, str) else f"expected a string, found {_kind(value)}"
        )
    if kind == "boolean":
        return (
            ""
            if isinstance(value, bool)
            else f"expected true or false, found {_kind(value)}"
        )
    if kind == "url":
        return _url_problem(value)
    if kind == "date":
        if not isinstance(value, str) or not _RFC3339.fullmatch(value):
            return f"expected an RFC 3339 date-time, found {value!r}"
        try:
            dt.datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
        except ValueError:
            return f"expected a date that exists, found {value!r}"
        return ""
    if kind == "language":
        if not isinstance(value, str) or not _LANGUAGE.fullmatch(value):
            return f"expected an RFC 5646 language tag, found {value!r}"
        return ""
    if kind == "strings":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return f"expected a list of strings, found {value!r}"
        return ""
    if kind == "author":
        _check_author(value, where, problems)
        return ""
    if kind in ("authors", "hubs", "attachments", "items"):
        if not isinstance(value, list):
            return f"expected an array, found {_kind(value)}"
        if kind == "authors":
            if not value:
                return "expected at least one author"
            for index, author in enumerate(value):
                _check_author(author, f"{where}[{index}]", problems)
        elif kind == "hubs":
            for index, hub in enumerate(value):
                _check_required(
                    hub, {"type": "string", "url": "url"}, where, index, problems
                )
        elif kind == "attachments":
            for index, attachment in enumerate(value):
                _check_required(
                    attachment,
                    {"url": "url", "mime_type": "string"},
                    where,
                    index,
                    problems,
                    {"title": "string", "size_in_bytes": "number"},
                )
        return ""
    if kind == "number":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return "" if ok else f"expected a number, found {_kind(value)}"
    raise AssertionError(kind)  # pragma: no cover - a typo in the tables above


def _check_author(value: Any, where: str, problems: list[str]) -> None:
    if not isinstance(value, dict):
        problems.append(f"{where}: expected an author object, found {_kind(value)}")
        return
    if not any(key in value for key in ("name", "url", "avatar")):
        problems.append(f"{where}: expected a name, url or avatar")
    known = {"name": "string", "url": "url", "avatar": "url"}
    _check_object(value, known, f"{where}.", problems)


def _check_required(
    value: Any,
    required: Mapping[str, str],
    where: str,
    index: int,
    problems: list[str],
    optional: Mapping[str, str] | None = None,
) -> None:
    where = f"{where}[{index}]"
    if not isinstance(value, dict):
        problems.append(f"{where}: expected an object, found {_kind(value)}")
        return
    for key in required:
        if key not in value:
            problems.append(f"{where}.{key}: required")
    _check_object(value, {**required, **(optional or {})}, f"{where}.", problems)


def _url_problem(value: Any) -> str:
    if not isinstance(value, str):
        return f"expected a URL string, found {_kind(value)}"
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"expected an absolute http(s) URL, found {value!r}"
    if any(c.isspace() for c in value):
        return f"expected a URL without white space, found {value!r}"
    return ""


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    return names.get(type(value), f"a {type(value).__name__}")
