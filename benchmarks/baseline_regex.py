"""Baseline (a): the least a script must do to publish the subscription feeds.

    python benchmarks/baseline_regex.py CONFIG OUT

Reads the corpus that CONFIG (a generated ``feedpub.toml``) names, splits it
into items with one regular expression, sorts them newest first and writes the
newest 50 items of the main feed and of each topic feed, in RSS and Atom, with
plain feedgen. A topic feed tests its keywords against items newest first and
stops at 50 matches: no item is tagged that no feed needs. No feedpub import,
no validation, no warnings, no pages.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import sys
import tomllib
from pathlib import Path

from feedgen.feed import FeedGenerator

LIMIT = 50
MONTHS = {
    name: number
    for number, names in enumerate(
        (
            "jan januar",
            "feb februar",
            "mär märz maerz",
            "apr april",
            "mai",
            "jun juni",
            "jul juli",
            "aug august",
            "sep sept september",
            "okt oktober",
            "nov november",
            "dez dezember",
        ),
        start=1,
    )
    for name in names.split()
}
DATE = (
    r"(?:(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{2,4})"
    r"|(?P<nd>\d{1,2})\.\s*(?P<mon>[^\W\d_]+)\.?\s*(?P<ny>\d{4})"
    r"|(?P<iy>\d{4})-(?P<im>\d\d)-(?P<id>\d\d))"
)
# A header: a date at the start of a paragraph, maybe a byline, then a blank
# line or a field line.
HEADER = re.compile(rf"(?:(?<=\n\n)|\A){DATE}(?P<byline>[ \t][^\n]*)?\n(?=\n|@)")
FIELD = re.compile(r"^@[a-z]+:.*\n?", re.M)


def parse_date(m: re.Match[str]) -> dt.date:
    if m["d"]:
        year = int(m["y"])
        if year < 100:
            year += 1900 if year >= 69 else 2000
        return dt.date(year, int(m["m"]), int(m["d"]))
    if m["nd"]:
        return dt.date(int(m["ny"]), MONTHS[m["mon"].lower()], int(m["nd"]))
    return dt.date(int(m["iy"]), int(m["im"]), int(m["id"]))


Item = tuple[dt.date, int, str]  # (date, position, body)


def read_items(text: str) -> list[Item]:
    """(date, position, body) of every item."""
    heads = list(HEADER.finditer(text))
    items = []
    for index, head in enumerate(heads):
        end = heads[index + 1].start() if index + 1 < len(heads) else len(text)
        body = FIELD.sub("", text[head.end() : end]).strip()
        items.append((parse_date(head), index, body))
    return items


def topic_rule(keywords: list[str]) -> re.Pattern[str]:
    parts = []
    for keyword in keywords:
        words = [re.escape(w) for w in keyword.lstrip("*").split()]
        body = r"\w*\W+".join(words)
        parts.append(body if keyword.startswith("*") else rf"\b{body}")
    return re.compile("|".join(parts), re.IGNORECASE)


def slug(name: str) -> str:
    name = name.lower()
    for a, b in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        name = name.replace(a, b)
    return re.sub(r"[^a-z0-9]+", "-", name).strip("-")


def write_feed(out: Path, base: str, title: str, chosen: list[Item]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for kind in ("rss", "atom"):
        fg = FeedGenerator()
        fg.id(f"{base}{kind}.xml")
        fg.title(title)
        fg.description(title)
        fg.author({"name": "baseline"})
        fg.link(href=f"{base}{kind}.xml", rel="self")
        fg.link(href=f"{base}index.html", rel="alternate")
        fg.language("de")
        for day, position, body in chosen:
            paragraphs = [" ".join(p.split()) for p in body.split("\n\n")]
            moment = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)
            entry = fg.add_entry(order="append")
            entry.id(f"tag:baseline,{day.isoformat()}:{position}")
            entry.title(paragraphs[0].split(". ")[0][:90])
            entry.link(href=f"{base}archive/{day.year}.html#{position}")
            entry.published(moment)
            entry.updated(moment)
            content = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
            if kind == "rss":
                entry.description(content)
            else:
                entry.summary(paragraphs[0][:300])
                entry.content(content, type="html")
        if chosen:
            fg.updated(dt.datetime.combine(chosen[0][0], dt.time(12), tzinfo=dt.UTC))
        if kind == "rss":
            fg.rss_file(str(out / "rss.xml"), pretty=True)
        else:
            fg.atom_file(str(out / "atom.xml"), pretty=True)


def main(config_path: Path, out: Path) -> None:
    config = tomllib.loads(config_path.read_text("utf-8"))
    base = config["feed"]["base_url"]
    items = []
    for source in config["sources"]:
        for path in sorted((config_path.parent / source).rglob("*.txt")):
            items += read_items(path.read_text("utf-8-sig").replace("\r\n", "\n"))
    items.sort(key=lambda i: i[0], reverse=True)  # stable: same-day order kept
    title = config["feed"]["title"]
    write_feed(out, base, title, items[:LIMIT])
    for topic in config["topic"]:
        rule = topic_rule(topic["keywords"])
        chosen = []
        for item in items:
            if rule.search(item[2]):
                chosen.append(item)
                if len(chosen) == LIMIT:
                    break
        name = slug(topic["name"])
        write_feed(
            out / "topics" / name,
            f"{base}topics/{name}/",
            f"{title} – {topic['name']}",
            chosen,
        )


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: baseline_regex.py CONFIG OUT")
    main(Path(sys.argv[1]), Path(sys.argv[2]))
