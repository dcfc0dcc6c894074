"""dedupe — merge the organisations' member exports into one record per real person.

Imports flow one way: dedupe → issue → count; this package imports neither of the others.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dedupe.api import run
    from dedupe.pipeline import Options

__omov_package__ = "dedupe"
__all__ = ["Options", "run"]


def __getattr__(name: str) -> Any:
    """``dedupe.run`` and ``dedupe.Options``, imported on first use (``import dedupe`` stays
    cheap for the package identity check)."""
    if name == "run":
        from dedupe.api import run

        return run
    if name == "Options":
        from dedupe.pipeline import Options

        return Options
    raise AttributeError(name)
