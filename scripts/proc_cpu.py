"""CPU seconds used by processes, grouped by what they run (Linux /proc), to
see where a benchmark's time goes."""

from __future__ import annotations

import os
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(stat: str) -> float:
    # Fields after the command name (which may hold spaces) start at state.
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def cpu_by_group(groups: dict[str, tuple[str, ...]]) -> dict[str, float]:
    """Seconds per group; a process joins the first group one of whose words
    all appear in its command line."""
    totals = dict.fromkeys(groups, 0.0)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        for label, words in groups.items():
            if words and all(word in command for word in words):
                totals[label] += _cpu_seconds(stat)
                break
    return totals
