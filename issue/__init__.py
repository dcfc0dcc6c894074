"""issue — one unguessable ballot token per eligible person, a register and an audit log.

Imports flow one way: dedupe → issue → count; this package never imports ``count``.
"""

__omov_package__ = "issue"
