"""Who is asking: the shop's signed token, or this assistant's proof of verification."""

from __future__ import annotations

import base64
import json
import logging
import time
from typing import Any

import jwt
import pytest

from bot.identity import (
    Identity,
    customer_from_token,
    issue_proof,
    make_customer_token,
    orders_from_proof,
    resolve_identity,
)

SHOP_SECRET = "unit-test-shop-secret-0123456789abcdef"
OTHER_SECRET = "somebody-elses-secret-0123456789abcdef"
PROOF_SECRET = "unit-test-proof-secret-0123456789abcdef"
SENDER = "conversation-7f3a"


def signed(claims: dict[str, Any], secret: str = SHOP_SECRET) -> str:
    return jwt.encode(claims, secret, algorithm="HS256")


def in_an_hour() -> int:
    return int(time.time()) + 3600


def b64(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unsigned(claims: dict[str, Any]) -> str:
    """A token with alg "none" and an empty signature."""
    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."


@pytest.fixture
def log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="bot.identity")
    return caplog


# --- the shop's customer token -------------------------------------------------


def test_a_valid_token_gives_the_customer_id() -> None:
    assert customer_from_token(make_customer_token(1001, SHOP_SECRET), SHOP_SECRET) == 1001


def test_a_valid_token_is_not_logged(log: pytest.LogCaptureFixture) -> None:
    customer_from_token(make_customer_token(1001, SHOP_SECRET), SHOP_SECRET)
    assert log.records == []


@pytest.mark.parametrize("token", [None, ""])
def test_no_token_is_anonymous(token: str | None) -> None:
    assert customer_from_token(token, SHOP_SECRET) is None


BAD_TOKENS = {
    "expired": make_customer_token(1001, SHOP_SECRET, ttl_seconds=-60),
    "wrong secret": make_customer_token(1001, OTHER_SECRET),
    "missing exp": signed({"sub": "1001"}),
    "missing sub": signed({"exp": in_an_hour()}),
    "non-numeric sub": signed({"sub": "erik", "exp": in_an_hour()}),
    "numeric but not a string sub": signed({"sub": 1001, "exp": in_an_hour()}),
    "exp not a number": signed({"sub": "1001", "exp": "tomorrow"}),
    "alg none": unsigned({"sub": "1001", "exp": in_an_hour()}),
    "alg none, signature of another token": (
        unsigned({"sub": "1001", "exp": in_an_hour()})
        + make_customer_token(1001, SHOP_SECRET).split(".")[2]
    ),
    "HS512 instead of HS256": jwt.encode(
        {"sub": "1001", "exp": in_an_hour()}, SHOP_SECRET + SHOP_SECRET, algorithm="HS512"
    ),
    "a verification proof": issue_proof(SENDER, [10001], SHOP_SECRET, 3600),
    "garbage": "not-a-token",
    "three garbage parts": "abc.def.ghi",
    "bearer prefix": "Bearer " + make_customer_token(1001, SHOP_SECRET),
    "truncated": make_customer_token(1001, SHOP_SECRET)[:-5],
    "emoji": "🙂🙂🙂",
    "10,000 characters": "eyJ" + "Q" * 9997,
}


@pytest.mark.parametrize("token", BAD_TOKENS.values(), ids=BAD_TOKENS.keys())
def test_a_bad_token_gives_none_and_a_log_line_without_the_token(
    token: str, log: pytest.LogCaptureFixture
) -> None:
    assert customer_from_token(token, SHOP_SECRET) is None
    assert [record.getMessage() for record in log.records]
    assert all(r.getMessage().startswith("customer token rejected") for r in log.records)
    assert token not in log.text
    for part in token.split("."):
        if len(part) > 8:
            assert part not in log.text


def test_an_expired_token_is_logged_as_expired(log: pytest.LogCaptureFixture) -> None:
    customer_from_token(BAD_TOKENS["expired"], SHOP_SECRET)
    assert log.messages == ["customer token rejected: expired"]


def test_a_token_of_another_secret_is_logged_as_a_bad_signature(
    log: pytest.LogCaptureFixture,
) -> None:
    customer_from_token(BAD_TOKENS["wrong secret"], SHOP_SECRET)
    assert log.messages == ["customer token rejected: InvalidSignatureError"]


def test_a_10000_character_string_is_refused_before_decoding(
    log: pytest.LogCaptureFixture,
) -> None:
    assert customer_from_token("x" * 10_000, SHOP_SECRET) is None
    assert log.messages == ["customer token rejected: not a token string"]


@pytest.mark.parametrize(
    "value",
    [1001, 3.5, True, b"eyJhbGciOiJIUzI1NiJ9", ["token"], {"sub": "1001"}, object()],
    ids=["int", "float", "bool", "bytes", "list", "dict", "object"],
)
def test_a_non_string_token_gives_none_and_a_log_line(
    value: object, log: pytest.LogCaptureFixture
) -> None:
    assert customer_from_token(value, SHOP_SECRET) is None
    assert log.messages == ["customer token rejected: not a token string"]


def test_a_valid_token_bytes_value_is_still_refused() -> None:
    token = make_customer_token(1001, SHOP_SECRET).encode()
    assert customer_from_token(token, SHOP_SECRET) is None


@pytest.mark.parametrize("sub", ["0", "-5"])
def test_a_token_for_a_non_positive_customer_id_gives_none(sub: str) -> None:
    assert customer_from_token(signed({"sub": sub, "exp": in_an_hour()}), SHOP_SECRET) is None


def test_a_token_for_a_non_positive_customer_id_is_logged(log: pytest.LogCaptureFixture) -> None:
    assert customer_from_token(signed({"sub": "-5", "exp": in_an_hour()}), SHOP_SECRET) is None
    assert log.messages, "no log line for a rejected token"


# --- proofs of verification ------------------------------------------------------


def test_a_proof_round_trips_its_order_ids_sorted_and_unique() -> None:
    proof = issue_proof(SENDER, [10023, 10001, 10023], PROOF_SECRET, ttl_seconds=3600)
    assert orders_from_proof(proof, SENDER, PROOF_SECRET) == (10001, 10023)


def test_a_proof_for_another_conversation_gives_nothing(log: pytest.LogCaptureFixture) -> None:
    proof = issue_proof("someone-else", [10001], PROOF_SECRET, ttl_seconds=3600)
    assert orders_from_proof(proof, SENDER, PROOF_SECRET) == ()
    assert log.messages == ["verification proof of another conversation rejected"]


def test_a_tampered_proof_gives_nothing(log: pytest.LogCaptureFixture) -> None:
    proof = issue_proof(SENDER, [10001], PROOF_SECRET, ttl_seconds=3600)
    header, payload, signature = proof.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["orders"] = [10001, 20001]
    tampered = ".".join([header, b64(claims), signature])
    assert orders_from_proof(tampered, SENDER, PROOF_SECRET) == ()
    assert log.messages == ["verification proof rejected: InvalidSignatureError"]
    assert tampered not in log.text


def test_an_expired_proof_gives_nothing() -> None:
    proof = issue_proof(SENDER, [10001], PROOF_SECRET, ttl_seconds=-1)
    assert orders_from_proof(proof, SENDER, PROOF_SECRET) == ()


def test_a_proof_signed_with_another_secret_gives_nothing() -> None:
    proof = issue_proof(SENDER, [10001], OTHER_SECRET, ttl_seconds=3600)
    assert orders_from_proof(proof, SENDER, PROOF_SECRET) == ()


def test_a_customer_token_is_not_a_proof() -> None:
    token = make_customer_token(1001, PROOF_SECRET)
    assert orders_from_proof(token, SENDER, PROOF_SECRET) == ()


def test_a_proof_without_orders_gives_nothing() -> None:
    claims = {"aud": "order-assistant:verification", "sid": SENDER, "exp": in_an_hour()}
    assert orders_from_proof(signed(claims, PROOF_SECRET), SENDER, PROOF_SECRET) == ()


@pytest.mark.parametrize("proof", [None, "", 42, ["proof"], "garbage", "a.b.c"])
def test_a_missing_or_malformed_proof_gives_nothing(proof: object) -> None:
    assert orders_from_proof(proof, SENDER, PROOF_SECRET) == ()


# --- resolve_identity --------------------------------------------------------------


def test_resolve_identity_prefers_a_valid_token_over_a_proof() -> None:
    token = make_customer_token(1001, SHOP_SECRET)
    proof = issue_proof(SENDER, [20001], PROOF_SECRET, 3600)
    identity = resolve_identity(token, proof, SENDER, SHOP_SECRET, PROOF_SECRET)
    assert identity == Identity(customer_id=1001, verified_order_ids=())
    assert identity.is_known


def test_resolve_identity_uses_the_proof_when_the_token_is_invalid() -> None:
    token = make_customer_token(1001, OTHER_SECRET)
    proof = issue_proof(SENDER, [20001], PROOF_SECRET, 3600)
    identity = resolve_identity(token, proof, SENDER, SHOP_SECRET, PROOF_SECRET)
    assert identity == Identity(customer_id=None, verified_order_ids=(20001,))
    assert identity.is_known


def test_resolve_identity_does_not_accept_a_proof_signed_with_the_shop_secret() -> None:
    proof = issue_proof(SENDER, [20001], SHOP_SECRET, 3600)
    identity = resolve_identity(None, proof, SENDER, SHOP_SECRET, PROOF_SECRET)
    assert identity == Identity()


def test_resolve_identity_without_token_or_proof_is_anonymous() -> None:
    identity = resolve_identity(None, None, SENDER, SHOP_SECRET, PROOF_SECRET)
    assert identity == Identity()
    assert not identity.is_known
