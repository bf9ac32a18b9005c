"""Command line: `python -m bot <command>` (see `python -m bot --help`)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from bot.run_secrets import NOTIFIER_NEEDS, WEB_NEEDS
from bot.settings import Settings, SettingsError, load_settings


def _session_factory(database_url: str):
    from bot.database import create_db_engine, make_session_factory

    return make_session_factory(create_db_engine(database_url))


def cmd_migrate(_args: argparse.Namespace) -> int:
    from bot.database import upgrade_database

    settings = load_settings()
    upgrade_database(settings.database_url)
    print("database schema is up to date")
    return 0


def cmd_seed(_args: argparse.Namespace) -> int:
    """Migrate, then seed the demo shop once (dates relative to today), with DEMO_SHOP=true."""
    from bot.demo_shop import prepare_database

    seeded = prepare_database(load_settings())
    if seeded is None:
        print("database schema is up to date; DEMO_SHOP is off: the demo shop is not seeded")
    elif seeded:
        print("demo shop seeded: customers 1001-1006, orders 10001-10006")
    else:
        print("demo shop already seeded")
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from bot.clock import shop_today
    from bot.database import upgrade_database
    from bot.generator import generate_orders

    settings = load_settings()
    upgrade_database(settings.database_url)
    with tqdm(total=args.orders, unit="orders", desc="generating") as bar:
        made = generate_orders(
            _session_factory(settings.database_url),
            args.orders,
            shop_today(settings.shop_timezone),
            seed=args.seed,
            progress=bar.update,
            orders_per_customer=args.orders_per_customer,
        )
    print(f"{made} orders added")
    return 0


def cmd_check(_args: argparse.Namespace) -> int:
    """Check the settings and the text files staff may edit."""
    from bot.texts import load_catalog

    settings = load_settings()
    catalog = load_catalog(settings.reason_texts_path, settings.message_texts_path)
    print(f"texts ok: {len(catalog.reasons)} reason codes, {len(catalog.messages)} messages")
    from bot.compensation.rules import load_policy

    policy = load_policy(settings.compensation_rules_path)
    print(f"compensation rules ok: {len(policy.rules)} rules")
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    """A customer token as the shop site would sign it (for trying the REST channel)."""
    from bot.identity import make_customer_token

    settings = load_settings()
    if not settings.shop_token_secret:
        print("SHOP_TOKEN_SECRET is not set (DEMO_SHOP=true uses the demo's)", file=sys.stderr)
        return 2
    print(make_customer_token(args.customer_id, settings.shop_token_secret, args.ttl))
    return 0


def _unsafe_secrets(settings: Settings, needs: tuple[str, ...]) -> bool:
    """True (and says why) when a secret is missing, short or public outside the demo."""
    from bot.run_secrets import secret_problems

    problems = secret_problems(settings, needs)
    for problem in problems:
        print(f"secrets: {problem} (see .env.example and docs/security.md)", file=sys.stderr)
    return bool(problems)


def cmd_web(_args: argparse.Namespace) -> int:
    from bot.web.app import run_web

    settings = load_settings()
    if _unsafe_secrets(settings, WEB_NEEDS):
        return 2
    return run_web(settings)


def cmd_notifier(args: argparse.Namespace) -> int:
    from bot.proactive.worker import run_notifier

    settings = load_settings()
    if _unsafe_secrets(settings, NOTIFIER_NEEDS):
        return 2
    return run_notifier(settings, once=args.once)


def cmd_watch(_args: argparse.Namespace) -> int:
    """One pass of the promise watcher."""
    from bot.bootstrap import build_shop
    from bot.clock import shop_today, utcnow
    from bot.proactive.watcher import watch_promises

    settings = load_settings()
    sessions = _session_factory(settings.database_url)
    result = watch_promises(
        sessions, build_shop(settings, sessions), shop_today(settings.shop_timezone), utcnow()
    )
    print(
        f"promises: {len(result.kept)} kept, {len(result.at_risk)} at risk, "
        f"{len(result.broken)} broken; {len(result.warning_ids)} warnings queued"
    )
    return 0


def cmd_delay(args: argparse.Namespace) -> int:
    """A supplier delay from the command line, as POST /api/v1/supplier-delays."""
    from pydantic import ValidationError

    from bot.clock import utcnow
    from bot.proactive.intake import apply_supplier_delay
    from bot.web.requests import SupplierDelayBody, field_errors

    settings = load_settings()
    fields = {
        "supplier": args.supplier,
        "reason_code": args.reason_code,
        "reason": args.reason,
        "sku": args.sku,
        "product": args.product,
        "new_date": args.new_date,
        "delay_days": args.delay_days,
    }
    try:
        delay = SupplierDelayBody(**{k: v for k, v in fields.items() if v is not None}).to_delay()
    except ValidationError as error:
        for problem in field_errors(error):
            print(f"{problem['field']}: {problem['error']}", file=sys.stderr)
        return 2
    result = apply_supplier_delay(_session_factory(settings.database_url), delay, utcnow())
    print(f"{len(result.order_ids)} orders moved, {len(result.warning_ids)} warnings queued")
    if result.order_ids:
        print(
            "orders: "
            + ", ".join(map(str, result.order_ids[:50]))
            + (" ..." if len(result.order_ids) > 50 else "")
        )
    return 0


def cmd_outbox(args: argparse.Namespace) -> int:
    from bot.clock import utcnow
    from bot.proactive.outbox import counts, id_list, list_warnings, retry_warning

    sessions = _session_factory(load_settings().database_url)
    if args.retry:
        if not retry_warning(sessions, args.retry, utcnow()):
            print(f"warning {args.retry} is not dead or unread", file=sys.stderr)
            return 1
        print(f"warning {args.retry} queued again")
        return 0
    print("  ".join(f"{status}: {count}" for status, count in counts(sessions).items()))
    for w in list_warnings(sessions, status=args.status, limit=args.limit):
        orders = ",".join(map(str, id_list(w.order_ids)))
        print(
            f"#{w.id:<6} {w.status:<10} customer {w.customer_id:<7} {w.kind:<16} "
            f"orders {orders:<14} attempts {w.attempts} {w.last_error or ''}"
        )
    return 0


def cmd_sources(_args: argparse.Namespace) -> int:
    """Each shop platform: on or off, its last delivery, deliveries per status, errors."""
    from bot.sources.inbox import source_report
    from bot.sources.registry import SOURCE_NAMES

    settings = load_settings()
    sessions = _session_factory(settings.database_url)
    secrets = {
        "shopify": settings.sources.shopify_webhook_secret,
        "woocommerce": settings.sources.woocommerce_webhook_secret,
        "sendcloud": settings.sources.sendcloud_webhook_secret,
    }
    for name in SOURCE_NAMES:
        report = source_report(sessions, name)
        state = "on" if secrets[name] else "off (no webhook secret)"
        last = (
            report.last_received_at.strftime("%Y-%m-%d %H:%M:%S UTC")
            if report.last_received_at
            else "never"
        )
        counts = "  ".join(f"{status}: {count}" for status, count in sorted(report.counts.items()))
        print(f"{name:<12} {state:<24} last event {last}  {counts}")
        for received, topic, error in report.last_errors:
            print(f"    {received:%Y-%m-%d %H:%M} {topic}: {error}")
    return 0


def cmd_channel(args: argparse.Namespace) -> int:
    """As PUT /api/v1/customers/{id}/channels."""
    from pydantic import ValidationError

    from bot.clock import utcnow
    from bot.proactive.channels import remember_shop_address
    from bot.web.requests import ChannelAddressBody, field_errors

    try:
        body = ChannelAddressBody(channel=args.channel, address=args.address)
    except ValidationError as error:
        for item in field_errors(error):
            print(f"{item['field']}: {item['error']}", file=sys.stderr)
        return 2
    from bot.bootstrap import build_shop

    settings = load_settings()
    sessions = _session_factory(settings.database_url)
    try:
        remember_shop_address(
            sessions,
            build_shop(settings, sessions),
            args.customer,
            body.channel,
            body.address,
            utcnow(),
        )
    except LookupError as error:
        print(str(error), file=sys.stderr)
        return 1
    print(f"customer {args.customer}: reachable on {body.channel}")
    return 0


def cmd_telegram_webhook(args: argparse.Namespace) -> int:
    """Point Telegram at this assistant's webhook, with the secret it checks."""
    import os

    from bot.channels.telegram_setup import set_webhook

    token = os.environ.get("TELEGRAM_ACCESS_TOKEN", "")
    secret = os.environ.get("TELEGRAM_SECRET_TOKEN", "")
    if not token or not secret:
        print("set TELEGRAM_ACCESS_TOKEN and TELEGRAM_SECRET_TOKEN first", file=sys.stderr)
        return 2
    try:
        result = set_webhook(load_settings().telegram_api_url, token, secret, args.url)
    except RuntimeError as error:
        print(str(error), file=sys.stderr)
        return 1
    print(f"Telegram: {result}")
    return 0


def cmd_promises(args: argparse.Namespace) -> int:
    from bot.clock import utcnow
    from bot.proactive.promises import list_promises, mark_kept

    sessions = _session_factory(load_settings().database_url)
    if args.kept is not None:
        if not mark_kept(sessions, args.kept, utcnow()):
            print(f"promise {args.kept} is not open", file=sys.stderr)
            return 1
        print(f"promise {args.kept}: kept")
        return 0
    rows = list_promises(sessions, status=args.status)
    by_status: dict[str, int] = {}
    for promise in rows:
        by_status[promise.status] = by_status.get(promise.status, 0) + 1
    print("  ".join(f"{status}: {count}" for status, count in sorted(by_status.items())))
    for p in rows:
        due = p.due_date.isoformat() if p.due_date else (p.due_at.isoformat() if p.due_at else "")
        print(
            f"#{p.id:<6} {p.status:<8} {p.kind:<14} customer {p.customer_id:<7} "
            f"order {p.order_id or '':<7} due {due:<19} by {p.made_by}"
        )
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from bot.runner import run_services

    return run_services(
        load_settings(), model=args.model, without=tuple(args.without), log_path=args.log_file
    )


def cmd_cluster(args: argparse.Namespace) -> int:
    from bot.cluster import run_cluster

    return run_cluster(load_settings(), model=args.model)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    parser.add_argument(
        "--default",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set NAME when neither the environment nor .env does (make run: DEMO_SHOP=true)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="bring the database schema up to date").set_defaults(
        handler=cmd_migrate
    )
    commands.add_parser("seed", help="migrate and seed the demo shop (once)").set_defaults(
        handler=cmd_seed
    )
    generate = commands.add_parser("generate", help="add N realistic orders with events")
    generate.add_argument("--orders", type=int, required=True)
    generate.add_argument("--seed", type=int, default=7)
    generate.add_argument("--orders-per-customer", type=int, default=1)
    generate.set_defaults(handler=cmd_generate)
    commands.add_parser("check", help="check settings and text files").set_defaults(
        handler=cmd_check
    )
    token = commands.add_parser("token", help="print a signed customer token")
    token.add_argument("customer_id", type=int)
    token.add_argument("--ttl", type=int, default=3600)
    token.set_defaults(handler=cmd_token)
    commands.add_parser("web", help="the web service: intake API and outbox").set_defaults(
        handler=cmd_web
    )
    notifier = commands.add_parser("notifier", help="deliver queued warnings; watch promises")
    notifier.add_argument("--once", action="store_true", help="one batch and one watch, then stop")
    notifier.set_defaults(handler=cmd_notifier)
    commands.add_parser("watch", help="one pass of the promise watcher").set_defaults(
        handler=cmd_watch
    )
    delay = commands.add_parser("delay", help="a supplier delay for every open order it affects")
    delay.add_argument("--supplier", required=True)
    delay.add_argument("--reason-code", required=True)
    delay.add_argument("--reason", default="")
    delay.add_argument("--sku")
    delay.add_argument("--product")
    when = delay.add_mutually_exclusive_group(required=True)
    when.add_argument("--new-date", help="YYYY-MM-DD")
    when.add_argument("--delay-days", type=int)
    delay.set_defaults(handler=cmd_delay)
    outbox = commands.add_parser("outbox", help="warnings by status; retry a dead one")
    outbox.add_argument("--status")
    outbox.add_argument("--limit", type=int, default=50)
    outbox.add_argument("--retry", type=int, metavar="WARNING_ID")
    outbox.set_defaults(handler=cmd_outbox)
    commands.add_parser(
        "sources", help="the shop platforms (Shopify, WooCommerce, Sendcloud): last events, errors"
    ).set_defaults(handler=cmd_sources)
    channel = commands.add_parser("channel", help="an address the shop knows for a customer")
    channel.add_argument("--customer", type=int, required=True)
    channel.add_argument("--channel", required=True, help="telegram, slack, twilio or callback")
    channel.add_argument("--address", required=True, help="chat id, phone number, ...")
    channel.set_defaults(handler=cmd_channel)
    webhook = commands.add_parser("telegram-webhook", help="tell Telegram where to send updates")
    webhook.add_argument("url", help="https://<your shop>/webhooks/telegram/webhook")
    webhook.set_defaults(handler=cmd_telegram_webhook)
    promises = commands.add_parser("promises", help="open, kept and broken promises")
    promises.add_argument("--status")
    promises.add_argument("--kept", type=int, metavar="ID", help="staff kept this promise")
    promises.set_defaults(handler=cmd_promises)
    run = commands.add_parser("run", help="run everything: Rasa, actions, web, notifier")
    run.add_argument("--model", default="models/order-assistant.tar.gz")
    run.add_argument(
        "--without",
        action="append",
        default=[],
        choices=["web", "notifier"],
        help="leave out a process (tests start their own)",
    )
    run.add_argument(
        "--log-file",
        type=Path,
        help="every line of every process (default var/logs/run.log; the console "
        "leaves out the libraries' deprecation noise)",
    )
    run.set_defaults(handler=cmd_run)
    cluster = commands.add_parser(
        "cluster", help="nginx, several Rasa instances, notifiers and web on PostgreSQL and Redis"
    )
    cluster.add_argument("--model", default="models/order-assistant.tar.gz")
    cluster.set_defaults(handler=cmd_cluster)
    return parser


def read_env_file(defaults: list[str]) -> None:
    """.env where the environment has nothing, then the command's defaults."""
    from bot.env_file import apply_defaults, load_env_file
    from bot.settings import ENV_FILE

    load_env_file(ENV_FILE)
    apply_defaults(defaults)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    args = build_parser().parse_args(argv)
    try:
        read_env_file(args.default)
        return int(args.handler(args))
    except SettingsError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
