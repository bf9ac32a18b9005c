"""The assistant's own memory: what it keeps about customers and orders.

Keyed by the shop's ids (customer id, order id or number), with no foreign
key into the shop's tables, so that it works the same whichever order system
is behind the boundary (bot/orders): the demo shop, a shop's REST API, or a
platform. One module per thing remembered; only table definitions here:
which customer is behind which address, the warnings outbox, promises,
handoffs, deadlines, compensations, question counts, failed verifications,
intake idempotency keys and the platforms' deliveries.
"""
