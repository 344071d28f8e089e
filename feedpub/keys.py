"""Digests of what an output shows, so a build can skip outputs that cannot change.

Every renderer is a pure function of its spec (a ``FeedSpec``, a ``PageSpec``,
an archive page…) and of feedpub's own code. So the digest of the spec, salted
with the digests of the code and of the config, names the bytes an output will
have without rendering it. The state file keeps this key per output; when the
next build computes the same key and the file is in place, it is not rendered
again. That is what keeps a build after one new item from re-rendering every
yearly page and every full archive document.

An item enters a key through ``item_key``: its id, anchor, times, link,
summary, categories and its fingerprint (``identity.fingerprint``: title,
text, byline, link, tags and topics).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from typing import Any

from feedpub.model import Item


def item_key(item: Item) -> bytes:
    """The part of an item that any output can show, as bytes."""
    return "\x1f".join(
        (
            item.id,
            item.anchor,
            item.fingerprint,
            item.published.isoformat(),
            item.modified.isoformat(),
            item.link,
            item.summary,  # depends on summary_length, not only on the text
            *(f"{c.term}\x1f{c.label}" for c in item.categories),  # topic names
        )
    ).encode()


def spec_key(spec: object, salt: str, items: dict[int, bytes] | None = None) -> str:
    """A hex digest of everything in ``spec`` (nested dataclasses, tuples, items).

    Args:
        spec: what an output shows.
        salt: the digests of the code and config.
        items: ``item_key`` by ``id(item)``, shared by the outputs of one build
            (an item is in a feed, its topics' feeds, pages and archives).
    """
    digest = hashlib.blake2b(salt.encode(), digest_size=16)
    _feed(digest, spec, {} if items is None else items)
    return digest.hexdigest()


def _feed(digest: Any, value: object, items: dict[int, bytes]) -> None:
    if isinstance(value, Item):
        key = items.get(id(value))
        if key is None:
            key = items[id(value)] = item_key(value)
        digest.update(b"I")
        digest.update(key)
    elif isinstance(value, str):
        digest.update(b"S")
        digest.update(value.encode())
    elif isinstance(value, tuple | list):
        digest.update(b"[")
        for element in value:
            _feed(digest, element, items)
        digest.update(b"]")
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        digest.update(type(value).__name__.encode())
        for field in dataclasses.fields(value):
            digest.update(field.name.encode())
            _feed(digest, getattr(value, field.name), items)
    elif isinstance(value, dt.datetime | dt.date):
        digest.update(value.isoformat().encode())
    elif isinstance(value, dt.tzinfo):
        digest.update(str(value).encode())
    elif value is None or isinstance(value, bool | int | float):
        digest.update(repr(value).encode())
    else:
        raise TypeError(f"cannot key a {type(value).__name__}")
    digest.update(b"\x1e")
