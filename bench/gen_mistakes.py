"""The mistakes put into an organisation's rows: their rates, the flags that record them, the
per-org working bag that draws them, and the keyboard slips themselves.

Why per-row flags: every injected error is recorded next to the row, so a test or a scorer can say
which kind of error a method misses. Errors are drawn column-wise; only the few rows that get a
typo or a mistyped number go through the small Python helpers here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

ROW_RATES: dict[str, float] = {
    "lp_mistype": 0.025,
    "nickname": 0.07,
    "initial_only": 0.02,
    "typo_first": 0.015,
    "typo_last": 0.015,
    "name_swap": 0.004,
    "middle_in_first": 0.15,
    "maiden_name": 0.4,  # share of a renamed person's rows still under the maiden name
    "accent_lost": 0.15,
    "apostrophe_variant": 0.25,
    "all_caps": 0.01,
    "all_lower": 0.01,  # typed into a web form: "john smith"
    "stray_space": 0.01,  # leading/trailing spaces in a name field
    "stale_address": 0.5,  # share of a mover's rows with the old address
    "stale_email": 0.5,
    "stale_mobile": 0.5,
    "postcode_missing": 0.02,
    "postcode_typo": 0.01,
    "postcode_format": 0.15,
    "dob_daymonth_swap": 0.01,
    "dob_typo": 0.005,
    "dob_placeholder": 0.002,
    "email_missing": 0.05,
    "email_typo": 0.005,
    "email_variant": 0.03,
    "within_org_dup": 0.012,
}
LP_TYPO_KINDS: dict[str, float] = {
    "transpose": 0.35,
    "substitute": 0.30,
    "drop": 0.12,
    "insert": 0.08,
    "two_edits": 0.08,
    "partner": 0.07,  # the partner's number typed on this person's form
}

FLAGS = [
    "within_org_dup",
    "lp_missing",
    "lp_mistyped",
    "lp_collision",
    "nickname",
    "initial",
    "typo",
    "maiden",
    "name_swap",
    "accent_lost",
    "stale_address",
    "stale_email",
    "postcode_missing",
    "postcode_typo",
    "dob_missing",
    "dob_error",
    "email_missing",
]


class RowNoise:
    """Per-org working arrays and flags (a tiny mutable bag, local to ``build_org``)."""

    def __init__(
        self, p: pd.DataFrame, pi: np.ndarray, rng: np.random.Generator, rates: dict[str, float]
    ):
        self.n = len(pi)
        self.rng = rng
        self.r = rates
        self.col = {c: p[c].to_numpy()[pi] for c in p.columns}
        self.flags: dict[str, np.ndarray] = {f: np.zeros(self.n, dtype=bool) for f in FLAGS}

    def pick(self, rate: float, where: np.ndarray | None = None) -> np.ndarray:
        """Rows hit by a mistake of this ``rate`` (one draw per row), only ``where`` allowed."""
        hit = self.rng.random(self.n) < rate
        return hit if where is None else hit & where


def apply_each(values: np.ndarray, mask: np.ndarray, fn: Callable[[Any, int], Any]) -> None:
    """``values[mask]`` replaced by ``fn(value, i)``, i counting the masked rows from 0."""
    idx = np.flatnonzero(mask)
    if len(idx):
        values[idx] = np.array([fn(v, i) for i, v in enumerate(values[idx])], dtype=object)


def typo(s: str, op: int, pos: float, k: int) -> str:
    """One keyboard slip: drop, double, swap adjacent or hit a neighbouring key."""
    if len(s) < 3:
        return s + s[-1:] if s else s
    i = 1 + int(pos * (len(s) - 2))  # keep the first letter (people rarely slip there)
    if op == 0:
        return s[:i] + s[i + 1 :]
    if op == 1:
        return s[:i] + s[i] + s[i:]
    if op == 2 and i + 1 < len(s):
        return s[:i] + s[i + 1] + s[i] + s[i + 2 :]
    return s[:i] + _near(s[i], k) + s[i + 1 :]


_KEYS = ["qwertyuiop", "asdfghjkl", "zxcvbnm"]


def _near(ch: str, k: int) -> str:
    """A key next to ``ch`` on a UK keyboard (or any letter for non-letters)."""
    low = ch.lower()
    for row in _KEYS:
        i = row.find(low)
        if i >= 0:
            j = min(max(i + (1 if k % 2 else -1), 0), len(row) - 1)
            out = row[j] if row[j] != low else row[i - 1]
            return out.upper() if ch.isupper() else out
    return "e"


def mistype_number(s: str, kind: str, pos: float, digit: int) -> str:
    """A 7-digit number after one slip of the given kind (never equal to the original)."""
    i = int(pos * (len(s) - 1))
    if kind == "transpose" and s[i] != s[i + 1]:
        return s[:i] + s[i + 1] + s[i] + s[i + 2 :]
    if kind == "drop":
        return s[:i] + s[i + 1 :]
    if kind == "insert":
        return s[:i] + s[i] + s[i:]
    if kind == "two_edits":
        j = (i + 3) % len(s)
        t = list(s)
        t[i] = str((int(t[i]) + 1 + digit % 9) % 10)
        t[j] = str((int(t[j]) + 1 + (digit * 7) % 9) % 10)
        return "".join(t)
    return s[:i] + str((int(s[i]) + 1 + digit % 9) % 10) + s[i + 1 :]
