"""WooCommerce webhooks (REST API v3 orders) as normalized order changes.

What WooCommerce sends (WC_Webhook::deliver): a POST with the order as the REST
API v3 shows it (`GET /wp-json/wc/v3/orders/<id>`) and the headers
`X-WC-Webhook-Topic` (order.created / order.updated / order.deleted),
`X-WC-Webhook-Delivery-ID` (the event id, with the order's id: see _event_id),
`X-WC-Webhook-ID`, `X-WC-Webhook-Source` and
`X-WC-Webhook-Signature`: base64 of the HMAC-SHA256 of the raw body with the
webhook's secret. order.deleted carries only `{"id": N}`.

When a webhook is saved as active (and again after its URL changes) WooCommerce
first sends a ping (WC_Webhook::deliver_ping): `webhook_id=N` as a form body,
with no X-WC-Webhook-* headers and no signature, and it shows the owner an
error unless the answer is exactly 200. A body of exactly that shape without
a signature header is therefore accepted as the delivery topic "ping", which
means nothing (no changes); everything else must be signed.

How an order maps (order_number = `number`, platform_order_id = str(`id`)):

  status      field            new_value   reason
  processing  status           processing  -  (hold "released" when the notes
                                               show it came from on-hold/failed)
  completed   status           shipped     -  (WooCommerce's "completed" is
                                               "sent"), plus shipment_status
                                               in_transit per Shipment Tracking item
  on-hold     hold             on_hold     the order's notes (see below)
  cancelled   status           cancelled   the order's notes (see below)
  failed      hold             on_hold     payment_declined
  refunded    -                            (the refund below)
  any status with refunds:
              refund           cents of all refunds, the newest refund's reason
  pending, draft, trash, custom statuses, order.deleted: nothing

Reasons come from the order's notes (`GET /orders/<id>/notes`, needs the API
keys): the newest note to the customer written around the status change that
is not WooCommerce's own "Order status changed from ..." note, verbatim (a
private note is staff's and never shown to a customer); else the
words WooCommerce or the payment plugin put before that status note ("Order
cancelled by customer.", "Awaiting BACS payment"). Without API keys: no reason.

WooCommerce never retries a failed delivery and disables a webhook after 5
failures in a row, so `reconcile(since)` reads the orders changed since then
from the REST API, as "order.updated" deliveries.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

import requests

from bot.sources.change import (
    Delivery,
    MalformedDelivery,
    ShipmentInfo,
    SourceChange,
    SourceUnavailable,
)

logger = logging.getLogger(__name__)

NAME = "woocommerce"
ORDER_TOPICS = ("order.created", "order.updated", "order.deleted")
PING_TOPIC = "ping"
RECONCILE_TOPIC = "order.updated"

# WC_Webhook::deliver_ping's whole body; ids are WordPress post/row ids.
_PING_BODY = re.compile(rb"webhook_id=(\d{1,20})")

# WooCommerce's own status note (WC_Order::status_transition), in English and
# Dutch (the shops this assistant serves); whatever precedes it in the same
# note is the reason the code or a payment plugin gave for the change.
_STATUS_NOTE = re.compile(
    r"(Order status changed from (?P<from_en>.+?) to .+?\.|Order status set to .+?\."
    r"|Bestelstatus (?:gewijzigd|veranderd) van (?P<from_nl>.+?) naar .+?\."
    r"|Bestelstatus (?:ingesteld op|gezet op) .+?\.)\s*$",
    re.DOTALL,
)
# The previous status of a note above that means the order was held.
_HELD_STATUS_NAMES = {"on hold", "failed", "in de wacht", "mislukt"}
# Note authors that are WooCommerce itself, not a person at the shop.
_SYSTEM_AUTHORS = {"system", "woocommerce"}

# A note written this long before the status change still explains it: in
# WordPress a note is saved at once (AJAX), before the order's Update button.
SAME_EDIT_WINDOW = timedelta(minutes=15)

# WooCommerce's and its payment gateways' own words that name a reason code.
_KNOWN_REASONS: tuple[tuple[re.Pattern[str], str, str | None], ...] = (
    (re.compile(r"^Order cancelled by customer\.", re.I), "cancelled_by_customer", "customer"),
    (re.compile(r"^Awaiting (BACS|check|cheque) payment", re.I), "payment_pending", None),
)

# Shipment Tracking stores the provider as a slug (sanitize_title of its name).
_CARRIER_NAMES = {
    "postnl": "PostNL",
    "dhl": "DHL",
    "dhl-parcel": "DHL",
    "dhl-parcel-nl": "DHL",
    "dpd": "DPD",
    "dpd-nl": "DPD",
    "ups": "UPS",
    "ups-netherlands": "UPS",
    "gls": "GLS",
    "bpost": "bpost",
    "fedex": "FedEx",
}


@dataclass(frozen=True)
class _Note:
    """One order note as the REST API lists it."""

    id: int
    author: str
    created_at: datetime
    text: str
    to_customer: bool


@dataclass(frozen=True)
class _Reason:
    text: str | None = None
    code: str | None = None
    party_type: str | None = None
    party_name: str | None = None


class WooCommerceSource:
    """Webhooks from one WooCommerce store, and its REST API when keys are given."""

    name = NAME

    def __init__(
        self,
        secret: str,
        store_url: str | None = None,
        consumer_key: str | None = None,
        consumer_secret: str | None = None,
        session: requests.Session | None = None,
        timeout: float = 10.0,
        retries: int = 2,
        retry_pause: float = 0.3,
    ) -> None:
        self.secret = secret
        self.store_url = (store_url or "").rstrip("/")
        self.timeout = timeout
        self.retries = retries
        self.retry_pause = retry_pause
        self._auth = (consumer_key, consumer_secret) if consumer_key and consumer_secret else None
        self._session = session

    # --- the webhook ---------------------------------------------------------

    def verify(self, body: bytes, headers: Mapping[str, str]) -> bool:
        signature = headers.get("x-wc-webhook-signature")
        if signature is None:
            return _is_ping(body, headers)
        if not signature or not self.secret:
            return False
        expected = base64.b64encode(hmac.new(self.secret.encode(), body, hashlib.sha256).digest())
        return hmac.compare_digest(expected, signature.strip().encode("utf-8", "replace"))

    def delivery(self, body: bytes, headers: Mapping[str, str]) -> Delivery:
        if "x-wc-webhook-signature" not in headers and _is_ping(body, headers):
            return _ping_delivery(body)
        topic = headers.get("x-wc-webhook-topic", "").strip()
        event_id = headers.get("x-wc-webhook-delivery-id", "").strip()
        if not topic or not event_id:
            raise MalformedDelivery("no X-WC-Webhook-Topic or X-WC-Webhook-Delivery-ID header")
        payload = _json_object(body)
        if topic in ORDER_TOPICS and "id" not in payload:
            raise MalformedDelivery("an order webhook without the order's id")
        return Delivery(
            source=NAME,
            event_id=_event_id(event_id, payload),
            topic=topic,
            triggered_at=_gmt(payload.get("date_modified_gmt")),
            payload=payload,
        )

    def changes(self, delivery: Delivery) -> list[SourceChange]:
        if delivery.topic == "order.deleted":
            # Trashing an order is shop housekeeping (a test order, a duplicate);
            # a customer is told about a real cancellation by its status.
            logger.info("woocommerce order %s deleted: nothing to tell", delivery.payload.get("id"))
            return []
        if delivery.topic not in ("order.created", "order.updated"):
            return []
        try:
            return self._order_changes(delivery.payload, delivery.triggered_at)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            # A payload we cannot read means nothing, and never stops the inbox.
            logger.warning(
                "woocommerce order %s unreadable: %s",
                _safe_id(delivery.payload),
                type(error).__name__,
            )
            return []

    # --- the REST API --------------------------------------------------------

    def order_link(self, delivery: Delivery) -> tuple[str, str] | None:
        order_id, number = delivery.payload.get("id"), _order_number(delivery.payload.get("number"))
        if isinstance(order_id, int) and number:
            return str(order_id), number
        return None

    def order_number_for(self, platform_order_id: str) -> str | None:
        if not self._has_api() or not platform_order_id.isdigit():
            return None
        order = self._get(f"/orders/{platform_order_id}")
        if not isinstance(order, dict):
            return None
        return _order_number(order.get("number"))

    def reconcile(self, since: datetime) -> list[Delivery]:
        if not self._has_api():
            return []
        params: dict[str, str | int] = {
            "modified_after": _api_time(since),
            "dates_are_gmt": "true",
            "per_page": 100,
            "orderby": "id",  # stable pages while orders keep changing
            "order": "asc",
        }
        deliveries: list[Delivery] = []
        page, pages = 1, 1
        while page <= pages:
            response = self._request("/orders", {**params, "page": page})
            orders = response.json() if response.content else []
            if not isinstance(orders, list):
                raise SourceUnavailable("woocommerce sent no list of orders")
            deliveries.extend(_reconcile_delivery(order) for order in orders if _has_id(order))
            pages = _total_pages(response, page, len(orders))
            page += 1
        logger.info("woocommerce reconcile: %d orders changed since %s", len(deliveries), since)
        return deliveries

    # --- mapping -------------------------------------------------------------

    def _order_changes(
        self, order: Mapping[str, Any], triggered_at: datetime | None
    ) -> list[SourceChange]:
        status = order.get("status")
        modified = _gmt(order.get("date_modified_gmt")) or triggered_at or _now()
        base = _Base(
            order_number=_order_number(order.get("number")),
            platform_order_id=str(order["id"]),
            modified=modified,
        )
        found: list[SourceChange] = []
        if status == "processing":
            found.append(base.change("status", "processing"))
            found.extend(self._released_hold(order, base))
        elif status == "completed":
            shipped = _gmt(order.get("date_completed_gmt")) or modified
            found.append(base.change("status", "shipped", occurred_at=shipped))
            found.extend(self._released_hold(order, base))
            found.extend(_tracking_changes(order, base, shipped))
        elif status == "on-hold":
            reason = self._reason(order, modified)
            found.append(base.change("hold", "on_hold", reason=reason))
        elif status == "cancelled":
            found.append(base.change("status", "cancelled", reason=self._reason(order, modified)))
        elif status == "failed":
            words = self._reason(order, modified).text
            found.append(base.change("hold", "on_hold", reason=_Reason(words, "payment_declined")))
        found.extend(_refund_changes(order, base))
        return found

    def _reason(self, order: Mapping[str, Any], modified: datetime) -> _Reason:
        """Why the order got its current status, from its notes (API keys needed)."""
        if not self._has_api():
            return _Reason()
        return _reason_from_notes(self._notes(order["id"]), modified)

    def _released_hold(self, order: Mapping[str, Any], base: _Base) -> list[SourceChange]:
        """hold "released" when the status note shows the order was on hold or
        failed: the payload alone does not say what the status was before."""
        if not self._has_api():
            return []
        status_note = _newest_status_note(self._notes(order["id"]))
        if status_note is None or not _came_from_hold(status_note.text):
            return []
        return [base.change("hold", "released", occurred_at=status_note.created_at)]

    def _notes(self, order_id: object) -> list[_Note]:
        data = self._get(f"/orders/{int(str(order_id))}/notes") or []
        if not isinstance(data, list):
            raise SourceUnavailable("woocommerce sent no list of notes")
        notes = [note for note in (_note(item) for item in data) if note is not None]
        return sorted(notes, key=lambda note: (note.created_at, note.id), reverse=True)

    # --- HTTP ----------------------------------------------------------------

    def _has_api(self) -> bool:
        return bool(self.store_url and self._auth)

    def _get(self, path: str) -> Any:
        """JSON of a 2xx answer, None for 404."""
        response = self._request(path, None)
        if response.status_code == 404:
            return None
        return response.json() if response.content else None

    def _request(self, path: str, params: Mapping[str, str | int] | None) -> requests.Response:
        """GET {store}/wp-json/wc/v3{path}: retried on connection errors and 5xx;
        SourceUnavailable when it still fails or the keys are refused."""
        url = f"{self.store_url}/wp-json/wc/v3{path}"
        if self._session is None:
            self._session = requests.Session()  # made on first use, never at import
        session = self._session
        for attempt in range(self.retries + 1):
            last_try = attempt == self.retries
            try:
                response = session.get(url, params=params, auth=self._auth, timeout=self.timeout)
            except requests.RequestException as error:
                logger.warning("woocommerce GET %s failed: %s", path, type(error).__name__)
                if last_try:
                    raise SourceUnavailable(
                        f"woocommerce unreachable: {type(error).__name__}"
                    ) from error
                time.sleep(self.retry_pause * (attempt + 1))
                continue
            if response.status_code >= 500 and not last_try:
                logger.warning("woocommerce GET %s answered %s", path, response.status_code)
                time.sleep(self.retry_pause * (attempt + 1))
                continue
            return _checked(response, path)
        raise AssertionError("unreachable")  # the loop returns or raises


@dataclass(frozen=True)
class _Base:
    """What every change of one order shares."""

    order_number: str | None
    platform_order_id: str
    modified: datetime

    def change(
        self,
        field: str,
        new_value: str,
        reason: _Reason | None = None,
        occurred_at: datetime | None = None,
        **extra: Any,
    ) -> SourceChange:
        reason = reason or _Reason()
        return SourceChange(
            source=NAME,
            field=field,
            new_value=new_value,
            occurred_at=occurred_at or self.modified,
            order_number=self.order_number,
            platform_order_id=self.platform_order_id,
            reason_code=reason.code,
            reason_text=reason.text,
            party_type=extra.pop("party_type", reason.party_type),
            party_name=extra.pop("party_name", reason.party_name),
            **extra,
        )


# --- the ping and the body ---------------------------------------------------


def _is_ping(body: bytes, headers: Mapping[str, str]) -> bool:
    """WooCommerce's unsigned ping: only `webhook_id=N`, no webhook headers."""
    return "x-wc-webhook-topic" not in headers and _PING_BODY.fullmatch(body.strip()) is not None


def _ping_delivery(body: bytes) -> Delivery:
    match = _PING_BODY.fullmatch(body.strip())
    webhook_id = match.group(1).decode() if match else "0"
    return Delivery(
        source=NAME,
        event_id=f"ping:{webhook_id}",
        topic=PING_TOPIC,
        triggered_at=None,
        payload={"webhook_id": int(webhook_id)},
    )


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise MalformedDelivery("the body is not JSON") from error
    if not isinstance(payload, dict):
        raise MalformedDelivery("the body is not a JSON object")
    return payload


def _event_id(delivery_id: str, payload: Mapping[str, object]) -> str:
    """The delivery id with the order's id. WooCommerce's delivery id is
    wp_hash(webhook id . the current second), so two orders sent by the same
    webhook in one second (Action Scheduler sends queued deliveries in a batch)
    share it; the payload is read when it is sent, so the same order twice in
    one second is the same state and may be dropped as a duplicate."""
    resource_id = payload.get("id")
    return f"{delivery_id}:{resource_id}" if resource_id is not None else delivery_id


def _safe_id(payload: Mapping[str, object]) -> str:
    value = payload.get("id")
    return str(value) if isinstance(value, int) else "?"


def _has_id(order: object) -> bool:
    return isinstance(order, dict) and isinstance(order.get("id"), int)


# --- times, numbers, amounts -------------------------------------------------


def _gmt(value: object) -> datetime | None:
    """A WooCommerce *_gmt date ("2017-03-22T19:28:08", UTC without an offset)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def _api_time(moment: datetime) -> str:
    """A time for modified_after with dates_are_gmt=true: UTC, no offset."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _order_number(value: object) -> str | None:
    """The number customers see, digits only; None for a plugin's own format
    ("WC-2024-17"): then the order is found by its id."""
    number = str(value).strip().lstrip("#") if value is not None else ""
    return number if number.isdigit() else None


def _cents(amount: object) -> int:
    """ "-12.50" → 1250: WooCommerce lists refund totals as negative decimals."""
    try:
        return int((abs(Decimal(str(amount))) * 100).quantize(Decimal(1)))
    except InvalidOperation as error:
        raise ValueError("not an amount") from error


# --- refunds and tracking ----------------------------------------------------


def _refund_changes(order: Mapping[str, Any], base: _Base) -> list[SourceChange]:
    """All refunds together, as one amount: the same amount again is no change,
    so every orders/updated may carry it."""
    refunds = [item for item in order.get("refunds") or [] if isinstance(item, dict)]
    if not refunds:
        return []
    total = sum(_cents(item.get("total")) for item in refunds)
    newest = max(refunds, key=lambda item: int(item.get("id") or 0))
    words = newest.get("reason") or None
    return [base.change("refund", str(total), reason=_Reason(text=words), party_type="shop")]


def _tracking_changes(
    order: Mapping[str, Any], base: _Base, shipped: datetime
) -> list[SourceChange]:
    """One shipment_status in_transit per parcel the Shipment Tracking extension
    recorded (meta `_wc_shipment_tracking_items`)."""
    changes = []
    for item in _tracking_items(order):
        shipment = _shipment(item)
        changes.append(
            base.change(
                "shipment_status",
                "in_transit",
                occurred_at=shipped,
                party_type="carrier",
                party_name=shipment.carrier,
                shipment=shipment,
            )
        )
    return changes


def _tracking_items(order: Mapping[str, Any]) -> list[dict[str, Any]]:
    for meta in order.get("meta_data") or []:
        if isinstance(meta, dict) and meta.get("key") == "_wc_shipment_tracking_items":
            value = meta.get("value")
            items = value.values() if isinstance(value, dict) else value or []
            return [item for item in items if isinstance(item, dict)]
    return []


def _shipment(item: Mapping[str, Any]) -> ShipmentInfo:
    number = str(item.get("tracking_number") or "").strip() or None
    custom_name = str(item.get("custom_tracking_provider") or "").strip()
    slug = str(item.get("tracking_provider") or "").strip()
    carrier = custom_name or _CARRIER_NAMES.get(slug.lower(), slug) or None
    link = str(item.get("custom_tracking_link") or "").strip() or None
    if link and number:
        link = link.replace("%1$s", number)  # the extension's placeholder
    return ShipmentInfo(
        carrier=carrier, tracking_code=number, tracking_url=link, status="in_transit"
    )


# --- notes -------------------------------------------------------------------


def _note(item: object) -> _Note | None:
    if not isinstance(item, dict) or not isinstance(item.get("id"), int):
        return None
    created = _gmt(item.get("date_created_gmt"))
    if created is None:
        return None
    return _Note(
        id=item["id"],
        author=str(item.get("author") or ""),
        created_at=created,
        text=str(item.get("note") or ""),
        to_customer=bool(item.get("customer_note")),
    )


def _newest_status_note(notes: list[_Note]) -> _Note | None:
    """The newest note WooCommerce wrote for a status change (notes newest first)."""
    return next((note for note in notes if _STATUS_NOTE.search(note.text)), None)


def _came_from_hold(status_text: str) -> bool:
    match = _STATUS_NOTE.search(status_text)
    previous = (match.group("from_en") or match.group("from_nl") or "") if match else ""
    return previous.strip().lower() in _HELD_STATUS_NAMES


def _reason_from_notes(notes: list[_Note], modified: datetime) -> _Reason:
    """The shop's words for the current status: the newest note to the customer
    written since the status change (or just before it, in the same edit); else
    what WooCommerce or a payment plugin wrote before its status note. Private
    notes are staff's own words about the order: never told to a customer."""
    status_note = _newest_status_note(notes)
    changed_at = status_note.created_at if status_note else modified
    for note in notes:
        if note is status_note or _STATUS_NOTE.search(note.text) or not note.to_customer:
            continue
        if note.created_at >= changed_at - SAME_EDIT_WINDOW and note.text.strip():
            return _reason_in_words(note.text, note.author)
    if status_note is not None:
        match = _STATUS_NOTE.search(status_note.text)
        prefix = status_note.text[: match.start()].strip() if match else ""
        if prefix:
            return _reason_in_words(prefix, status_note.author)
    return _Reason()


def _reason_in_words(text: str, author: str) -> _Reason:
    for pattern, code, party_type in _KNOWN_REASONS:
        if pattern.search(text.strip()):
            return _Reason(text=text, code=code, party_type=party_type or "shop")
    person = author if author.strip().lower() not in _SYSTEM_AUTHORS else ""
    return _Reason(text=text, party_type="shop", party_name=person.strip() or None)


# --- reconcile ---------------------------------------------------------------


def _reconcile_delivery(order: dict[str, Any]) -> Delivery:
    modified = order.get("date_modified_gmt") or ""
    return Delivery(
        source=NAME,
        event_id=f"reconcile:{order['id']}:{modified}",
        topic=RECONCILE_TOPIC,
        triggered_at=_gmt(modified),
        payload=order,
    )


def _total_pages(response: requests.Response, page: int, count: int) -> int:
    header = response.headers.get("X-WP-TotalPages", "")
    if header.isdigit():
        return int(header)
    return page + 1 if count >= 100 else page  # no header: a full page may have more


def _checked(response: requests.Response, path: str) -> requests.Response:
    if response.status_code in (401, 403):
        # The keys are wrong or read access was revoked: the shop must fix it,
        # and the delivery waits until then.
        logger.error("woocommerce GET %s refused the API keys (%s)", path, response.status_code)
        raise SourceUnavailable(f"woocommerce refused the API keys: {response.status_code}")
    if response.status_code != 404 and not response.ok:
        logger.warning("woocommerce GET %s answered %s", path, response.status_code)
        raise SourceUnavailable(f"woocommerce answered {response.status_code}")
    if response.status_code != 404 and response.content:
        try:
            response.json()
        except ValueError as error:
            logger.warning("woocommerce GET %s sent no JSON", path)
            raise SourceUnavailable("woocommerce sent no JSON") from error
    return response
