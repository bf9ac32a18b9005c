"""Where a customer can be reached, and whether we can speak first there."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.credentials import active_channel_names
from bot.memory.addresses import CustomerChannelRow
from bot.orders.system import OrderSystem

# Channels Rasa can push to. REST is request-response: its customers get
# warnings with their next reply instead.
PUSH_CHANNELS = ("socketio", "telegram", "slack", "twilio", "callback")

# Channels on which the shop itself may know a customer's address; a chat
# widget's session id only ever comes from a conversation.
SHOP_KNOWN_CHANNELS = ("telegram", "slack", "twilio", "callback")


def configured_push_channels(
    credentials_path: Path, environ: Mapping[str, str] | None = None
) -> tuple[str, ...]:
    """The push channels this run of Rasa has (credentials.yml, less the messaging
    channels without their environment variables). Rasa answers a trigger_intent
    for a channel it does not have by collecting the reply and telling no one,
    so a warning for any other channel must stay unread, not be marked sent.
    Raises CredentialsError (a ValueError) when the file cannot be used."""
    names = active_channel_names(credentials_path, os.environ if environ is None else environ)
    return tuple(channel for channel in PUSH_CHANNELS if channel in names)


@dataclass(frozen=True)
class Reach:
    channel: str
    address: str  # the Rasa sender id
    # The shop registered this address as the customer's: it may hear about all
    # of their orders (a conversation's address only about what it verified).
    registered: bool = False
    language: str | None = None  # its conversation's, once it spoke

    @property
    def output_channel(self) -> str:
        """trigger_intent's output_channel: always the channel itself, never
        "latest" (whoever last wrote under this sender id, on any channel)."""
        return self.channel


# (channel, address) -> (customer, language, when last written): one write per
# conversation every few minutes, or when its language changes, not one per message.
_RECENT: dict[tuple[str, str], tuple[int, str | None, datetime]] = {}
_REFRESH = timedelta(minutes=5)


def _channel_row(session: Session, channel: str, address: str, source: str) -> CustomerChannelRow:
    """The row for this address on this channel; a new one (from `source`) if none."""
    row = session.execute(
        select(CustomerChannelRow).where(
            CustomerChannelRow.channel == channel, CustomerChannelRow.address == address
        )
    ).scalar_one_or_none()
    if row is None:
        row = CustomerChannelRow(channel=channel, address=address, source=source)
        session.add(row)
    return row


def remember_channel(
    session_factory: sessionmaker[Session],
    customer_id: int,
    channel: str,
    address: str,
    now: datetime,
    language: str | None = None,
) -> None:
    """A conversation of this customer on this channel was seen now, speaking
    `language`: warnings can be pushed here, in that language. An address the
    shop registered stays its customer's (someone in that chat who verifies
    another customer's order does not move it)."""
    if not channel or not address:
        return
    recent = _RECENT.get((channel, address))
    if (
        recent is not None
        and recent[0] == customer_id
        and (language is None or recent[1] == language)
        and now - recent[2] < _REFRESH
    ):
        return
    try:
        with session_factory() as session, session.begin():
            row = _channel_row(session, channel, address, source="conversation")
            if row.source == "shop" and row.customer_id != customer_id:
                return
            row.customer_id, row.last_seen_at = customer_id, now
            if language is not None:
                row.language = language
    except IntegrityError:
        pass  # the same conversation registered by a parallel turn: fine
    if len(_RECENT) > 100_000:
        _RECENT.clear()
    _RECENT[(channel, address)] = (customer_id, language, now)


def remember_shop_address(
    session_factory: sessionmaker[Session],
    shop: OrderSystem,
    customer_id: int,
    channel: str,
    address: str,
    now: datetime,
) -> None:
    """The shop knows where to reach this customer, before any conversation.
    Raises LookupError for a customer the shop does not know."""
    if shop.get_customer(customer_id) is None:
        raise LookupError(f"customer {customer_id} not found")
    with session_factory() as session, session.begin():
        row = _channel_row(session, channel, address, source="shop")
        row.customer_id, row.source, row.last_seen_at = customer_id, "shop", now


def customer_at(session_factory: sessionmaker[Session], address: str, channel: str) -> int | None:
    """The customer behind a conversation's sender id on `channel` only: the
    same sender id on another channel is someone else."""
    query = (
        select(CustomerChannelRow.customer_id)
        .where(CustomerChannelRow.address == address)
        .where(CustomerChannelRow.channel == channel)
    )
    with session_factory() as session:
        found = session.execute(
            query.order_by(CustomerChannelRow.last_seen_at.desc()).limit(1)
        ).scalar()
    return int(found) if found is not None else None


def owner_of_address(session: Session, address: str, channel: str) -> tuple[int | None, bool]:
    """(the customer behind this address on `channel`, whether the shop
    registered it as theirs) in one query: a push needs both. In the push's own
    unit of work: one connection per push rather than one per question."""
    found = session.execute(
        select(CustomerChannelRow.customer_id, CustomerChannelRow.source).where(
            CustomerChannelRow.channel == channel, CustomerChannelRow.address == address
        )
    ).first()
    if found is None:
        return None, False
    return int(found.customer_id), found.source == "shop"


def customer_registered_at(
    session_factory: sessionmaker[Session], address: str, channel: str
) -> int | None:
    """The customer whose address on `channel` the shop registered (PUT
    /api/v1/customers/{id}/channels): the only kind of address that identifies
    a whole customer. One learned in a conversation (a verified order) only
    says where to push warnings; the order itself is known by the signed proof."""
    with session_factory() as session:
        found = session.execute(
            select(CustomerChannelRow.customer_id).where(
                CustomerChannelRow.channel == channel,
                CustomerChannelRow.address == address,
                CustomerChannelRow.source == "shop",
            )
        ).scalar_one_or_none()
    return int(found) if found is not None else None


def reachable(
    session: Session, customer_id: int, channels: tuple[str, ...] = PUSH_CHANNELS, limit: int = 3
) -> list[Reach]:
    """The customer's channels Rasa can push to, most recently used first."""
    rows = session.execute(
        select(CustomerChannelRow)
        .where(CustomerChannelRow.customer_id == customer_id)
        .where(CustomerChannelRow.channel.in_(channels))
        .order_by(CustomerChannelRow.last_seen_at.desc(), CustomerChannelRow.id.desc())
        .limit(limit)
    ).scalars()
    return [Reach(row.channel, row.address, row.source == "shop", row.language) for row in rows]
