"""One unit of work: one transaction on the assistant's memory, the shop beside
it, and what the answer is said with. Everything a use case writes to the
memory commits together or not at all; what must wait for the commit (a
helpdesk ticket) is queued with `after_commit`."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.orm import Session, sessionmaker

from bot.clock import shop_today, utcnow
from bot.orders.remembered import RememberedOrders
from bot.settings import Settings
from bot.texts import Catalog

logger = logging.getLogger(__name__)


@dataclass
class Work:
    # The assistant's memory, in one transaction.
    session: Session
    # The shop: another system with transactions of its own, and what the
    # customer was told of it (RememberingOrders.mark_informed commits on its
    # own). A use case has it write (cancel, a follow-up, the told marker)
    # before it writes to `session`: in one SQLite file the other write would
    # wait for this unit's write lock.
    orders: RememberedOrders
    catalog: Catalog
    settings: Settings
    now: datetime  # naive UTC, one moment for the whole unit
    _after_commit: list[Callable[[], None]] = field(default_factory=list)

    @property
    def today(self) -> date:
        return shop_today(self.settings.shop_timezone)

    def text(self, key: str, language: str, **values: object) -> str:
        return self.catalog.message(key, language, **values)

    def after_commit(self, task: Callable[[], None]) -> None:
        """Run `task` once the unit has committed (never when it rolled back)."""
        self._after_commit.append(task)


@contextmanager
def open_work(
    sessions: sessionmaker[Session],
    orders: RememberedOrders,
    catalog: Catalog,
    settings: Settings,
    now: datetime | None = None,
) -> Iterator[Work]:
    """A Work: committed when the block ends, rolled back when it raises."""
    with sessions() as session:
        with session.begin():
            work = Work(session, orders, catalog, settings, now or utcnow())
            yield work
        for task in work._after_commit:
            try:
                task()
            except Exception as error:  # noqa: BLE001 - committed work stands
                logger.error("after commit: %s", type(error).__name__)
