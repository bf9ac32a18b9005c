"""Bearer-token checks for the HTTP endpoints we serve."""

from __future__ import annotations

import hmac

from sanic.request import Request


def bearer_matches(request: Request, token: str) -> bool:
    """`Authorization: Bearer <token>`, compared in constant time; never with no token set."""
    header = request.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    return (
        scheme.lower() == "bearer"
        and bool(token)
        and hmac.compare_digest(given.encode(), token.encode())
    )
