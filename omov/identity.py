"""Check that ``dedupe``, ``issue``, ``vote`` and ``count`` are omov's own packages.

Why: PyPI has unrelated packages called ``dedupe`` and ``issue``; pip silently lets one overwrite
another of the same top-level name. Running a count on someone else's code must be impossible.
"""

from __future__ import annotations

import importlib

from omov import OMOV_MARKER
from omov.errors import IntegrityError

STAGE_PACKAGES: tuple[str, ...] = ("dedupe", "issue", "vote", "count")


def check_package_identity(names: tuple[str, ...] = STAGE_PACKAGES) -> None:
    """Raise IntegrityError naming the first package that is missing or is not omov's."""
    for name in names:
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            raise IntegrityError(
                f"package identity: omov's '{name}' package cannot be imported ({exc})",
                fix="reinstall omov into its own virtual environment: make clean && make test",
            ) from exc
        if getattr(module, OMOV_MARKER, None) != name:
            where = getattr(module, "__file__", None) or "an unknown location"
            raise IntegrityError(
                f"package identity: the '{name}' package imported from {where} is not omov's "
                "(another package of the same name shadows it)",
                fix=f"install omov into its own virtual environment, or `pip uninstall {name}`",
            )
