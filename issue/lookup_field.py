"""What a helpline lookup query is (``omov issue lookup --by``): its own small module so the CLI
can offer the choices without importing the lookup itself (pyarrow, rapidfuzz)."""

from __future__ import annotations

from enum import StrEnum


class Field(StrEnum):
    """What the query is."""

    AUTO = "auto"
    NAME = "name"
    EMAIL = "email"
    NUMBER = "number"
    PERSON_ID = "person-id"
