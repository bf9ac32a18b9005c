"""Sendcloud: what happens to a parcel after the shop made its label.

What Sendcloud sends (sendcloud.dev/api/v2/webhooks): one POST per event of
an integration, body `{"action": ..., "timestamp": <ms>, "parcel": {...}}`,
signed in the `Sendcloud-Signature` header (HMAC-SHA256 of the raw body,
hex, with the integration's secret key). There is no delivery-id header, so
the event id is `<parcel id>:<status id>:<timestamp>`, which Sendcloud's
retries repeat unchanged. Only `parcel_status_changed` tells the customer
anything; every other action (integration_connected, ...) is stored with no
changes.

How it maps: the parcel's status (`status.id` and `status.message`) becomes
one `shipment_status` change for the order named by the parcel's
`order_number` (digits only) and `external_order_id`, with the reason code of
bot/texts/reasons.yml, the carrier as the party and the message as Sendcloud
sent it as the reason text (STATUS_MEANINGS below, the full table is in
docs/shops/sendcloud.md). A status that says nothing to a customer
("Ready to send", "Announced", ...) gives no change.

Status ids. Sendcloud's documented list (GET /parcels/statuses; the same ids
in Sendcloud's own Shopware plugin and in the Sendcloud PHP clients, see
tests/fixtures/sources/sendcloud/README.md) is DOCUMENTED_STATUSES. Ids can
differ per account, so `load_status_table()` reads the account's own list at
start-up and maps each id by its message. A webhook's own message is tried
first anyway: it is Sendcloud's word for this very event.

API (optional, basic auth with the public and secret key): the status list,
and the parcels list for `reconcile()`, which finds the status changes a lost
webhook did not bring.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from bot.sources.change import (
    Delivery,
    MalformedDelivery,
    ShipmentInfo,
    SourceChange,
    SourceUnavailable,
)

logger = logging.getLogger(__name__)

NAME = "sendcloud"
DEFAULT_BASE_URL = "https://panel.sendcloud.sc/api/v2"
SIGNATURE_HEADER = "sendcloud-signature"
STATUS_CHANGED = "parcel_status_changed"
RETRY_STATUSES = frozenset({500, 502, 503, 504})
# A parcels list longer than this many pages means the cursor is not moving.
MAX_PAGES = 200


@dataclass(frozen=True)
class ParcelMeaning:
    """What a parcel status means for the customer's order."""

    shipment_status: str  # one of SHIPMENT_STATUSES
    reason_code: str | None = None
    party_type: str = "carrier"


# Keyed by the status message, normalized (_message_key): the message is what
# stays the same when an account's ids differ.
STATUS_MEANINGS: dict[str, ParcelMeaning] = {
    "delivery delayed": ParcelMeaning("exception", "carrier_delay"),
    "delivery attempt failed": ParcelMeaning("exception", "delivery_attempt_failed"),
    "unable to deliver": ParcelMeaning("exception", "unable_to_deliver"),
    "announced not collected": ParcelMeaning("exception", "not_collected_by_carrier"),
    "not collected by the carrier": ParcelMeaning("exception", "not_collected_by_carrier"),
    "error collecting": ParcelMeaning("exception", "not_collected_by_carrier"),
    "at customs": ParcelMeaning("exception", "customs_delay"),
    "address invalid": ParcelMeaning("exception", "address_problem"),
    "refused by recipient": ParcelMeaning("exception", "refused_by_recipient"),
    "returned to sender": ParcelMeaning("returned", "returned_to_sender"),
    "being returned": ParcelMeaning("returned", "returned_to_sender"),
    "awaiting customer pickup": ParcelMeaning("awaiting_pickup", "awaiting_pickup"),
    "delivered": ParcelMeaning("delivered"),
    # Picked up at the service point: the parcel reached the customer.
    "shipment collected by customer": ParcelMeaning("delivered"),
    # A cancelled label is the shop's doing (or, upstream, the carrier's
    # confirmation of it), not a carrier's failure.
    "cancelled": ParcelMeaning("cancelled", party_type="shop"),
    "cancelled upstream": ParcelMeaning("cancelled", party_type="shop"),
    "en route to sorting center": ParcelMeaning("in_transit"),
    "en route to sorting centre": ParcelMeaning("in_transit"),
    "at sorting centre": ParcelMeaning("in_transit"),
    "at sorting center": ParcelMeaning("in_transit"),
    "sorted": ParcelMeaning("in_transit"),
    "being sorted": ParcelMeaning("in_transit"),
    "shipment picked up by driver": ParcelMeaning("in_transit"),
    "parcel en route": ParcelMeaning("in_transit"),
    "driver en route": ParcelMeaning("in_transit"),
}

# Sendcloud's parcel statuses as GET /parcels/statuses lists them (v2).
DOCUMENTED_STATUSES: dict[int, str] = {
    1: "Announced",
    3: "En route to sorting center",
    4: "Delivery delayed",
    5: "Sorted",
    6: "Not sorted",
    7: "Being sorted",
    8: "Delivery attempt failed",
    11: "Delivered",
    12: "Awaiting customer pickup",
    13: "Announced: not collected",
    15: "Error collecting",
    22: "Shipment picked up by driver",
    80: "Unable to deliver",
    91: "Parcel en route",
    92: "Driver en route",
    93: "Shipment collected by customer",
    94: "Parcel cancellation failed.",
    999: "No label",
    1000: "Ready to send",
    1001: "Being announced",
    1002: "Announcement failed",
    1337: "Unknown status - check carrier track & trace page for more insights",
    1998: "Cancelled upstream",
    1999: "Cancellation requested",
    2000: "Cancelled",
    2001: "Submitting cancellation request",
    62989: "At Customs",
    62990: "At sorting centre",
    62991: "Refused by recipient",
    62992: "Returned to sender",
    62993: "Delivery method changed",
    62994: "Delivery date changed",
    62995: "Delivery address changed",
    62996: "Exception",
    62997: "Address invalid",
}

# parcel.carrier.code → the name customers know. Codes with a country suffix
# (gls_de, dhl_de, dpd_at) fall back to their first part.
CARRIER_NAMES: dict[str, str] = {
    "postnl": "PostNL",
    "dhl": "DHL",
    "dhl_express": "DHL Express",
    "dhl_parcel_iberia": "DHL Parcel Iberia",
    "dpd": "DPD",
    "ups": "UPS",
    "gls": "GLS",
    "bpost": "bpost",
    "fedex": "FedEx",
    "colissimo": "Colissimo",
    "chronopost": "Chronopost",
    "mondial_relay": "Mondial Relay",
    "hermes": "Hermes",
    "budbee": "Budbee",
    "trunkrs": "Trunkrs",
    "correos": "Correos",
    "correos_express": "Correos Express",
    "poste_italiane": "Poste Italiane",
    "brt": "BRT",
    "inpost": "InPost",
    "royal_mail": "Royal Mail",
    "homerr": "Homerr",
    "sendcloud": "Sendcloud",
}


def _message_key(message: str) -> str:
    """'Announced: not collected' and 'announced not collected' are one key."""
    return " ".join(re.sub(r"[^a-z0-9]+", " ", message.lower()).split())


def meanings_by_id(statuses: Iterable[tuple[int, str]]) -> dict[int, ParcelMeaning]:
    """Status id → meaning, for the ids whose message we know."""
    table: dict[int, ParcelMeaning] = {}
    for status_id, message in statuses:
        meaning = STATUS_MEANINGS.get(_message_key(message))
        if meaning is not None:
            table[status_id] = meaning
    return table


def carrier_name(code: str | None) -> str | None:
    if not code:
        return None
    code = code.strip().lower()
    if code in CARRIER_NAMES:
        return CARRIER_NAMES[code]
    head = code.split("_", 1)[0]
    return CARRIER_NAMES.get(head, code.replace("_", " ").title())


def order_number_from(raw: object) -> str | None:
    """The number customers see. Sendcloud keeps the shop's order number as
    the shop sent it ("#10001", "WS-10001", "10001-2" for a second parcel):
    the longest run of digits is the number, the first one on a tie."""
    if raw is None:
        return None
    runs = re.findall(r"\d+", str(raw))
    return max(runs, key=len) if runs else None


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _from_timestamp(value: object) -> datetime | None:
    """Sendcloud's timestamps are Unix milliseconds; seconds are accepted too."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    seconds = value / 1000 if value > 10**11 else value
    try:
        return datetime.fromtimestamp(seconds, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def parse_sendcloud_time(value: object) -> datetime | None:
    """Parcel dates: ISO ("2019-02-03T06:48:07") in the documented examples,
    "03-02-2019 06:48:07" in the v2 API's answers. No zone given: UTC."""
    text = _text(value)
    if text is None:
        return None
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        for layout in ("%d-%m-%Y %H:%M:%S", "%d-%m-%Y %H:%M"):
            try:
                parsed = datetime.strptime(text, layout)
                break
            except ValueError:
                continue
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def _parse_date(value: object) -> date | None:
    text = _text(value)
    if text is None:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        moment = parse_sendcloud_time(text)
        return moment.date() if moment else None


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


class SendcloudSource:
    """Sendcloud's parcel webhooks as order changes (the `Source` protocol)."""

    name = NAME

    def __init__(
        self,
        secret: str,
        public_key: str | None = None,
        secret_key: str | None = None,
        base_url: str = DEFAULT_BASE_URL,
        session: requests.Session | None = None,
        timeout: float = 10.0,
        retries: int = 2,
        retry_wait: float = 0.5,
    ) -> None:
        self._secret = secret.encode("utf-8") if secret else b""
        self._auth = (public_key, secret_key) if public_key and secret_key else None
        self._base_url = base_url.rstrip("/")
        self._session = session or requests.Session()
        self._timeout = timeout
        self._retries = retries
        self._retry_wait = retry_wait
        self._meanings = meanings_by_id(DOCUMENTED_STATUSES.items())

    # --- the webhook ---------------------------------------------------------

    def verify(self, body: bytes, headers: Mapping[str, str]) -> bool:
        """HMAC-SHA256 of the raw body, hex, in Sendcloud-Signature."""
        given = (headers.get(SIGNATURE_HEADER) or "").strip().lower()
        if not self._secret or not given:
            return False
        expected = hmac.new(self._secret, body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected.encode("ascii"), given.encode("ascii", "replace"))

    def delivery(self, body: bytes, headers: Mapping[str, str]) -> Delivery:
        try:
            payload = json.loads(body)
        except (UnicodeDecodeError, ValueError) as error:
            raise MalformedDelivery("Sendcloud webhook body is not JSON") from error
        if not isinstance(payload, dict):
            raise MalformedDelivery("Sendcloud webhook body is not a JSON object")
        action = _text(payload.get("action"))
        if action is None:
            raise MalformedDelivery("Sendcloud webhook has no action")
        if action == STATUS_CHANGED:
            event_id, triggered_at = self._parcel_event(payload)
        else:
            event_id, triggered_at = self._other_event(action, payload, body)
        return Delivery(
            source=NAME,
            event_id=event_id,
            topic=action,
            triggered_at=triggered_at,
            payload=payload,
        )

    def _parcel_event(self, payload: Mapping[str, Any]) -> tuple[str, datetime | None]:
        """No id header: the parcel, its status and the moment name the event."""
        parcel = _mapping(payload.get("parcel"))
        parcel_id = _int(parcel.get("id"))
        status_id = _int(_mapping(parcel.get("status")).get("id"))
        if parcel_id is None or status_id is None:
            raise MalformedDelivery("parcel_status_changed without parcel id or status id")
        timestamp = payload.get("timestamp")
        triggered_at = _from_timestamp(timestamp)
        if triggered_at is not None:
            moment = str(timestamp)
        else:
            triggered_at = parse_sendcloud_time(parcel.get("date_updated"))
            if triggered_at is None:
                raise MalformedDelivery("parcel_status_changed without timestamp")
            moment = str(parcel.get("date_updated"))
        return f"{parcel_id}:{status_id}:{moment}", triggered_at

    @staticmethod
    def _other_event(
        action: str, payload: Mapping[str, Any], body: bytes
    ) -> tuple[str, datetime | None]:
        """integration_connected and the like: stored, never acted on."""
        timestamp = payload.get("timestamp")
        triggered_at = _from_timestamp(timestamp)
        if triggered_at is not None:
            return f"{action}:{timestamp}", triggered_at
        return f"{action}:sha256:{hashlib.sha256(body).hexdigest()[:32]}", None

    def changes(self, delivery: Delivery) -> list[SourceChange]:
        if delivery.topic != STATUS_CHANGED:
            return []
        parcel = _mapping(delivery.payload.get("parcel"))
        status = _mapping(parcel.get("status"))
        message = _text(status.get("message"))
        meaning = self._meaning(_int(status.get("id")), message)
        if meaning is None:
            return []
        order_number = order_number_from(parcel.get("order_number"))
        platform_order_id = _text(parcel.get("external_order_id"))
        if order_number is None and platform_order_id is None:
            logger.info("Sendcloud parcel %s names no order", parcel.get("id"))
            return []
        carrier = carrier_name(self._carrier_code(parcel))
        occurred_at = (
            delivery.triggered_at
            or parse_sendcloud_time(parcel.get("date_updated"))
            or datetime.now(timezone.utc)
        )
        return [
            SourceChange(
                source=NAME,
                field="shipment_status",
                new_value=meaning.shipment_status,
                occurred_at=occurred_at,
                order_number=order_number,
                platform_order_id=platform_order_id,
                reason_code=meaning.reason_code,
                reason_text=message,
                party_type=meaning.party_type,
                party_name=carrier if meaning.party_type == "carrier" else None,
                shipment=ShipmentInfo(
                    carrier=carrier,
                    tracking_code=_text(parcel.get("tracking_number")),
                    tracking_url=_text(parcel.get("tracking_url")),
                    status=meaning.shipment_status,
                    expected_date=self._expected_date(parcel),
                ),
            )
        ]

    def _meaning(self, status_id: int | None, message: str | None) -> ParcelMeaning | None:
        """The event's own message first; the id through the account's table
        when the message is missing or worded in a way we do not know."""
        if message is not None:
            meaning = STATUS_MEANINGS.get(_message_key(message))
            if meaning is not None:
                return meaning
        return self._meanings.get(status_id) if status_id is not None else None

    @staticmethod
    def _carrier_code(parcel: Mapping[str, Any]) -> str | None:
        carrier = parcel.get("carrier")
        if isinstance(carrier, Mapping):
            carrier = carrier.get("code")
        return _text(carrier) if isinstance(carrier, str) else None

    @staticmethod
    def _expected_date(parcel: Mapping[str, Any]) -> date | None:
        """Not in every payload: the carrier's expected delivery date when given."""
        for key in ("expected_delivery_date", "carrier_expected_delivery_date"):
            found = _parse_date(parcel.get(key))
            if found is not None:
                return found
        return None

    def order_link(self, delivery: Delivery) -> tuple[str, str] | None:
        parcel = delivery.payload.get("parcel")
        if not isinstance(parcel, dict):
            return None
        platform_order_id = _text(parcel.get("external_order_id"))
        number = order_number_from(parcel.get("order_number"))
        return (platform_order_id, number) if platform_order_id and number else None

    def order_number_for(self, platform_order_id: str) -> str | None:
        """Always None: every Sendcloud parcel carries its order_number itself,
        and the v2 API cannot look parcels up by external_order_id."""
        return None

    # --- the API -------------------------------------------------------------

    def load_status_table(self) -> None:
        """The account's own status ids (GET /parcels/statuses), mapped by
        message. Without API keys the documented table stays; SourceUnavailable
        when the API fails (the caller keeps the documented table)."""
        if self._auth is None:
            return
        data = self._get("/parcels/statuses")
        if not isinstance(data, list):
            raise SourceUnavailable("Sendcloud sent no list of parcel statuses")
        statuses = [
            (status_id, str(item.get("message") or ""))
            for item in data
            if isinstance(item, Mapping) and (status_id := _int(item.get("id"))) is not None
        ]
        if not statuses:
            raise SourceUnavailable("Sendcloud listed no parcel statuses")
        self._meanings = meanings_by_id(statuses)
        logger.info(
            "Sendcloud status table: %d ids, %d with a meaning", len(statuses), len(self._meanings)
        )

    def reconcile(self, since: datetime) -> list[Delivery]:
        """Parcels updated since `since`, as parcel_status_changed deliveries."""
        if self._auth is None:
            return []
        if since.tzinfo is None:
            since = since.replace(tzinfo=timezone.utc)
        deliveries = [
            delivery
            for parcel in self._parcels_updated_after(since)
            if (delivery := self._reconcile_delivery(parcel)) is not None
        ]
        logger.info("Sendcloud reconcile since %s: %d parcels", since.isoformat(), len(deliveries))
        return deliveries

    def _parcels_updated_after(self, since: datetime) -> Iterator[Mapping[str, Any]]:
        params: dict[str, str] = {"updated_after": since.isoformat()}
        for _ in range(MAX_PAGES):
            data = self._get("/parcels", params)
            if not isinstance(data, Mapping) or not isinstance(data.get("parcels"), list):
                raise SourceUnavailable("Sendcloud sent no list of parcels")
            yield from (parcel for parcel in data["parcels"] if isinstance(parcel, Mapping))
            cursor = self._next_cursor(data.get("next"))
            if cursor is None or cursor == params.get("cursor"):
                return
            params = {"updated_after": params["updated_after"], "cursor": cursor}
        logger.warning("Sendcloud parcels list still going after %d pages", MAX_PAGES)

    @staticmethod
    def _next_cursor(next_link: object) -> str | None:
        """`next` is a full URL with a cursor: only the cursor is taken, so the
        credentials only ever go to the configured base URL."""
        text = _text(next_link)
        if text is None:
            return None
        cursors = parse_qs(urlsplit(text).query).get("cursor")
        return cursors[0] if cursors else None

    @staticmethod
    def _reconcile_delivery(parcel: Mapping[str, Any]) -> Delivery | None:
        parcel_id = _int(parcel.get("id"))
        status_id = _int(_mapping(parcel.get("status")).get("id"))
        updated = _text(parcel.get("date_updated"))
        if parcel_id is None or status_id is None or updated is None:
            return None
        updated_at = parse_sendcloud_time(updated)
        timestamp = int(updated_at.timestamp() * 1000) if updated_at else None
        return Delivery(
            source=NAME,
            event_id=f"reconcile:{parcel_id}:{status_id}:{updated}",
            topic=STATUS_CHANGED,
            triggered_at=updated_at,
            payload={"action": STATUS_CHANGED, "timestamp": timestamp, "parcel": dict(parcel)},
        )

    def _get(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        """JSON of a GET; retried on connection errors and 5xx, then
        SourceUnavailable. Logs the path and status only: parcels hold
        names and addresses."""
        url = f"{self._base_url}{path}"
        failure = "no attempt"
        for attempt in range(self._retries + 1):
            if attempt:
                time.sleep(self._retry_wait * attempt)
            try:
                response = self._session.get(
                    url, params=params, auth=self._auth, timeout=self._timeout
                )
            except requests.RequestException as error:
                failure = type(error).__name__
                logger.warning("Sendcloud GET %s failed: %s", path, failure)
                continue
            if response.status_code in RETRY_STATUSES:
                failure = f"HTTP {response.status_code}"
                logger.warning("Sendcloud GET %s answered %s", path, response.status_code)
                continue
            if not response.ok:
                logger.warning("Sendcloud GET %s answered %s", path, response.status_code)
                raise SourceUnavailable(f"Sendcloud answered {response.status_code}")
            try:
                return response.json()
            except ValueError as error:
                raise SourceUnavailable("Sendcloud sent no JSON") from error
        raise SourceUnavailable(f"Sendcloud API unreachable: {failure}")
