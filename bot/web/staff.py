"""The staff dashboard: why orders change, warnings, promises, what customers ask.

  GET  /staff                 the dashboard (Dutch or English, `?lang=`)
  GET  /staff/api/stats       its figures as JSON, labelled (the charts draw these)
  GET  /staff/login, POST /staff/login, POST /staff/logout   (bot/web/staff_auth.py)
  GET  /static/chart.umd.js   Chart.js's UMD bundle, straight from node_modules

The figures come from bot/staff/stats.py; the charts are drawn by Chart.js
(bot/web/static/staff_dashboard.js).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse, file, html, text
from sanic.response import json as json_response
from sqlalchemy.orm import Session, sessionmaker

from bot.analytics.intent_labels import intent_label
from bot.clock import shop_today
from bot.settings import PROJECT_ROOT, Settings
from bot.sources.inbox import SourceReport, source_report
from bot.staff.stats import (
    OTHER_SUPPLIERS,
    DashboardFigures,
    dashboard_figures,
)
from bot.web.blocking import off_loop
from bot.web.staff_auth import LOGOUT_PATH, StaffAuth, add_staff_login, safe_next
from bot.web.staff_texts import STAFF_TEXTS, reason_label

CHART_BUNDLE = PROJECT_ROOT / "node_modules" / "chart.js" / "dist" / "chart.umd.js"
DASHBOARD_SCRIPT = Path(__file__).parent / "static" / "staff_dashboard.js"
WEEKS = 12
# queued and sending are both "not out yet" for staff.
WARNING_BARS = ("queued", "sent", "unread", "dead", "suppressed")


def figures_json(figures: DashboardFigures, language: str) -> dict[str, Any]:
    """The figures with the staff's words for every code, ready for the charts."""
    t = STAFF_TEXTS[language]
    by_status = dict(figures.warnings_by_status)
    by_status["queued"] = by_status.get("queued", 0) + by_status.pop("sending", 0)
    return {
        "language": language,
        "weeks": [monday.isoformat() for monday in figures.weeks],
        "changes_by_reason": [
            {"code": code, "label": reason_label(code, language), "counts": counts}
            for code, counts in figures.changes_by_reason.items()
        ],
        "changes_by_supplier": [
            {
                "name": name,
                "label": t["other_suppliers"] if name == OTHER_SUPPLIERS else name,
                "counts": counts,
            }
            for name, counts in figures.changes_by_supplier.items()
        ],
        "warnings": {
            "by_status": [
                {
                    "status": status,
                    "label": t[f"status_{status}"],
                    "count": by_status.get(status, 0),
                }
                for status in WARNING_BARS
            ],
            "shown": {"label": t["shown"], "count": figures.warnings_shown},
            "opted_out": {"label": t["opted_out"], "count": figures.customers_opted_out},
        },
        "promises": {
            "kinds": [
                {"kind": kind, "label": t.get(f"kind_{kind}", kind)} for kind in figures.promises
            ],
            "statuses": [
                {
                    "status": status,
                    "label": t[f"promise_{status}"],
                    "counts": [by_kind.get(status, 0) for by_kind in figures.promises.values()],
                }
                for status in ("kept", "renewed", "open", "broken", "ended")
            ],
        },
        "questions": [
            {
                "intent": intent,
                "label": intent_label(intent, language),
                "total": total,
                "nl": nl,
                "en": en,
            }
            for intent, total, nl, en in figures.questions
        ],
    }


class StaffDashboard:
    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        source_names: tuple[str, ...] = (),
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.source_names = source_names  # the shop platforms switched on
        self.templates = Environment(
            loader=FileSystemLoader(Path(__file__).parent / "templates"),
            autoescape=select_autoescape(["html"]),
        )

    def language(self, request: Request) -> str:
        asked = str(request.args.get("lang") or "")
        return asked if asked in STAFF_TEXTS else self.settings.default_language

    def render(self, request: Request, name: str, status: int = 200, **values: Any) -> HTTPResponse:
        language = self.language(request)
        values.setdefault("t", STAFF_TEXTS[language])  # a page may bring more words
        page = self.templates.get_template(name).render(
            lang=language, shop=self.settings.shop_name, **values
        )
        response = html(page, status=status)
        response.headers["Cache-Control"] = "no-store"
        return response

    def render_login(
        self, request: Request, *, error: str | None, status: int, next_path: object
    ) -> HTTPResponse:
        if error is None and not self.settings.staff_password:
            error = "no_password"
        return self.render(
            request, "staff_login.html", status=status, error=error, next_path=safe_next(next_path)
        )

    def figures(self) -> DashboardFigures:
        return dashboard_figures(self.sessions, shop_today(self.settings.shop_timezone), WEEKS)

    def source_reports(self) -> list[SourceReport]:
        return [source_report(self.sessions, name, errors=0) for name in self.source_names]


def add_staff_dashboard(app: Sanic, dashboard: StaffDashboard, auth: StaffAuth) -> None:
    add_staff_login(app, auth, dashboard.render_login)

    @app.get("/staff")
    async def staff_home(request: Request) -> HTTPResponse:
        figures = await off_loop(dashboard.figures)
        sources = await off_loop(dashboard.source_reports)
        language = dashboard.language(request)
        return dashboard.render(
            request,
            "staff_dashboard.html",
            data=figures_json(figures, language),
            weeks=len(figures.weeks),
            since=figures.weeks[0],
            logout_path=LOGOUT_PATH,
            sources=sources,
        )

    @app.get("/staff/api/stats")
    async def staff_stats(request: Request) -> HTTPResponse:
        figures = await off_loop(dashboard.figures)
        response = json_response(figures_json(figures, dashboard.language(request)))
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.get("/static/chart.umd.js")
    async def chart_bundle(_request: Request) -> HTTPResponse:
        """Chart.js's ready UMD bundle (pinned in package-lock.json), no build step."""
        if not CHART_BUNDLE.exists():
            return text("Chart.js is not installed: run 'make widget'", status=503)
        return await file(CHART_BUNDLE, mime_type="application/javascript")

    @app.get("/static/staff_dashboard.js")
    async def dashboard_script(_request: Request) -> HTTPResponse:
        return await file(DASHBOARD_SCRIPT, mime_type="application/javascript")
