"""Who is asking: the shop's signed customer token, or a proof of verification.

The action server trusts the tracker it is sent, slots included, so a slot
alone never proves identity. A customer is known by
- the shop's token (HS256 JWT, `sub` = customer id, `exp` required), sent by
  the shop site in every message's metadata, or
- a proof this assistant signed when the customer gave a matching order number
  and postcode. It is bound to the conversation (sender id) and expires.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import jwt

logger = logging.getLogger(__name__)

_PROOF_AUDIENCE = "order-assistant:verification"


@dataclass(frozen=True)
class Identity:
    """Who is asking: a customer from a signed token, or verified order numbers."""

    customer_id: int | None = None
    verified_order_ids: tuple[int, ...] = ()

    @property
    def is_known(self) -> bool:
        return self.customer_id is not None or bool(self.verified_order_ids)


def customer_from_token(token: Any, secret: str, expired_ok: bool = False) -> int | None:
    """The customer id in a valid shop token; None (and a log line) otherwise.
    `expired_ok`: a token that was valid when the conversation got it still says
    whose conversation it is (a push into a chat left open for hours)."""
    if not token or not secret:
        return None
    if not isinstance(token, str) or len(token) > 4096:
        logger.info("customer token rejected: not a token string")
        return None
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            options={"require": ["exp", "sub"], "verify_exp": not expired_ok},
        )
        customer_id = int(str(claims["sub"]))
    except jwt.ExpiredSignatureError:
        logger.info("customer token rejected: expired")
        return None
    except (jwt.InvalidTokenError, ValueError, TypeError) as error:
        logger.info("customer token rejected: %s", type(error).__name__)
        return None
    if customer_id <= 0:
        logger.info("customer token rejected: no valid customer id")
        return None
    return customer_id


def make_customer_token(customer_id: int, secret: str, ttl_seconds: int = 3600) -> str:
    """What the shop site signs for a logged-in customer (also used by tests)."""
    now = int(time.time())
    return jwt.encode(
        {"sub": str(customer_id), "iat": now, "exp": now + ttl_seconds}, secret, algorithm="HS256"
    )


def issue_proof(sender_id: str, order_ids: list[int], secret: str, ttl_seconds: int) -> str:
    now = int(time.time())
    claims = {
        "aud": _PROOF_AUDIENCE,
        "sid": sender_id,
        "orders": sorted(set(order_ids)),
        "iat": now,
        "exp": now + ttl_seconds,
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def orders_from_proof(proof: Any, sender_id: str, secret: str) -> tuple[int, ...]:
    """The order ids a valid proof of this conversation covers; () otherwise."""
    if not proof or not isinstance(proof, str):
        return ()
    try:
        claims = jwt.decode(
            proof,
            secret,
            algorithms=["HS256"],
            audience=_PROOF_AUDIENCE,
            options={"require": ["exp", "sid", "orders"]},
        )
    except jwt.InvalidTokenError as error:
        logger.info("verification proof rejected: %s", type(error).__name__)
        return ()
    if claims.get("sid") != sender_id:
        logger.warning("verification proof of another conversation rejected")
        return ()
    orders = claims.get("orders")
    if not isinstance(orders, list):
        return ()
    return tuple(order for order in orders if isinstance(order, int))


def resolve_identity(
    token: Any, proof: Any, sender_id: str, shop_secret: str, proof_secret: str
) -> Identity:
    customer_id = customer_from_token(token, shop_secret)
    if customer_id is not None:
        return Identity(customer_id=customer_id)
    return Identity(verified_order_ids=orders_from_proof(proof, sender_id, proof_secret))
