"""Webhooks as the shop platforms send them: the documented payloads in
tests/fixtures/sources/, the platforms' headers, and signatures computed here
from the secret (independently of the adapters' own checks)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import requests

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "sources"

# Secrets as long and random-looking as the platforms' own (the web service
# refuses short or example ones outside the demo).
SECRETS = {
    "shopify": "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",
    "woocommerce": "wc_whsec_3f9a1c7e5d2b8a4f6c0e1d9b7a5c3e2f",
    "sendcloud": "sc_4e1f9d2c7b5a3e8f0d6c2b9a7e5f3d1c",
}


def fixture(platform: str, name: str) -> dict[str, Any]:
    return dict(json.loads((FIXTURES / platform / name).read_text()))


def _base64_hmac(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def shopify(
    topic: str,
    payload: dict[str, Any],
    secret: str = SECRETS["shopify"],
    event_id: str | None = None,
    triggered_at: datetime | None = None,
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload).encode()
    moment = (triggered_at or datetime.now(timezone.utc)).isoformat()
    return body, {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": _base64_hmac(secret, body),
        "X-Shopify-Shop-Domain": "fietsen-en-meer.myshopify.com",
        "X-Shopify-API-Version": "2025-01",
        "X-Shopify-Webhook-Id": str(uuid.uuid4()),
        "X-Shopify-Event-Id": event_id or str(uuid.uuid4()),
        "X-Shopify-Triggered-At": moment,
    }


def woocommerce(
    payload: dict[str, Any],
    topic: str = "order.updated",
    secret: str = SECRETS["woocommerce"],
    delivery_id: str | None = None,
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload).encode()
    resource, event = topic.split(".")
    return body, {
        "Content-Type": "application/json",
        "User-Agent": "WooCommerce/8.6.1 Hookshot (WordPress/6.4.3)",
        "X-WC-Webhook-Source": "https://shop.example.nl/",
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Resource": resource,
        "X-WC-Webhook-Event": event,
        "X-WC-Webhook-Signature": _base64_hmac(secret, body),
        "X-WC-Webhook-ID": "3",
        "X-WC-Webhook-Delivery-ID": delivery_id or uuid.uuid4().hex,
    }


def sendcloud(
    payload: dict[str, Any], secret: str = SECRETS["sendcloud"]
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload).encode()
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return body, {"Content-Type": "application/json", "Sendcloud-Signature": signature}


def signed_raw(platform: str, body: bytes) -> tuple[bytes, dict[str, str]]:
    """Any body (also one that is not JSON) with the platform's headers, signed."""
    headers = {
        "shopify": lambda: shopify("orders/updated", {})[1],
        "woocommerce": lambda: woocommerce({})[1],
        "sendcloud": lambda: sendcloud({})[1],
    }[platform]()
    secret = SECRETS[platform]
    if platform == "shopify":
        headers["X-Shopify-Hmac-Sha256"] = _base64_hmac(secret, body)
    elif platform == "woocommerce":
        headers["X-WC-Webhook-Signature"] = _base64_hmac(secret, body)
    else:
        headers["Sendcloud-Signature"] = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return body, headers


def post(base_url: str, platform: str, request: tuple[bytes, dict[str, str]]) -> requests.Response:
    body, headers = request
    return requests.post(f"{base_url}/sources/{platform}", data=body, headers=headers, timeout=30)


def source_env() -> dict[str, str]:
    """The three platforms switched on with the secrets above."""
    return {
        "SHOPIFY_WEBHOOK_SECRET": SECRETS["shopify"],
        "WOOCOMMERCE_WEBHOOK_SECRET": SECRETS["woocommerce"],
        "SENDCLOUD_WEBHOOK_SECRET": SECRETS["sendcloud"],
    }
