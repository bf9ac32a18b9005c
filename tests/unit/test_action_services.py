"""The actions' services refuse to be built without the secrets they need, as
under rasa-sdk's own `rasa run actions` outside the demo, naming them."""

from __future__ import annotations

from pathlib import Path

import pytest

from actions.services import MissingSecrets, build_services
from bot.settings import load_settings


def test_no_shop_secret_outside_the_demo_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'shop.db'}")
    monkeypatch.setenv("DEMO_SHOP", "false")
    monkeypatch.delenv("SHOP_TOKEN_SECRET", raising=False)
    with pytest.raises(MissingSecrets, match="SHOP_TOKEN_SECRET"):
        build_services(load_settings())
