"""Which input channels this run has: credentials.yml, less the messaging
channels whose environment variables are not set.

credentials.yml names every channel with `${VARIABLE}` placeholders (Rasa fills
them in and refuses to start when one is missing). A shop that has not set up
Telegram leaves its variables unset: that block is left out of the file Rasa
gets. Half a set of variables is a mistake, and is said so. The file written
for Rasa still holds the placeholders, never the secrets.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")

# Our own channel classes, by the name Rasa knows their channel by.
CHANNEL_NAMES = {
    "bot.channels.rest.GuardedRestInput": "rest",
    "bot.channels.webchat.WebchatInput": "socketio",
    "bot.channels.telegram.TelegramInput": "telegram",
    "bot.channels.slack.SlackInput": "slack",
    "bot.channels.twilio.TwilioInput": "twilio",
    "bot.channels.callback.CallbackInput": "callback",
}


class CredentialsError(ValueError):
    """credentials.yml cannot be read, or a channel is set up halfway."""


def _placeholders(block: Any) -> set[str]:
    if isinstance(block, dict):
        return set().union(*(_placeholders(value) for value in block.values()))
    if isinstance(block, str):
        return set(_PLACEHOLDER.findall(block))
    return set()


def read_credentials(path: Path) -> dict[str, Any]:
    try:
        content = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as error:
        raise CredentialsError(f"cannot read {path}: {error}") from error
    if not isinstance(content, dict):
        raise CredentialsError(f"{path} must map channel names to their settings")
    return content


def active_credentials(path: Path, environ: Mapping[str, str]) -> dict[str, Any]:
    """The channel blocks of `path` whose placeholders are all set in `environ`."""
    active: dict[str, Any] = {}
    for name, block in read_credentials(path).items():
        needed = _placeholders(block)
        missing = sorted(var for var in needed if not environ.get(var, "").strip())
        if missing and len(missing) < len(needed):
            raise CredentialsError(
                f"channel {CHANNEL_NAMES.get(name, name)} is set up halfway: "
                f"set {', '.join(missing)} too, or unset all of {', '.join(sorted(needed))}"
            )
        if not missing:
            active[name] = block
    return active


def active_channel_names(path: Path, environ: Mapping[str, str]) -> set[str]:
    """The channel names (socketio, telegram, ...) Rasa will have."""
    return {CHANNEL_NAMES.get(name, name) for name in active_credentials(path, environ)}


def write_active_credentials(path: Path, environ: Mapping[str, str], target: Path) -> set[str]:
    """Write the active blocks (placeholders kept) for Rasa; the channel names."""
    active = active_credentials(path, environ)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(
        "# Written by `python -m bot run` from credentials.yml: the channels this run has.\n"
        + yaml.safe_dump(active, sort_keys=False, allow_unicode=True)
    )
    return {CHANNEL_NAMES.get(name, name) for name in active}
