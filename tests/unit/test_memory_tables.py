"""Each module of the assistant's memory works on its own: a command that
imports only the outbox (`python -m bot outbox --retry`) must be able to write
a warning, whose promise_id points at the promises table."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import pytest

import bot.memory
from bot.settings import PROJECT_ROOT

MODULES = sorted(module.name for module in pkgutil.iter_modules(bot.memory.__path__))

CREATE_ALONE = """
import importlib, sys
from sqlalchemy import create_engine
from sqlalchemy.orm import configure_mappers
from bot.database import Base
importlib.import_module("bot.memory." + sys.argv[1])
configure_mappers()
Base.metadata.create_all(create_engine("sqlite://"))
assert not any(key.column.table.name in {"customers", "orders", "order_lines"}
               for table in Base.metadata.tables.values() if table.name != "order_lines"
               for key in table.foreign_keys), "a foreign key into the shop's tables"
"""


def test_every_table_module_is_found() -> None:
    assert {"warnings", "promises", "handoffs", "customers", "sources"} <= set(MODULES)


@pytest.mark.parametrize("module", MODULES)
def test_a_memory_module_imported_alone_creates_its_tables(module: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", CREATE_ALONE, module],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-2000:]
