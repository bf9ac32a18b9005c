"""Building the configured order system (SQL or HTTP) on first use; the
assistant's view of it (with its memory laid over) is built in bot/bootstrap.py."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from bot.database import create_db_engine, make_session_factory
from bot.orders.http_system import HttpOrderSystem
from bot.orders.sql.system import SqlOrderSystem
from bot.orders.system import OrderSystem
from bot.settings import Settings


def build_session_factory(settings: Settings) -> sessionmaker[Session]:
    """The database of DATABASE_URL: the assistant's memory, and the demo shop (sql)."""
    return make_session_factory(create_db_engine(settings.database_url))


def build_shop(settings: Settings, sessions: sessionmaker[Session]) -> OrderSystem:
    """The shop's order system alone: the demo shop's tables, the shop's REST API,
    or the platform's (Shopify's GraphQL Admin API, WooCommerce's REST API)."""
    sources = settings.sources
    if settings.order_system == "shopify":
        from bot.sources.shopify.order_system import ShopifyOrderSystem

        return ShopifyOrderSystem(
            sources.shopify_api_url or sources.shopify_shop_domain,
            sources.shopify_admin_token,
            api_version=sources.shopify_api_version,
            promised_date_metafield=sources.shopify_promised_date_metafield,
            original_date_metafield=sources.shopify_original_date_metafield,
            timeout=settings.order_api_timeout,
            retries=settings.order_api_retries,
            default_language=settings.default_language,
        )
    if settings.order_system == "woocommerce":
        from bot.sources.woocommerce_orders import WooCommerceOrderSystem

        return WooCommerceOrderSystem(
            sources.woocommerce_url,
            sources.woocommerce_consumer_key,
            sources.woocommerce_consumer_secret,
            promised_date_meta=sources.woocommerce_promised_date_meta,
            original_date_meta=sources.woocommerce_original_date_meta,
            timeout=settings.order_api_timeout,
            retries=settings.order_api_retries,
            default_language=settings.default_language,
        )
    if settings.order_system == "http":
        return HttpOrderSystem(
            settings.order_api_url,
            api_key=settings.order_api_key,
            timeout=settings.order_api_timeout,
            retries=settings.order_api_retries,
        )
    return SqlOrderSystem(sessions)
