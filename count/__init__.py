"""count — validate returned ballots and count them exactly by published STV rules.

Imports flow one way: dedupe → issue → count.
"""

__omov_package__ = "count"
