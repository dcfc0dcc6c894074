"""dedupe — merge the organisations' member exports into one record per real person.

Imports flow one way: dedupe → issue → count; this package imports neither of the others.
"""

__omov_package__ = "dedupe"
