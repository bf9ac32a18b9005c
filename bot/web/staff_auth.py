"""The staff login: one password (STAFF_PASSWORD), a signed session cookie.

Every page under /staff needs it, except the login page itself; pages send
the browser to the login, /staff/api/ calls get 401. Other staff pages (a
handoff queue, ...) only need to live under /staff to be protected.

- The cookie is `<expires>.<nonce>.<signature>`, an HMAC-SHA256 with a key
  derived from the shop's secret and the staff password (a new password ends
  every session), compared in constant time; HttpOnly, SameSite=Strict,
  expiring after SESSION_SECONDS.
- No password set: every login is refused (there is no built-in one).
- Failed logins are throttled per client: after MAX_FAILURES in WINDOW_SECONDS
  that client gets 429 until the oldest failure is out of the window.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from urllib.parse import quote

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse, redirect
from sanic.response import json as json_response

from bot.settings import Settings

logger = logging.getLogger(__name__)

COOKIE = "staff_session"
SESSION_SECONDS = 8 * 3600
MAX_FAILURES = 5
WINDOW_SECONDS = 15 * 60
LOGIN_PATH = "/staff/login"
LOGOUT_PATH = "/staff/logout"


def session_key(settings: Settings) -> bytes:
    """The cookie signing key: from the shop's secret and the staff password."""
    return hmac.new(
        settings.shop_token_secret.encode(),
        b"staff-session\x00" + settings.staff_password.encode(),
        hashlib.sha256,
    ).digest()


def _signature(key: bytes, payload: str) -> str:
    return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()


def make_session(key: bytes, now: float, seconds: int = SESSION_SECONDS) -> str:
    payload = f"{int(now) + seconds}.{secrets.token_urlsafe(12)}"
    return f"{payload}.{_signature(key, payload)}"


def session_valid(cookie: str | None, key: bytes, now: float) -> bool:
    """Signed with `key` and not expired (nor claiming more than a session's length)."""
    if not cookie or cookie.count(".") != 2:
        return False
    payload, _, signature = cookie.rpartition(".")
    if not hmac.compare_digest(signature.encode(), _signature(key, payload).encode()):
        return False
    expires = payload.partition(".")[0]
    if not expires.isdigit():
        return False
    return now < int(expires) <= now + SESSION_SECONDS + 60


def password_matches(given: str, expected: str) -> bool:
    """Constant time, also in the length; never true without a password set."""
    if not expected:
        return False
    return hmac.compare_digest(
        hashlib.sha256(given.encode()).digest(), hashlib.sha256(expected.encode()).digest()
    )


class LoginThrottle:
    """Failed logins per client in a sliding window, in memory (one web process)."""

    def __init__(
        self,
        max_failures: int = MAX_FAILURES,
        window_seconds: float = WINDOW_SECONDS,
        max_clients: int = 10_000,
    ) -> None:
        self.max_failures = max_failures
        self.window_seconds = window_seconds
        self.max_clients = max_clients
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, client: str, now: float) -> deque[float]:
        failures = self._failures.get(client, deque())
        while failures and failures[0] <= now - self.window_seconds:
            failures.popleft()
        return failures

    def blocked_for(self, client: str, now: float) -> float:
        """Seconds until `client` may try again; 0 when it may now."""
        failures = self._recent(client, now)
        if len(failures) < self.max_failures:
            return 0.0
        return failures[-self.max_failures] + self.window_seconds - now

    def failed(self, client: str, now: float) -> None:
        failures = self._recent(client, now)
        failures.append(now)
        self._failures[client] = failures
        self._failures.move_to_end(client)
        while len(self._failures) > self.max_clients:
            self._failures.popitem(last=False)  # the longest quiet client

    def succeeded(self, client: str) -> None:
        self._failures.pop(client, None)


Render = Callable[..., HTTPResponse]


class StaffAuth:
    def __init__(
        self,
        settings: Settings,
        throttle: LoginThrottle | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.key = session_key(settings)
        self.password = settings.staff_password
        self.throttle = throttle or LoginThrottle()
        self.clock = clock

    def is_staff(self, request: Request) -> bool:
        return session_valid(request.cookies.get(COOKIE), self.key, self.clock())

    def start_session(self, response: HTTPResponse) -> HTTPResponse:
        response.cookies[COOKIE] = make_session(self.key, self.clock())
        response.cookies[COOKIE]["httponly"] = True
        response.cookies[COOKIE]["samesite"] = "Strict"
        response.cookies[COOKIE]["max-age"] = SESSION_SECONDS
        response.cookies[COOKIE]["path"] = "/staff"
        return response


def client_of(request: Request) -> str:
    """Who is trying: the peer's address (behind a proxy, configure Sanic's
    FORWARDED_SECRET or REAL_IP_HEADER so that this is the real client)."""
    return str(request.remote_addr or request.ip or "?")


def safe_next(value: object) -> str:
    """Back to a staff page after login, never to another site."""
    target = str(value or "")
    if target.startswith("/staff") and not target.startswith("//") and "\\" not in target:
        return target
    return "/staff"


def add_staff_login(app: Sanic, auth: StaffAuth, render_login: Render) -> None:
    """/staff/login, /staff/logout, and the guard in front of every other /staff path.

    `render_login(request, error=..., status=..., next_path=...)` draws the login page.
    """

    @app.middleware("request")
    async def staff_only(request: Request) -> HTTPResponse | None:
        path = request.path
        if not (path == "/staff" or path.startswith("/staff/")) or path == LOGIN_PATH:
            return None
        if auth.is_staff(request):
            return None
        if path.startswith("/staff/api/"):
            return json_response({"error": "staff login required"}, status=401)
        wanted = path + (f"?{request.query_string}" if request.query_string else "")
        language = str(request.args.get("lang") or "")
        also = f"&lang={language}" if language in ("nl", "en") else ""
        return redirect(f"{LOGIN_PATH}?next={quote(wanted, safe='')}{also}")

    @app.get(LOGIN_PATH)
    async def login_page(request: Request) -> HTTPResponse:
        return render_login(request, error=None, status=200, next_path=request.args.get("next"))

    @app.post(LOGIN_PATH)
    async def login(request: Request) -> HTTPResponse:
        client, now = client_of(request), auth.clock()
        next_path = safe_next(request.form.get("next"))
        wait = auth.throttle.blocked_for(client, now)
        if wait > 0:
            logger.warning("staff login throttled for a client (%d s left)", int(wait))
            response = render_login(request, error="throttled", status=429, next_path=next_path)
            response.headers["Retry-After"] = str(int(wait) + 1)
            return response
        if not password_matches(str(request.form.get("password") or ""), auth.password):
            auth.throttle.failed(client, now)
            logger.info("staff login refused")
            return render_login(request, error="wrong", status=401, next_path=next_path)
        auth.throttle.succeeded(client)
        logger.info("staff login")
        return auth.start_session(redirect(next_path))

    @app.post(LOGOUT_PATH)
    async def logout(request: Request) -> HTTPResponse:
        language = str(request.args.get("lang") or "")
        response = redirect(LOGIN_PATH + (f"?lang={language}" if language in ("nl", "en") else ""))
        response.cookies[COOKIE] = ""
        response.cookies[COOKIE]["max-age"] = 0
        response.cookies[COOKIE]["path"] = "/staff"
        response.cookies[COOKIE]["httponly"] = True
        response.cookies[COOKIE]["samesite"] = "Strict"
        return response
