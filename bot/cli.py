"""Command line: `python -m bot <command>` (see `python -m bot --help`)."""

from __future__ import annotations

import argparse
import logging
import sys

from bot.settings import SettingsError, load_settings


def _session_factory(database_url: str):
    from bot.orders.sql.database import create_db_engine, make_session_factory

    return make_session_factory(create_db_engine(database_url))


def cmd_migrate(_args: argparse.Namespace) -> int:
    from bot.orders.sql.migrate import upgrade_database

    settings = load_settings()
    upgrade_database(settings.database_url)
    print("database schema is up to date")
    return 0


def cmd_seed(_args: argparse.Namespace) -> int:
    """Migrate, then seed the demo shop once (dates relative to today)."""
    from bot.clock import shop_today
    from bot.demo_shop import seed_demo_shop
    from bot.orders.sql.migrate import upgrade_database

    settings = load_settings()
    upgrade_database(settings.database_url)
    if seed_demo_shop(_session_factory(settings.database_url), shop_today(settings.shop_timezone)):
        print("demo shop seeded: customers 1001-1006, orders 10001-10006")
    else:
        print("demo shop already seeded")
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from bot.clock import shop_today
    from bot.generator import generate_orders
    from bot.orders.sql.migrate import upgrade_database

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
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    """A customer token as the shop site would sign it (for trying the REST channel)."""
    from bot.identity import make_customer_token

    settings = load_settings()
    print(make_customer_token(args.customer_id, settings.shop_token_secret, args.ttl))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from bot.runner import run_services

    return run_services(load_settings(), model=args.model)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
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
    run = commands.add_parser("run", help="run the Rasa server and the action server")
    run.add_argument("--model", default="models/order-assistant.tar.gz")
    run.set_defaults(handler=cmd_run)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except SettingsError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
