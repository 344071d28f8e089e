"""The project's configuration: ``feedpub.toml`` read into a frozen ``Config``."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from feedpub.basics import Topic
from feedpub.errors import ConfigError
from feedpub.text import MAIN_SLUG, SLUG_PATTERN, rule_words, slugify, to_uri

DEFAULT_CONFIG = Path("feedpub.toml")
# RFC 4151 taggingEntity: a domain name or an e-mail address, lower case (the
# W3C validator rejects upper case), never to change once feeds are published.
_AUTHORITY = re.compile(r"(?:[a-z0-9._-]+@)?[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?")
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    """Everything a build needs besides the source documents."""

    title: str = "News"
    description: str = "News"
    base_url: str = ""  # absolute URL under which the output folder is served
    home_url: str = ""  # the site's own news page; default: the built index.html
    language: str = "de"
    author: str = "feedpub"
    timezone: dt.tzinfo = field(default_factory=lambda: ZoneInfo("Europe/Berlin"))
    id_authority: str = "localhost"
    limit: int = 50
    archive_size: int = 50  # items per RFC 5005 archive document; at most limit
    archives: bool = True  # write RFC 5005 archive documents at all
    # "complete": every item is published (in archives and yearly pages);
    # "recent": only the years the subscription feeds reach (site._reached).
    history: Literal["complete", "recent"] = "complete"
    title_length: int = 90
    summary_length: int = 300
    stylesheet: bool = True  # reference feed.xsl from RSS and Atom for browsers
    embed_limit: int = 10  # items on each feed's embed page
    sources: tuple[Path, ...] = (Path("seeds"),)
    output: Path = Path("feeds")
    topics: tuple[Topic, ...] = ()
    path: Path | None = None

    def source_name(self, name: str) -> str:
        """A source's name as builds record it: relative to the config's
        folder when inside it, so it does not depend on where that is."""
        shown = Path(name)
        if self.path is not None and shown.is_relative_to(self.path.parent):
            shown = shown.relative_to(self.path.parent)
        return shown.as_posix()


def load_config(path: Path | None = None) -> Config:
    """Read and validate a config file.

    Args:
        path: the TOML file; ``None`` means ``./feedpub.toml`` if it exists,
            else the built-in defaults.

    Raises:
        ConfigError: the file is missing, unreadable, not TOML, or invalid;
            every problem is listed, one per line.
    """
    if path is None:
        if not DEFAULT_CONFIG.is_file():
            return Config()
        path = DEFAULT_CONFIG
    try:
        data = tomllib.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError as e:
        raise ConfigError(f"{path}: config file not found") from e
    except OSError as e:
        raise ConfigError(f"{path}: cannot read config: {e.strerror}") from e
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: expected UTF-8 TOML, found invalid bytes") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: invalid TOML: {e}") from e
    return config_from_dict(data, path)


def config_from_dict(data: dict[str, Any], path: Path) -> Config:
    """Validate parsed TOML; relative paths are taken from ``path``'s folder.

    Raises:
        ConfigError: listing every problem.
    """
    problems: list[str] = []
    check = _Checker(problems)
    base = path.parent
    top = dict(data)
    feed = check.table(top.pop("feed", {}), "feed")
    raw_topics = top.pop("topic", [])
    sources = check.strings(top.pop("sources", ["seeds"]), "sources", allow_empty=False)
    output = check.string(top.pop("output", "feeds"), "output")
    check.unknown(top, "")

    base_url = check.url(feed.pop("base_url", ""), "feed.base_url", required=True)
    if "?" in base_url or "#" in base_url:
        problems.append(
            f"feed.base_url: expected a folder URL without ?query or #fragment,"
            f" found {base_url!r}"
        )
        base_url = ""
    if base_url and not base_url.endswith("/"):
        base_url += "/"
    home_url = check.url(feed.pop("home_url", ""), "feed.home_url", required=False)
    zone_name = check.string(feed.pop("timezone", "Europe/Berlin"), "feed.timezone")
    zone: dt.tzinfo = ZoneInfo("UTC")
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(
            "feed.timezone: expected an IANA zone such as Europe/Berlin,"
            f" found {zone_name!r}"
        )
    if "id_authority" in feed:
        authority = check.string(feed.pop("id_authority"), "feed.id_authority").lower()
    else:  # derived from base_url; nothing to add when base_url is already wrong
        authority = urlsplit(base_url).hostname or ""
    if authority and not _AUTHORITY.fullmatch(authority):
        problems.append(
            "feed.id_authority: expected a domain name or e-mail address you own,"
            f" found {authority!r}"
        )
    limit = check.positive(feed.pop("limit", 50), "feed.limit")
    # Every item must be in the subscription feed or in a full archive page:
    # the newest, incomplete page (fewer than archive_size items) is covered
    # only when it fits in the feed. The default follows a smaller limit.
    archive_size = min(50, limit)
    if "archive_size" in feed:
        archive_size = check.positive(feed.pop("archive_size"), "feed.archive_size")
        if archive_size > limit:
            problems.append(
                f"feed.archive_size: expected at most feed.limit ({limit}),"
                f" found {archive_size}"
            )
    history = feed.pop("history", "complete")
    if history not in ("complete", "recent"):
        problems.append(
            f'feed.history: expected "complete" or "recent", found {history!r}'
        )
        history = "complete"
    complete = history == "complete"
    archives = check.boolean(feed.pop("archives", complete), "feed.archives")
    if history == "recent" and archives:
        problems.append(
            'feed.archives: feed.history = "recent" publishes no archive documents;'
            " remove feed.archives = true"
        )
        archives = False
    config = Config(
        title=check.string(feed.pop("title", "News"), "feed.title"),
        description=check.string(feed.pop("description", "News"), "feed.description"),
        base_url=base_url,
        home_url=home_url or "",
        language=check.language(feed.pop("language", "de"), "feed.language"),
        author=check.string(feed.pop("author", "feedpub"), "feed.author"),
        timezone=zone,
        id_authority=authority,
        limit=limit,
        archive_size=archive_size,
        title_length=check.positive(
            feed.pop("title_length", 90), "feed.title_length", minimum=20
        ),
        summary_length=check.positive(
            feed.pop("summary_length", 300), "feed.summary_length", minimum=20
        ),
        stylesheet=check.boolean(feed.pop("stylesheet", True), "feed.stylesheet"),
        archives=archives,
        history=history,
        embed_limit=check.positive(feed.pop("embed_limit", 10), "feed.embed_limit"),
        sources=tuple(base / s for s in sources),
        output=base / output,
        topics=_topics(raw_topics, check),
        path=path,
    )
    check.unknown(feed, "feed.")
    if problems:
        bullets = "\n".join(f"  - {p}" for p in problems)
        raise ConfigError(f"{path}: invalid config:\n{bullets}")
    return config


def _topics(raw: Any, check: _Checker) -> tuple[Topic, ...]:
    if not isinstance(raw, list):
        check.problems.append("topic: expected [[topic]] tables")
        return ()
    topics: list[Topic] = []
    for index, entry in enumerate(raw):
        where = f"topic[{index}]"
        table = check.table(entry, where)
        name = check.string(table.pop("name", ""), f"{where}.name")
        where = f"topic {name!r}" if name else where
        slug = table.pop("slug", None)
        if slug is None:
            slug = slugify(name)
        elif not isinstance(slug, str) or not SLUG_PATTERN.fullmatch(slug):
            check.problems.append(
                f"{where}.slug: expected lower-case ASCII letters, digits and"
                f" single hyphens (a safe file name), found {slug!r}"
            )
            slug = slugify(str(slug))
        if not slug:
            check.problems.append(
                f"{where}: expected a name that gives a slug, found {name!r}"
            )
        elif slug == MAIN_SLUG:
            check.problems.append(
                f"{where}: slug {slug!r} names the main feed's files"
                f" (embed/{MAIN_SLUG}.html); give the topic another slug"
            )
        keywords = check.strings(table.pop("keywords", []), f"{where}.keywords")
        exclude = check.strings(table.pop("exclude", []), f"{where}.exclude")
        for key, rules in (("keywords", keywords), ("exclude", exclude)):
            for rule in rules:
                if not rule_words(rule):
                    check.problems.append(
                        f"{where}.{key}: expected a word, found {rule!r}"
                        " (a rule without letters or digits matches nothing)"
                    )
        description = check.string(
            table.pop("description", ""), f"{where}.description", allow_empty=True
        )
        check.unknown(table, f"{where}.")
        # Topic puts its name and rules in NFC, as the source text is: compare
        # names once they are, so "Förderung" typed twice, in two forms, is
        # found used twice.
        topic = Topic(
            name=name,
            slug=slug,
            keywords=keywords,
            exclude=exclude,
            description=description,
        )
        for other in topics:
            if other.slug == slug:
                check.problems.append(
                    f"{where}: slug {slug!r} is already used by topic {other.name!r}"
                )
            if other.name.casefold() == topic.name.casefold():
                check.problems.append(f"{where}: name is already used by another topic")
        topics.append(topic)
    return tuple(topics)


@dataclass
class _Checker:
    """Collects problems instead of stopping at the first one."""

    problems: list[str]

    def table(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.problems.append(
                f"{where}: expected a table, found {type(value).__name__}"
            )
            return {}
        return dict(value)

    def string(self, value: Any, where: str, *, allow_empty: bool = False) -> str:
        if not isinstance(value, str) or (not allow_empty and not value.strip()):
            self.problems.append(
                f"{where}: expected a non-empty string, found {value!r}"
            )
            return ""
        return value.strip()

    def strings(
        self, value: Any, where: str, *, allow_empty: bool = True
    ) -> tuple[str, ...]:
        if (
            not isinstance(value, list)
            or not all(isinstance(v, str) and v.strip() for v in value)
            or (not allow_empty and not value)
        ):
            self.problems.append(
                f"{where}: expected a list of non-empty strings, found {value!r}"
            )
            return ()
        return tuple(v.strip() for v in value)

    def boolean(self, value: Any, where: str) -> bool:
        if not isinstance(value, bool):
            self.problems.append(f"{where}: expected true or false, found {value!r}")
            return False
        return value

    def positive(self, value: Any, where: str, *, minimum: int = 1) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.problems.append(
                f"{where}: expected a whole number >= {minimum}, found {value!r}"
            )
            return minimum
        return value

    def url(self, value: Any, where: str, *, required: bool) -> str:
        if value == "" and not required:
            return ""
        uri = to_uri(value) if isinstance(value, str) else None
        if uri is None:
            self.problems.append(
                f"{where}: expected an absolute http(s) URL, found {value!r}"
            )
            return ""
        return uri

    def language(self, value: Any, where: str) -> str:
        if not isinstance(value, str) or not _LANGUAGE.fullmatch(value):
            self.problems.append(
                f"{where}: expected a language code such as de or de-DE,"
                f" found {value!r}"
            )
            return "de"
        return value

    def unknown(self, table: dict[str, Any], prefix: str) -> None:
        for key in sorted(table):
            self.problems.append(f"{prefix}{key}: unknown key")
