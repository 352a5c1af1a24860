"""Output: data on stdout (a table for people, one JSON document with ``--json``), messages on stderr.
Colour only on a terminal and never with NO_COLOR; spinners only on a terminal."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterator
from typing import IO, TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from rich.console import Console

from wmsync.secrets import redact


def to_json(data: Any) -> str:
    return redact(json.dumps(data, indent=2, ensure_ascii=False, default=str))


class _Redacting:
    """A text stream that masks every registered secret in what is written through it, so that whatever a
    renderer prints — a service's error text included — never shows one."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(redact(text))
        return len(text)

    def __getattr__(self, name: str) -> Any:  # flush, isatty, fileno, encoding ...
        return getattr(self._stream, name)


#: progress messages that mean "wmsync is waiting", announced on stderr without a terminal
WAIT_PREFIXES = ("waiting", "still pending", "sent by an earlier run", "retrying", "rate limited")


def progress_interval() -> float:
    """Seconds between two announcements of the same wait (``WMSYNC_PROGRESS_INTERVAL``, default 15)."""
    try:
        value = float(os.environ.get("WMSYNC_PROGRESS_INTERVAL", "15"))
    except ValueError:
        return 15.0
    return value if value >= 0 and value == value else 15.0


class WaitAnnouncer:
    """Long waits said on stderr when there is no spinner (no terminal, or --json): one line when a wait
    starts, then one every ``interval`` seconds while it goes on — what is awaited and, after a retry, why.
    Other progress messages are left to the spinner."""

    def __init__(self, write: Callable[[str], None], *, interval: float | None = None,
                 clock: Callable[[], float] | None = None) -> None:
        import threading
        import time

        self._write = write
        self._interval = progress_interval() if interval is None else interval
        self._clock = clock or time.monotonic
        self._kind: str | None = None
        self._last = 0.0
        self._lock = threading.Lock()

    def __call__(self, message: str) -> None:
        if not message.lower().startswith(WAIT_PREFIXES):
            return
        kind = message.split("(", 1)[0].strip()
        now = self._clock()
        with self._lock:
            if kind == self._kind and now - self._last < self._interval:
                return
            self._kind, self._last = kind, now
        self._write(message)


class Output:
    def __init__(self, *, json_mode: bool = False, verbose: bool = False) -> None:
        self.json_mode = json_mode
        self.verbose = verbose
        self._err: Console | None = None
        self._out: Console | None = None
        self._announcer: WaitAnnouncer | None = None

    @property
    def announce(self) -> WaitAnnouncer:
        """Says long waits on stderr (see :class:`WaitAnnouncer`)."""
        if self._announcer is None:
            self._announcer = WaitAnnouncer(lambda m: self.err.print(redact(m), markup=False, style="dim"))
        return self._announcer

    def retried(self, service: str, method: str, path: str, reason: str, wait: float, attempt: int) -> None:
        """An HTTP request is retried: said with -v every time, and as a wait when it is a long one."""
        line = f"retrying {service} {method} {path} in {wait:.1f}s: {reason} (attempt {attempt + 1})"
        if self.verbose:
            self.err.print(redact(line), markup=False, style="dim")
        elif wait >= 1.0 and not sys.stderr.isatty():
            self.announce(line)

    @property
    def err(self) -> Console:
        if self._err is None:
            from rich.console import Console

            self._err = Console(file=cast("IO[str]", _Redacting(sys.stderr)), highlight=False, soft_wrap=True,
                                no_color="NO_COLOR" in os.environ)
        return self._err

    @property
    def out(self) -> Console:
        if self._out is None:
            from rich.console import Console

            self._out = Console(file=cast("IO[str]", _Redacting(sys.stdout)), highlight=False, soft_wrap=True,
                                no_color="NO_COLOR" in os.environ)
        return self._out

    @property
    def interactive(self) -> bool:
        return sys.stderr.isatty() and sys.stdin.isatty()

    def emit(self, data: Any, human: Callable[[Console], None] | None = None) -> None:
        """The command's result: JSON on stdout with --json, else the human rendering (or JSON). Suggested
        commands in it are completed with the store and --yes (:mod:`wmsync.suggest`)."""
        from wmsync.suggest import complete_document

        completed = complete_document(data)
        if completed != data and isinstance(data, dict):
            data.clear()
            data.update(completed)  # the human renderer reads the same dict
        elif completed != data:
            data = completed
        if self.json_mode or human is None:
            sys.stdout.write(to_json(data) + "\n")
            sys.stdout.flush()
        else:
            human(self.out)

    def json_line(self, data: Any) -> None:
        from wmsync.suggest import complete_document

        sys.stdout.write(redact(json.dumps(complete_document(data), ensure_ascii=False, default=str)) + "\n")
        sys.stdout.flush()

    def info(self, message: str) -> None:
        from wmsync.suggest import complete_text

        self.err.print(redact(complete_text(message)), markup=False)

    def note(self, message: str) -> None:
        from wmsync.suggest import complete_text

        self.err.print(redact(complete_text(message)), markup=False, style="dim")

    def error(self, message: str, hint: str | None = None) -> None:
        from wmsync.suggest import complete_text

        self.err.print("error: " + redact(complete_text(message)), markup=False, style="bold red")
        if hint:
            self.err.print("hint: " + redact(complete_text(hint)), markup=False)

    @contextlib.contextmanager
    def spinner(self, text: str) -> Iterator[Callable[[str], None]]:
        """A spinner on stderr, only on a terminal and not in JSON mode. Yields an updater. Without a spinner,
        long waits are still said on stderr (:class:`WaitAnnouncer`)."""
        if self.json_mode or not sys.stderr.isatty():
            yield self.announce
            return
        with self.err.status(text) as status:
            yield lambda msg: status.update(msg)


def table(title: str | None, columns: list[str], rows: list[list[Any]], *, fold: bool = False) -> Any:
    """A table for a person at a terminal (cells ``fold`` onto more lines rather than being cut when asked);
    through a pipe or into a file, plain tab-separated lines (title, header, rows) that nothing cuts or wraps, for
    ``grep``, ``cut`` and ``awk``, as ``gh`` does."""
    if not sys.stdout.isatty():

        def line(cells: list[Any]) -> str:
            return "\t".join(redact(str(c)).replace("\t", " ").replace("\n", " ") for c in cells)

        return _PlainLines(([title] if title else []) + [line(columns)] + [line(r) for r in rows])
    from rich.table import Table

    t = Table(title=title, show_lines=False, title_justify="left")
    for col in columns:
        t.add_column(col, overflow="fold" if fold else "ellipsis")
    for row in rows:
        t.add_row(*[redact(str(c)) for c in row])
    return t


class _PlainLines:
    """Lines written as they are: rich would expand tabs and wrap at the console width, even into a pipe."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines

    def __rich_console__(self, console: Console, options: Any) -> Iterator[Any]:
        from rich.segment import Segment

        for text in self.lines:
            yield Segment(text)
            yield Segment.line()
