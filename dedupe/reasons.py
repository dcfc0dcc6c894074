"""Why a link was refused or a constraint overridden, as named values.

The wording is what the auditor reads (review_queue.csv, summary.json); the review queue
and the statistics match on the members, never on the wording.
"""

from __future__ import annotations

from enum import StrEnum


class Refusal(StrEnum):
    """A pair or a cluster join that may not link on its own."""

    # Pair rules (the two records alone).
    LAST_NAMES_DIFFER = "last names differ and no personal identifier agrees"
    SURNAME_CHANGE_ALONE = "surnames differ and no number, address, email or phone is shared"
    INITIAL_ALONE = (
        "an initial only, with a household's or another person's contacts, "
        "and no number, date of birth or mobile agrees"
    )
    FIRST_NAMES_DIFFER = "first names differ"
    JR_ONE_SIDE = "Jr on one side only"
    NUMBER_WITHOUT_NAME = "number agrees but neither name nor date of birth does"
    JR_SR = "Jr/Sr conflict"
    DOB_INCOMPATIBLE = "dates of birth incompatible"
    NUMBERS_FAR = "membership numbers 4+ edits apart"
    # Cluster constraints (the join would put a conflict inside one person).
    CLUSTER_NUMBERS = "would join membership numbers 4+ edits apart"
    CLUSTER_DOBS = "would join incompatible dates of birth"
    CLUSTER_JR_SR = "would join a Jr and a Sr"
    CLUSTER_AUDITOR = "the auditor decided these are different people"
    CLUSTER_FIRST_NAMES = "would join first names that cannot be one person's"

    @property
    def is_cluster(self) -> bool:
        """A refusal of a join of two clusters rather than of the pair itself."""
        return self in _CLUSTER


_CLUSTER = frozenset(
    {
        Refusal.CLUSTER_NUMBERS,
        Refusal.CLUSTER_DOBS,
        Refusal.CLUSTER_JR_SR,
        Refusal.CLUSTER_AUDITOR,
        Refusal.CLUSTER_FIRST_NAMES,
    }
)


class Override(StrEnum):
    """A hard constraint that gave way to overwhelming independent evidence (queued: counted)."""

    NONE = ""
    NUMBER = "merged although the membership numbers are 4+ edits apart"
    DOB = "merged although the dates of birth are incompatible"


#: How an accepted link's merge is recorded when no constraint was overridden.
BY_MODEL = "model"
#: How a link below the threshold is recorded when ``rules.sure_links`` accepted it.
BY_RULE = "below the threshold: the member's own number, email or mobile and first name"
