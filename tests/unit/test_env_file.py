"""`.env` is read by `python -m bot` (so by make run and run-cluster), the
environment taking precedence, then the make targets' defaults."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import jwt
import pytest

from bot.env_file import EnvFileError, apply_defaults, load_env_file, parse_env_file
from bot.settings import PROJECT_ROOT


def test_the_example_file_reads_as_it_is_written() -> None:
    values = parse_env_file((PROJECT_ROOT / ".env.example").read_text())
    assert values["ORDER_SYSTEM"] == "sql"
    assert values["SHOP_NAME"] == "Fietsen & Meer"
    assert values["SHOP_CONTACT"] == "030 123 45 67 (ma-vr 9-17) of service@example.nl"
    assert values["DEMO_SHOP"] == ""


def test_quotes_comments_and_export_as_python_dotenv_reads_them() -> None:
    text = (
        "# a comment\n"
        "\n"
        "export A=1\n"
        "B = two words   # said twice\n"
        "C='single # not a comment \\n'\n"
        'D="line\\nbreak \\"quoted\\""  # after\n'
        "E=#not-a-comment\n"
        "A=last wins\n"
    )
    assert parse_env_file(text) == {
        "A": "last wins",
        "B": "two words",
        "C": "single # not a comment \\n",
        "D": 'line\nbreak "quoted"',
        "E": "#not-a-comment",
    }


@pytest.mark.parametrize("line", ["no equals sign", "1ABC=x", "A='open", 'A="x" y'])
def test_a_line_that_is_no_setting_names_its_line(line: str) -> None:
    with pytest.raises(EnvFileError, match=".env, line 2"):
        parse_env_file(f"OK=1\n{line}\n")


def test_the_environment_takes_precedence_and_an_empty_one_counts_as_unset(
    tmp_path: Path,
) -> None:
    path = tmp_path / ".env"
    path.write_text("RASA_PORT=6000\nWEB_PORT=9000\nDEMO_SHOP=true\n")
    environ = {"RASA_PORT": "5999", "WEB_PORT": ""}
    assert load_env_file(path, environ) == ["WEB_PORT", "DEMO_SHOP"]
    assert environ == {"RASA_PORT": "5999", "WEB_PORT": "9000", "DEMO_SHOP": "true"}
    assert load_env_file(tmp_path / "missing", environ) == []


def test_defaults_fill_only_what_neither_set_and_may_name_another_setting() -> None:
    environ = {"DEMO_SHOP": "false", "DATABASE_URL": ""}
    apply_defaults(
        [
            "DEMO_SHOP=true",
            "DATABASE_URL=postgresql://db/shop",
            "TRACKER_STORE_URL=${DATABASE_URL}",
        ],
        environ,
    )
    assert environ == {
        "DEMO_SHOP": "false",
        "DATABASE_URL": "postgresql://db/shop",
        "TRACKER_STORE_URL": "postgresql://db/shop",
    }
    with pytest.raises(EnvFileError):
        apply_defaults(["no-name"], environ)


def _python_m_bot(project: Path, env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=project,
        env={"PATH": os.environ["PATH"], "PYTHONPATH": str(project), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_python_m_bot_reads_the_projects_env_file(tmp_path: Path) -> None:
    """A real `python -m bot token` in a copy of the project: the secret it signs
    with comes from .env, unless the environment has one."""
    project = tmp_path / "project"
    shutil.copytree(
        PROJECT_ROOT / "bot", project / "bot", ignore=shutil.ignore_patterns("__pycache__")
    )
    from_file, from_environment = "f" * 40, "e" * 40
    (project / ".env").write_text(f"# kept by hand\nSHOP_TOKEN_SECRET='{from_file}'\n")
    token = _python_m_bot(project, {}, "token", "1001")
    assert jwt.decode(token, from_file, algorithms=["HS256"])["sub"] == "1001"
    token = _python_m_bot(project, {"SHOP_TOKEN_SECRET": from_environment}, "token", "1001")
    assert jwt.decode(token, from_environment, algorithms=["HS256"])["sub"] == "1001"
