"""Pure string helpers: XML-safe text, whitespace, slugs, sentences, cutting."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote, urlsplit, urlunsplit

# Characters XML 1.0 forbids (C0 controls but TAB/LF/CR, surrogates, U+FFFE/FFFF),
# plus DEL, the C1 controls and the other noncharacters, which the W3C validator
# flags and which only ever reach a document as copy-and-paste debris.
_ILLEGAL = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff"
    + "".join(
        f"{chr(p * 0x10000 + 0xFFFE)}{chr(p * 0x10000 + 0xFFFF)}" for p in range(1, 17)
    )
    + "]"
)
# A single no-break space between words is the author's choice and is kept;
# any other run of white space becomes one plain space.
_KEPT_SPACES = frozenset("\u00a0\u202f\u2007")
_SPACE_RUN = re.compile(r"\s+")


def strip_illegal(text: str) -> tuple[str, tuple[str, ...]]:
    """Remove characters that XML 1.0 cannot carry.

    Returns:
        The cleaned text and the removed characters as ``U+XXXX`` names, in order.
        Removed white-space controls (vertical tab, form feed, …) leave a space.
    """
    # Every character _ILLEGAL names is unprintable (Cc, Cs or Cn), so printable
    # text, the common case, needs no regular expression.
    if text.isprintable() or _ILLEGAL.search(text) is None:
        return text, ()
    removed: list[str] = []

    def replace(match: re.Match[str]) -> str:
        char = match.group()
        removed.append(f"U+{ord(char):04X}")
        return " " if char.isspace() else ""

    return _ILLEGAL.sub(replace, text), tuple(removed)


def collapse_space(text: str) -> str:
    """Collapse white space runs to one space and trim both ends."""
    # The only printable white space is the plain space (checked over all code
    # points), so printable text without double or outer spaces is already
    # collapsed: return it as it is, and keep sharing the string.
    if (
        text.isprintable()
        and "  " not in text
        and not text.startswith(" ")
        and not text.endswith(" ")
    ):
        return text
    if not any(space in text for space in _KEPT_SPACES):
        return " ".join(text.split())  # the common case, without a callback

    def replace(match: re.Match[str]) -> str:
        run = match.group()
        return run if run in _KEPT_SPACES else " "

    return _SPACE_RUN.sub(replace, text).strip()


def slugify(name: str) -> str:
    """Make an ASCII file-name-safe slug: ``Förderung`` -> ``foerderung``."""
    text = unicodedata.normalize("NFC", name).casefold()
    for src, dst in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(src, dst)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


# A word of a topic rule, and of the text it is matched against (tagging.py):
# letters and digits, split at everything else (hyphens too).
WORD_CHAR = r"[^\W_]"
WORDS = re.compile(rf"{WORD_CHAR}+")


def rule_words(pattern: str) -> list[str]:
    """The words of a keyword or exclude rule, casefolded, as they are
    matched; none: the rule matches nothing (the config refuses it)."""
    return WORDS.findall(pattern.casefold())


SLUG_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# Where topic slugs name per-feed files (embed/<slug>.html), the main feed is
# named by this word, so no topic may take it.
MAIN_SLUG = "all"

# Abbreviations that end in a full stop without ending a sentence (casefolded).
# Single letters (``z.``, ``B.``, ``V.``) and dotted runs (``e.V.``, ``u.a.``,
# ``z.B.``) are recognised by shape and need no entry here.
_ABBREVIATIONS = frozenset(
    """
    abb abs abt allg anm bd bde bsp bspw btw bzgl bzw ca chr co dgl dipl dr ebd
    ehem einschl engl entspr erg etc ev evtl exkl fa ff fr frl gegr gem geb ges
    gest ggf ggü gr hbf hl hr hrn hrsg inc ing inkl insb insbes jh jhd jr kap kath
    kfm kl kr lfd lkr ltd mag max med mind min mio mr mrd mrs ms mwst nat nr nrn
    orig pfr phil pkt prof rd rer reg rel sen sog spp st std stellv str stv tel
    tsd ua usw verf vgl vj vogtl vors vs zb zit zt zzgl
    jan feb mär märz apr jun jul aug sep sept okt nov dez
    mo di mi do sa
    """.split()
)
_OPENERS = "\"'„“‚‘«»([{"
_CLOSERS = "\"'“”‘’»«)]}"
_SPLIT_AT_OPENER = re.compile("[/" + re.escape(_OPENERS) + "]")
# Single letters with full stops: initials and "e.V.", "z.B.", "u.a.".
DOTTED = re.compile(r"(?:[^\W\d_]\.)+")
_ORDINAL = re.compile(r"\d{1,2}\.")
_TOKEN = re.compile(r"\S+")
# A whole token (a run of non-space) whose end, closers aside, is . ! or ?.
_SENTENCE_END = re.compile(r"(?<!\S)\S*[.!?][" + re.escape(_CLOSERS) + r"]*(?!\S)")


def _ends_sentence(token: str, following: str | None) -> bool:
    core = token.rstrip(_CLOSERS)
    if not core:
        return False
    if core[-1] in "!?":
        return True
    if core[-1] != ".":
        return False
    last = _SPLIT_AT_OPENER.split(core)[-1]
    if _ORDINAL.fullmatch(last) or DOTTED.fullmatch(last):
        return False  # "13. Januar", "8. September", "e.V.", "z. B."
    word = last[:-1].casefold().replace(".", "")
    if word in _ABBREVIATIONS or word.endswith("str"):
        return False  # "bzw.", "Ca. 20", "Dr.", "Adorf/Vogtl.", "Hauptstr. 5"
    if following is None:
        return True
    head = following.lstrip(_OPENERS)
    return not head or head[0].isupper() or head[0].isdigit() or head != following


def first_sentence(text: str, reach: int | None = None) -> str:
    """Return the first sentence of ``text``, knowing German abbreviations.
    With ``reach``, a sentence that does not end in the first ``reach``
    characters is not looked for further: ``text`` is returned."""
    # Only a token ending in . ! or ? (before closing quotes or brackets) can
    # end a sentence; the others need not be looked at.
    for match in _SENTENCE_END.finditer(text):
        if reach is not None and match.end() > reach:
            break
        following = _TOKEN.search(text, match.end())
        if _ends_sentence(match.group(), following and following.group()):
            return text[: match.end()]
    return text


def cut(text: str, limit: int) -> str:
    """Cut ``text`` at a word boundary to at most ``limit`` characters with "…"."""
    point = cut_point(text, limit)
    return text if point is None else text[:point] + "…"


def cut_point(text: str, limit: int) -> int | None:
    """Where ``cut`` cuts ``text`` before its "…"; None: ``text`` fits."""
    if len(text) <= limit:
        return None
    head = text[: limit - 1]
    if not text[limit - 1].isspace() and " " in head:
        head = head.rsplit(" ", 1)[0]
    return len(head.rstrip(" ,;:–—-"))


def title_from(text: str, limit: int) -> str:
    """Derive a title: the first sentence, without its full stop, cut to ``limit``."""
    end, more = title_span(text, limit)
    return text[:end] + "…" if more else text[:end]


def title_span(text: str, limit: int) -> tuple[int, bool]:
    """The title ``title_from`` derives, as the length of the start of ``text``
    it keeps and whether "…" follows (it was cut).

    Only the first ``limit`` + 1 characters can hold the end of a sentence
    that fits, full stop aside: a first sentence that ends later is cut in
    its first ``limit`` characters, which are the text's, so the rest of a
    long paragraph is not looked at."""
    sentence = first_sentence(text, reach=limit + 1)
    if len(sentence) <= limit + 1:  # else cut in its first characters, the text's
        last = sentence.rsplit(maxsplit=1)[-1] if sentence.strip() else ""
        if (
            last.endswith(".")
            and not last.endswith("..")
            and _ends_sentence(last, None)
        ):
            sentence = sentence[:-1]  # the full stop that ends it; "e.V." keeps its own
    point = cut_point(sentence, limit)
    return (len(sentence), False) if point is None else (point, True)


_URI_SAFE = "/:@!$&'()*+,;=%~-._"


def to_uri(url: str) -> str | None:
    """Make an absolute http(s) IRI a plain-ASCII URI, as RSS ``<link>`` needs.

    The scheme and host are lower-cased (an IDN host is IDNA-encoded); other
    characters outside the URI set are percent-encoded, existing escapes kept.

    Returns:
        The URI, or ``None`` when ``url`` is not an absolute http(s) URL.
    """
    if any(char.isspace() for char in url):
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    try:
        netloc = host.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    if parts.username is not None or parts.password is not None:
        return None  # credentials have no place in a published link
    if port is not None:
        netloc += f":{port}"
    return urlunsplit(
        (
            parts.scheme.lower(),
            netloc,
            quote(parts.path, safe=_URI_SAFE),
            quote(parts.query, safe=_URI_SAFE + "?"),
            quote(parts.fragment, safe=_URI_SAFE + "?"),
        )
    )
