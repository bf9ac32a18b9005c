"""The platforms this shop has switched on, built from the settings.

A platform is on when its webhook secret is set; its API credentials, when
given, let it fetch reasons (WooCommerce notes), unknown order ids (Shopify)
and what changed since the last look (reconcile).
"""

from __future__ import annotations

import logging

from bot.settings import SourceSettings
from bot.sources.change import Source, SourceUnavailable

logger = logging.getLogger(__name__)

SOURCE_NAMES = ("shopify", "woocommerce", "sendcloud")


def build_sources(settings: SourceSettings) -> dict[str, Source]:
    from bot.sources.sendcloud import SendcloudSource
    from bot.sources.shopify import ShopifySource
    from bot.sources.woocommerce import WooCommerceSource

    sources: dict[str, Source] = {}
    if settings.shopify_webhook_secret:
        sources["shopify"] = ShopifySource(
            secret=settings.shopify_webhook_secret,
            shop_domain=settings.shopify_shop_domain or None,
            access_token=settings.shopify_admin_token or None,
            api_version=settings.shopify_api_version,
            base_url=settings.shopify_api_url or None,
        )
    if settings.woocommerce_webhook_secret:
        sources["woocommerce"] = WooCommerceSource(
            secret=settings.woocommerce_webhook_secret,
            store_url=settings.woocommerce_url or None,
            consumer_key=settings.woocommerce_consumer_key or None,
            consumer_secret=settings.woocommerce_consumer_secret or None,
        )
    if settings.sendcloud_webhook_secret:
        sources["sendcloud"] = SendcloudSource(
            secret=settings.sendcloud_webhook_secret,
            public_key=settings.sendcloud_public_key or None,
            secret_key=settings.sendcloud_secret_key or None,
            base_url=settings.sendcloud_api_url,
        )
    return sources


def load_status_tables(sources: dict[str, Source]) -> None:
    """Sendcloud's status numbers differ between accounts: read them once at
    start-up; the documented table stays when its API is away."""
    from bot.sources.sendcloud import SendcloudSource

    sendcloud = sources.get("sendcloud")
    if not isinstance(sendcloud, SendcloudSource):
        return
    try:
        sendcloud.load_status_table()
    except SourceUnavailable as error:
        logger.warning("sendcloud status table not read, the documented one is used (%s)", error)
