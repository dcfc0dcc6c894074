"""``python -m omov`` runs the same command as ``omov``."""

from omov.cli import main

main()
