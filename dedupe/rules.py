"""Pair rules: which candidate pairs may never link on their own, and which constraints give
way to overwhelming evidence. Plus ``measure_hardness``: whether the data is clean enough for
its numbers, dates of birth and first names to veto a link at all.

Each rule reads the level matrix by name (``Field`` columns, level enums), and each refusal is
a ``Refusal`` member the review queue matches on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dedupe.levels import (
    NUMBER_AGREES,
    Address,
    Dob,
    Email,
    Field,
    FirstName,
    LastName,
    Number,
    Phone,
    Postcode,
    Suffix,
)
from dedupe.reasons import Override, Refusal


@dataclass(frozen=True)
class Hardness:
    """Which identifiers may veto a link, decided from the data (see ``measure_hardness``)."""

    number: bool = True
    dob: bool = True
    number_conflict_rate: float = 0.0
    dob_conflict_rate: float = 0.0
    number_anchors: int = 0
    dob_anchors: int = 0
    names: bool = True
    name_conflict_rate: float = 0.0
    name_anchors: int = 0

    def as_dict(self) -> dict[str, object]:
        return {
            "membership_number_is_hard": self.number,
            "date_of_birth_is_hard": self.dob,
            "number_conflict_rate_among_sure_matches": round(self.number_conflict_rate, 5),
            "number_sure_matches": self.number_anchors,
            "dob_conflict_rate_among_sure_matches": round(self.dob_conflict_rate, 5),
            "dob_sure_matches": self.dob_anchors,
            "names_are_hard": self.names,
            "first_name_conflict_rate_among_sure_matches": round(self.name_conflict_rate, 5),
            "name_sure_matches": self.name_anchors,
            "max_conflict_rate_for_hard": MAX_CONFLICT_RATE,
        }


#: An identifier that disagrees (4+ edits / incompatible) in more than this share of
#: otherwise-certain matches is too corrupted to veto a link (FEBRL: 4–7 %; UK exports: < 1 %).
MAX_CONFLICT_RATE = 0.02


def measure_hardness(levels: np.ndarray, min_anchors: int = 30) -> Hardness:
    """How often numbers / DOBs conflict among pairs that are surely one person otherwise.

    "Surely": same first and last name, plus the *other* identifier exact, plus a shared
    email, phone or postcode. Too few such pairs → keep the constraint hard (the safe side).
    """
    lv = _Named(levels)
    contact = lv.email_same | lv.phone_same | lv.landline_same | (lv.postcode == Postcode.EXACT)
    names = (lv.first == FirstName.EXACT) & (lv.last == LastName.EXACT) & contact
    a = names & (lv.dob == Dob.EXACT) & (lv.number > Number.MISSING)
    b = names & (lv.number == Number.EXACT) & (lv.dob > Dob.MISSING)
    rn = float((lv.number[a] == Number.DIFFERENT).mean()) if a.any() else 0.0
    rd = float(lv.dob_bad[b].mean()) if b.any() else 0.0
    # First names: pairs with the same number, DOB and surname and a shared contact.
    c = (
        (lv.number == Number.EXACT)
        & (lv.dob == Dob.EXACT)
        & (lv.last == LastName.EXACT)
        & contact
        & (lv.first > FirstName.MISSING)
    )
    rf = float((lv.first[c] == FirstName.DIFFERENT).mean()) if c.any() else 0.0
    return Hardness(
        number=not (a.sum() >= min_anchors and rn > MAX_CONFLICT_RATE),
        dob=not (b.sum() >= min_anchors and rd > MAX_CONFLICT_RATE),
        number_conflict_rate=rn,
        dob_conflict_rate=rd,
        number_anchors=int(a.sum()),
        dob_anchors=int(b.sum()),
        names=not (c.sum() >= min_anchors and rf > MAX_CONFLICT_RATE),
        name_conflict_rate=rf,
        name_anchors=int(c.sum()),
    )


class _Named:
    """The level matrix's columns by name, and the agreements the rules share."""

    def __init__(self, levels: np.ndarray) -> None:
        self.number = levels[:, Field.NUMBER]
        self.first = levels[:, Field.FIRST_NAME]
        self.last = levels[:, Field.LAST_NAME]
        self.dob = levels[:, Field.DATE_OF_BIRTH]
        self.email = levels[:, Field.EMAIL]
        self.phone = levels[:, Field.PHONE]
        self.postcode = levels[:, Field.POSTCODE]
        self.address = levels[:, Field.ADDRESS]
        self.suffix = levels[:, Field.SUFFIX]
        self.email_same = self.email == Email.EXACT
        self.phone_same = self.phone == Phone.EXACT  # a mobile: one person's
        self.landline_same = self.phone == Phone.LANDLINE  # a household's
        self.number_exact = self.number == Number.EXACT
        self.number_agree = _among(self.number, *NUMBER_AGREES)
        # The next number in a row is a family's as often as a typo: it says nothing of
        # which member an initial is.
        self.number_personal = self.number_agree & (self.number != Number.ADJACENT)
        self.dob_agree = (self.dob == Dob.EXACT) | (self.dob == Dob.TYPO)
        self.dob_bad = (self.dob == Dob.SAME_YEAR) | (self.dob == Dob.DIFFERENT)
        self.first_agree = _among(self.first, FirstName.EXACT, FirstName.NICKNAME, FirstName.TYPO)
        self.last_agree = _among(self.last, LastName.EXACT, LastName.TYPO, LastName.CONTAINS)
        self.names_exact = (self.first == FirstName.EXACT) & (self.last == LastName.EXACT)


def _among(col: np.ndarray, *levels: int) -> np.ndarray:
    return np.isin(col, levels)


def pair_rules(
    levels: np.ndarray,
    hard: Hardness | None = None,
    mailbox_names_both: np.ndarray | None = None,
    initial_named: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per pair: the ``Refusal`` that forbids it to link on its own ('' = may link), and the
    ``Override`` of a hard constraint it carries ('' = none).

    A hard constraint gives way only to overwhelming independent evidence, and then the merge
    is queued for the auditor: numbers 4+ edits apart yield to the same full name, the same
    date of birth and a shared email/phone/address (a number corrupted in several digits);
    incompatible dates of birth yield to the same number and the same full name (a DOB
    corrupted in several digits). A father and son differ in number; twins in first name.
    Later rules overwrite earlier ones: the last that applies is the reason given.
    ``mailbox_names_both``: per pair, the shared email names both records (an initial's own
    mailbox, ``mailbox.mailbox_evidence``); without it a shared email never corroborates an
    initial. A mailbox in another person's name (``Email.SHARED``) is a household's sign.
    ``initial_named``: per pair, the initial's own mailbox spells out the other record's first
    name (``mailbox.initial_spelled_out``): evidence of that member, as a mobile is.
    """
    hard = hard or Hardness()
    lv = _Named(levels)
    reason = np.full(len(levels), "", dtype=object)
    override = np.full(len(levels), "", dtype=object)
    place = (lv.address == Address.EXACT) | (lv.postcode == Postcode.EXACT) | lv.landline_same
    initial = lv.first == FirstName.INITIAL
    household_mailbox = lv.email == Email.SHARED
    mailbox_own = lv.email_same & (
        np.zeros(len(levels), bool) if mailbox_names_both is None else mailbox_names_both
    )
    contact = lv.email_same | lv.phone_same | lv.landline_same | (lv.address == Address.EXACT)
    two_contacts = lv.email_same & (lv.phone_same | lv.landline_same)
    corroborated = (
        lv.dob_agree
        | lv.first_agree
        | (lv.last == LastName.EXACT)
        | (lv.last_agree & (initial | contact))
        | (lv.number_exact & two_contacts)
        # A member's own number and their initial, also under a new surname: at 200k held-out
        # rows each of the 1,100 such pairs without a conflicting birthday was one person.
        | (lv.number_exact & initial)
        # A number one slip away, with the initial's own mailbox at the same home.
        | (lv.number_personal & initial & mailbox_own & place)
    )
    personal = lv.number_agree | (lv.dob == Dob.EXACT) | lv.email_same | lv.phone_same
    # A married name with the household's mailbox: the same first name at the same home,
    # writing from the mailbox that names the spouse ("sanjaydoshi68@" for Anamika).
    personal |= (lv.first == FirstName.EXACT) & household_mailbox & place
    reason[(lv.last == LastName.DIFFERENT) & ~personal] = Refusal.LAST_NAMES_DIFFER
    # A new surname is a fact about one person only when something beyond a first name and a
    # birthday says so: at 1M members, same-first-name-same-birthday strangers are common.
    renamed_alone = ~(lv.number_agree | lv.email_same | lv.phone_same | place)
    reason[(lv.last == LastName.DIFFERENT) & renamed_alone] = Refusal.SURNAME_CHANGE_ALONE
    # An initial matches anyone of that initial in the household: with a household's signs
    # (a shared mailbox that does not name them, a landline) or a contact that differs, it
    # needs a number, a date of birth or a mobile of its own.
    personal_initial = lv.number_personal | lv.dob_agree | lv.phone_same
    personal_initial |= mailbox_own
    if initial_named is not None:
        personal_initial |= initial_named
    household_or_other = (
        lv.email_same
        | household_mailbox
        | lv.landline_same
        | (lv.email == Email.DIFFERENT)
        | (lv.phone == Phone.DIFFERENT)
    )
    initial_alone = ~personal_initial & household_or_other
    reason[initial & initial_alone] = Refusal.INITIAL_ALONE
    # Sequential numbers (a family joining together) are 1 edit apart: only an exact number
    # may outvote a different first name. Where first names are too corrupted to be hard
    # (``measure_hardness``), they still veto a link nothing personal supports (a household).
    # A 1 January that disagrees (``Dob.STAND_IN``) vetoes nothing, but it is no agreement.
    dob_not_bad = ~lv.dob_bad & (lv.dob != Dob.STAND_IN)
    first_ok = (lv.number_exact & lv.dob_agree) | (
        lv.number_exact & dob_not_bad & (((lv.last == LastName.EXACT) & contact) | two_contacts)
    )
    if not hard.names:
        first_ok = lv.number_agree | lv.dob_agree
    first_differ = lv.first == FirstName.DIFFERENT
    reason[first_differ & ~first_ok] = Refusal.FIRST_NAMES_DIFFER
    # "Jr" written in one export only; the same birthday, number or mobile says which one.
    jr_one_side = (lv.suffix == Suffix.ONE_SIDE) & (lv.dob != Dob.EXACT) & ~lv.number_agree
    jr_one_side &= ~lv.phone_same
    reason[jr_one_side] = Refusal.JR_ONE_SIDE
    reason[lv.number_agree & ~corroborated & hard.names] = Refusal.NUMBER_WITHOUT_NAME
    reason[lv.suffix == Suffix.CONFLICT] = Refusal.JR_SR
    dob_bad = lv.dob_bad
    dob_over = (
        dob_bad
        & lv.last_agree
        & (lv.suffix != Suffix.CONFLICT)
        & (
            (lv.first_agree & (lv.number_exact | (two_contacts & lv.names_exact)))
            # An initial: the same number with the member's own email or mobile at one home.
            | (initial & lv.number_exact & (lv.email_same | lv.phone_same) & place)
        )
    )
    if not hard.dob:
        dob_bad = np.zeros(len(levels), bool)
        dob_over = dob_bad
    reason[dob_bad & ~dob_over] = Refusal.DOB_INCOMPATIBLE
    override[dob_over] = Override.DOB
    num_bad = (lv.number == Number.DIFFERENT) & hard.number
    n_contacts = lv.email_same.astype(int) + (lv.phone_same | lv.landline_same) + place
    # The same first name as written: a short form or a typo is shared by twins (Nicky for
    # Nicola and for Nicholas; at 200k held-out rows 3 of 3 such overrides joined two people).
    num_over = (
        num_bad
        & (lv.first == FirstName.EXACT)
        & lv.last_agree
        & (lv.suffix < Suffix.ONE_SIDE)
        & (
            ((lv.dob == Dob.EXACT) & contact)
            # without a DOB, two contacts of which one is a person's own (a home's landline
            # and postcode are one household's: a father and son of one name share them)
            | ((lv.dob == Dob.MISSING) & (n_contacts >= 2) & (lv.email_same | lv.phone_same))
        )
    )
    # An initial instead of the full name: the same birthday, email, mobile and home still
    # make one person whose number was mistyped (twins share no mobile).
    num_over |= (
        num_bad
        & initial
        & lv.last_agree
        & (lv.suffix < Suffix.ONE_SIDE)
        & (lv.dob == Dob.EXACT)
        # the member's own mobile, or a mailbox both share that names them ("yusuf32@")
        & ((lv.email_same & lv.phone_same) | mailbox_own)
        & place
    )
    reason[num_bad & ~num_over] = Refusal.NUMBERS_FAR
    override[num_over] = Override.NUMBER
    reason[num_over & dob_bad] = Refusal.NUMBERS_FAR
    override[num_over & dob_bad] = Override.NONE
    return reason, override


def sure_links(
    levels: np.ndarray, reasons: np.ndarray, handle: np.ndarray | None = None
) -> np.ndarray:
    """Per pair: one person whatever the weight — the member's own membership number, email
    or mobile, the same first name (or a short form of it), and no rule refusing the pair.

    Why: a member who changed surname and moved keeps little else in common, and the
    weights (their m estimated among all candidate pairs, households included) put such a
    pair just below the threshold. Measured on three 200k generated profiles: all 347 such
    pairs below the threshold were one person. The cluster constraints still apply.
    ``handle``: per pair, the shared email is a first name and digits only
    (``mailbox.first_name_handles``): any member of that name's, so not evidence here.
    """
    lv = _Named(levels)
    email_own = lv.email_same if handle is None else lv.email_same & ~handle
    own = lv.number_exact | email_own | lv.phone_same
    first = (lv.first == FirstName.EXACT) | (lv.first == FirstName.NICKNAME)
    out: np.ndarray = own & first & (reasons == "")
    return out


def pair_refusal(levels: np.ndarray, hard: Hardness | None = None) -> np.ndarray:
    """Per pair: '' (may link) or the ``Refusal`` that forbids this pair on its own."""
    return pair_rules(levels, hard)[0]
