"""No public secrets: the demo makes its own once, production refuses weak ones."""

from __future__ import annotations

import argparse
import os
import stat
from pathlib import Path
from unittest import mock

import pytest

from bot.rasa_server import rasa_arguments
from bot.run_secrets import (
    ACTION_SERVER_NEEDS,
    LAUNCHER_NEEDS,
    NOTIFIER_NEEDS,
    demo_secret,
    secret_problems,
)
from bot.settings import PROJECT_ROOT, Settings, load_settings

STRONG = "k3v9Qx0rT7mB2nLp8sWc4yHd6fJa1gZe5uRi"


def settings_from(environ: dict[str, str]) -> Settings:
    with mock.patch.dict(os.environ, environ, clear=True):
        return load_settings()


def test_the_demo_makes_each_secret_once_and_keeps_it_private(tmp_path: Path) -> None:
    first = demo_secret("SHOP_TOKEN_SECRET", tmp_path)
    assert len(first) >= 32
    assert demo_secret("SHOP_TOKEN_SECRET", tmp_path) == first
    other = demo_secret("ORDER_API_TOKEN", tmp_path)
    assert other != first and demo_secret("SHOP_TOKEN_SECRET", tmp_path) == first
    mode = stat.S_IMODE((tmp_path / "demo-secrets.json").stat().st_mode)
    assert mode == 0o600, oct(mode)


def test_the_source_holds_no_usable_secret() -> None:
    """Outside the demo nothing defaults to a string printed in the source or .env.example."""
    settings = settings_from({})
    assert not settings.demo_shop
    assert settings.shop_token_secret == "" and settings.order_api_token == ""
    assert settings.push_secret == "" and settings.action_server_token == ""
    assert settings.proof_secret == ""
    example = (PROJECT_ROOT / ".env.example").read_text()
    for line in example.splitlines():
        name, _, value = line.partition("=")
        if name in {
            "SHOP_TOKEN_SECRET",
            "ORDER_API_TOKEN",
            "PUSH_SECRET",
            "ACTION_SERVER_TOKEN",
        } | {f"{platform}_WEBHOOK_SECRET" for platform in ("SHOPIFY", "WOOCOMMERCE", "SENDCLOUD")}:
            assert value.strip() == "", f".env.example gives {name} a value"


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("", "not set"),
        ("too-short-for-a-secret", "shorter than 32"),
        ("dev-only-shop-token-secret-change-me", "example value"),
        ("please-change-me-please-change-me-please", "example value"),
    ],
)
def test_production_refuses_a_missing_short_or_example_secret(value: str, why: str) -> None:
    settings = settings_from({"SHOP_TOKEN_SECRET": value, "ORDER_API_TOKEN": STRONG})
    problems = secret_problems(settings, LAUNCHER_NEEDS)
    assert len(problems) == 1
    assert problems[0].startswith("SHOP_TOKEN_SECRET") and why in problems[0]


def test_production_starts_with_strong_secrets_and_the_demo_with_none() -> None:
    strong = settings_from({"SHOP_TOKEN_SECRET": STRONG, "ORDER_API_TOKEN": STRONG[::-1]})
    assert secret_problems(strong, LAUNCHER_NEEDS) == []
    # A process started on its own needs the run's shared secrets too.
    assert [p.split()[0] for p in secret_problems(strong, NOTIFIER_NEEDS)] == [
        "RASA_TOKEN",
        "PUSH_SECRET",
    ]
    assert "ACTION_SERVER_TOKEN is not set" in secret_problems(strong, ACTION_SERVER_NEEDS)
    # A weak one that is set is refused even where it is not needed.
    weak = settings_from(
        {"SHOP_TOKEN_SECRET": STRONG, "ORDER_API_TOKEN": STRONG, "RASA_TOKEN": "abc"}
    )
    assert secret_problems(weak, LAUNCHER_NEEDS) == ["RASA_TOKEN is shorter than 32 characters"]


def test_the_demo_runs_with_no_set_up(tmp_path: Path) -> None:
    with mock.patch("bot.settings.PROJECT_ROOT", tmp_path):
        demo = settings_from({"DEMO_SHOP": "true"})
        again = settings_from({"DEMO_SHOP": "true"})
    assert demo.demo_shop and secret_problems(demo, LAUNCHER_NEEDS) == []
    assert len(demo.shop_token_secret) >= 32 and demo.shop_token_secret == again.shop_token_secret
    assert demo.order_api_token not in {"", demo.shop_token_secret}
    assert demo.proof_secret not in {"", demo.shop_token_secret}


def test_a_shop_platform_is_off_without_its_secret_and_refused_with_a_weak_one(
    tmp_path: Path,
) -> None:
    base = {"SHOP_TOKEN_SECRET": STRONG, "ORDER_API_TOKEN": STRONG[::-1]}
    off = settings_from(base)
    assert off.sources.shopify_webhook_secret == "" and secret_problems(off, LAUNCHER_NEEDS) == []
    weak = settings_from({**base, "WOOCOMMERCE_WEBHOOK_SECRET": "secret"})
    assert secret_problems(weak, LAUNCHER_NEEDS) == [
        "WOOCOMMERCE_WEBHOOK_SECRET is shorter than 32 characters"
    ]
    with mock.patch("bot.settings.PROJECT_ROOT", tmp_path):
        demo = settings_from({"DEMO_SHOP": "true"})
    secrets = {
        demo.sources.shopify_webhook_secret,
        demo.sources.woocommerce_webhook_secret,
        demo.sources.sendcloud_webhook_secret,
    }
    assert len(secrets) == 3 and all(len(secret) >= 32 for secret in secrets)


def test_demo_shop_is_a_plain_true_or_false() -> None:
    assert settings_from({"DEMO_SHOP": "false"}).demo_shop is False
    with pytest.raises(ValueError, match="DEMO_SHOP"):
        settings_from({"DEMO_SHOP": "maybe"})


def test_rasas_api_token_is_added_in_the_process_not_on_the_command_line() -> None:
    assert rasa_arguments(["run", "--port", "5005"], "tok") == [
        "run",
        "--port",
        "5005",
        "--enable-api",
        "--auth-token=tok",
    ]
    # No token: no API (CVE-2024-49375).
    assert rasa_arguments(["run"], "") == ["run"]


def test_a_token_that_starts_with_a_dash_is_still_rasas_token() -> None:
    """secrets.token_urlsafe starts one token in 64 with '-': Rasa's own
    argument parser must still read it as the token (it once stopped a run)."""
    from rasa.cli.arguments.run import add_server_arguments

    parser = argparse.ArgumentParser()
    add_server_arguments(parser)
    parsed = parser.parse_args(rasa_arguments(["--port", "5005"], "-Xy_z-token"))
    assert parsed.auth_token == "-Xy_z-token" and parsed.enable_api


def test_the_commands_that_start_processes_never_carry_a_secret(tmp_path: Path) -> None:
    from bot.runner import action_server_command, rasa_server_command, with_run_secrets

    settings = with_run_secrets(settings_from({"SHOP_TOKEN_SECRET": STRONG}))
    commands = action_server_command(settings) + rasa_server_command(
        settings, "model.tar.gz", tmp_path / "credentials.yml"
    )
    for secret in (settings.rasa_token, settings.action_server_token, settings.push_secret):
        assert len(secret) >= 32 and secret not in commands


def test_rasa_does_not_start_with_a_weak_token_outside_the_demo() -> None:
    import subprocess
    import sys

    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(PROJECT_ROOT),
        "RASA_TOKEN": "weak-token",
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot.rasa_server", "run"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "RASA_TOKEN is shorter than 32 characters" in done.stderr
