"""Signed pushes: a warning is shown only when the notifier asked for it.

Rasa turns any typed `/EXTERNAL_order_warning{"warning_id": "2"}` into the
same intent the notifier triggers, on every channel, so the intent and its
entities prove nothing about who sent them. The notifier therefore signs what
it triggers (HMAC-SHA256 with PUSH_SECRET over the warning id, the conversation,
the channel and an expiry) and the action server shows a warning only with a
valid, unexpired signature for that very conversation and channel.
"""

from __future__ import annotations

import hashlib
import hmac
import time

# A push is taken by Rasa within seconds; a signature lives a few minutes, so a
# copy read from a log or a tracker is soon worth nothing.
PUSH_TTL_SECONDS = 300


def _digest(secret: str, warning_id: int, sender_id: str, channel: str, expires: int) -> str:
    message = f"warning:{warning_id}|{channel}|{sender_id}|{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign_push(
    secret: str,
    warning_id: int,
    sender_id: str,
    channel: str,
    now: float | None = None,
    ttl: int = PUSH_TTL_SECONDS,
) -> str:
    """`<expiry>.<hmac>`: what the notifier passes beside the warning id."""
    expires = int((time.time() if now is None else now) + ttl)
    return f"{expires}.{_digest(secret, warning_id, sender_id, channel, expires)}"


def push_is_genuine(
    secret: str,
    signature: object,
    warning_id: int,
    sender_id: str,
    channel: str,
    now: float | None = None,
) -> bool:
    """Whether `signature` is the notifier's, for this warning, conversation and
    channel, and not expired. Never true without a secret."""
    if not secret or not isinstance(signature, str):
        return False
    expiry, _, given = signature.partition(".")
    if not expiry.isdigit() or len(expiry) > 12:
        return False
    if int(expiry) < (time.time() if now is None else now):
        return False
    expected = _digest(secret, warning_id, sender_id, channel, int(expiry))
    return hmac.compare_digest(given.encode(), expected.encode())
