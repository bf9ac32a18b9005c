"""What a person watching `make run` sees, and the whole log kept in a file.

Rasa 3.6 pulls in libraries that warn about themselves on every start:
TensorFlow's C++ start-up lines, DeprecationWarnings from pkg_resources,
SQLAlchemy, sanic-cors, jax and matplotlib's pyparsing, Alembic's, rasa-sdk's
and Sanic's start-up lists, and Rasa's own warning that the
RegexEntityExtractor overlaps with DIET (which here extracts no entities:
`entity_recognition: false`, the warning counts annotated examples anyway).
None of them is ours to fix, and between them they bury the lines that matter.
The console leaves them out; the log file gets every line.

`python -m bot.console_log FILE` does the same for a command piped into it
(`make train`): everything into FILE, the rest to the console as it comes,
progress bars (lines ended by a carriage return) included.
"""

from __future__ import annotations

import os
import re
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, BinaryIO

_ANSI = re.compile(r"\x1b\[[0-9;]*m")

# The first line of a message that is noise.
NOISE = tuple(
    re.compile(pattern)
    for pattern in (
        # A library's own deprecation warnings (`path.py:12: SomeWarning: ...`),
        # never those of our code.
        r"(site|dist)-packages/\S+\.py:\d+: \w*(Deprecation|MovedIn20|Future)Warning:",
        # TensorFlow's C++ start-up: CPU features, no CUDA, no TensorRT, oneDNN.
        r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IW] tensorflow/",
        r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: E \S+\] Unable to register cu(DNN|FFT|BLAS)",
        # Start-up chatter: Alembic 1.19 announcing each of its plugins, rasa-sdk
        # each action it registered, Sanic the platform and versions it runs on
        # (its "Goin' Fast @ <address>" stays).
        r"INFO\s+alembic\.runtime\.plugins\s*[-:] setup plugin ",
        r"INFO\s+rasa_sdk\.executor\s*[-:] Registered function for ",
        r"(INFO\s+sanic\.root\s*[-:]|\[INFO\]) (Sanic v|mode: |server: |python: |platform: "
        r"|packages: |Starting worker|Stopping worker|Server Stopped)",
        # Rasa: the regex extractor beside DIET, which extracts no entities here.
        r"UserWarning: You have an overlap between the 'RegexEntityExtractor'",
        # Rasa: the notifier's external intents are triggered, never typed.
        r"UserWarning: The intent 'EXTERNAL_\w+' is listed in the domain file, but is not found",
    )
)

# Lines that belong to the message before them: the source line Python's
# warnings print indented, and the messages' own second lines.
CONTINUATION = tuple(
    re.compile(pattern)
    for pattern in (
        r"^\s",
        r"^Implementing implicit namespace packages",
        r"^To enable the following instructions:",
    )
)


class ConsoleFilter:
    """Says line by line what the console shows: a noise message is left out
    with its continuation lines. One per stream (its state is the last line)."""

    def __init__(self) -> None:
        self.skipping = False

    def keep(self, line: str) -> bool:
        text = _ANSI.sub("", line)
        if self.skipping and text.strip() and any(c.match(text) for c in CONTINUATION):
            return False
        self.skipping = any(pattern.search(text) for pattern in NOISE)
        return not self.skipping


def segments(read: Callable[[int], bytes]) -> Iterator[bytes]:
    """The stream in lines, each with its ending, as soon as it ends: `\\n`, or a
    `\\r` of a progress bar redrawing itself; the rest when the stream ends."""
    pending = b""
    while True:
        chunk = read(65536)
        if not chunk:
            break
        pending += chunk
        start = 0
        for match in re.finditer(rb"\r\n|\n|\r", pending):
            yield pending[start : match.end()]
            start = match.end()
        pending = pending[start:]
    if pending:
        yield pending


class LogFile:
    """One log file written by several threads, a line at a time, appended."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file = path.open("ab")
        self._lock = threading.Lock()

    def write(self, data: bytes) -> None:
        with self._lock:
            self._file.write(data)
            self._file.flush()

    def close(self) -> None:
        with self._lock:
            self._file.close()


def copy_stream(
    read: Callable[[int], bytes], log: LogFile, console: BinaryIO, prefix: bytes = b""
) -> None:
    """Every line of a stream into the log (after `prefix`), the kept ones to the console."""
    kept = ConsoleFilter()
    for line in segments(read):
        log.write(prefix + line if line.endswith(b"\n") else prefix + line + b"\n")
        if kept.keep(line.decode(errors="replace")):
            console.write(line)
            console.flush()


def pump(stream: IO[bytes], log: LogFile, name: str) -> threading.Thread:
    """A thread that copies a child's output (until it closes) as copy_stream does."""
    thread = threading.Thread(
        target=copy_stream,
        args=(stream.read1 if hasattr(stream, "read1") else stream.read, log, sys.stdout.buffer),
        kwargs={"prefix": f"{name} | ".encode()},
        name=f"log-{name}",
        daemon=True,
    )
    thread.start()
    return thread


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: COMMAND 2>&1 | python -m bot.console_log LOG_FILE", file=sys.stderr)
        return 2
    log = LogFile(Path(args[0]))
    try:
        copy_stream(lambda size: os.read(sys.stdin.fileno(), size), log, sys.stdout.buffer)
    finally:
        log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
