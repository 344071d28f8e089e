"""Cron-grade publishing, tested with real processes, signals and file systems.

Run alone: ``pytest tests/test_cron.py -v``. The SIGKILL test reports its
figures (kills, kills mid-write, torn files) in its assertion messages and in
``-s`` output.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from lxml import etree

from feedpub.plan import STATE
from feedpub.publish import REPAIR
from tests.cronkit import (
    EPOCH,
    digests,
    feedpub,
    run,
    temporaries,
    without_privileges,
    write_project,
)

KILLS = 60


def _build_reference(folder: Path, title: str, items: int) -> dict[str, str]:
    config = write_project(folder, title=title, items=items)
    assert run("build", "-q", "-c", config) == (0, "", "")
    return digests(folder / "feeds")


def test_sigkill_never_leaves_a_torn_file(tmp_path: Path) -> None:
    """Kill builds at random moments; every file is always a whole version."""
    items = 2500
    alpha = _build_reference(tmp_path / "alpha", "Alpha", items)
    beta = _build_reference(tmp_path / "beta", "Beta", items)
    assert alpha.keys() == beta.keys()
    same = [n for n in alpha if alpha[n] == beta[n]]
    assert sorted(same) == ["embed.js", "feed.xsl"], "all else differs by version"

    work = tmp_path / "work"
    config = write_project(work, title="Alpha", items=items)
    shutil.copytree(tmp_path / "alpha" / "feeds", work / "feeds")
    titles = {
        "Alpha": config.read_text(),
        "Beta": config.read_text().replace("Alpha", "Beta"),
    }
    # when a build stages its files, and when it renames them, to aim the kills
    first_file = work / "feeds" / min(alpha)
    state_file = work / "feeds" / STATE
    config.write_text(titles["Beta"])
    started = time.monotonic()
    process = feedpub("build", "-q", "-c", config)
    staged = _wait_for_temporary(process, first_file)
    renamed = _wait_for_new_inode(process, first_file)
    finished = _wait_for_new_inode(process, state_file)
    process.communicate(timeout=120)
    assert process.returncode == 0
    duration = time.monotonic() - started
    staging_time, renaming_time = renamed - staged, finished - renamed
    assert digests(work / "feeds") == beta, (
        "a build from the other state gives the reference"
    )

    rng = random.Random(2026)
    staging = renaming = torn = most_temporaries = 0
    for kill in range(KILLS):
        # always build toward the version the first file does not have yet
        current = digests(work / "feeds")[min(alpha)]
        target = "Beta" if current == alpha[min(alpha)] else "Alpha"
        config.write_text(titles[target])
        process = feedpub("build", "-q", "-c", config)
        if kill % 3 == 0:  # any moment of the build
            time.sleep(rng.uniform(0.05, 1.0) * duration)
        elif kill % 3 == 1:  # while it writes temporary files
            _wait_for_temporary(process, first_file)
            time.sleep(rng.uniform(0, 1.0) * staging_time)
        else:  # while it renames them into place
            _wait_for_new_inode(process, first_file)
            time.sleep(rng.uniform(0, 1.0) * renaming_time)
        process.send_signal(signal.SIGKILL)
        process.communicate()
        found = {
            p.relative_to(work / "feeds").as_posix(): p
            for p in (work / "feeds").rglob("*")
            # temporaries, and the mark of a repair still to be done
            if p.is_file() and not p.name.endswith(".tmp") and p.name != REPAIR
        }
        assert found.keys() == alpha.keys(), f"kill {kill}: files missing or extra"
        now = digests(work / "feeds")
        versions = set()
        for name in alpha:
            if now[name] == alpha[name]:
                versions.add("Alpha")
            elif now[name] == beta[name]:
                versions.add("Beta")
            else:
                torn += 1
            if name.endswith(".xml"):
                etree.fromstring(found[name].read_bytes())
        left = len(temporaries(work / "feeds"))
        staging += bool(left)
        renaming += len(versions) == 2
        # each build first removes what an earlier kill left: nothing piles up
        most_temporaries = max(most_temporaries, left)
    print(
        f"\n{KILLS} kills: {staging} while staging files, {renaming} while"
        f" renaming them, {torn} torn files, at most {most_temporaries} temporary"
        f" files after a kill ({len(alpha)} outputs); build {duration:.2f} s,"
        f" staging {staging_time:.3f} s, renaming {renaming_time:.4f} s"
    )
    assert torn == 0
    assert staging + renaming >= KILLS // 3, "too few kills hit the writing"
    assert most_temporaries <= len(alpha)
    # the next build finishes the job and leaves no temporary file behind
    assert run("build", "-q", "-c", config) == (0, "", "")
    assert temporaries(work / "feeds") == []
    assert digests(work / "feeds") == {"Alpha": alpha, "Beta": beta}[target]


def _wait_for_temporary(process: subprocess.Popen[bytes], first_file: Path) -> float:
    """Poll until the build stages the first file it writes; return that moment."""
    folder, prefix = first_file.parent, f".{first_file.name}."
    while not any(n.startswith(prefix) for n in os.listdir(folder)):
        assert process.poll() is None, "the build ended without writing"
        time.sleep(0.0002)
    return time.monotonic()


def _wait_for_new_inode(process: subprocess.Popen[bytes], path: Path) -> float:
    """Poll until ``path`` is replaced by a rename; return that moment."""
    inode = path.stat().st_ino
    while path.stat().st_ino == inode:
        assert process.poll() is None, f"the build ended without replacing {path}"
        time.sleep(0.0002)
    return time.monotonic()


def _holds_lock(pid: int, folder: Path) -> bool:
    inode = folder.stat().st_ino
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if (
            "FLOCK" in fields
            and str(pid) in fields
            and fields[-3].endswith(f":{inode}")
        ):
            return True
    return False


def test_overlapping_builds_never_interleave(tmp_path: Path) -> None:
    config = write_project(tmp_path, items=3000)
    out = tmp_path / "feeds"
    first = feedpub("build", "-q", "-c", config)
    deadline = time.monotonic() + 30
    while not (out.exists() and _holds_lock(first.pid, out)):
        assert first.poll() is None, "the first build ended before it was seen"
        assert time.monotonic() < deadline, "the first build never took the lock"
        time.sleep(0.005)
    code, stdout, stderr = run("build", "-q", "-c", config)
    assert (code, stdout) == (75, "")
    assert (
        stderr == f"{out}: another feedpub build is running (not waiting; see --wait)\n"
    )
    assert run("build", "-q", "--busy-exit", "3", "-c", config)[0] == 3
    waiting = feedpub("build", "--wait", "120", "-c", config)
    assert first.communicate(timeout=120) == (b"", b"")
    assert first.returncode == 0
    stdout_b, stderr_b = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, stderr_b
    assert stdout_b.decode() == f"nothing changed since the last build of {out}\n"
    assert temporaries(out) == []


def test_unchanged_input_writes_nothing_and_one_edit_rewrites_only_its_files(
    tmp_path: Path,
) -> None:
    config = write_project(tmp_path)
    out = tmp_path / "feeds"
    assert run("build", "-q", "-c", config) == (0, "", "")
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    old = {p.relative_to(out).as_posix(): p.read_bytes() for p in before}
    time.sleep(0.02)
    assert run("build", "-q", "-c", config) == (0, "", "")
    assert run("build", "-q", "--force", "-c", config) == (0, "", "")
    assert {p: p.stat().st_mtime_ns for p in before} == before
    # correct a typo in the oldest item: only the files that show it change
    seed = tmp_path / "seeds" / "demografiewerkstatt-kommunen.txt"
    seed.write_text(
        seed.read_text().replace("Bundesfamilienministerium", "Bundesministerium")
    )
    code, stdout, _ = run("build", "-c", config)
    assert code == 0
    holding = {name for name, data in old.items() if b"item-2019-05-02-1" in data}
    changed = {
        p.relative_to(out).as_posix()
        for p, mtime in before.items()
        if p.stat().st_mtime_ns != mtime
    }
    assert changed == holding | {STATE}
    assert stdout.startswith(f"wrote {len(changed)} of ")


def test_no_output_carries_the_build_time(tmp_path: Path) -> None:
    config = write_project(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    for out in ("a", "b"):
        subprocess.run(
            [
                sys.executable,
                "-m",
                "feedpub",
                "build",
                "-q",
                "-c",
                str(config),
                "-o",
                str(tmp_path / out),
            ],
            check=True,
            env=env,
        )
        time.sleep(1.1)
    assert digests(tmp_path / "a") == digests(tmp_path / "b")


def _published(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    config = write_project(tmp_path)
    assert run("build", "-q", "-c", config) == (0, "", "")
    return config, tmp_path / "feeds", digests(tmp_path / "feeds")


def _one_line(stderr: str) -> str:
    assert stderr.count("\n") == 1, stderr
    return stderr.rstrip("\n")


def test_disk_full_keeps_every_published_file(tmp_path: Path) -> None:
    """A real ENOSPC: the output folder is a tiny tmpfs in a private mount namespace."""
    config, out, before = _published(tmp_path)
    (tmp_path / "seeds" / "more.txt").write_text(
        "01.01.25\n\n" + "Viel neuer Text. " * 4000
    )
    pages = sum(-(-p.stat().st_size // 4096) for p in out.rglob("*") if p.is_file())
    size_kb = (pages + 2) * 4
    copy = tmp_path / "after"
    copy.mkdir()
    unshare = ["unshare", "--mount", "--propagation", "private"]
    if os.geteuid() != 0:
        unshare.insert(1, "--map-root-user")
    script = (
        'mount -t tmpfs -o size="$1"k tmpfs "$2" || exit 90; '
        'cp -a "$3"/. "$2"/ || exit 91; '
        "SOURCE_DATE_EPOCH="
        + EPOCH
        + ' "$4" -m feedpub build -q -c "$5" -o "$2" 2>"$6/stderr"; '
        'echo $? > "$6/code"; cp -a "$2"/. "$6"/'
    )
    shutil.copytree(out, tmp_path / "published")
    done = subprocess.run(
        [
            *unshare,
            "sh",
            "-c",
            script,
            "sh",
            str(size_kb),
            str(out),
            str(tmp_path / "published"),
            sys.executable,
            str(config),
            str(copy),
        ],
        capture_output=True,
        check=False,
    )
    assert done.returncode == 0, (
        f"cannot make a size-limited file system: {done.stderr.decode()}"
    )
    code = int((copy / "code").read_text())
    stderr = (copy / "stderr").read_text()
    (copy / "code").unlink()
    (copy / "stderr").unlink()
    assert code == 1
    message = _one_line(stderr)
    assert message.startswith(str(out)), message
    assert message.endswith("cannot write: No space left on device"), message
    assert digests(copy) == before, "every published file intact, no temporary left"


def test_read_only_output_folder(tmp_path: Path) -> None:
    config, out, before = _published(tmp_path)
    seed = tmp_path / "seeds" / "demografiewerkstatt-kommunen.txt"
    seed.write_text("01.01.25\n\nNeu.\n\n" + seed.read_text())
    folders = [out, *(p for p in out.rglob("*") if p.is_dir())]
    for folder in folders:
        folder.chmod(0o555)
    try:
        code, stdout, stderr = run(
            "build", "-q", "-c", config, prefix=without_privileges()
        )
    finally:
        for folder in folders:
            folder.chmod(0o755)
    assert (code, stdout) == (1, "")
    message = _one_line(stderr)
    assert message.startswith(str(out)), message
    assert message.endswith("Permission denied"), message
    assert digests(out) == before


def test_missing_source(tmp_path: Path) -> None:
    config, out, before = _published(tmp_path)
    (tmp_path / "seeds" / "demografiewerkstatt-kommunen.txt").unlink()
    code, stdout, stderr = run("build", "-q", "-c", config)
    assert (code, stdout) == (1, "")
    assert (
        _one_line(stderr)
        == f"{tmp_path / 'seeds'}: expected *.txt source documents, found none"
    )
    code, _, stderr = run("build", "-q", "-c", config, tmp_path / "gone.txt")
    assert code == 1
    assert _one_line(stderr) == f"{tmp_path / 'gone.txt'}: source not found"
    assert digests(out) == before


def test_a_folder_that_cannot_be_listed_stops_the_build(tmp_path: Path) -> None:
    """A real refusal (root's power to list any folder is dropped)."""
    config, out, before = _published(tmp_path)
    seeds = tmp_path / "seeds"
    (seeds / "sub").mkdir()
    (seeds / "sub" / "new.txt").write_text("01.01.25\n\nNeu.\n")
    for closed in (seeds / "sub", seeds):
        closed.chmod(0o000)
        try:
            code, stdout, stderr = run(
                "build", "-q", "-c", config, prefix=without_privileges()
            )
        finally:
            closed.chmod(0o755)
        assert (code, stdout) == (1, "")
        assert _one_line(stderr) == f"{closed}: cannot read folder: Permission denied"
    assert digests(out) == before


def test_unreadable_and_invalid_config(tmp_path: Path) -> None:
    config, out, before = _published(tmp_path)
    config.chmod(0o000)
    try:
        code, stdout, stderr = run(
            "build", "-q", "-c", config, prefix=without_privileges()
        )
    finally:
        config.chmod(0o644)
    assert (code, stdout) == (1, "")
    assert _one_line(stderr) == f"{config}: cannot read config: Permission denied"
    config.write_text('[feed\nbase_url = "x"\n')
    code, _, stderr = run("build", "-q", "-c", config)
    assert code == 1
    assert _one_line(stderr).startswith(f"{config}: invalid TOML: ")
    assert (
        run("build", "-q", "-c", tmp_path / "nope.toml")[2]
        == f"{tmp_path / 'nope.toml'}: config file not found\n"
    )
    assert digests(out) == before


def test_invalid_state_file_stops_the_build_and_a_lost_one_degrades(
    tmp_path: Path,
) -> None:
    config, out, _ = _published(tmp_path)
    state = out / STATE
    good = state.read_bytes()
    seed = tmp_path / "seeds" / "demografiewerkstatt-kommunen.txt"
    seed.write_text(seed.read_text() + "\n01.01.19\n\nAlt.\n")
    state.write_bytes(good.replace(b'"published"', b'"publishd"', 1))
    code, _, stderr = run("build", "-q", "-c", config)
    assert code == 1
    assert _one_line(stderr).startswith(f"{state}:")
    state.unlink()
    assert run("build", "-q", "-c", config) == (0, "", "")
    assert state.is_file()


def test_a_damaged_state_file_stops_even_a_build_that_finds_nothing_changed(
    tmp_path: Path,
) -> None:
    """A cron run with no new text reports a state file cut short, naming its
    line, the day it happens, not the day the next news comes; one that is
    edited by hand and still valid is read whole and written as a build
    writes it."""
    config, out, published = _published(tmp_path)
    state = out / STATE
    good = state.read_bytes()
    lines = good.split(b"\n")
    record = next(i for i, line in enumerate(lines) if line.startswith(b'{"id": '))
    lines[record] = lines[record][:40]  # an item record cut short
    state.write_bytes(b"\n".join(lines))
    damaged = digests(out)
    code, _, stderr = run("build", "-c", config)
    assert code == 1
    assert _one_line(stderr).startswith(f"{state}:{record + 1}: expected a JSON")
    assert digests(out) == damaged  # nothing published is touched
    # Valid, but not as written (a blank line among the records): one whole
    # build, which finds every published file as it was, writes the state
    # anew, and the next finds nothing changed.
    lines = good.split(b"\n")
    lines.insert(record, b"")
    state.write_bytes(b"\n".join(lines))
    assert run("build", "-q", "-c", config) == (0, "", "")
    assert digests(out) == published
    assert (
        run("build", "-c", config)[1]
        == f"nothing changed since the last build of {out}\n"
    )


def test_nothing_is_written_outside_the_output_folder(tmp_path: Path) -> None:
    config, out, _ = _published(tmp_path)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    shutil.rmtree(out / "archive")
    (out / "archive").symlink_to(outside)
    code, _, stderr = run("build", "-q", "--force", "-c", config)
    assert code == 1
    assert "refusing to write outside the output folder" in _one_line(stderr)
    assert list(outside.iterdir()) == []


def test_files_of_others_in_the_output_folder_survive(tmp_path: Path) -> None:
    config, out, _ = _published(tmp_path)
    (out / "robots.txt").write_text("User-agent: *\n")
    (out / "topics" / "old-topic").mkdir()
    (out / "topics" / "old-topic" / "rss.xml").write_text("<rss/>")
    seed = tmp_path / "seeds" / "demografiewerkstatt-kommunen.txt"
    seed.write_text("01.01.25\n\nNeu.\n\n" + seed.read_text())
    assert run("build", "-q", "-c", config) == (0, "", "")
    assert (out / "robots.txt").read_text() == "User-agent: *\n"
    assert (out / "topics" / "old-topic" / "rss.xml").read_text() == "<rss/>"


def test_removing_a_topic_retires_its_feed_for_subscribers(tmp_path: Path) -> None:
    config, out, _ = _published(tmp_path)
    config.write_text(config.read_text().replace('\n[[topic]]\nname = "Jugend"\n', ""))
    assert run("build", "-q", "-c", config) == (0, "", "")
    rss = (out / "topics" / "jugend" / "rss.xml").read_text()
    assert "Der Feed „Jugend“ wird nicht mehr aktualisiert" in rss
    assert '"retired": "jugend"' in (out / STATE).read_text()


@pytest.mark.parametrize("signal_number", [signal.SIGTERM, signal.SIGINT])
def test_stopped_build_exits_non_zero_and_cleans_up(
    tmp_path: Path, signal_number: int
) -> None:
    config = write_project(tmp_path, items=2500)
    assert run("build", "-q", "-c", config) == (0, "", "")
    before = digests(tmp_path / "feeds")
    config.write_text(config.read_text().replace("Alpha", "Gamma"))
    process = feedpub("build", "-q", "-c", config)
    time.sleep(0.6)
    assert process.poll() is None, "the build ended before the signal"
    process.send_signal(signal_number)
    _, stderr = process.communicate(timeout=60)
    name = signal.Signals(signal_number).name
    assert (process.returncode, stderr.decode()) == (
        128 + signal_number,
        f"feedpub: stopped by {name}\n",
    )
    assert temporaries(tmp_path / "feeds") == []
    assert digests(tmp_path / "feeds") == before


def _stderr_on_a_terminal(*args: str | Path) -> tuple[int, bytes]:
    """Run feedpub with stderr on a pseudo-terminal; return exit code and what it showed."""
    import pty

    leader, follower = pty.openpty()
    env = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH}
    process = subprocess.Popen(
        [sys.executable, "-m", "feedpub", *map(str, args)],
        stdout=subprocess.DEVNULL,
        stderr=follower,
        env=env,
    )
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    return process.wait(timeout=120), shown


def test_progress_bar_only_on_a_terminal_and_never_quiet(tmp_path: Path) -> None:
    config = write_project(tmp_path, items=500)
    code, shown = _stderr_on_a_terminal("build", "-c", config, "-o", tmp_path / "a")
    assert code == 0
    assert b"rendering" in shown
    assert b"100%" in shown
    code, shown = _stderr_on_a_terminal(
        "build", "-q", "-c", config, "-o", tmp_path / "b"
    )
    assert (code, shown) == (0, b"")
    code, _, stderr = run("build", "-c", config, "-o", tmp_path / "c")
    assert code == 0
    assert stderr == ""  # piped, as under cron: no bar


def test_an_unchanged_build_restores_a_missing_file_and_removes_temporaries(
    tmp_path: Path,
) -> None:
    config, out, before = _published(tmp_path)
    (out / "topics" / "integration" / "rss.xml").unlink()
    stale = out / "topics" / "integration" / ".atom.xml.AbCd1234.tmp"
    stale.write_text("<feed")
    mine = out / "notes.tmp"  # not a name feedpub gives its temporaries
    mine.write_text("keep")
    assert run("build", "-c", config) == (
        0,
        "wrote 1 of 41 files to " + str(out) + " (9 items, 6 topics)\n",
        "",
    )
    assert not stale.exists()
    assert mine.read_text() == "keep"
    assert digests(out) == before | {"notes.tmp": digests(out)["notes.tmp"]}
    assert (
        run("build", "-c", config)[1]
        == f"nothing changed since the last build of {out}\n"
    )


def test_after_an_interrupted_build_nothing_is_taken_as_unchanged(
    tmp_path: Path,
) -> None:
    """A build stopped while renaming leaves files of two versions, the old
    state and a temporary: the next build, whatever its inputs, renders and
    compares every file instead of trusting the state."""
    config, out, before = _published(tmp_path)
    target = out / "rss.xml"
    data = target.read_bytes()
    assert b"Demografiewerkstatt" in data
    target.write_bytes(data.replace(b"Demografiewerkstatt", b"Demografiewerkstadt", 1))
    (out / ".atom.xml.AbCd1234.tmp").write_text("<feed")
    assert run("build", "-q", "-c", config) == (0, "", "")
    assert digests(out) == before


def test_a_stopped_repair_leaves_the_evidence_for_the_next_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The mark that a build was interrupted stays until a build has published
    in full: a repair stopped half-way leaves it for the next."""
    from feedpub import site
    from feedpub.build import build
    from feedpub.config import load_config

    config, out, before = _published(tmp_path)
    target = out / "rss.xml"
    target.write_bytes(
        target.read_bytes().replace(b"Demografiewerkstatt", b"Demografiewerkstadt", 1)
    )
    leftover = out / ".atom.xml.AbCd1234.tmp"
    leftover.write_text("<feed")

    def stopped(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(site, "compile_site", stopped)
    with pytest.raises(KeyboardInterrupt):
        build(load_config(config))
    assert not leftover.exists()
    assert (out / ".feedpub-repair").exists()
    monkeypatch.undo()
    assert run("build", "-q", "-c", config) == (0, "", "")
    assert not (out / ".feedpub-repair").exists()
    assert digests(out) == before
