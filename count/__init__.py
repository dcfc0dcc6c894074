"""count — count the ballots exactly by published STV rules.

Imports flow one way: dedupe → issue → vote → count.
"""

__omov_package__ = "count"
