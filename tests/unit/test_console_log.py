"""The console of `make run` leaves out the libraries' noise; the log file keeps
every line (bot/console_log.py), on a recorded start of Rasa and a training."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from bot.console_log import ConsoleFilter, LogFile, copy_stream, segments
from bot.settings import PROJECT_ROOT

RECORDED = PROJECT_ROOT / "tests" / "fixtures" / "console" / "rasa_start.log"

# What a person needs from that start, and nothing else.
SHOWN = [
    "\x1b[0m2026-11-28 17:00:50 INFO     rasa.validator  - Validating uniqueness of intents "
    "and stories...",
    "\x1b[0m2026-11-28 17:00:53 INFO     rasa.engine.training.hooks  - Starting to train "
    "component 'RegexFeaturizer'.",
    "2026-11-28 17:05:39 INFO     root  - Starting Rasa server on http://0.0.0.0:5391",
    "2026-11-28 17:05:39 INFO     rasa.core.processor  - Loading model "
    "models/order-assistant.tar.gz...",
    "2026-11-28 17:05:46 INFO     root  - Rasa server is up and running.",
]


def shown(lines: list[str]) -> list[str]:
    keep = ConsoleFilter()
    return [line for line in lines if keep.keep(line)]


def test_a_recorded_start_shows_only_what_matters() -> None:
    assert shown(RECORDED.read_text().splitlines()) == SHOWN


def test_our_own_warnings_and_errors_stay() -> None:
    lines = [
        "/srv/shop/bot/runner.py:12: DeprecationWarning: ours, worth fixing",
        "  the_call()",
        "Traceback (most recent call last):",
        '  File "/srv/shop/bot/web/app.py", line 3, in <module>',
        "2026-11-28 17:05:39 ERROR    bot.proactive.worker  - warning 12 failed",
        "/x/site-packages/rasa/core/agent.py:1: UserWarning: a warning Rasa means",
    ]
    assert shown(lines) == lines


def test_an_indented_line_after_a_kept_line_is_kept() -> None:
    noise = "/v/site-packages/pkg_resources/__init__.py:1: DeprecationWarning: x"
    assert shown([noise, "  declare_namespace(pkg)", "ready:", "  shop site  http://x"]) == [
        "ready:",
        "  shop site  http://x",
    ]


def test_progress_bars_pass_as_they_are_drawn() -> None:
    stream = io.BytesIO(b"Epochs:  1%|\rEpochs:  2%|\rEpochs: 100%|\ndone\npartial")
    assert list(segments(stream.read)) == [
        b"Epochs:  1%|\r",
        b"Epochs:  2%|\r",
        b"Epochs: 100%|\n",
        b"done\n",
        b"partial",
    ]


def test_the_log_file_gets_every_line(tmp_path: Path) -> None:
    recorded = RECORDED.read_bytes()
    console = io.BytesIO()
    log = LogFile(tmp_path / "logs" / "run.log")
    copy_stream(io.BytesIO(recorded).read, log, console, prefix=b"rasa | ")
    log.close()
    written = (tmp_path / "logs" / "run.log").read_bytes().splitlines()
    assert written == [b"rasa | " + line for line in recorded.splitlines()]
    assert console.getvalue().decode().splitlines() == SHOWN


def test_a_command_piped_through_the_module_is_filtered_and_logged(tmp_path: Path) -> None:
    """As `make train` uses it: `rasa train ... 2>&1 | python -m bot.console_log FILE`."""
    log = tmp_path / "train.log"
    done = subprocess.run(
        [sys.executable, "-m", "bot.console_log", str(log)],
        input=RECORDED.read_bytes(),
        capture_output=True,
        cwd=PROJECT_ROOT,
        timeout=30,
        check=True,
    )
    assert done.stdout.decode().splitlines() == SHOWN
    assert log.read_bytes() == RECORDED.read_bytes()


def test_the_start_up_lists_of_our_own_processes_are_left_out() -> None:
    """As `python -m bot run` printed them: what is left says where each listens."""
    lines = [
        "2026-11-28 17:11:53,919 INFO alembic.runtime.plugins: setup plugin alembic.ddl.x",
        "2026-11-28 17:11:54,429 INFO rasa_sdk.executor - Registered function for 'action_greet'.",
        "2026-11-28 17:11:54,442 INFO __main__ - action server on 127.0.0.1:5394",
        "2026-11-28 17:11:54,443 INFO sanic.root - Sanic v21.12.2",
        "2026-11-28 17:11:54,443 INFO sanic.root - Goin' Fast @ http://127.0.0.1:5394",
        "2026-11-28 17:11:54,443 INFO sanic.root - mode: production, single worker",
        "2026-11-28 17:11:54,443 INFO sanic.root - platform: Linux-6.18-x86_64-with-glibc2.36",
        "[2026-11-28 17:11:54 +0000] [13988] [INFO] packages: sanic-routing==0.7.2",
        "2026-11-28 17:11:54,503 INFO sanic.root: Starting worker [13988]",
        "2026-11-28 17:11:54,210 INFO bot.proactive.worker: notifier vm:13990 started",
    ]
    assert shown(lines) == [
        "2026-11-28 17:11:54,442 INFO __main__ - action server on 127.0.0.1:5394",
        "2026-11-28 17:11:54,443 INFO sanic.root - Goin' Fast @ http://127.0.0.1:5394",
        "2026-11-28 17:11:54,210 INFO bot.proactive.worker: notifier vm:13990 started",
    ]


def test_make_run_ends_with_where_to_go(tmp_path: Path) -> None:
    import dataclasses

    from bot.runner import where_to_go
    from bot.settings import load_settings

    settings = dataclasses.replace(
        load_settings(), demo_shop=True, web_port=8000, rasa_port=5005, order_api_token="t" * 32
    )
    said = "\n".join(where_to_go(settings, (), tmp_path / "run.log", "pw-of-this-run"))
    assert "http://127.0.0.1:8000/shop" in said
    assert "http://127.0.0.1:8000/staff, password for this run: pw-of-this-run\n" in said
    assert "curl -s http://127.0.0.1:5005/webhooks/rest/webhook" in said
    assert str(tmp_path / "run.log") in said
    # Without the web service there is no site to go to.
    alone = "\n".join(where_to_go(settings, ("web",), tmp_path / "run.log"))
    assert "/shop" not in alone and "/staff" not in alone and "password" not in alone
