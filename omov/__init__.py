"""omov — One Member, One Vote.

The shared core (errors and exit codes, file helpers, the typer app factory) lives here; the
three stages live in the owner's top-level packages ``dedupe``, ``issue`` and ``count``, whose
imports flow one way: dedupe → issue → count.
"""

from __future__ import annotations


def __getattr__(name: str) -> str:
    """``omov.__version__``, read from the installed metadata only when asked (start-up time)."""
    if name != "__version__":
        raise AttributeError(name)
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("omov")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0+unknown"


#: Every omov-owned top-level package sets this attribute to its own name, so the CLI can tell
#: omov's ``dedupe``/``issue``/``count`` from the unrelated PyPI packages of the same names.
OMOV_MARKER = "__omov_package__"
