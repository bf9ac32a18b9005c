"""The action server must be able to register every action in `actions/`:
a base class without a name stops it at start-up."""

from __future__ import annotations

from pathlib import Path

import yaml
from rasa_sdk.executor import ActionExecutor

from bot.settings import PROJECT_ROOT


def domain_actions() -> set[str]:
    names: set[str] = set()
    for path in Path(PROJECT_ROOT, "domain").glob("*.yml"):
        content = yaml.safe_load(path.read_text()) or {}
        names.update(
            a for a in content.get("actions", []) if a.startswith(("action_", "validate_"))
        )
    return names


def test_every_action_registers_and_every_domain_action_exists() -> None:
    executor = ActionExecutor()
    executor.register_package("actions")
    registered = set(executor.actions)
    assert domain_actions() <= registered
