"""OPML 2.0 subscription list of every feed, for import into feed readers."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from email.utils import format_datetime

from feedpub.model import FeedSpec

DOCS = "https://opml.org/spec2.opml"


def render_opml(title: str, feeds: Sequence[FeedSpec], created: dt.datetime) -> bytes:
    """List the feeds as ``type="rss"`` outlines (the type OPML gives any feed).

    Args:
        title: the list's title.
        feeds: the main feed first, then the topics.
        created: the list's ``dateCreated``; pass a date from the data (the
            newest item), never the clock, so rebuilds give the same bytes.
    """
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    # OPML 2.0 dates are RFC 822; format_datetime writes English names.
    ET.SubElement(head, "dateCreated").text = format_datetime(
        created.astimezone(dt.UTC)
    )
    ET.SubElement(head, "docs").text = DOCS
    body = ET.SubElement(root, "body")
    for feed in feeds:
        ET.SubElement(
            body,
            "outline",
            text=feed.title,
            title=feed.title,
            type="rss",
            version="RSS2",
            xmlUrl=feed.rss_url,
            htmlUrl=feed.home_url,
            description=feed.description,
            language=feed.language,
        )
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data + b"\n"
