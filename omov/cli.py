"""The one ``omov`` command: assembles the stages' typer apps and owns the exit codes.

Every stage raises ``omov.errors.OmovError`` subclasses; this module alone maps them (and click's
usage errors) to the documented exit codes, so stages stay free of ``sys.exit``.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable, Sequence

import typer

from omov.appfactory import new_app
from omov.errors import ExitCode, OmovError
from omov.fileio import PRIVATE_UMASK
from omov.identity import check_package_identity


def _version_callback(value: bool) -> None:
    if value:
        from omov import __version__

        typer.echo(f"omov {__version__}")
        raise typer.Exit(0)


def _stage_apps() -> dict[str, Callable[[], typer.Typer]]:
    """Each stage's sub-app, imported only when asked for (so one stage's command does not pay
    for the others' imports)."""

    def dedupe() -> typer.Typer:
        from dedupe.cli import app

        return app

    def issue() -> typer.Typer:
        from issue.cli import app

        return app

    def vote() -> typer.Typer:
        from vote.cli import app

        return app

    def count() -> typer.Typer:
        from count.cli import app

        return app

    def audit() -> typer.Typer:
        from issue.cli import audit_app

        return audit_app

    return {"dedupe": dedupe, "issue": issue, "vote": vote, "count": count, "audit": audit}


def _requested_stage(args: Sequence[str]) -> str | None:
    """The stage a command line names (``omov count run …`` → ``count``), if any."""
    for arg in args:
        if not arg.startswith("-"):
            return arg if arg in _stage_apps() else None
    return None


def build_app(only: str | None = None) -> typer.Typer:
    """The root app with every stage's sub-app mounted — or just ``only`` when a command line
    names one (start-up time); stages are imported only after the identity check."""
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

    for name, load in _stage_apps().items():
        if only is None or name == only:
            app.add_typer(load(), name=name)
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
        args = list(argv) if argv is not None else sys.argv[1:]
        stage = _requested_stage(args)
        app = build_app() if stage is None else build_app(only=stage)
        app(args=args, prog_name="omov")
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
