"""Which input channels this run has: credentials.yml, plus the messaging
channels of messaging.yml whose environment variables are set.

credentials.yml ships only the channels that need no secret (REST, socket.io),
so that `rasa run` and `rasa shell` start from the repository as it is: Rasa
fills in every `${VARIABLE}` of the file and refuses to start when one is
unset. The messaging channels (Telegram, Slack, Twilio, the callback) live in
messaging.yml beside this module; a shop that has set up Telegram sets its
variables and `python -m bot run` adds that block. Half a set of variables is
a mistake, and is said so. The file written for Rasa still holds the
placeholders, never the secrets.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")

# The messaging channels' blocks, each with its secrets as placeholders.
MESSAGING_CHANNELS = Path(__file__).with_name("messaging.yml")

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


def filled_in(block: Any, environ: Mapping[str, str]) -> Any:
    """A block with its ${VARIABLE}s filled in from `environ`, as Rasa fills
    them (for a process that builds a channel itself: the notifier)."""
    if isinstance(block, dict):
        return {key: filled_in(value, environ) for key, value in block.items()}
    if isinstance(block, str):
        return _PLACEHOLDER.sub(lambda match: environ.get(match.group(1), ""), block)
    return block


def read_credentials(path: Path) -> dict[str, Any]:
    try:
        content = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as error:
        raise CredentialsError(f"cannot read {path}: {error}") from error
    if not isinstance(content, dict):
        raise CredentialsError(f"{path} must map channel names to their settings")
    return content


def _set_up(blocks: dict[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    """The blocks whose placeholders are all set in `environ`."""
    active: dict[str, Any] = {}
    for name, block in blocks.items():
        needed = _placeholders(block)
        missing = sorted(var for var in needed if not environ.get(var, "").strip())
        if missing and len(missing) < len(needed):
            raise CredentialsError(
                f"channel {channel_name(name)} is set up halfway: "
                f"set {', '.join(missing)} too, or unset all of {', '.join(sorted(needed))}"
            )
        if not missing:
            active[name] = block
    return active


def channel_name(block_name: str) -> str:
    """The name Rasa knows a credentials block's channel by (telegram, socketio, ...)."""
    return CHANNEL_NAMES.get(block_name, block_name)


def active_credentials(
    path: Path, environ: Mapping[str, str], messaging: Path = MESSAGING_CHANNELS
) -> dict[str, Any]:
    """The channel blocks of `path`, then those of `messaging`, whose placeholders
    are all set in `environ`. A channel `path` already has (under any class: Rasa
    refuses two of one name) is not added again from `messaging`."""
    active = _set_up(read_credentials(path), environ)
    named = {channel_name(name) for name in read_credentials(path)}
    extra = {
        name: block
        for name, block in read_credentials(messaging).items()
        if channel_name(name) not in named
    }
    active.update(_set_up(extra, environ))
    return active


def active_channel_names(path: Path, environ: Mapping[str, str]) -> set[str]:
    """The channel names (socketio, telegram, ...) Rasa will have."""
    return {channel_name(name) for name in active_credentials(path, environ)}


def write_active_credentials(path: Path, environ: Mapping[str, str], target: Path) -> set[str]:
    """Write the active blocks (placeholders kept) for Rasa; the channel names."""
    active = active_credentials(path, environ)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(
        "# Written by `python -m bot run` from credentials.yml and "
        "bot/channels/messaging.yml: the channels this run has.\n"
        + yaml.safe_dump(active, sort_keys=False, allow_unicode=True)
    )
    return {channel_name(name) for name in active}
