"""credentials.yml and endpoints.yml as shipped work for Rasa's own commands
with nothing set; `python -m bot run` adds the messaging channels whose
variables are set and points Rasa at its own action server with the run's token."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.channels.credentials import (
    MESSAGING_CHANNELS,
    CredentialsError,
    active_channel_names,
    active_credentials,
)
from bot.runner import RUN_ACTION_ENDPOINT, endpoints_for_run, write_run_endpoints
from bot.settings import PROJECT_ROOT

CREDENTIALS = PROJECT_ROOT / "credentials.yml"
ENDPOINTS = PROJECT_ROOT / "endpoints.yml"


@pytest.mark.parametrize("path", [CREDENTIALS, ENDPOINTS])
def test_rasa_reads_the_shipped_files_with_no_variable_set(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rasa.shared.utils.io import read_config_file

    for name in ("ACTION_PORT", "ACTION_SERVER_TOKEN", "TELEGRAM_ACCESS_TOKEN", "CALLBACK_URL"):
        monkeypatch.delenv(name, raising=False)
    assert read_config_file(str(path)) == yaml.safe_load(path.read_text())
    assert "${" not in "\n".join(
        line for line in path.read_text().splitlines() if not line.lstrip().startswith("#")
    )


def test_rasa_run_actions_is_what_the_shipped_endpoints_point_at() -> None:
    assert yaml.safe_load(ENDPOINTS.read_text())["action_endpoint"] == {
        "url": "http://localhost:5055/webhook",
        "enable_selective_domain": True,
    }


def test_the_messaging_channels_join_when_their_variables_are_set() -> None:
    assert active_channel_names(CREDENTIALS, {}) == {"rest", "socketio"}
    callback = {"CALLBACK_URL": "http://127.0.0.1:9/"}
    assert active_channel_names(CREDENTIALS, callback) == {"rest", "socketio", "callback"}
    assert set(yaml.safe_load(MESSAGING_CHANNELS.read_text())) == {
        "bot.channels.telegram.TelegramInput",
        "bot.channels.slack.SlackInput",
        "bot.channels.callback.CallbackInput",
        "bot.channels.twilio.TwilioInput",
    }
    with pytest.raises(CredentialsError, match="slack is set up halfway: set SLACK_SIGNING"):
        active_credentials(CREDENTIALS, {"SLACK_BOT_TOKEN": "xoxb-1"})


def test_a_channel_credentials_yml_has_itself_is_not_added_twice(tmp_path: Path) -> None:
    """A developer who copied Telegram into credentials.yml (or uses Rasa's own
    `telegram:`) gets that one: Rasa refuses two channels of one name."""
    own = tmp_path / "credentials.yml"
    own.write_text("rest:\ntelegram:\n  access_token: ${TELEGRAM_ACCESS_TOKEN}\n")
    env = {"TELEGRAM_ACCESS_TOKEN": "1:x", "TELEGRAM_SECRET_TOKEN": "s"}
    assert set(active_credentials(own, env)) == {"rest", "telegram"}


def test_a_run_points_rasa_at_its_own_action_server_with_its_token(tmp_path: Path) -> None:
    source = tmp_path / "endpoints.yml"
    source.write_text(
        "action_endpoint:\n  url: http://localhost:5055/webhook\n"
        "nlg:\n  url: http://nlg.internal/\n"
    )
    assert endpoints_for_run(source) == {
        "action_endpoint": RUN_ACTION_ENDPOINT,
        "nlg": {"url": "http://nlg.internal/"},
    }
    target = tmp_path / "var" / "endpoints.1.yml"
    write_run_endpoints(ENDPOINTS, target)
    written = yaml.safe_load(target.read_text())
    assert written["action_endpoint"] == {
        "url": "http://127.0.0.1:${ACTION_PORT}/webhook",
        "token": "${ACTION_SERVER_TOKEN}",
        # The domain only to the actions that read it (the form's validation).
        "enable_selective_domain": True,
    }
