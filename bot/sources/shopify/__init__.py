"""Shopify: order changes from its webhooks, with its Admin API for the rest.

What Shopify sends: one POST per event to /sources/shopify, the topic in
X-Shopify-Topic, the event's id in X-Shopify-Event-Id (the same on each of
Shopify's retries: 8 over 4 hours, so up to a day late), the time in
X-Shopify-Triggered-At and the base64 HMAC-SHA256 of the raw body, keyed with
the app's client secret, in X-Shopify-Hmac-Sha256. Bodies are the REST shapes
of the API version the subscription uses.

How it maps (mapping.py holds the tables):

  orders/updated, orders/cancelled   cancelled_at -> status cancelled, reason
                                     from cancel_reason (customer, inventory,
                                     fraud, declined, staff, other);
                                     fulfillment_status fulfilled -> status
                                     shipped; anything else -> nothing
  orders/edited                      each removed line -> line_quantity (what
                                     is left) or line_status cancelled; needs
                                     the API for the line's SKU
  fulfillments/create, /update       shipment_status (+ tracking); status
                                     success -> status shipped too
  fulfillment_events/create          delayed with an estimate -> promised_date;
                                     else shipment_status (delayed, attempted
                                     delivery, failure -> exception + reason)
  refunds/create                     refund = this refund's cents, its note
  fulfillment_holds/added, /released hold on_hold (reason + reason_notes) /
                                     released; needs the API for the order

Order webhooks name the order both ways (order_number "10001" and Shopify's
id); fulfillments, events and refunds only by Shopify's id, which the inbox
links to the number (or `order_number_for` asks the API).
"""

from bot.sources.shopify.source import ShopifySource

__all__ = ["ShopifySource"]
