"""The action server (`python -m bot.action_server`): rasa-sdk's, with two changes.

- It answers only Rasa. rasa-sdk has no auth of its own and trusts the tracker
  it is sent, slots included: anyone reaching its port could post a tracker that
  claims a Telegram sender and read that customer's orders. Every request but
  /health must carry ACTION_SERVER_TOKEN (the `token` of `action_endpoint` in
  endpoints.yml, which Rasa sends as `?token=`); others get 401.
- Actions run in a thread pool (ACTION_THREADS). rasa-sdk calls a synchronous
  `run()` on its event loop, so one slow query or HTTP call (the shop's order
  API, Zendesk) would hold every other conversation's turn.

An error in an action is logged here and answered with a bare 500: rasa-sdk's
own handler sends the exception text and the whole request (the tracker) back.
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import logging
import os
import sys
import zlib
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from rasa_sdk import utils
from rasa_sdk.executor import ActionExecutor, CollectingDispatcher
from rasa_sdk.interfaces import ActionExecutionRejection, ActionNotFoundException, Tracker
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.run_secrets import ACTION_SERVER_NEEDS, secret_problems
from bot.settings import SettingsError, load_settings

logger = logging.getLogger(__name__)


def token_matches(request: Request, token: str) -> bool:
    """`?token=` as Rasa sends it, compared in constant time; never with none set."""
    given = request.args.get("token") or ""
    return bool(token) and hmac.compare_digest(given.encode(), token.encode())


class ThreadedActionExecutor(ActionExecutor):
    """rasa-sdk's executor, with each action run on a worker thread."""

    def __init__(self, pool: ThreadPoolExecutor) -> None:
        super().__init__()
        self.pool = pool

    async def run(self, action_call: Any) -> dict[str, Any] | None:
        action_name = action_call.get("next_action")
        if not action_name:
            logger.warning("an action call without an action")
            return None
        action = self.actions.get(action_name)
        if not action:
            raise ActionNotFoundException(action_name)
        tracker = Tracker.from_dict(action_call["tracker"])
        domain = action_call.get("domain", {})
        dispatcher = CollectingDispatcher()
        loop = asyncio.get_running_loop()
        events = await loop.run_in_executor(
            self.pool, _run_action, action, dispatcher, tracker, domain
        )
        validated = self.validate_events(events or [], action_name)
        return self._create_api_response(validated, dispatcher.messages)


def _run_action(
    action: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
) -> Any:
    """On a worker thread: a synchronous run() as it is, an async one (forms'
    validation) on a loop of this thread's own."""
    result = action(dispatcher, tracker, domain)
    if asyncio.iscoroutine(result):
        return asyncio.run(result)
    return result


def create_app(token: str, actions_package: str = "actions", threads: int = 2) -> Sanic:
    pool = ThreadPoolExecutor(max_workers=max(1, threads), thread_name_prefix="action")
    executor = ThreadedActionExecutor(pool)
    executor.register_package(actions_package)
    app = Sanic("order_assistant_actions", configure_logging=False)

    @app.middleware("request")
    async def only_rasa(request: Request) -> HTTPResponse | None:
        if request.path == "/health" or token_matches(request, token):
            return None
        logger.warning("action server: request without the right token refused")
        return response.json({"error": "unauthorized"}, status=401)

    @app.get("/health")
    async def health(_request: Request) -> HTTPResponse:
        return response.json({"status": "ok"})

    @app.post("/webhook")
    async def webhook(request: Request) -> HTTPResponse:
        if request.headers.get("Content-Encoding") == "deflate":
            import json

            action_call = json.loads(zlib.decompress(request.body))
        else:
            action_call = request.json
        if not isinstance(action_call, dict):
            return response.json({"error": "Invalid body request"}, status=400)
        utils.check_version_compatibility(action_call.get("version"))
        try:
            result = await executor.run(action_call)
        except ActionExecutionRejection as error:
            return response.json(
                {"error": error.message, "action_name": error.action_name}, status=400
            )
        except ActionNotFoundException as error:
            logger.error("action %s not found", error.action_name)
            return response.json(
                {"error": error.message, "action_name": error.action_name}, status=404
            )
        return response.json(result, status=200)

    @app.get("/actions")
    async def actions(_request: Request) -> HTTPResponse:
        return response.json([{"name": name} for name in executor.actions])

    @app.exception(Exception)
    async def failed(request: Request, error: Exception) -> HTTPResponse:
        logger.error("action server: %s failed", request.path, exc_info=error)
        return response.json({"error": "the action failed"}, status=500)

    @app.after_server_stop
    async def stop_pool(_app: Sanic, _loop: asyncio.AbstractEventLoop) -> None:
        pool.shutdown(wait=False, cancel_futures=True)

    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.action_server")
    parser.add_argument("--actions", default="actions", help="the actions package")
    parser.add_argument("--port", type=int, help="default: ACTION_PORT")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s - %(message)s"
    )
    try:
        settings = load_settings()
    except SettingsError as error:
        print(f"settings: {error}", file=sys.stderr)
        return 2
    problems = secret_problems(settings, ACTION_SERVER_NEEDS)
    if not settings.action_server_token:
        problems.append("ACTION_SERVER_TOKEN is not set")  # in the demo too: no open door
    if problems:
        print(f"action server: {'; '.join(problems)}", file=sys.stderr)
        return 2
    # rasa-sdk's default is every interface: loopback unless told otherwise.
    host = os.environ.get("SANIC_HOST") or settings.action_host
    app = create_app(settings.action_server_token, args.actions, settings.action_threads)
    port = args.port or settings.action_port
    logger.info("action server on %s:%s", host, port)
    app.run(host, port, workers=1, access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
