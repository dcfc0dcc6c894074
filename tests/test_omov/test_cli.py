"""The exit-code contract and the package-identity guard of the one ``omov`` command."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import typer

from omov import cli
from omov.errors import ExitCode, InputError, IntegrityError, ProblemsFound, UsageError


def test_help_lists_every_sub_app(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.run(["--help"]) == 0
    out = capsys.readouterr().out
    for name in ("dedupe", "issue", "vote", "count", "audit"):
        assert name in out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.run(["--version"]) == 0
    assert capsys.readouterr().out.startswith("omov ")


def test_unknown_command_is_a_usage_error() -> None:
    assert cli.run(["no-such-command"]) == ExitCode.USAGE


def _app_raising(exc: BaseException) -> typer.Typer:
    app = typer.Typer(pretty_exceptions_show_locals=False)

    @app.command()
    def boom() -> None:
        raise exc

    @app.command()
    def other() -> None:
        """A second command so typer keeps `boom` as a sub-command."""

    return app


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (UsageError("bad option"), 2),
        (InputError("unreadable", path="x.csv", line=3, fix="re-save as UTF-8"), 2),
        (ProblemsFound("3 rows need review"), 3),
        (IntegrityError("audit chain broken at entry 7"), 4),
        (RuntimeError("a bug"), 1),
        (typer.Exit(3), 3),
    ],
)
def test_errors_map_to_documented_exit_codes(
    monkeypatch: pytest.MonkeyPatch, exc: BaseException, code: int
) -> None:
    monkeypatch.setattr(cli, "build_app", lambda: _app_raising(exc))
    assert cli.run(["boom"]) == code


def test_input_error_names_file_line_and_fix(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    err = InputError("ragged row", path="org.csv", line=12, fix="quote the field")
    monkeypatch.setattr(cli, "build_app", lambda: _app_raising(err))
    assert cli.run(["boom"]) == 2
    msg = capsys.readouterr().err
    assert "org.csv:12: ragged row" in msg and "fix: quote the field" in msg


def test_internal_error_hides_local_variables(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    app = typer.Typer(pretty_exceptions_show_locals=False)

    @app.command()
    def boom() -> None:
        secret_token = "ABCD-EFGH-JKMN-PQRS-TVWX-Y"
        raise RuntimeError("bug " + str(len(secret_token)))

    @app.command()
    def other() -> None:
        """Second command."""

    monkeypatch.setattr(cli, "build_app", lambda: app)
    assert cli.run(["boom"]) == 1
    captured = capsys.readouterr()
    assert "ABCD-EFGH" not in captured.err + captured.out


@pytest.mark.parametrize("name", ["dedupe", "issue", "count"])
def test_foreign_package_of_the_same_name_stops_with_exit_4(tmp_path: Path, name: str) -> None:
    """A PyPI package called `dedupe` (or `issue`, `count`) shadowing ours must stop omov."""
    fake = tmp_path / name
    fake.mkdir()
    (fake / "__init__.py").write_text("VERSION = 'not omov'\n")
    code = textwrap.dedent(
        """
        import sys
        from omov.cli import run
        sys.exit(run(["--help"]))
        """
    )
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    proc = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 4, proc.stderr
    assert f"'{name}' package" in proc.stderr and "not omov's" in proc.stderr


def test_every_stage_package_carries_the_marker() -> None:
    import count
    import dedupe
    import issue

    assert (dedupe.__omov_package__, issue.__omov_package__, count.__omov_package__) == (
        "dedupe",
        "issue",
        "count",
    )


def _all_command_paths() -> list[list[str]]:
    """Every leaf command of the assembled app, as argv prefixes (e.g. ['count', 'run'])."""
    app = cli.build_app()
    paths: list[list[str]] = []

    def walk(typer_app: typer.Typer, prefix: list[str]) -> None:
        for cmd in typer_app.registered_commands:
            name = cmd.name or (cmd.callback.__name__.replace("_", "-") if cmd.callback else "")
            paths.append([*prefix, name])
        for group in typer_app.registered_groups:
            if group.typer_instance is not None and group.name:
                walk(group.typer_instance, [*prefix, group.name])

    walk(app, [])
    return paths


def test_every_command_has_help_with_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    paths = _all_command_paths()
    assert len(paths) >= 15  # dedupe, issue, audit and count commands are all mounted
    for path in paths:
        assert cli.run([*path, "--help"]) == 0, path
        out = capsys.readouterr().out
        assert "Example" in out, f"`omov {' '.join(path)} --help` has no example"
