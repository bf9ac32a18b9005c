"""Webhooks signed as each shop platform signs them, for the benchmarks.

Built from the documented payloads in tests/fixtures/sources/ (read as data:
scripts import nothing from tests/), with the platforms' headers and their
signatures computed here from the secret, independently of the adapters' own
checks: base64 HMAC-SHA256 of the raw body for Shopify (X-Shopify-Hmac-Sha256)
and WooCommerce (X-WC-Webhook-Signature), hex for Sendcloud (Sendcloud-Signature).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import datetime, timezone
from typing import Any

from bot.settings import PROJECT_ROOT

FIXTURES = PROJECT_ROOT / "tests" / "fixtures" / "sources"

# A signed webhook: the raw body (what was signed) and its headers.
Signed = tuple[bytes, dict[str, str]]


def fixture(platform: str, name: str) -> dict[str, Any]:
    return dict(json.loads((FIXTURES / platform / name).read_text()))


def base64_hmac(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def hex_hmac(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def shopify(
    secret: str, topic: str, payload: dict[str, Any], event_id: str | None = None
) -> Signed:
    body = json.dumps(payload).encode()
    return body, {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": base64_hmac(secret, body),
        "X-Shopify-Shop-Domain": "fietsen-en-meer.myshopify.com",
        "X-Shopify-API-Version": "2025-01",
        "X-Shopify-Webhook-Id": str(uuid.uuid4()),
        "X-Shopify-Event-Id": event_id or str(uuid.uuid4()),
        "X-Shopify-Triggered-At": datetime.now(timezone.utc).isoformat(),
    }


def woocommerce(secret: str, payload: dict[str, Any], topic: str = "order.updated") -> Signed:
    body = json.dumps(payload).encode()
    resource, event = topic.split(".")
    return body, {
        "Content-Type": "application/json",
        "User-Agent": "WooCommerce/8.6.1 Hookshot (WordPress/6.4.3)",
        "X-WC-Webhook-Source": "https://shop.example.nl/",
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Resource": resource,
        "X-WC-Webhook-Event": event,
        "X-WC-Webhook-Signature": base64_hmac(secret, body),
        "X-WC-Webhook-ID": "3",
        "X-WC-Webhook-Delivery-ID": uuid.uuid4().hex,
    }


def sendcloud(secret: str, payload: dict[str, Any]) -> Signed:
    body = json.dumps(payload).encode()
    return body, {"Content-Type": "application/json", "Sendcloud-Signature": hex_hmac(secret, body)}
