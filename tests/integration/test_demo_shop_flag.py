"""The demo shop only where asked for: `python -m bot seed` (make run's first
step) and the cluster's start seed it only with DEMO_SHOP=true."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select

from bot.database import create_db_engine
from bot.orders.sql.tables import CustomerRow
from bot.settings import PROJECT_ROOT


def seed(database_url: str, demo: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "DEMO_SHOP"}
    env.update({"DATABASE_URL": database_url, "PYTHONPATH": str(PROJECT_ROOT)})
    if demo is not None:
        env["DEMO_SHOP"] = demo
    done = subprocess.run(
        [sys.executable, "-m", "bot", "seed"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def customers(database_url: str) -> int:
    engine = create_db_engine(database_url)
    try:
        assert "orders" in inspect(engine).get_table_names(), "the schema is there"
        with engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(CustomerRow)).scalar())
    finally:
        engine.dispose()


@pytest.mark.parametrize("demo", [None, "false"])
def test_without_demo_shop_nothing_is_seeded(tmp_path: Path, demo: str | None) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    assert "not seeded" in seed(url, demo)
    assert customers(url) == 0


def test_with_demo_shop_the_demo_customers_are_there(any_database_url: str) -> None:
    assert "seeded" in seed(any_database_url, "true")
    assert customers(any_database_url) == 6
    assert "already" in seed(any_database_url, "true")
