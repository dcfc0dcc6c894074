"""``omov dedupe …`` — thin typer commands over the dedupe core."""

from omov.appfactory import new_app

app = new_app("dedupe", "Merge the organisations' member exports into one record per person.")
