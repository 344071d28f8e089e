"""The build's shell: read sources and state, hold the lock, publish.

The pure work is in ``site.py``. It is imported only when a build has work to
do, so a cron run that finds nothing changed costs little more than starting
Python and hashing the sources.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import gc
import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from feedpub.config import Config
from feedpub.publish import (
    REPAIR,
    Publication,
    PublishReport,
    begin_repair,
    build_clock,
    code_digest,
    end_repair,
    files_in_place,
    locked_output,
    read_config_bytes,
    read_sources,
    read_state,
    read_tail,
    scan_output,
    state_salt,
    unchanged_since,
)
from feedpub.state import STATE_FILE as STATE
from feedpub.state import Entry, OutputRecord

if TYPE_CHECKING:
    from feedpub.site import BuildResult


def inputs_digest(documents: Sequence[tuple[str, bytes]], config: Config) -> str:
    """A digest of everything a build reads, naming documents relative to the config.

    Two builds with equal digests publish the same files, whatever the folder
    the project was cloned to.
    """
    digest = hashlib.sha256(f"feedpub {code_digest()}\n".encode())
    digest.update(read_config_bytes(config.path))
    for name, data in documents:
        digest.update(f"\n{config.source_name(name)}\n".encode())
        digest.update(hashlib.sha256(data).digest())
    return f"sha256:{digest.hexdigest()}"


@contextlib.contextmanager
def _no_collection() -> Iterator[None]:
    """Pause the cyclic garbage collector during a build.

    A build makes millions of small objects and no reference cycles worth
    collecting; the collector's passes over them cost a third of a large
    build's time. Memory is freed by reference counting as before.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _records(out_dir: Path) -> tuple[Entry, ...]:
    """The item records of the state file in ``out_dir`` (``compile_site``'s
    ``records``); none when it is gone.

    Raises:
        StateError: the file is not valid (naming ``file:line``).
    """
    state = read_state(out_dir, STATE)
    return () if state is None else state.entries


def build_salt(config: Config) -> str:
    """What every output's key depends on besides its spec: the code and config."""
    # A config made in code has no file to hash: its fields (all plain data)
    # name it instead.
    data = read_config_bytes(config.path) if config.path else repr(config).encode()
    config_digest = hashlib.sha256(data).hexdigest()
    return f"{code_digest()}:{config_digest}"


@dataclass(frozen=True, slots=True, kw_only=True)
class BuildOptions:
    """How the shell runs a build: waiting for a lock, forcing a full build."""

    wait: float = 0.0  # seconds to wait for another build to finish
    force: bool = False  # render everything even when the inputs did not change
    progress: Callable[[int, int], None] | None = None  # see compile_site
    jobs: int = 2  # 2: a large build reads its items on two cores (spread.py)


def build(
    config: Config,
    sources: Sequence[Path] = (),
    output: Path | None = None,
    options: BuildOptions = BuildOptions(),
) -> tuple[BuildResult | None, PublishReport]:
    """Read the sources, build everything and publish it to the output folder.

    Holds the output folder's lock throughout (see ``publish.locked_output``).
    When the inputs' digest equals the one in the state file and every file the
    state lists is in place, nothing is rendered and the result
    is ``None``. Otherwise outputs whose key (see ``keys.py``) is unchanged and
    whose file is in place are not rendered again; ``force`` renders them all,
    and so does a build that finds temporaries of an interrupted one (the
    published files may then mix two versions; see ``publish.scan_output``).

    Args:
        config: the validated configuration.
        sources: files or folders; default: the config's ``sources``.
        output: the output folder; default: the config's ``output``.
        options: waiting and forcing.

    Raises:
        FeedpubError: any problem; nothing is written when the input is bad or
            an output fails validation.
    """
    out_dir = output or config.output
    documents = read_sources(sources or config.sources, out_dir)
    inputs = inputs_digest(documents, config)
    with locked_output(out_dir, wait=options.wait):
        present, leftovers = scan_output(out_dir)
        interrupted = bool(leftovers) or REPAIR in present
        if leftovers:
            begin_repair(out_dir, leftovers)
        if (
            not options.force
            and not interrupted  # files of two versions may be published
            and unchanged_since(out_dir, STATE, inputs, present)
        ):
            return None, PublishReport(written=(), unchanged=())
        with _no_collection():  # from here on, millions of objects
            result, report = _publish(
                config, documents, out_dir, inputs, interrupted, options
            )
        if interrupted:
            end_repair(out_dir)  # everything is published in full again
    return result, report


def _publish(
    config: Config,
    documents: Sequence[tuple[str, bytes]],
    out_dir: Path,
    inputs: str,
    interrupted: bool,
    options: BuildOptions,
) -> tuple[BuildResult, PublishReport]:
    """Read the state, build and publish everything: ``build`` past its checks."""
    from feedpub.site import (  # only now
        Checks,
        compile_appended,
        compile_edited,
        compile_site,
    )
    from feedpub.spread import Spread

    salt = build_salt(config)
    now = build_clock()
    with Publication(out_dir, last=STATE, helper=options.jobs > 1) as publication:

        def stage(
            path: str, data: bytes | Iterator[bytes], previous: OutputRecord | None
        ) -> Callable[[], str]:
            publication.stage(path, data, previous.sha256 if previous else None)
            # Worked out as the file is written, perhaps in the writer process.
            return functools.partial(publication.sha256, path)

        tail = None
        if not options.force and not interrupted:
            tail = read_tail(out_dir, STATE, salt)
        if tail is not None:
            # Items added at the top of the sources: read only those, and
            # the records of the newest years (site.compile_appended).
            # Failing that, items changed in the newest years: read those
            # years again (site.compile_edited).
            reuse = {r.path: r for r in files_in_place(out_dir, tail.outputs)}
            for compile_newest in (compile_appended, compile_edited):
                found = compile_newest(
                    documents,
                    config,
                    tail,
                    now=now,
                    inputs=inputs,
                    salt=salt,
                    reuse=reuse,
                    progress=options.progress,
                    emit=stage,
                )
                if found is not None:
                    break
            if found is not None:
                return found, publication.commit()
            del tail  # its bytes go before the whole state is read
        # The state's item records are read apart from it, when the build
        # asks for them (compile_site's ``records``): under the same code
        # and config before the sources, for the stubs of unchanged days;
        # under other code or config, whose records give no stubs
        # (site.block_digest), once the sources are read, not held while
        # they are. Either way this function does not hold them while the
        # outputs render, when a large build's memory peaks. A state
        # without a summary names no salt: read as it is.
        records = None
        written_under = state_salt(out_dir, STATE)
        if written_under is None:
            state = read_state(out_dir, STATE)
        else:
            state = read_state(out_dir, STATE, records=False)
            records = functools.partial(_records, out_dir)
        reuse = {}
        if state is not None and written_under not in (None, salt):
            # Every output's key holds the salt: none is kept as it is,
            # so the records of the outputs are not held either.
            state = dataclasses.replace(state, outputs=())
        elif state is not None and not options.force and not interrupted:
            reuse = {r.path: r for r in files_in_place(out_dir, state.outputs)}
        # A helper process reads half of a large build's items (spread.py),
        # forked now, while this one holds little but the sources. Not in a
        # build that holds the last state's records beside every item (the
        # first under other code or config): its peak is the highest, and
        # the items that come back from the helper take 4-8 MB more of it.
        size = sum(len(data) for _, data in documents)
        helped = options.jobs > 1 and (state is None or written_under == salt)
        # The helper empties its copy of the list that alone holds the
        # sources' bytes (read_sources' own), which this process empties
        # once they are cut into blocks (``release``).
        held = documents if isinstance(documents, list) else None
        spread_over = Spread(size, let_go=held) if helped else None
        with spread_over or contextlib.nullcontext() as spread:
            result = compile_site(
                documents,
                config,
                state=state,
                records=records,
                now=now,
                inputs=inputs,
                salt=salt,
                reuse=reuse,
                progress=options.progress,
                emit=stage,
                release=True,  # documents: the list this module read; let go once read
                aside=publication.spill,  # the item records wait on disk
                spread=spread,
                # Archive documents are checked where their files are
                # written: in the writer process, once one runs.
                checks=Checks(
                    fragments=publication.check_fragments,
                    archive=publication.validate_archive,
                ),
            )
        return result, publication.commit()
