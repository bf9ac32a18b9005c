"""The secrets a run needs: made once for the demo, checked before production starts.

The demo (`make run`, DEMO_SHOP=true) must work with no set-up, so each secret
it is not given is generated once and kept in `var/demo-secrets.json` (only
its owner can read it). Outside the demo nothing is made up: a missing, short
or example secret stops the start with the variable's name (`secret_problems`).
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.settings import Settings

DEMO_SECRETS_FILE = "demo-secrets.json"
MIN_SECRET_LENGTH = 32
HOW_TO_MAKE_ONE = "python -c 'import secrets; print(secrets.token_urlsafe(32))'"

# Values printed in this project's own files at some point (the source, .env.example,
# the docs): anyone can read them, so none of them is a secret.
EXAMPLE_VALUES = frozenset(
    {
        "dev-only-shop-token-secret-change-me",
        "dev-only-order-api-token-change-me",
    }
)
_EXAMPLE_MARKERS = ("change-me", "changeme", "change_me", "example", "replace-me")


def demo_secret(name: str, folder: Path) -> str:
    """The demo's value of secret `name`, generated on first use and kept in
    `folder`. Several processes may start at once: a lock makes one value."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / DEMO_SECRETS_FILE
    known = _read(path)
    if name in known:
        return known[name]
    with (folder / f"{DEMO_SECRETS_FILE}.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        known = _read(path)  # another process may have made it meanwhile
        if name not in known:
            known[name] = secrets.token_urlsafe(32)
            temporary = path.with_suffix(f".{os.getpid()}.tmp")
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w") as file:
                json.dump(known, file, indent=2, sort_keys=True)
            os.replace(temporary, path)
    return known[name]


def _read(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def looks_like_example(value: str) -> bool:
    lowered = value.lower()
    return value in EXAMPLE_VALUES or any(marker in lowered for marker in _EXAMPLE_MARKERS)


def secret_problem(name: str, value: str) -> str | None:
    """Why `value` cannot be secret `name` outside the demo; None when it can."""
    if not value:
        return f"{name} is not set"
    if len(value) < MIN_SECRET_LENGTH:
        return f"{name} is shorter than {MIN_SECRET_LENGTH} characters"
    if looks_like_example(value):
        return f"{name} is an example value: choose a random one ({HOW_TO_MAKE_ONE})"
    return None


# What each kind of process cannot do without (a secret that is set is checked
# in every process, needed or not).
LAUNCHER_NEEDS = ("SHOP_TOKEN_SECRET", "ORDER_API_TOKEN")  # run, cluster: the web service too
WEB_NEEDS = ("SHOP_TOKEN_SECRET", "ORDER_API_TOKEN")
NOTIFIER_NEEDS = ("RASA_TOKEN", "PUSH_SECRET")
ACTION_SERVER_NEEDS = ("SHOP_TOKEN_SECRET", "ACTION_SERVER_TOKEN", "PUSH_SECRET")


def secret_problems(settings: Settings, needs: tuple[str, ...]) -> list[str]:
    """Every secret that keeps this process from starting; none in the demo.

    RASA_TOKEN, PUSH_SECRET and ACTION_SERVER_TOKEN are shared only by a run's
    own processes: `python -m bot run` and `cluster` make them per run when they
    are unset, so a launcher does not need them; a process started on its own does."""
    if settings.demo_shop:
        return []
    values = {
        "SHOP_TOKEN_SECRET": settings.shop_token_secret,
        "ORDER_API_TOKEN": settings.order_api_token,
        "RASA_TOKEN": settings.rasa_token,
        "PUSH_SECRET": settings.push_secret,
        "ACTION_SERVER_TOKEN": settings.action_server_token,
        # Derived from SHOP_TOKEN_SECRET unless given.
        "PROOF_SECRET": settings.proof_secret,
        # A platform is on only when its secret is set; then it must be a real one.
        "SHOPIFY_WEBHOOK_SECRET": settings.sources.shopify_webhook_secret,
        "WOOCOMMERCE_WEBHOOK_SECRET": settings.sources.woocommerce_webhook_secret,
        "SENDCLOUD_WEBHOOK_SECRET": settings.sources.sendcloud_webhook_secret,
    }
    checked = [name for name, value in values.items() if value or name in needs]
    problems = [secret_problem(name, values[name]) for name in checked]
    return [problem for problem in problems if problem]
