"""rasa-webchat's bundle as the shop site serves it: without its Google Fonts
import. The bundle's CSS pulls the Inter font from fonts.googleapis.com, so
every visitor's browser would call Google (their address goes along: a
privacy matter in the EU) and, offline, waits on it. The widget falls back to
the page's own font."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

REMOTE_FONT_IMPORT = re.compile(r"@import url\(https://fonts\.googleapis\.com/[^)]*\);")


def without_remote_fonts(bundle: str) -> str:
    return REMOTE_FONT_IMPORT.sub("", bundle)


@lru_cache(maxsize=2)
def _served(path: Path, modified: float) -> bytes:
    return without_remote_fonts(path.read_text(encoding="utf-8")).encode("utf-8")


def served_bundle(path: Path) -> bytes:
    """The bundle read once per version of the file on disk."""
    return _served(path, path.stat().st_mtime)
