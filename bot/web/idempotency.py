"""Idempotency-Key for the intake: a call sent again gets the first answer.

An order system that retries (a timeout, a restart) must not move every order
a second time and queue a second warning. With an `Idempotency-Key` header the
key, the endpoint and a hash of the request are written in the same
transaction as the change itself, with the answer:

- the same key again (within IDEMPOTENCY_HOURS) gets the stored answer, and
  nothing moves; with another request (body or order) it gets 422, as Stripe
  does;
- two calls with the same key at once: the unique key + endpoint makes the
  second wait for the first's transaction (PostgreSQL's unique index, SQLite's
  write lock) and then answer what the first answered; when the first failed
  (rolled back), the second does the work itself;
- a call that fails (unknown order, database gone) stores nothing: sent again
  it is simply tried again.

Expired keys are treated as absent and deleted now and then (`forget_expired`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.memory.idempotency import IdempotencyKeyRow

HEADER = "Idempotency-Key"
MAX_KEY_CHARS = 255
# Rows deleted per cleanup round (the rest goes next time).
CLEANUP_BATCH = 1000


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    replayed: bool = field(default=False, compare=False)


class KeyReused(Exception):
    """The key came before with another request."""


class KeyInProgress(Exception):
    """The key's first call has not finished (only where the first is not waited for)."""


class _Taken(Exception):
    """The key row exists already (raised inside the transaction, to roll it back)."""


def key_problem(key: str) -> str | None:
    """Why a header value cannot be a key, or None."""
    if not 1 <= len(key) <= MAX_KEY_CHARS:
        return f"must be 1 to {MAX_KEY_CHARS} characters"
    if not key.isascii() or not key.isprintable():
        return "must be printable ASCII"
    return None


def request_hash(path: str, data: Any) -> str:
    """The request as the key promises it: the path (which order) and the body,
    the same however the JSON was spaced or ordered."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{path}\n{canonical}".encode()).hexdigest()


def run_once(
    sessions: sessionmaker[Session],
    *,
    key: str,
    endpoint: str,
    fingerprint: str,
    now: datetime,
    hours: float,
    work: Callable[[Session], Answer],
) -> Answer:
    """`work` in one transaction with the key's row, or the answer stored for the key.

    Raises KeyReused, KeyInProgress, or whatever `work` raises (then nothing is kept).
    """
    for _attempt in range(3):
        with sessions() as session:
            try:
                with session.begin():
                    row = IdempotencyKeyRow(
                        key=key,
                        endpoint=endpoint,
                        request_hash=fingerprint,
                        created_at=now,
                        expires_at=now + timedelta(hours=hours),
                    )
                    session.add(row)
                    try:
                        # A concurrent call with the same key waits here until ours ends.
                        session.flush()
                    except IntegrityError as error:
                        raise _Taken from error
                    answer = work(session)
                    row.status_code = answer.status
                    row.response_body = json.dumps(answer.body)
                return answer
            except _Taken:
                pass
        stored = _stored(sessions, key, endpoint, fingerprint, now)
        if stored is not None:
            return stored
        # The row was gone (its call rolled back) or expired and now deleted: again.
    raise KeyInProgress(key)


def _stored(
    sessions: sessionmaker[Session], key: str, endpoint: str, fingerprint: str, now: datetime
) -> Answer | None:
    with sessions() as session, session.begin():
        row = session.execute(
            select(IdempotencyKeyRow).where(
                IdempotencyKeyRow.key == key, IdempotencyKeyRow.endpoint == endpoint
            )
        ).scalar_one_or_none()
        if row is None:
            return None
        if row.expires_at <= now:
            session.delete(row)  # an old key: as if it never came
            return None
        if row.request_hash != fingerprint:
            raise KeyReused(key)
        if row.status_code is None or row.response_body is None:
            raise KeyInProgress(key)
        return Answer(int(row.status_code), json.loads(row.response_body), replayed=True)


def forget_expired(sessions: sessionmaker[Session], now: datetime) -> int:
    """Delete keys past their time (a batch at a time); how many went."""
    with sessions() as session, session.begin():
        ids = list(
            session.execute(
                select(IdempotencyKeyRow.id)
                .where(IdempotencyKeyRow.expires_at <= now)
                .limit(CLEANUP_BATCH)
            ).scalars()
        )
        if ids:
            session.execute(delete(IdempotencyKeyRow).where(IdempotencyKeyRow.id.in_(ids)))
        return len(ids)
