"""Real processes for the cron tests: a corpus, a project, builds as subprocesses."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

WORDS = (
    "Landkreis Gemeinde Projekt Ehrenamt Integration Jugend Förderung Werkstatt"
    " Zukunft Dorf Stadt Verwaltung Bürger Nachbarschaft Austausch Treffen Verein"
    " Beratung Familie Schule Pflege Mobilität Wohnen Kultur Sport Begegnung"
).split()
TOPICS = ["Integration", "Ehrenamt", "Jugend", "Förderung", "Pflege", "Mobilität"]
EPOCH = "1700000000"  # SOURCE_DATE_EPOCH for every build here


def write_corpus(path: Path, items: int, seed: int = 7) -> None:
    """``items`` dated items, newest first, several per day, 40-80 words each."""
    rng = random.Random(seed)
    day = dt.date(2024, 12, 31)
    blocks: list[str] = []
    for _ in range(items):
        if rng.random() < 0.6:
            day -= dt.timedelta(days=rng.randint(1, 3))
        words = [rng.choice(WORDS) for _ in range(rng.randint(40, 80))]
        text = " ".join(words).capitalize() + "."
        blocks.append(f"{day:%d.%m.%y}\n\n{text}\n")
    path.write_text("\n".join(blocks), encoding="utf-8")


def write_project(folder: Path, title: str = "Alpha", items: int = 0) -> Path:
    """A config (and, with ``items``, a generated corpus) in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "seeds").mkdir(exist_ok=True)
    if items:
        write_corpus(folder / "seeds" / "news.txt", items)
    else:
        shutil.copy(
            ROOT / "seeds" / "demografiewerkstatt-kommunen.txt", folder / "seeds"
        )
    topics = "".join(f'\n[[topic]]\nname = "{t}"\n' for t in TOPICS)
    config = folder / "feedpub.toml"
    config.write_text(
        f'[feed]\ntitle = "{title}"\nbase_url = "https://example.org/news/"\nlimit = 100\n'
        + topics,
        encoding="utf-8",
    )
    return config


def feedpub(*args: str | Path, **kwargs: object) -> subprocess.Popen[bytes]:
    """Start ``python -m feedpub ARGS`` as a real process."""
    env = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH}
    env.pop("FEEDPUB_CONFIG", None)
    return subprocess.Popen(
        [sys.executable, "-m", "feedpub", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        # A shell's background job ignores SIGINT, and a child inherits that:
        # give the build the default disposition a terminal session has.
        preexec_fn=_default_sigint,
        **kwargs,  # type: ignore[call-overload]
    )


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run(*args: str | Path, prefix: tuple[str, ...] = ()) -> tuple[int, str, str]:
    """Run ``python -m feedpub ARGS`` to the end: exit code, stdout, stderr."""
    env = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH}
    env.pop("FEEDPUB_CONFIG", None)
    done = subprocess.run(
        [*prefix, sys.executable, "-m", "feedpub", *map(str, args)],
        capture_output=True,
        env=env,
        check=False,
        timeout=300,
    )
    return done.returncode, done.stdout.decode(), done.stderr.decode()


def digests(folder: Path) -> dict[str, str]:
    """sha256 of every file below ``folder``, by relative path."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def temporaries(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob(".*.tmp"))


def without_privileges() -> tuple[str, ...]:
    """A prefix that runs a command without root's power to ignore file modes."""
    if os.geteuid() != 0:
        return ()
    return ("setpriv", "--inh-caps=-all", "--bounding-set=-all")
