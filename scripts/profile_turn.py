"""`make profile-turn`: where the action server's share of a turn goes.

Runs the actions of the core turns in this process against the demo shop (a
fresh SQLite file, or PROFILE_DATABASE_URL), as the action server runs them,
and counts per action: wall and CPU milliseconds (median of PROFILE_TURNS
runs) and SQL statements, by kind. With PROFILE_CPROFILE=1 it also prints the
functions where the answer's time goes. Writes bench-results/turn-profile.json
and .md. Rasa's own share (NLU, policies, the tracker store) is measured by
`make bench` (CPU seconds per process under load).
"""

from __future__ import annotations

import cProfile
import json
import os
import pstats
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, sessionmaker

from actions.conversation import ActionGreet
from actions.order_questions import ActionAnswerOrderQuestion
from actions.services import build_services, use_services
from actions.warnings import ActionDeliverWarning
from bot.clock import shop_today, utcnow
from bot.demo_shop import migrate_and_seed
from bot.identity import make_customer_token
from bot.orders.sql.tables import OrderRow
from bot.proactive.channels import remember_channel
from bot.proactive.intake import OrderChange, apply_order_change
from bot.proactive.push_signature import sign_push
from bot.proactive.rasa_api import WARNING_INTENT
from bot.settings import PROJECT_ROOT, load_settings

RESULTS = PROJECT_ROOT / "bench-results"
TURNS = int(os.environ.get("PROFILE_TURNS", "50"))
SECRET = "profile-shop-secret-at-least-32-bytes-long"
PUSH_SECRET = "profile-push-secret-at-least-32-bytes-long"
CUSTOMERS = (1001, 1002, 1003, 1004, 1005, 1006)
DOMAIN: dict[str, Any] = {}


def log(message: str) -> None:
    print(f"[profile-turn] {message}", flush=True)


def tracker(customer_id: int, text: str, intent: str, turn: int) -> Tracker:
    """The customer's message as Rasa sends it to the action server."""
    return Tracker(
        sender_id=f"profile-{customer_id}",
        slots={"language": "nl"},
        latest_message={
            "text": text,
            "intent": {"name": intent, "confidence": 0.99},
            "entities": [],
            "metadata": {"customer_token": make_customer_token(customer_id, SECRET)},
            "message_id": f"profile-{customer_id}-{intent}-{turn}",
        },
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


class StatementCounter:
    """SQL statements sent to the database, by their first word; and the
    connections taken from the pool (each one a ping on PostgreSQL, and a
    rollback or commit when it goes back)."""

    def __init__(self) -> None:
        self.kinds: Counter[str] = Counter()
        self.checkouts = 0

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.kinds[statement.lstrip().split(None, 1)[0].upper()] += 1

    def checked_out(self, *_args: Any) -> None:
        self.checkouts += 1


def pushed(sessions: sessionmaker[Session], customer_id: int, turn: int) -> Tracker:
    """A new warning for the customer (their first order's date moves a day),
    pushed to their chat as the notifier pushes it."""
    with sessions() as session:
        order_id = session.execute(
            select(func.min(OrderRow.id)).where(OrderRow.customer_id == customer_id)
        ).scalar_one()
    moved = (shop_today("Europe/Amsterdam") + timedelta(days=30 + turn)).isoformat()
    change = OrderChange(
        order_id, "promised_date", moved, "production_problem", party_type="supplier"
    )
    [warning_id] = apply_order_change(sessions, change, utcnow()).warning_ids
    chat = f"profile-chat-{customer_id}"
    remember_channel(sessions, customer_id, "socketio", chat, utcnow())
    return Tracker(
        sender_id=chat,
        slots={"language": "nl"},
        latest_message={
            "text": "EXTERNAL: EXTERNAL_order_warning",
            "intent": {"name": WARNING_INTENT, "confidence": 1.0},
            "entities": [
                {"entity": "warning_id", "value": str(warning_id)},
                {"entity": "push_channel", "value": "socketio"},
                {
                    "entity": "push_signature",
                    "value": sign_push(PUSH_SECRET, warning_id, chat, "socketio"),
                },
            ],
            "metadata": {},
        },
        # The customer opened the chat on the shop's site, logged in (their token).
        events=[
            {
                "event": "user",
                "text": "hallo",
                "metadata": {"customer_token": make_customer_token(customer_id, SECRET)},
            }
        ],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


def measure(
    action: Action, make: Callable[[int, int], Tracker], counter: StatementCounter
) -> dict[str, Any]:
    walls, cpus, statements, connections = [], [], [], []
    for turn in range(TURNS):
        customer = CUSTOMERS[turn % len(CUSTOMERS)]
        tracker_now = make(customer, turn)  # a push's warning is made here, not measured
        before, checkouts_before = sum(counter.kinds.values()), counter.checkouts
        wall, cpu = time.perf_counter(), time.process_time()
        action.run(CollectingDispatcher(), tracker_now, DOMAIN)
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
        statements.append(sum(counter.kinds.values()) - before)
        connections.append(counter.checkouts - checkouts_before)
    return {
        "wall_ms_median": round(statistics.median(walls), 2),
        "cpu_ms_median": round(statistics.median(cpus), 2),
        "statements_per_turn": round(statistics.mean(statements), 2),
        "connections_per_turn": round(statistics.mean(connections), 2),
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = os.environ.get("PROFILE_DATABASE_URL") or f"sqlite:///{Path(folder) / 'shop.db'}"
        os.environ.update(
            DATABASE_URL=url, SHOP_TOKEN_SECRET=SECRET, PUSH_SECRET=PUSH_SECRET, ORDER_SYSTEM="sql"
        )
        settings = load_settings()
        migrate_and_seed(url, shop_today(settings.shop_timezone))
        services = build_services(settings)
        use_services(services)
        counter = StatementCounter()
        engine = services.sessions.kw["bind"]
        event.listen(engine, "before_cursor_execute", counter)
        event.listen(engine.pool, "checkout", counter.checked_out)
        turns = {
            "greet (action_greet)": (
                ActionGreet(),
                lambda c, t: tracker(c, "hallo", "greet", t),
            ),
            "what changed? (action_answer_order_question)": (
                ActionAnswerOrderQuestion(),
                lambda c, t: tracker(c, "wat is er gewijzigd?", "ask_changes", t),
            ),
            "where is my parcel? (action_answer_order_question)": (
                ActionAnswerOrderQuestion(),
                lambda c, t: tracker(c, "waar is mijn pakket?", "ask_tracking", t),
            ),
            "a warning pushed (action_deliver_warning)": (
                ActionDeliverWarning(),
                lambda c, t: pushed(services.sessions, c, t),
            ),
        }
        results: dict[str, Any] = {}
        for name, (action, make) in turns.items():
            measure(action, make, counter)  # warm: caches, connections, the first offers
            counter.kinds.clear()
            results[name] = measure(action, make, counter)
            results[name]["statements_by_kind"] = dict(counter.kinds)
            log(f"{name}: {results[name]}")
        if os.environ.get("PROFILE_CPROFILE"):
            action, make = turns["what changed? (action_answer_order_question)"]
            profile = cProfile.Profile()
            profile.enable()
            measure(action, make, counter)
            profile.disable()
            pstats.Stats(profile).sort_stats("cumulative").print_stats(30)
        services.questions.stop()  # its last counts, before the file goes
        use_services(None)
        engine.dispose()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "turn-profile.json").write_text(json.dumps(results, indent=2))
    lines = [
        "| turn | wall ms (median) | CPU ms (median) | connections | SQL statements per turn |",
        "|---|---|---|---|---|",
    ]
    for name, row in results.items():
        lines.append(
            f"| {name} | {row['wall_ms_median']} | {row['cpu_ms_median']} "
            f"| {row['connections_per_turn']} "
            f"| {row['statements_per_turn']} ({row['statements_by_kind']}) |"
        )
    (RESULTS / "turn-profile.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
