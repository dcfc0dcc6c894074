import typer


def register_report(app: typer.Typer) -> None:
    """stub"""
