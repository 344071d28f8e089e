"""German calendar dates as they appear on header lines: always day first.

Accepted: ``16.09.20``, ``16.09.2020``, ``3.9.2020``, ``16. September 2020``,
``3. März 2020``, ``3. Okt. 2020``, ``2020-09-16``, each optionally after a German
weekday (``Mittwoch, 16.09.2020``, ``Mi., 16.09.20``). Two-digit years follow the
POSIX rule also used by ``strptime("%y")``: 69-99 are 1969-1999, 00-68 are 2000-2068.

Also how the outputs show a moment in the configured zone (``local_time``).
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dateutil.parser import parserinfo

_MINUTE = dt.timedelta(minutes=1)
# RSS dates have four-digit years; feedgen writes year 1 as "1", which readers
# take for 2001, so a header dated earlier is an error.
FIRST_YEAR = 1000

# dateutil's stubs allow two or three names per month; the table needs more.
_GERMAN_MONTHS: Any = [
    ("Jan", "Januar", "Jänner", "Jaen", "Jänn"),
    ("Feb", "Februar", "Febr"),
    ("Mär", "März", "Maerz", "Mrz", "Marz"),
    ("Apr", "April"),
    ("Mai",),
    ("Jun", "Juni"),
    ("Jul", "Juli"),
    ("Aug", "August"),
    ("Sep", "Sept", "September"),
    ("Okt", "Oktober"),
    ("Nov", "November"),
    ("Dez", "Dezember"),
]


@functools.cache
def _months() -> parserinfo:
    """dateutil's month table, in German (dateutil only knows English names).

    Made on first use: most headers are numeric, and importing dateutil is a
    large part of starting feedpub.
    """
    from dateutil.parser import parserinfo

    class _GermanMonths(parserinfo):
        MONTHS = _GERMAN_MONTHS

    return _GermanMonths()


# Month names in other languages and their abbreviations: a header with one
# (``3. October 2020``) is reported, not read.
_FOREIGN_MONTHS = (
    "january february march april may june july august september october"
    " november december jan feb mar apr jun jul aug sep oct nov dec"
).split()
# How alike (difflib's ratio) a word must be to a month name to be taken for a
# mistyped one: "Oktobr" is 0.92, "Mörz" 0.75, "Jahr" 0.6, "Quartal" 0.5.
_MONTH_LIKENESS = 0.75

# German weekdays, the full name or the usual two letters; Monday is 0, as in
# ``date.weekday()``.
_WEEKDAYS = {
    "Montag": 0,
    "Dienstag": 1,
    "Mittwoch": 2,
    "Donnerstag": 3,
    "Freitag": 4,
    "Samstag": 5,
    "Sonnabend": 5,
    "Sonntag": 6,
    "Mo": 0,
    "Di": 1,
    "Mi": 2,
    "Do": 3,
    "Fr": 4,
    "Sa": 5,
    "So": 6,
}
_WEEKDAY_NAMES = (
    "Montag",
    "Dienstag",
    "Mittwoch",
    "Donnerstag",
    "Freitag",
    "Samstag",
    "Sonntag",
)
_WEEKDAY_NAME = "|".join(_WEEKDAYS)  # full names first: "Mo" would match "Montag"
# Weekdays in English, for the same report as foreign months.
_FOREIGN_WEEKDAYS = "monday tuesday wednesday thursday friday saturday sunday".split()
# German words made of a weekday and an ending: "Montags", "Montage",
# "Sonntagen". Words of their own, never taken for a misspelt weekday.
_WEEKDAY_ENDINGS = ("s", "e", "n", "en", "es")
_FULL_NAMES = tuple(name.casefold() for name in _WEEKDAYS if len(name) > 2)
# A weekday before the date: its name, then a full stop, a comma or white
# space, and maybe "den" (``Mittwoch, 16.09.2020``, ``Mi., 16.09.20``,
# ``Mittwoch, den 16. September 2020``). Without a group: the splitter looks
# for it in its search for lines that may be headers.
_AFTER_WEEKDAY = r"(?:\.?,\s*|\.\s*|\s+)(?:den\s+)?"
WEEKDAY = rf"(?:{_WEEKDAY_NAME}){_AFTER_WEEKDAY}"
_WEEKDAY = rf"(?:(?P<wd>{_WEEKDAY_NAME}){_AFTER_WEEKDAY})?"
_NUMERIC = r"(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4}|\d{2})"
_NAMED = r"(?P<nd>\d{1,2})\.\s*(?P<mon>[^\W\d_]{3,9})\.?\s*(?P<ny>\d{4})"
_ISO = r"(?P<iy>\d{4})-(?P<im>\d{2})-(?P<id>\d{2})"
DATE_AT_START = re.compile(rf"{_WEEKDAY}(?P<date>{_NUMERIC}|{_NAMED}|{_ISO})(?=\s|$)")
# A numeric date at the start of a line, whatever follows it (``15.09.20:``).
DATE_PREFIX = re.compile(rf"{_WEEKDAY}(?:{_NUMERIC}|{_ISO})")
# A day, a word and a year at the start of a line, whatever the word is and
# whatever follows (``3. Oktobr 2020``, ``16. September 2020:``).
NAMED_PREFIX = re.compile(rf"{_WEEKDAY}{_NAMED}")
# A word in the place of a weekday and a date (``Mitwoch, 16.09.2020``): a
# header if the word were a weekday. WORD_BEFORE_DATE is its start, for the
# splitter's search, without groups.
_WORD = r"[^\W\d_]{5,12}"
WORD_BEFORE_DATE = rf"{_WORD}{_AFTER_WEEKDAY}\d"
WORD_AND_DATE = re.compile(
    rf"(?P<word>{_WORD}){_AFTER_WEEKDAY}(?:{_NUMERIC}|{_NAMED}|{_ISO})(?=\s|$)"
)


@dataclass(frozen=True, slots=True)
class DateToken:
    """A date found at the start of a line, not yet checked to exist."""

    text: str
    year: int
    month: int
    day: int
    weekday: str = ""  # the weekday written before the date ("Mi"), if any

    def to_date(self) -> dt.date:
        """Return the calendar date.

        Raises:
            ValueError: the date does not exist (``31.02.20``).
        """
        return dt.date(self.year, self.month, self.day)

    def wrong_weekday(self, day: dt.date) -> str | None:
        """The name of ``day``'s weekday when the one written before the date
        is another; ``None`` when it is that one or none is written."""
        if not self.weekday or _WEEKDAYS[self.weekday] == day.weekday():
            return None
        return _WEEKDAY_NAMES[day.weekday()]


def is_month(word: str) -> bool:
    """Whether ``word`` is a German month name or abbreviation (``Okt``)."""
    return _months().month(word) is not None


# A news archive starts many paragraphs with the same few such words
# ("1. Halbjahr 2020", "3. Spieltag"): each is compared once.
@functools.lru_cache(maxsize=1 << 10)
def looks_like_month(word: str) -> bool:
    """Whether ``word`` is no German month name but reads like one: a foreign
    name (``October``) or a close misspelling (``Oktobr``, ``Septmber``)."""
    matcher = difflib.SequenceMatcher(None, word.casefold())
    for name in _month_names():
        matcher.set_seq2(name)
        if (  # each bound is cheaper than the next, and no less
            matcher.real_quick_ratio() >= _MONTH_LIKENESS
            and matcher.quick_ratio() >= _MONTH_LIKENESS
            and matcher.ratio() >= _MONTH_LIKENESS
        ):
            return True
    return False


@functools.cache
def _month_names() -> tuple[str, ...]:
    """German month names and abbreviations, and foreign ones, casefolded."""
    german = [name.casefold() for names in _GERMAN_MONTHS for name in names]
    return (*german, *_FOREIGN_MONTHS)


@functools.lru_cache(maxsize=1 << 10)
def looks_like_weekday(word: str) -> bool:
    """Whether ``word`` is no German weekday but reads like the full name of
    one: a misspelling by one letter (``Mitwoch``, ``Freitg``, or two
    letters swapped, ``Donnerstga``), in lower case, or an English name.

    Words that differ from a weekday by more are words of their own
    (``Kreistag``, ``Feiertag``), and so are a weekday with an ending
    (``Montags``, ``Sonntagen``)."""
    if word in _WEEKDAYS:
        return False
    folded = word.casefold()
    if folded in _FOREIGN_WEEKDAYS or folded in _FULL_NAMES:  # "mittwoch"
        return True
    for name in _FULL_NAMES:
        if folded.startswith(name) and folded[len(name) :] in _WEEKDAY_ENDINGS:
            return False
    return any(_one_edit_apart(folded, name) for name in _FULL_NAMES)


def _one_edit_apart(a: str, b: str) -> bool:
    """Whether two different words differ by one letter left out, added or
    changed, or by two neighbouring letters swapped."""
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    start = 0
    while start < min(len(a), len(b)) and a[start] == b[start]:
        start += 1
    if len(a) == len(b):
        if a[start + 1 :] == b[start + 1 :]:
            return True  # one changed
        swapped = a[start : start + 2] == b[start : start + 2][::-1]
        return swapped and a[start + 2 :] == b[start + 2 :]
    shorter, longer = (a, b) if len(a) < len(b) else (b, a)
    return shorter[start:] == longer[start + 1 :]  # one left out


def expand_year(digits: str) -> int:
    """Apply the two-digit year rule; four digits pass unchanged."""
    year = int(digits)
    if len(digits) == 2:
        return year + (1900 if year >= 69 else 2000)
    return year


# A day's header line repeats for each of its items, one after another: a
# small cache serves them (a large one would hold the lines of a whole build).
@functools.lru_cache(maxsize=1 << 10)
def match_date(line: str) -> tuple[DateToken, str] | None:
    """Find a date at the very start of ``line``.

    Returns:
        The date token and the rest of the line after it, or ``None`` when the
        line does not start with a date in one of the accepted forms. A named
        month must be a German month name for the line to count. A weekday
        before the date is kept in the token, not checked against the date
        (``DateToken.wrong_weekday``).
    """
    match = DATE_AT_START.match(line)
    if match is None:
        return None
    text, weekday = match["date"], match["wd"] or ""
    if match["d"] is not None:
        year, month, day = expand_year(match["y"]), int(match["m"]), int(match["d"])
    elif match["nd"] is not None:
        named = _months().month(match["mon"])
        if named is None:
            return None
        year, month, day = int(match["ny"]), named, int(match["nd"])
    else:
        year, month, day = int(match["iy"]), int(match["im"]), int(match["id"])
    return DateToken(text, year, month, day, weekday), line[match.end() :]


def local_time(moment: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    """``moment`` as every output shows it in ``zone``: at the zone's offset,
    rounded to the nearest whole minute.

    RFC 822 (``+HHMM``), RFC 3339 and HTML (``+HH:MM``) have no seconds in an
    offset, but the local mean time of a zone before standard time has them
    (Europe/Berlin before April 1893: +00:53:28). Such a moment is shown at a
    fixed offset of whole minutes (+00:53): the instant stays the same in
    every output, and its local date and time move by less than 30 seconds.
    """
    local = moment.astimezone(zone)
    offset = local.utcoffset()
    if offset is None or not offset % _MINUTE:
        return local
    return moment.astimezone(dt.timezone(round(offset / _MINUTE) * _MINUTE))
