"""The fast paths of blocking and comparison agree with the straightforward versions.

Why: those paths (bytes.translate instead of a regex, packed words instead of a character
matrix, hashing instead of sorting) are only worth having if their results are identical.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dedupe.blocking import _unpadded_number, block_codes, combine_codes, pairs_from_codes
from dedupe.compare import (
    _email_digits,
    _email_letters,
    _first_word,
    _first_word_letters,
)
from dedupe.keys import house_number, outward_code
from dedupe.strings import char_matrix, differing_chars, unique_pairs

ODD = [
    "",
    " ",
    "a b",
    "0000",
    "00012345",
    "12345678901",
    "１２３４５",
    "ab\x00c",
    "Ｗarner-Smith x",
    "İstanbul",
    "flat 2 14a high st",
    "14 high",
    "kelly_white84@gmail.com",
    "emma.mitchell+x@ex-ample.co.uk",
    "zoë.o'neil@mail.com",
    "sw1a 1aa",
]


def _same(new: pd.Series, old: pd.Series) -> bool:
    def norm(v: object) -> object:
        return None if v is None or (isinstance(v, float) and np.isnan(v)) else v

    return [norm(v) for v in new.tolist()] == [norm(v) for v in old.tolist()]


@pytest.mark.parametrize(
    ("fast", "slow"),
    [
        (_email_letters, lambda x: x.str.replace(r"[._\-+]", "", regex=True)),
        (_email_digits, lambda x: x.str.replace(r"[^0-9@]", "", regex=True)),
        (_first_word, lambda x: x.str.split().str[0]),
        (
            _first_word_letters,
            lambda x: (
                x.str.split()
                .str[0]
                .fillna("")
                .map(lambda v: "".join(ch for ch in v.lower() if "a" <= ch <= "z"))
            ),
        ),
        (house_number, lambda x: x.str.extract(r"^(?:flat \w+ )?(\d+\w?)", expand=False)),
        (outward_code, lambda x: x.str.split(" ").str[0]),
        (
            _unpadded_number,
            lambda x: x.str.lstrip("0").where(
                x.str.lstrip("0").str.len().between(5, 9)
                & x.str.lstrip("0").str.fullmatch(r"[0-9]+"),
                None,
            ),
        ),
    ],
)
def test_derived_keys_match_pandas_str(fast: object, slow: object) -> None:
    values = pd.Series(ODD, dtype=object)
    assert _same(fast(values), slow(values))  # type: ignore[operator]


def test_differing_chars_counts_positions() -> None:
    rng = np.random.default_rng(0)
    for alphabet in ("0123456789", "abcé", "ab\u0100\u4e00"):
        vals = np.array(
            ["".join(rng.choice(list(alphabet), rng.integers(0, 20))) for _ in range(500)],
            dtype=object,
        )
        chars, _ = char_matrix(vals)
        a, b = rng.integers(0, 500, 3000), rng.integers(0, 500, 3000)
        width = max(map(len, vals))
        naive = [
            sum(vals[x][k : k + 1] != vals[y][k : k + 1] for k in range(width))
            for x, y in zip(a, b, strict=True)
        ]
        assert differing_chars(chars, a, b).tolist() == naive


def test_block_codes_group_like_combine_codes() -> None:
    rng = np.random.default_rng(1)
    cols = [rng.integers(-1, 30, 2000), rng.integers(-1, 5, 2000), rng.integers(-1, 900, 2000)]
    fast, slow = block_codes(*cols), combine_codes(*cols)
    assert np.array_equal(fast < 0, slow < 0)
    assert len(np.unique(fast[fast >= 0])) == len(np.unique(slow[slow >= 0]))
    a, b, nb, nr = pairs_from_codes(fast, 3)
    c, d, nb2, nr2 = pairs_from_codes(slow, 3)
    assert (nb, nr) == (nb2, nr2)
    assert set(zip(a.tolist(), b.tolist(), strict=True)) == set(
        zip(c.tolist(), d.tolist(), strict=True)
    )


def test_unique_pairs_inverse_rebuilds_the_pairs() -> None:
    rng = np.random.default_rng(2)
    ci, cj = rng.integers(0, 50, 5000), rng.integers(0, 50, 5000)
    ui, uj, inv = unique_pairs(ci, cj)
    assert np.array_equal(ui[inv], ci) and np.array_equal(uj[inv], cj)
    si, sj, sinv = unique_pairs(ci, cj, symmetric=True)
    assert np.array_equal(si[sinv], np.minimum(ci, cj))
    assert np.array_equal(sj[sinv], np.maximum(ci, cj))
