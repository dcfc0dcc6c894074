"""Token format: Damm over GF(32) catches every single substitution and adjacent transposition."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from issue.tokens import (
    ALPHABET,
    TokenFormatError,
    check_symbol,
    format_token,
    is_valid_canonical,
    new_token,
    new_tokens,
    normalise_token,
)

BODIES = st.text(alphabet=ALPHABET, min_size=20, max_size=20)


def _token(body: str) -> str:
    return body + check_symbol(body)


@given(BODIES)
def test_every_single_substitution_is_caught(body: str) -> None:
    token = _token(body)
    for i, original in enumerate(token):
        for replacement in ALPHABET:
            if replacement != original:
                assert not is_valid_canonical(token[:i] + replacement + token[i + 1 :])


@given(BODIES)
def test_every_adjacent_transposition_is_caught(body: str) -> None:
    token = _token(body)
    for i in range(len(token) - 1):
        a, b = token[i], token[i + 1]
        if a != b:
            swapped = token[:i] + b + a + token[i + 2 :]
            assert not is_valid_canonical(swapped)
            with pytest.raises(TokenFormatError) as err:
                normalise_token(swapped)
            assert err.value.reason == "check"


@st.composite
def _typed_forms(draw: st.DrawFn) -> tuple[str, str]:
    """A token and a way a voter might type it: any case, spaces/hyphens, O/I/L look-alikes."""
    token = _token(draw(BODIES))
    out = []
    for ch in token:
        if ch == "0" and draw(st.booleans()):
            ch = "O"
        elif ch == "1":
            ch = draw(st.sampled_from("1IL"))
        if draw(st.booleans()):
            ch = ch.lower()
        out.append(ch + draw(st.sampled_from(["", "", "-", " "])))
    return token, "".join(out)


@given(_typed_forms())
def test_lenient_round_trip(pair: tuple[str, str]) -> None:
    token, typed = pair
    assert normalise_token(typed) == token
    assert normalise_token(format_token(token)) == token
    assert normalise_token(format_token(token).lower()) == token


@settings(max_examples=50)
@given(st.integers(min_value=1, max_value=300))
def test_generated_tokens_are_valid_and_formatted(n: int) -> None:
    for t in new_tokens(n):
        assert is_valid_canonical(t)
        assert len(format_token(t)) == 26 and format_token(t).count("-") == 5
    assert is_valid_canonical(new_token())


def test_check_symbol_vectors() -> None:
    """Fixed vectors so a future refactor cannot silently change the algorithm."""
    assert check_symbol("0" * 20) == "0"
    assert check_symbol("1") == "2"  # s = 1, check = 2*1 = x = 2
    assert check_symbol("G") == "5"  # s = 16 = x^4, 2*s = x^5 = x^2 + 1 = 5
    assert check_symbol("11") == "6"  # s = 2*1 ^ 1 = 3, check = 6


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("ABCD", "length"),
        ("0000-0000-0000-0000-0000-00", "length"),
        ("0000-0000-0000-0000-000U-0", "alphabet"),
        ("0000-0000-0000-0000-000*-0", "alphabet"),
        ("0000-0000-0000-0000-0001-0", "check"),
    ],
)
def test_bad_input_reasons(typed: str, reason: str) -> None:
    with pytest.raises(TokenFormatError) as err:
        normalise_token(typed)
    assert err.value.reason == reason
    assert typed not in str(err.value)


@pytest.mark.slow
def test_a_million_tokens_are_unique() -> None:
    tokens = new_tokens(1_000_000)
    assert len(set(tokens)) == 1_000_000
