"""All configuration, read from environment variables in one place.

Every variable is listed with its default in `.env.example`. Nothing here
opens a connection: it only describes what to connect to.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from datetime import time
from pathlib import Path

from bot.handoff.hours import parse_days

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Settings a person keeps in a file (a copy of .env.example): `python -m bot`
# reads it first, the environment taking precedence (bot/env_file.py).
ENV_FILE = PROJECT_ROOT / ".env"


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as error:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from error


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError as error:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from error


def _day_range(name: str, default: str) -> tuple[int, int] | None:
    """'2' or '1-3' (working days); empty: not said."""
    raw = _text(name, default)
    if not raw:
        return None
    low, _, high = raw.partition("-")
    try:
        days = (int(low), int(high or low))
    except ValueError as error:
        raise SettingsError(f"{name} must be days like '2' or '1-3', got {raw!r}") from error
    if not 0 <= days[0] <= days[1]:
        raise SettingsError(f"{name} must be days like '2' or '1-3', got {raw!r}")
    return days


def _hour(name: str, default: int) -> int:
    hour = _int(name, default)
    if not 0 <= hour <= 23:
        raise SettingsError(f"{name} must be an hour from 0 to 23, got {hour}")
    return hour


def _days(name: str, default: str) -> frozenset[int]:
    try:
        return parse_days(_text(name, default))
    except ValueError as error:
        raise SettingsError(f"{name}: {error}") from error


def _clock_time(name: str, default: str) -> time:
    raw = _text(name, default)
    try:
        hour, _, minute = raw.partition(":")
        return time(int(hour), int(minute or 0))
    except ValueError as error:
        raise SettingsError(f"{name} must be a time like 17:00, got {raw!r}") from error


def _text(name: str, default: str = "") -> str:
    return os.environ.get(name, "").strip() or default


def _flag(name: str, default: bool) -> bool:
    raw = _text(name).lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name} must be true or false, got {raw!r}")


def _secret(name: str, demo: bool) -> str:
    """A secret from the environment; in the demo, one generated once into var/."""
    given = _text(name)
    if given or not demo:
        return given
    from bot.run_secrets import demo_secret

    return demo_secret(name, PROJECT_ROOT / "var")


def derived_secret(secret: str, purpose: str) -> str:
    """A second secret for another purpose, derived from one that is kept (HMAC),
    so that knowing one gives away nothing of the other. Empty stays empty."""
    if not secret:
        return ""
    return hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).hexdigest()


# Where the shop's orders are read: the demo shop's tables (sql), a shop's REST
# API (http, bot/orders/http_system.py), or the platform's own API (docs/shops/).
ORDER_SYSTEMS = ("sql", "http", "shopify", "woocommerce")


class SettingsError(ValueError):
    """A setting is present but cannot be used."""


@dataclass(frozen=True)
class SourceSettings:
    """The shop platforms that send order changes (bot/sources, docs/shops/).

    A platform is on when its webhook secret is set (in the demo: always, with a
    secret generated into var/); its API credentials are optional and give
    reasons from notes, unknown order ids and the reconcile job.
    """

    shopify_webhook_secret: str  # the app's client secret
    shopify_shop_domain: str  # my-shop.myshopify.com
    shopify_admin_token: str  # Admin API access token (read_orders)
    shopify_api_version: str
    shopify_api_url: str  # empty: https://<shop domain>
    shopify_promised_date_metafield: str  # ORDER_SYSTEM=shopify: the order's dates
    shopify_original_date_metafield: str
    woocommerce_webhook_secret: str
    woocommerce_url: str  # https://my-shop.nl
    woocommerce_consumer_key: str
    woocommerce_consumer_secret: str
    woocommerce_promised_date_meta: str  # ORDER_SYSTEM=woocommerce: the order's dates
    woocommerce_original_date_meta: str
    sendcloud_webhook_secret: str  # the integration's secret key
    sendcloud_public_key: str
    sendcloud_secret_key: str
    sendcloud_api_url: str
    reconcile_minutes: float  # how often each platform's API is asked what changed
    backfill_days: float  # a platform's first look back, when nothing came from it yet
    dedupe_days: float  # a delivery's id is remembered this long (platforms retry for a day)
    max_attempts: int  # tries of a delivery whose platform API is away, then "failed"


def _source_settings(demo: bool) -> SourceSettings:
    return SourceSettings(
        shopify_webhook_secret=_secret("SHOPIFY_WEBHOOK_SECRET", demo),
        shopify_shop_domain=_text("SHOPIFY_SHOP_DOMAIN"),
        shopify_admin_token=_text("SHOPIFY_ADMIN_TOKEN"),
        # 2025-01: the first version with the fulfillment hold webhooks.
        shopify_api_version=_text("SHOPIFY_API_VERSION", "2025-01"),
        shopify_api_url=_text("SHOPIFY_API_URL").rstrip("/"),
        shopify_promised_date_metafield=_text(
            "SHOPIFY_PROMISED_DATE_METAFIELD", "custom.promised_date"
        ),
        shopify_original_date_metafield=_text(
            "SHOPIFY_ORIGINAL_DATE_METAFIELD", "custom.original_promised_date"
        ),
        woocommerce_webhook_secret=_secret("WOOCOMMERCE_WEBHOOK_SECRET", demo),
        woocommerce_url=_text("WOOCOMMERCE_URL").rstrip("/"),
        woocommerce_consumer_key=_text("WOOCOMMERCE_CONSUMER_KEY"),
        woocommerce_consumer_secret=_text("WOOCOMMERCE_CONSUMER_SECRET"),
        woocommerce_promised_date_meta=_text("WOOCOMMERCE_PROMISED_DATE_META", "_promised_date"),
        woocommerce_original_date_meta=_text(
            "WOOCOMMERCE_ORIGINAL_DATE_META", "_original_promised_date"
        ),
        sendcloud_webhook_secret=_secret("SENDCLOUD_WEBHOOK_SECRET", demo),
        sendcloud_public_key=_text("SENDCLOUD_PUBLIC_KEY"),
        sendcloud_secret_key=_text("SENDCLOUD_SECRET_KEY"),
        sendcloud_api_url=_text("SENDCLOUD_API_URL", "https://panel.sendcloud.sc/api/v2").rstrip(
            "/"
        ),
        reconcile_minutes=_float("SOURCE_RECONCILE_MINUTES", 15.0),
        backfill_days=_float("SOURCE_BACKFILL_DAYS", 7.0),
        dedupe_days=max(7.0, _float("SOURCE_DEDUPE_DAYS", 8.0)),
        max_attempts=_int("SOURCE_MAX_ATTEMPTS", 12),
    )


@dataclass(frozen=True)
class Settings:
    database_url: str
    order_system: str  # one of ORDER_SYSTEMS
    order_api_url: str
    order_api_key: str
    order_api_timeout: float
    order_api_retries: int
    shop_token_secret: str
    proof_secret: str
    proof_ttl_seconds: int
    default_language: str
    shop_timezone: str
    shop_name: str
    shop_contact: str
    reason_texts_path: Path
    message_texts_path: Path
    credentials_path: Path
    rasa_host: str
    rasa_port: int
    rasa_token: str
    action_host: str
    action_port: int
    max_message_chars: int
    # An intent that switches something off (opt_out) read with less confidence
    # than this is asked back first ("Wil je geen berichten meer?").
    confirm_below_confidence: float
    max_verification_attempts: int
    web_host: str
    web_port: int
    chat_socket_url: str
    order_api_token: str
    rasa_url: str
    quiet_start: int
    quiet_end: int
    notifier_batch: int
    notifier_max_attempts: int
    notifier_backoff_seconds: float
    notifier_poll_seconds: float
    notifier_lease_seconds: float
    notifier_concurrency: int
    watch_interval_seconds: float
    follow_up_hours: float
    # Messaging platforms' APIs (their secrets are in credentials.yml's placeholders).
    telegram_api_url: str
    slack_api_url: str
    twilio_api_url: str
    twilio_whatsapp_number: str
    whatsapp_templates: dict[str, str]  # language -> approved Content SID
    # When a person answers a handoff (shop time zone) and how soon.
    service_days: frozenset[int]
    service_start: int
    service_end: int
    handoff_answer_minutes: int
    # An optional helpdesk for handoffs (Zendesk); off when the URL is empty.
    zendesk_url: str
    zendesk_email: str
    zendesk_token: str
    staff_password: str
    question_flush_seconds: float
    # Deadlines and making up for it.
    compensation_rules_path: Path
    express_cutoff: time  # choose express reshipment before this, shop time
    express_days: int  # express: days from dispatch to the door
    express_reminder_minutes: int  # remind the customer this long before the cut-off
    store_pickup_location: str  # where customers can pick up; empty: no store
    # General questions (bot/usecases/shop_info.py); unset: "a colleague can tell you".
    delivery_days: tuple[int, int] | None  # working days from order to door, e.g. (1, 2)
    return_days: int  # days to send an order back; 0: not said
    # Several Rasa instances (`python -m bot cluster`); empty: the embedded default.
    tracker_store_url: str  # Rasa's SQL tracker store (an SQLAlchemy URL)
    lock_store_url: str  # Rasa's Redis lock store (redis://host:port/db)
    socketio_message_queue: str  # python-socketio's Redis manager (redis://...)
    redis_key_prefix: str  # keys and channels in Redis (alphanumeric)
    presence_ttl_seconds: float  # a widget counts as open this long after its last heartbeat
    cluster_instances: int
    proxy_host: str
    proxy_port: int  # nginx: the single entry for customers
    proxy_api_port: int  # nginx: Rasa's HTTP API for the notifiers (internal only)
    # Safe to put in front of the internet (docs/security.md).
    demo_shop: bool  # DEMO_SHOP: seed and serve the demo shop (make run); off in production
    push_secret: str  # signs the notifier's pushes (HMAC); the action server checks them
    action_server_token: str  # Rasa's action_endpoint token; the action server refuses others
    action_threads: int  # actions running at once in the action server (bot/action_server.py)
    max_message_bytes: int  # a customer's message body over this gets 413
    max_intake_bytes: int  # an intake API body over this gets 413
    idempotency_hours: float  # an Idempotency-Key is answered the same for this long
    verification_lock_failures: int  # failed verifications of one order before it is locked
    verification_lock_minutes: int  # ... within this window, and locked for as long
    # Failed verifications from one client over all orders (same window). A customer
    # who mistypes a postcode is far below it; a shop's office or a carrier's shared
    # address with a few dozen customers behind it too.
    verification_client_lock_failures: int
    notifier_max_backoff_seconds: float  # the longest wait between two tries of a warning
    # The notifier sends a warning to an address the shop registered itself,
    # without a Rasa turn (bot/proactive/direct.py); false: every one through Rasa.
    notifier_direct: bool
    sources: SourceSettings  # Shopify, WooCommerce, Sendcloud webhooks (bot/sources)


def _default_database_url() -> str:
    return f"sqlite:///{PROJECT_ROOT / 'var' / 'shop.db'}"


def load_settings() -> Settings:
    """Read the settings from the environment (call it; never cache at import)."""
    order_system = _text("ORDER_SYSTEM", "sql").lower()
    if order_system not in ORDER_SYSTEMS:
        raise SettingsError(
            f"ORDER_SYSTEM must be one of {', '.join(ORDER_SYSTEMS)}, got {order_system!r}"
        )
    demo = _flag("DEMO_SHOP", False)
    sources = _source_settings(demo)
    _check_order_system(order_system, sources)
    # Outside the demo a missing secret stays empty: `check_secrets` stops the start.
    shop_secret = _secret("SHOP_TOKEN_SECRET", demo)
    language = _text("DEFAULT_LANGUAGE", "nl").lower()
    if language not in {"nl", "en"}:
        raise SettingsError(f"DEFAULT_LANGUAGE must be 'nl' or 'en', got {language!r}")
    return Settings(
        database_url=_text("DATABASE_URL", _default_database_url()),
        order_system=order_system,
        order_api_url=_text("ORDER_API_URL").rstrip("/"),
        order_api_key=_text("ORDER_API_KEY"),
        order_api_timeout=_float("ORDER_API_TIMEOUT", 3.0),
        order_api_retries=_int("ORDER_API_RETRIES", 2),
        shop_token_secret=shop_secret,
        # The verification proof is signed by the action server, with its own
        # secret; derived from the shop's secret when not given.
        proof_secret=_text("PROOF_SECRET") or derived_secret(shop_secret, "verification-proof"),
        proof_ttl_seconds=_int("PROOF_TTL_SECONDS", 3600),
        default_language=language,
        shop_timezone=_text("SHOP_TIMEZONE", "Europe/Amsterdam"),
        shop_name=_text("SHOP_NAME", "Fietsen & Meer"),
        shop_contact=_text("SHOP_CONTACT", "030 123 45 67 (ma-vr 9-17) of service@example.nl"),
        reason_texts_path=Path(
            _text("REASON_TEXTS_PATH", str(PROJECT_ROOT / "bot" / "texts" / "reasons.yml"))
        ),
        message_texts_path=Path(
            _text("MESSAGE_TEXTS_PATH", str(PROJECT_ROOT / "bot" / "texts" / "messages.yml"))
        ),
        credentials_path=Path(_text("CREDENTIALS_PATH", str(PROJECT_ROOT / "credentials.yml"))),
        rasa_host=_text("RASA_HOST", "127.0.0.1"),
        rasa_port=_int("RASA_PORT", 5005),
        rasa_token=_text("RASA_TOKEN"),
        action_host=_text("ACTION_HOST", "127.0.0.1"),
        action_port=_int("ACTION_PORT", 5055),
        max_message_chars=_int("MAX_MESSAGE_CHARS", 2000),
        confirm_below_confidence=_float("CONFIRM_BELOW_CONFIDENCE", 0.8),
        max_verification_attempts=_int("MAX_VERIFICATION_ATTEMPTS", 5),
        web_host=_text("WEB_HOST", "127.0.0.1"),
        web_port=_int("WEB_PORT", 8000),
        # Where the shop's pages' chat widget reaches Rasa's socket.io channel.
        chat_socket_url=_text(
            "CHAT_SOCKET_URL", f"http://127.0.0.1:{_int('RASA_PORT', 5005)}"
        ).rstrip("/"),
        order_api_token=_secret("ORDER_API_TOKEN", demo),
        rasa_url=_text("RASA_URL", f"http://127.0.0.1:{_int('RASA_PORT', 5005)}").rstrip("/"),
        quiet_start=_hour("QUIET_HOURS_START", 21),
        quiet_end=_hour("QUIET_HOURS_END", 8),
        notifier_batch=_int("NOTIFIER_BATCH", 50),
        notifier_max_attempts=_int("NOTIFIER_MAX_ATTEMPTS", 16),
        notifier_backoff_seconds=_float("NOTIFIER_BACKOFF_SECONDS", 2.0),
        notifier_poll_seconds=_float("NOTIFIER_POLL_SECONDS", 1.0),
        notifier_lease_seconds=_float("NOTIFIER_LEASE_SECONDS", 60.0),
        notifier_concurrency=_int("NOTIFIER_CONCURRENCY", 4),
        watch_interval_seconds=_float("WATCH_INTERVAL_SECONDS", 300.0),
        follow_up_hours=_float("FOLLOW_UP_HOURS", 24.0),
        telegram_api_url=_text("TELEGRAM_API_URL", "https://api.telegram.org").rstrip("/"),
        slack_api_url=_text("SLACK_API_URL", "https://slack.com/api/"),
        twilio_api_url=_text("TWILIO_API_URL", "https://api.twilio.com").rstrip("/"),
        # The WhatsApp sender when it is not the SMS number (TWILIO_NUMBER).
        twilio_whatsapp_number=_text("TWILIO_WHATSAPP_NUMBER"),
        whatsapp_templates=_whatsapp_templates(),
        service_days=_days("SERVICE_DAYS", "mon-fri"),
        service_start=_hour("SERVICE_HOURS_START", 9),
        service_end=_hour("SERVICE_HOURS_END", 17),
        handoff_answer_minutes=_int("HANDOFF_ANSWER_MINUTES", 30),
        zendesk_url=_text("ZENDESK_URL").rstrip("/"),
        zendesk_email=_text("ZENDESK_EMAIL"),
        zendesk_token=_text("ZENDESK_API_TOKEN"),
        # No default: `python -m bot run` makes one for the run when unset;
        # without one the staff pages refuse every login.
        staff_password=_text("STAFF_PASSWORD"),
        question_flush_seconds=_float("QUESTION_FLUSH_SECONDS", 5.0),
        compensation_rules_path=Path(
            _text(
                "COMPENSATION_RULES_PATH", str(PROJECT_ROOT / "bot" / "texts" / "compensation.yml")
            )
        ),
        express_cutoff=_clock_time("EXPRESS_CUTOFF", "17:00"),
        express_days=_int("EXPRESS_DAYS", 1),
        express_reminder_minutes=_int("EXPRESS_REMINDER_MINUTES", 120),
        store_pickup_location=_text("STORE_PICKUP_LOCATION"),
        delivery_days=_day_range("SHOP_DELIVERY_DAYS", "1-2" if demo else ""),
        return_days=_int("SHOP_RETURN_DAYS", 30 if demo else 0),
        tracker_store_url=_text("TRACKER_STORE_URL"),
        lock_store_url=_text("LOCK_STORE_URL"),
        socketio_message_queue=_text("SOCKETIO_MESSAGE_QUEUE"),
        redis_key_prefix=_key_prefix(),
        presence_ttl_seconds=_float("PRESENCE_TTL_SECONDS", 30.0),
        cluster_instances=_int("CLUSTER_INSTANCES", 2),
        proxy_host=_text("PROXY_HOST", "127.0.0.1"),
        proxy_port=_int("PROXY_PORT", 8080),
        proxy_api_port=_int("PROXY_API_PORT", 8081),
        demo_shop=demo,
        push_secret=_secret("PUSH_SECRET", demo),
        action_server_token=_secret("ACTION_SERVER_TOKEN", demo),
        # Actions that compute (the SQL order system) gain nothing from more
        # threads under Python's GIL, they lose: a 3,000-warning fan-out took
        # 1.68x Rasa's own limit with 8 threads, 1.42x with 2 (1.45x on the event
        # loop, as before). Actions that wait on a shop's REST API mostly sleep.
        action_threads=_int("ACTION_THREADS", 2 if order_system == "sql" else 8),
        max_message_bytes=_int("MAX_MESSAGE_BYTES", 64 * 1024),
        max_intake_bytes=_int("MAX_INTAKE_BYTES", 1024 * 1024),
        idempotency_hours=_float("IDEMPOTENCY_HOURS", 24.0),
        verification_lock_failures=_int("VERIFICATION_LOCK_FAILURES", 10),
        verification_lock_minutes=_int("VERIFICATION_LOCK_MINUTES", 15),
        verification_client_lock_failures=_int("VERIFICATION_CLIENT_LOCK_FAILURES", 30),
        notifier_max_backoff_seconds=_float("NOTIFIER_MAX_BACKOFF_SECONDS", 600.0),
        notifier_direct=_flag("NOTIFIER_DIRECT", True),
        sources=sources,
    )


def _check_order_system(order_system: str, sources: SourceSettings) -> None:
    """A platform as the order system needs its API credentials (docs/shops/)."""
    if order_system == "http" and not _text("ORDER_API_URL"):
        raise SettingsError("ORDER_SYSTEM=http needs ORDER_API_URL")
    if order_system == "shopify" and not (
        (sources.shopify_shop_domain or sources.shopify_api_url) and sources.shopify_admin_token
    ):
        raise SettingsError(
            "ORDER_SYSTEM=shopify needs SHOPIFY_SHOP_DOMAIN and SHOPIFY_ADMIN_TOKEN"
        )
    if order_system == "woocommerce" and not (
        sources.woocommerce_url
        and sources.woocommerce_consumer_key
        and sources.woocommerce_consumer_secret
    ):
        raise SettingsError(
            "ORDER_SYSTEM=woocommerce needs WOOCOMMERCE_URL, WOOCOMMERCE_CONSUMER_KEY "
            "and WOOCOMMERCE_CONSUMER_SECRET"
        )


def _key_prefix() -> str:
    """Rasa's Redis lock store takes only letters and digits as its key prefix."""
    prefix = _text("REDIS_KEY_PREFIX", "orderassistant")
    if not prefix.isalnum():
        raise SettingsError(f"REDIS_KEY_PREFIX must be letters and digits only, got {prefix!r}")
    return prefix


def _whatsapp_templates() -> dict[str, str]:
    """Approved WhatsApp templates (Twilio Content SIDs, "HX" + 32 hex) per language."""
    templates = {}
    for language in ("nl", "en"):
        name = f"WHATSAPP_TEMPLATE_{language.upper()}"
        sid = _text(name)
        if sid and not re.fullmatch(r"HX[0-9a-fA-F]{32}", sid):
            raise SettingsError(f"{name} must be a Twilio Content SID (HX + 32 hex), got {sid!r}")
        if sid:
            templates[language] = sid
    return templates
