"""Digests of what an output shows, so a build can skip outputs that cannot change.

Every renderer is a pure function of its spec (a ``FeedSpec``, a ``PageSpec``,
an archive page…) and of feedpub's own code. So the digest of the spec, salted
with the digests of the code and of the config, names the bytes an output will
have without rendering it. The state file keeps this key per output; when the
next build computes the same key and the file is in place, it is not rendered
again. That is what keeps a build after one new item from re-rendering every
yearly page and every full archive document.

An item enters a key through ``item_key``: its id, anchor, times, link and
its fingerprint (``identity.fingerprint``: its text and the title, byline,
link and tags it gives). Everything else an output shows of an item (a title
cut from its text, its summary, its topics and their labels) follows from
those and the config, which is in the salt.
So the key of an item is known from its state record alone, without reading
its text (a stub, see ``site.py``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
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
        )
    ).encode()


def spec_key(spec: object, salt: str, items: dict[int, bytes] | None = None) -> str:
    """A hex digest of everything in ``spec`` (nested dataclasses, tuples, items).

    Args:
        spec: what an output shows.
        salt: the digests of the code and config.
        items: a digest of ``item_key`` by ``id(item)``, shared by the outputs
            of one build (an item is in a feed, its topics' feeds, pages and
            archives).
    """
    digest = hashlib.blake2b(salt.encode(), digest_size=16)
    _feed(digest, spec, {} if items is None else items)
    return digest.hexdigest()


def _item(item: Item, items: dict[int, bytes]) -> bytes:
    key = items.get(id(item))
    if key is None:
        # A digest of the item's key: a build holds one per item, and an
        # archive's key joins thousands.
        digest = hashlib.blake2b(item_key(item), digest_size=16).digest()
        key = items[id(item)] = b"I" + digest + b"\x1e"
    return key


def _feed(digest: Any, value: object, items: dict[int, bytes]) -> None:
    if isinstance(value, Item):
        digest.update(_item(value, items))
        return
    if isinstance(value, tuple) and value and isinstance(value[0], Item):
        # The items of a feed or page: thousands in an archive, keyed at once.
        try:
            joined = b"".join([items[id(v)] for v in value])
        except KeyError:
            joined = b"".join(
                _item(v, items) if isinstance(v, Item) else _other(v, items)
                for v in value
            )
        digest.update(b"[")
        digest.update(joined)
        digest.update(b"]\x1e")
        return
    if isinstance(value, str):
        digest.update(b"S")
        digest.update(value.encode())
    elif isinstance(value, tuple | list):
        digest.update(b"[")
        for element in value:
            _feed(digest, element, items)
        digest.update(b"]")
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        digest.update(type(value).__name__.encode())
        for name in _field_names(type(value)):
            digest.update(name)
            field = getattr(value, name.decode())
            if type(field) is str:  # most fields: inline, as the branch above
                digest.update(b"S" + field.encode() + b"\x1e")
            else:
                _feed(digest, field, items)
    elif isinstance(value, dt.datetime | dt.date):
        digest.update(value.isoformat().encode())
    elif isinstance(value, dt.tzinfo):
        digest.update(str(value).encode())
    elif value is None or isinstance(value, bool | int | float):
        digest.update(repr(value).encode())
    else:
        raise TypeError(f"cannot key a {type(value).__name__}")
    digest.update(b"\x1e")


@functools.cache
def _field_names(kind: type) -> tuple[bytes, ...]:
    return tuple(f.name.encode() for f in dataclasses.fields(kind))


def _other(value: object, items: dict[int, bytes]) -> bytes:
    """The bytes ``_feed`` gives a value that is not an item, on their own."""
    digest = hashlib.blake2b(digest_size=16)
    _feed(digest, value, items)
    return digest.digest()
