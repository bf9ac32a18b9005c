"""Blocking work (the database, the shop's order API, Zendesk) off Sanic's event
loop, in a bounded thread pool, with retries when the database was briefly away.

`off_loop(fn, *args)` runs `fn` in the loop's default executor, which
`use_bounded_pool` sets to THREADS workers at server start (so `asyncio.to_thread`
elsewhere uses it too). A connection error is tried again after BACKOFF
seconds, doubling, ATTEMPTS times in all; then it is raised, and the app answers
503 (bot/web/app.py). Only work that is safe to repeat is retried: reads, and
writes whose transaction either happened entirely or not at all and that carry
an Idempotency-Key (a commit whose answer was lost is then found, not redone).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from bot.database import database_unreachable
from bot.orders.system import OrderSystemUnavailable

logger = logging.getLogger(__name__)

T = TypeVar("T")

# The database's pool holds 15 connections (5 + 10 overflow): a few more threads
# serve the order API and Zendesk while all of those are busy.
THREADS = 20
ATTEMPTS = 3
BACKOFF = 0.25


def database_down(error: BaseException) -> bool:
    """True for an error a working database would not have given."""
    if database_unreachable(error):
        return True
    # The SQL order system wraps the database's errors: look at the cause.
    if isinstance(error, OrderSystemUnavailable) and error.__cause__ is not None:
        return database_down(error.__cause__)
    return False


def use_bounded_pool(loop: asyncio.AbstractEventLoop, threads: int = THREADS) -> ThreadPoolExecutor:
    executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="web-blocking")
    loop.set_default_executor(executor)
    return executor


async def off_loop(fn: Callable[..., T], *args: Any, retry: bool = True) -> T:
    """`fn(*args)` in the thread pool; tried again on a database connection error."""
    loop = asyncio.get_running_loop()
    call = functools.partial(fn, *args)
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return await loop.run_in_executor(None, call)
        except Exception as error:
            if not retry or attempt == ATTEMPTS or not database_down(error):
                raise
            delay = BACKOFF * 2 ** (attempt - 1)
            logger.warning(
                "database unavailable (%s), try %d of %d in %.2fs",
                type(error).__name__,
                attempt + 1,
                ATTEMPTS,
                delay,
            )
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")
