"""``python -m omov`` runs the same command as ``omov``."""

from omov.cli import main

# The guard matters: dedupe reads exports in spawned worker processes, which import the
# main module again, and must not run the command a second time.
if __name__ == "__main__":
    main()
