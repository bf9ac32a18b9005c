"""The Redis URLs of the chat widget's message queue and presence records.

Every client of them is built with redis-py's `from_url`, which takes the
password from the URL (`redis://:password@host:6379/0`, or with an ACL user
`redis://user:password@host:6379/0`) and speaks TLS for `rediss://`. What this
module adds: the URL without its password, for a log line or an error, and a
check at start-up, so that a password Redis refuses stops the instance with a
message naming the setting instead of a widget that silently gets nothing.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit, urlunsplit

import redis
from redis.exceptions import AuthenticationError, RedisError, ResponseError

logger = logging.getLogger(__name__)


class RedisRefused(RuntimeError):
    """Redis is there but does not accept these credentials: no retry will help."""


def without_password(url: str) -> str:
    """The URL as it may be logged: the password replaced by `***`."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def refused(error: BaseException) -> bool:
    """Whether a Redis error says the credentials are wrong (or missing)."""
    if isinstance(error, AuthenticationError):
        return True
    text = str(error).upper()
    return isinstance(error, ResponseError) and ("NOAUTH" in text or "WRONGPASS" in text)


def check_redis(url: str, setting: str) -> None:
    """Start-up check of a Redis URL. A refused password raises RedisRefused;
    Redis not answering yet is only logged (the clients reconnect by themselves)."""
    client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
    try:
        client.ping()
    except RedisError as error:
        if refused(error):
            raise RedisRefused(
                f"{setting}: Redis at {without_password(url)} refused the credentials "
                f"({type(error).__name__}); check the password in the URL "
                "(redis://:password@host:port/db or redis://user:password@host:port/db)"
            ) from None
        logger.warning(
            "%s: Redis at %s not reachable at start-up (%s); retrying in the background",
            setting,
            without_password(url),
            type(error).__name__,
        )
    finally:
        client.close()
