"""``omov count …`` — thin typer commands over the count core."""

from omov.appfactory import new_app

app = new_app("count", "Validate returned ballots and count them exactly by STV.")
