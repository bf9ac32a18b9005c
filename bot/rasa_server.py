"""`python -m bot.rasa_server run ...`: `rasa run` with its API token from the environment.

`rasa run --auth-token X` puts the token on the command line, where every local
user reads it in /proc/<pid>/cmdline (ps shows it). This starts Rasa in the same
process with the token added to its arguments after the process has started:
/proc keeps the command line it was started with, and the environment
(/proc/<pid>/environ) is readable by the process's owner only.
"""

from __future__ import annotations

import os
import sys


def rasa_arguments(argv: list[str], token: str) -> list[str]:
    """Rasa's arguments: the HTTP API only with a token (without one it is
    CVE-2024-49375's way in)."""
    if token:
        # One argument: a token that starts with "-" (token_urlsafe makes such
        # one in 64) would be read as an option of its own.
        return [*argv, "--enable-api", f"--auth-token={token}"]
    return list(argv)


def main() -> int:
    from bot.run_secrets import secret_problems
    from bot.settings import SettingsError, load_settings

    try:
        # Outside the demo a weak or example secret stops this process too.
        problems = secret_problems(load_settings(), needs=())
    except SettingsError as error:
        problems = [str(error)]
    if problems:
        print(f"rasa: {'; '.join(problems)}", file=sys.stderr)
        return 2
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *rasa_arguments(sys.argv[1:], os.environ.get("RASA_TOKEN", "").strip())]
    rasa_main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
