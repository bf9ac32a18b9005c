"""Webhooks as the shop platforms send them, for the tests: the documented
payloads in tests/fixtures/sources/ signed with the secrets below by the
benchmarks' signer (scripts/signed_webhooks.py), independently of the
adapters' own checks."""

from __future__ import annotations

from typing import Any

import requests

from scripts import signed_webhooks
from scripts.signed_webhooks import Signed, fixture

__all__ = ["SECRETS", "Signed", "fixture", "post", "shopify", "signed_raw", "source_env"]

# Secrets as long and random-looking as the platforms' own (the web service
# refuses short or example ones outside the demo).
SECRETS = {
    "shopify": "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",
    "woocommerce": "wc_whsec_3f9a1c7e5d2b8a4f6c0e1d9b7a5c3e2f",
    "sendcloud": "sc_4e1f9d2c7b5a3e8f0d6c2b9a7e5f3d1c",
}


def shopify(
    topic: str,
    payload: dict[str, Any],
    secret: str = SECRETS["shopify"],
    event_id: str | None = None,
) -> Signed:
    return signed_webhooks.shopify(secret, topic, payload, event_id)


def woocommerce(
    payload: dict[str, Any], topic: str = "order.updated", secret: str = SECRETS["woocommerce"]
) -> Signed:
    return signed_webhooks.woocommerce(secret, payload, topic)


def sendcloud(payload: dict[str, Any], secret: str = SECRETS["sendcloud"]) -> Signed:
    return signed_webhooks.sendcloud(secret, payload)


def signed_raw(platform: str, body: bytes) -> Signed:
    """Any body (also one that is not JSON) with the platform's headers, signed."""
    secret = SECRETS[platform]
    if platform == "shopify":
        headers = shopify("orders/updated", {})[1]
        headers["X-Shopify-Hmac-Sha256"] = signed_webhooks.base64_hmac(secret, body)
    elif platform == "woocommerce":
        headers = woocommerce({})[1]
        headers["X-WC-Webhook-Signature"] = signed_webhooks.base64_hmac(secret, body)
    else:
        headers = sendcloud({})[1]
        headers["Sendcloud-Signature"] = signed_webhooks.hex_hmac(secret, body)
    return body, headers


def post(base_url: str, platform: str, request: Signed) -> requests.Response:
    body, headers = request
    return requests.post(f"{base_url}/sources/{platform}", data=body, headers=headers, timeout=30)


def source_env() -> dict[str, str]:
    """The three platforms switched on with the secrets above."""
    return {
        "SHOPIFY_WEBHOOK_SECRET": SECRETS["shopify"],
        "WOOCOMMERCE_WEBHOOK_SECRET": SECRETS["woocommerce"],
        "SENDCLOUD_WEBHOOK_SECRET": SECRETS["sendcloud"],
    }
