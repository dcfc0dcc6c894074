"""The one ``omov`` command: assembles the stages' typer apps and owns the exit codes.

Every stage raises ``omov.errors.OmovError`` subclasses; this module alone maps them (and click's
usage errors) to the documented exit codes, so stages stay free of ``sys.exit``.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence

import typer

from omov import __version__
from omov.appfactory import new_app
from omov.errors import ExitCode, OmovError
from omov.fileio import PRIVATE_UMASK
from omov.identity import check_package_identity


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"omov {__version__}")
        raise typer.Exit(0)


def build_app() -> typer.Typer:
    """The root app with every stage's sub-app mounted (imported only after the identity check)."""
    from count.cli import app as count_app
    from dedupe.cli import app as dedupe_app
    from issue.cli import app as issue_app
    from issue.cli import audit_app
    from vote.cli import app as vote_app

    app = new_app(
        "omov",
        "One Member, One Vote: dedupe overlapping member exports, issue one ballot token per "
        "person, and count the returned ballots by STV.\n\n"
        "Example: omov dedupe run sample_data/exports/*.csv --out out/dedupe",
    )

    @app.callback()
    def root(
        version: bool = typer.Option(
            False, "--version", callback=_version_callback, is_eager=True, help="Print the version."
        ),
    ) -> None:
        """One Member, One Vote: one ballot per real person across overlapping organisations.

        Example: omov dedupe run sample_data/exports/*.csv --out out/dedupe
        """

    app.add_typer(dedupe_app, name="dedupe")
    app.add_typer(issue_app, name="issue")
    app.add_typer(vote_app, name="vote")
    app.add_typer(count_app, name="count")
    app.add_typer(audit_app, name="audit")
    return app


def _err(text: str) -> None:
    typer.echo(text, err=True)


def _exit_code(exc: SystemExit) -> int:
    """click ends every standalone run with SystemExit; its code is ours to return."""
    if exc.code is None:
        return int(ExitCode.OK)
    if isinstance(exc.code, int):
        return exc.code
    _err(str(exc.code))
    return int(ExitCode.INTERNAL)


def run(argv: Sequence[str] | None = None) -> int:
    """Run omov with ``argv`` and return the exit code (in-process, for tests).

    Usage errors are reported by click itself (exit 2); ``OmovError`` carries its own code; any
    other exception is a bug and is reported without local variables (they may hold tokens).
    The umask is left alone here (``run`` may be called from threads, and the umask is the
    process's): ``main`` sets it; omov.fileio sets every mode explicitly anyway.
    """
    try:
        check_package_identity()
        app = build_app()
        app(args=list(argv) if argv is not None else None, prog_name="omov")
    except SystemExit as exc:
        return _exit_code(exc)
    except OmovError as exc:
        _err(f"omov: {exc.render()}")
        return int(exc.exit_code)
    except KeyboardInterrupt:
        _err("omov: interrupted")
        return int(ExitCode.INTERNAL)
    except Exception:
        _err("omov: internal error (a bug in omov; please report it with the lines below)")
        _err("".join(traceback.format_exception_only(*sys.exc_info()[:2])).rstrip())
        _err("".join(traceback.format_tb(sys.exc_info()[2], limit=-8)).rstrip())
        return int(ExitCode.INTERNAL)
    return int(ExitCode.OK)


def main() -> None:
    """Console-script entry point: umask 077 for the whole process, then the command.

    Belt and braces: omov.fileio already creates every file 0600 and folder 0700; the umask also
    covers files a library creates by itself.
    """
    os.umask(PRIVATE_UMASK)
    sys.exit(run())
