"""The order system's database (DATABASE_URL) from inside Rasa's process: the
channels write receipts for pushed warnings there, and the chat widget's
return sends waiting warnings out again. Connected on first use, never at import."""

from __future__ import annotations

from sqlalchemy.engine import Engine

_engine: Engine | None = None


def shop_engine() -> Engine:
    global _engine
    if _engine is None:
        from bot.database import create_db_engine
        from bot.settings import load_settings

        _engine = create_db_engine(load_settings().database_url)
    return _engine
