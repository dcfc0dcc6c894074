"""vote — where members' ballots are cast and returned ballots are taken in.

Checks each returned ballot's token against the register (first use wins), classifies the paper,
and writes the anonymised, shuffled ballot file the count reads. Imports flow one way:
dedupe → issue → vote → count.
"""

__omov_package__ = "vote"
