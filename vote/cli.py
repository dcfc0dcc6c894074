"""``omov vote …`` — thin typer commands for casting and taking ballots in.

Each command parses options, calls the core, and reports on stderr; errors are ``omov.errors``
exceptions that ``omov.cli`` maps to exit codes.
"""

from __future__ import annotations

from omov.appfactory import new_app
from vote.intake_cli import register_intake
from vote.key_reconcile import register_key_reconcile
from vote.web_cli import register_web

app = new_app(
    "vote",
    "Serve the web ballot, seal its box, and take returned ballots in (first use wins).",
)
register_intake(app)
register_web(app)
register_key_reconcile(app)  # omov vote key-reconcile (double-keyed postal returns)
