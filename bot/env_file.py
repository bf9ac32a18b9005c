"""`.env`: the settings a person keeps in a file, read when it is there.

`.env.example` lists every variable; a copy named `.env` in the project is read
by `python -m bot` (and so by `make run` and `make run-cluster`) before any
setting is. The environment takes precedence: a variable set there, to anything
but an empty value, is never replaced by the file's (an empty one counts as
unset, as everywhere in bot/settings.py).

python-dotenv is not among the packages Rasa pins, so this reads the part of
its format a settings file needs: `NAME=value` and `export NAME=value` lines,
comments, values in single quotes (as written) or double quotes (with `\\n`,
`\\"` and `\\\\`), and a ` #` comment after an unquoted value. No `${...}`
expansion: a value is what the file says.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, MutableMapping
from pathlib import Path

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


class EnvFileError(ValueError):
    """A line of the file is not `NAME=value`."""


def _quoted(rest: str, where: str) -> str:
    quote, index = rest[0], 1
    value: list[str] = []
    while index < len(rest):
        char = rest[index]
        if char == quote:
            after = rest[index + 1 :].strip()
            if after and not after.startswith("#"):
                raise EnvFileError(f"{where}: text after the closing quote")
            return "".join(value)
        if quote == '"' and char == "\\" and index + 1 < len(rest):
            following = rest[index + 1]
            value.append(_ESCAPES.get(following, "\\" + following))
            index += 2
            continue
        value.append(char)
        index += 1
    raise EnvFileError(f"{where}: no closing {quote} (values span one line)")


def _value(rest: str, where: str) -> str:
    rest = rest.strip()
    if rest[:1] in {"'", '"'}:
        return _quoted(rest, where)
    comment = re.search(r"\s#", rest)
    return (rest[: comment.start()] if comment else rest).strip()


def parse_env_file(text: str, source: str = ".env") -> dict[str, str]:
    """NAME -> value for each setting line of `text` (the last one of a name wins)."""
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        where = f"{source}, line {number}"
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        name, equals, rest = line.partition("=")
        name = name.strip()
        if not equals or not _NAME.fullmatch(name):
            raise EnvFileError(f"{where}: expected NAME=value, got {raw.strip()[:40]!r}")
        values[name] = _value(rest, where)
    return values


def _is_set(environ: MutableMapping[str, str], name: str) -> bool:
    return bool(environ.get(name, "").strip())


def load_env_file(path: Path, environ: MutableMapping[str, str] | None = None) -> list[str]:
    """Put the file's settings into `environ` (os.environ) where it has none;
    the names taken from the file. No file: nothing happens."""
    target = os.environ if environ is None else environ
    try:
        text = path.read_text()
    except FileNotFoundError:
        return []
    taken = []
    for name, value in parse_env_file(text, path.name).items():
        if not _is_set(target, name):
            target[name] = value
            taken.append(name)
    return taken


def apply_defaults(
    assignments: Iterable[str], environ: MutableMapping[str, str] | None = None
) -> None:
    """`NAME=value` for each name neither the environment nor .env set, in order;
    `$OTHER` in a value is OTHER as it is by then (make run-cluster's tracker
    store defaults to whatever DATABASE_URL turned out to be)."""
    target = os.environ if environ is None else environ
    for assignment in assignments:
        name, equals, value = assignment.partition("=")
        if not equals or not _NAME.fullmatch(name):
            raise EnvFileError(f"--default takes NAME=value, got {assignment!r}")
        if not _is_set(target, name):
            target[name] = re.sub(
                r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?",
                lambda match: target.get(match.group(1), ""),
                value,
            )
