"""One way to make a typer app, so every app hides locals in tracebacks.

Why: a traceback that prints local variables could print a ballot token or a member's address.
"""

from __future__ import annotations

import typer


def new_app(name: str, help_text: str) -> typer.Typer:
    """A typer sub-app with omov's safe defaults (no locals in tracebacks, -h for help)."""
    return typer.Typer(
        name=name,
        help=help_text,
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_show_locals=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
