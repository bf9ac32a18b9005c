"""Customer-facing texts (reasons and messages), loaded from YAML and checked."""

from bot.texts.catalog import (
    LANGUAGES,
    REQUIRED_REASON_CODES,
    Catalog,
    TextsError,
    load_catalog,
)

__all__ = ["LANGUAGES", "REQUIRED_REASON_CODES", "Catalog", "TextsError", "load_catalog"]
