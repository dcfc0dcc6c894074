"""omov — One Member, One Vote.

The shared core (errors and exit codes, file helpers, the typer app factory) lives here; the
three stages live in the owner's top-level packages ``dedupe``, ``issue`` and ``count``, whose
imports flow one way: dedupe → issue → count.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("omov")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

#: Every omov-owned top-level package sets this attribute to its own name, so the CLI can tell
#: omov's ``dedupe``/``issue``/``count`` from the unrelated PyPI packages of the same names.
OMOV_MARKER = "__omov_package__"
