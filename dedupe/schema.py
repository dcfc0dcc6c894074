"""Canonical fields, the header alias table and the output schemas of the dedupe stage.

Why one place: the issue stage reads ``members.parquet`` built in parallel by another team, and
auditors read the CSVs; names and types must not drift between writer, docs and tests.
"""

from __future__ import annotations

import re

import pyarrow as pa

FORMAT_VERSION = "1"

#: Canonical input fields an export column can be mapped to.
CANONICAL_FIELDS: tuple[str, ...] = (
    "membership_number",
    "title",
    "first_name",
    "middle_names",
    "last_name",
    "full_name",
    "suffix",
    "date_of_birth",
    "email",
    "phone",
    "address",
    "town",
    "postcode",
    "org_member_id",
    "status",
    "consent",
    "initials",
)

#: Fields that may be fed by several columns (joined with ", " in header order).
MULTI_COLUMN_FIELDS = frozenset({"address", "middle_names"})
#: Fields that may be fed by several columns, first non-empty wins (mobile before landline:
#: a mobile is personal, a landline is shared by a household).
COALESCE_FIELDS = frozenset({"phone"})

#: Mapping target that says "read nothing from this column" (silences the unmapped-header note).
IGNORE = "ignore"

_ALIASES: dict[str, tuple[str, ...]] = {
    "membership_number": (
        "membership number",
        "membership no",
        "membership num",
        "labour membership number",
        "labour membership no",
        "labour membership",
        "labour number",
        "labour no",
        "labour party number",
        "labour party membership number",
        "lp number",
        "lp no",
        "lp",
        "lp id",
        "lp membership number",
        "lp membership no",
        "lp num",
        "labour id",
        "membership number labour",
        "labour member number",
        "labour member no",
        "party number",
        "labour no",
        "lab no",
        "labour membership id",
        "lp ref",
        "party membership number",
    ),
    "title": ("title", "salutation", "honorific", "prefix", "mr mrs", "mr mrs ms"),
    "first_name": (
        "first name",
        "firstname",
        "forename",
        "forenames",
        "given name",
        "given names",
        "christian name",
        "first",
        "fname",
        "first names",
        "forename s",
        "given name s",
        "first name s",
    ),
    "initials": (
        "initials",
        "initial",
        "inits",
        "init",
        "first initial",
        "first initials",
        "forename initials",
        "forename initial",
        "given name initials",
    ),
    "middle_names": (
        "middle name",
        "middle names",
        "middle initial",
        "middle initials",
        "other names",
        "middle",
    ),
    "last_name": (
        "last name",
        "lastname",
        "surname",
        "family name",
        "lname",
        "last",
        "second name",
        "surname family name",
        "family name surname",
    ),
    "full_name": (
        "name",
        "full name",
        "fullname",
        "member name",
        "contact name",
        "display name",
        "members name",
        "member full name",
        "surname forename",  # one column holding "SMITH, John"
        "surname forenames",
        "last name first name",
        "surname first name",
    ),
    "suffix": ("suffix", "name suffix", "generation"),
    "date_of_birth": (
        "date of birth",
        "dob",
        "d o b",
        "birth date",
        "birthdate",
        "birthday",
        "date born",
        "born",
        "d o b",
    ),
    "email": (
        "email",
        "e mail",
        "email address",
        "e mail address",
        "emailaddress",
        "primary email",
        "personal email",
        "contact email",
        "mail",
        "home email",
        "home e mail",
        "private email",
        "email home",
    ),
    "phone": (
        "phone",
        "telephone",
        "tel",
        "mobile",
        "mobile number",
        "mobile phone",
        "phone number",
        "telephone number",
        "tel no",
        "contact number",
        "landline",
        "mobile no",
        "phone no",
        "cell",
        "home phone",
        "home tel",
        "work phone",
        "tel no",
        "home telephone",
        "mobile tel",
        "mob",
        "phone mobile",
        "mobile phone number",
        "cell phone",
        "mobile cell",
    ),
    "address": (
        "address",
        "address line 1",
        "address line 2",
        "address line 3",
        "address 1",
        "address 2",
        "address 3",
        "address1",
        "address2",
        "address3",
        "addr1",
        "addr2",
        "street",
        "street address",
        "line 1",
        "line 2",
        "home address",
        "postal address",
        "house",
        "house number",
        "house number name",
        "house name number",
        "house name or number",
        "house number or name",
        "house name",
        "flat",
        "flat number",
        "building",
        "building name",
        "street name",
        "full address",
    ),
    "town": (
        "town",
        "city",
        "town city",
        "post town",
        "postal town",
        "town village",
        "village",
        "locality",
        "town or city",
        "city town",
    ),
    "postcode": (
        "postcode",
        "post code",
        "postal code",
        "zip",
        "zip code",
        "postcode zip",
        "post zip code",
    ),
    "org_member_id": (
        "id",
        "member id",
        "ref",
        "reference",
        "contact id",
        "record id",
        "rec id",
        "member ref",
        "member reference",
        "supporter id",
        "urn",
        "membership id",
        "memberno",
        "member no",
        "member number",
        "org member id",
        "contact ref",
    ),
    "status": ("status", "membership status", "member status", "standing", "membership state"),
    "consent": (
        "consent",
        "ballot consent",
        "data consent",
        "gdpr consent",
        "consent to contact",
        "opt in",
        "contact consent",
        "consented",
        "gdpr",
        "data sharing consent",
        "mailing consent",
        "email consent",
        "marketing consent",
        "consent to mail",
        "contact permission",
        "can contact",
    ),
}


#: Spellings of "number" in headers: "Tel No.", "Membership #", "LP Num" all mean "number".
_NUMBER_WORDS = re.compile(r"(?<![0-9a-z])(?:no|num|nbr|number)(?![0-9a-z])|#")
#: A bracketed note after a header: "(Labour)", "(dd/mm/yyyy)", "(Y/N)", "[mobile]".
_BRACKETED = re.compile(r"[(\[][^)\]]*[)\]]")
#: Answer choices written after a header without brackets: "Consent Y/N", "Opt in yes/no".
_CHOICES = re.compile(r"\s+(?:y\s*/\s*n|yes\s*/\s*no|true\s*/\s*false)\s*\??\s*$", re.IGNORECASE)


def header_key(header: str) -> str:
    """Case-, punctuation- and spacing-insensitive form of a header ("E-mail" -> "e mail").

    "No", "No.", "Num" and "#" all become "number", so "Telephone No." finds the alias
    "telephone number" without every spelling being listed.
    """
    key = _NUMBER_WORDS.sub(" number ", header.strip().lower())
    return re.sub(r"[^0-9a-z]+", " ", key).strip()


def _build_alias_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for field, aliases in _ALIASES.items():
        for alias in (field.replace("_", " "), *aliases):
            index[header_key(alias)] = field
    return index


ALIAS_INDEX: dict[str, str] = _build_alias_index()
#: The same aliases keyed by their sorted words (word order does not matter in a header).
_ALIAS_BY_WORDS: dict[tuple[str, ...], str] = {}
for _alias, _field in ALIAS_INDEX.items():
    _ALIAS_BY_WORDS.setdefault(tuple(sorted(_alias.split())), _field)


def lookup_header(header: str) -> str | None:
    """The canonical field a header means, or None when no alias knows it."""
    key = header_key(header)
    if key in ALIAS_INDEX:
        return ALIAS_INDEX[key]
    # Word-order variants: "Membership Number (Labour)" == "Labour Membership Number".
    field = _by_word_set(key)
    if field is None:
        # A note in brackets or a list of answers does not change what the column holds:
        # "Date of Birth (dd/mm/yyyy)", "Consent (Y/N)", "Phone [mobile]", "Consent Y/N".
        bare = header_key(_CHOICES.sub("", _BRACKETED.sub(" ", header)))
        # "Email 1", "Phone1": the first (primary) of a numbered set; "Email 2" stays unknown.
        bare = re.sub(r"(?<=[a-z]) ?1$", "", bare)
        if bare and bare != key:
            field = ALIAS_INDEX.get(bare) or _by_word_set(bare)
    return field


#: Abbreviated header words, spelled out before the alias table is asked again
#: ("Mem#" -> "membership number", "Addr 1" -> "address 1", "P/Code" -> "postcode").
ABBREVIATIONS: dict[str, str] = {
    "mem": "membership",
    "lab": "labour",
    "memb": "membership",
    "mbr": "member",
    "mbrship": "membership",
    "mship": "membership",
    "membshp": "membership",
    "addr": "address",
    "add": "address",
    "adr": "address",
    "pcode": "postcode",
    "pc": "postcode",
    "p code": "postcode",
    "sname": "surname",
    "fnames": "forenames",
    "dt": "date",
    "tel": "telephone",
    "ph": "phone",
    "mob": "mobile",
}


def expand_abbreviations(key: str) -> str:
    """``header_key`` output with abbreviated words spelled out ("mem number" -> ...)."""
    key = re.sub(r"\bp code\b", "postcode", key)
    return " ".join(ABBREVIATIONS.get(w, w) for w in key.split())


def _by_word_set(key: str) -> str | None:
    words = tuple(sorted(key.split()))
    return _ALIAS_BY_WORDS.get(words)


#: members.parquet — the contract with the issue stage. Keep names and types stable.
MEMBERS_SCHEMA = pa.schema(
    [
        ("person_id", pa.string()),
        ("full_name", pa.string()),
        ("first_name", pa.string()),
        ("last_name", pa.string()),
        ("email", pa.string()),
        ("phone", pa.string()),
        ("address", pa.string()),
        ("town", pa.string()),
        ("postcode", pa.string()),
        ("organisations", pa.string()),
        ("membership_number", pa.string()),
        ("eligible", pa.bool_()),
        ("ineligible_reason", pa.string()),
        ("title", pa.string()),
        ("suffix", pa.string()),
        ("date_of_birth", pa.string()),
        ("n_records", pa.int32()),
        ("min_link_weight", pa.float64()),
    ]
)

CLUSTERS_COLUMNS = ("source_org", "row_id", "person_id")
REJECTED_COLUMNS = ("source_org", "row_id", "file", "line", "reason", "fix")
WARNINGS_COLUMNS = ("source_org", "row_id", "line", "field", "warning")
EXCLUDED_COLUMNS = ("person_id", "full_name", "organisations", "reason")
DECISION_COLUMNS = (
    "item_id",
    "source_org_a",
    "row_id_a",
    "fingerprint_a",
    "source_org_b",
    "row_id_b",
    "fingerprint_b",
    "records",
    "decision",
    "note",
)
