"""``omov issue …`` and ``omov audit …`` — thin typer commands over the issue core."""

from omov.appfactory import new_app

app = new_app("issue", "Issue one ballot token per eligible person; check and revoke tokens.")
audit_app = new_app("audit", "Verify the tamper-evident audit log and print its head hash.")
