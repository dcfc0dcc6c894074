"""Ballot tokens: 100 random bits shown as 20 Crockford base32 symbols plus one Damm check symbol.

Public API (stable; the intake stage relies on it):

* ``new_token() -> str`` — one fresh token in canonical form (21 symbols, no separators).
* ``new_tokens(n) -> list[str]`` — ``n`` fresh tokens, vectorised (1M in well under a second).
* ``check_symbol(body: str) -> str`` — the Damm check symbol over GF(32) of canonical symbols.
* ``normalise_token(text: str) -> str`` — lenient input to canonical form, or ``TokenFormatError``.
* ``format_token(canonical: str) -> str`` — ``XXXX-XXXX-XXXX-XXXX-XXXX-C`` for letters and links.
* ``TokenFormatError`` — a ``UsageError`` (exit 2) with ``reason`` in
  {"length", "alphabet", "check"}.

Why these choices (see ../shared/design/issuing-notes.md §3.1):

* 100 bits from ``secrets`` (never ``random``): online guessing against 1M issued tokens stays
  hopeless even without rate limits, and the register's keyed HMAC makes a leaked register useless.
* Crockford base32 drops I, L, O and U, so a postal voter typing the code cannot confuse glyphs;
  on input we read O as 0 and I/L as 1, ignore case, hyphens and whitespace.
* The check symbol is Damm's algorithm over GF(2^5) (modulus x^5 + x^2 + 1): the running value is
  ``s <- 2*s XOR v`` and the check symbol is ``2*s``; a code is valid iff the running value over
  all 21 symbols ends at 0. The map is a quasigroup, so every single-symbol substitution and
  every adjacent transposition is caught (proved by the tests over random tokens), and the
  alphabet stays closed (no extra symbols like Crockford's mod-37 ``*~$=U``).

No error message ever contains the token itself: tracebacks and logs must never carry one.
"""

from __future__ import annotations

import secrets
import unicodedata
from typing import TYPE_CHECKING

from omov.errors import UsageError

if TYPE_CHECKING:  # numpy is imported where tokens are made in bulk: fast CLI start-up
    import numpy as np

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
BODY_SYMBOLS = 20
TOKEN_SYMBOLS = BODY_SYMBOLS + 1
TOKEN_BITS = 100
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
# Lenient reading: lower case handled by upper(); these are Crockford's decode aliases.
_ALIASES = {"O": "0", "I": "1", "L": "1"}
_IGNORED = frozenset("- \t\r\n")
# Pasted from a letter, a PDF or a word processor, a token carries look-alike separators: every
# Unicode dash (Pd: en dash, em dash, non-breaking hyphen, …) and the minus sign, every space
# (Zs: non-breaking, thin, ideographic, …, and line/paragraph separators) and every invisible
# format character (Cf: zero-width space and joiners, word joiner, soft hyphen, BOM) is ignored
# like ``-`` and a space. Full-width letters and digits are read as the ASCII ones (NFKC).
_IGNORED_CATEGORIES = frozenset({"Pd", "Zs", "Zl", "Zp", "Cf"})
_MINUS_SIGNS = frozenset("\u2212\u2796\ufe63\uff0d")


def _ignored(ch: str) -> bool:
    return ch in _IGNORED or ch in _MINUS_SIGNS or unicodedata.category(ch) in _IGNORED_CATEGORIES


def _plain(text: str) -> str:
    """``text`` without the look-alike separators above (ASCII input is returned as it is)."""
    if text.isascii():
        return text
    return "".join(ch for ch in unicodedata.normalize("NFKC", text) if not _ignored(ch))


_POLY_LOW = 0b00101  # x^5 = x^2 + 1 in GF(2)[x]/(x^5 + x^2 + 1)


def _times_two(s: int) -> int:
    """Multiply by x in GF(32): shift left, reduce by the modulus when bit 5 overflows."""
    return ((s << 1) & 0x1F) ^ (_POLY_LOW if s & 0x10 else 0)


_TIMES_TWO = tuple(_times_two(s) for s in range(32))


class TokenFormatError(UsageError):
    """A typed token is malformed; ``reason`` says which rule failed (never echoes the token)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(
            f"not a valid ballot token: {message}",
            fix="type the 21 symbols exactly as printed, e.g. XXXX-XXXX-XXXX-XXXX-XXXX-C",
        )
        self.reason = reason


def _running_value(symbols: str) -> int:
    s = 0
    for ch in symbols:
        s = _TIMES_TWO[s] ^ _VALUE[ch]
    return s


def check_symbol(body: str) -> str:
    """The Damm (GF(32)) check symbol for canonical Crockford symbols ``body``."""
    bad = [ch for ch in body if ch not in _VALUE]
    if bad:
        raise TokenFormatError("alphabet", f"symbol {bad[0]!r} is not in the token alphabet")
    return ALPHABET[_TIMES_TWO[_running_value(body)]]


def is_valid_canonical(canonical: str) -> bool:
    """True iff ``canonical`` is 21 alphabet symbols whose Damm running value ends at 0."""
    return (
        len(canonical) == TOKEN_SYMBOLS
        and all(ch in _VALUE for ch in canonical)
        and _running_value(canonical) == 0
    )


def normalise_token(text: str) -> str:
    """Canonical form (21 upper-case symbols) of a token as a voter might type it.

    Case-insensitive; hyphens and whitespace ignored (any Unicode dash, space or zero-width
    character too, see ``_plain``); O reads as 0, I and L as 1.
    Raises ``TokenFormatError`` with reason "length", "alphabet" or "check".
    """
    cleaned = "".join(_ALIASES.get(ch, ch) for ch in _plain(text).upper() if ch not in _IGNORED)
    for ch in cleaned:
        if ch not in _VALUE:
            shown = ch if ch.isascii() and ch.isprintable() else f"U+{ord(ch):04X}"
            raise TokenFormatError("alphabet", f"character {shown!r} is not in the token alphabet")
    if len(cleaned) != TOKEN_SYMBOLS:
        raise TokenFormatError(
            "length", f"it has {len(cleaned)} symbols; a token has {TOKEN_SYMBOLS}"
        )
    if _running_value(cleaned) != 0:
        raise TokenFormatError("check", "the check symbol does not match (a symbol is mistyped)")
    return cleaned


def format_token(canonical: str) -> str:
    """``XXXX-XXXX-XXXX-XXXX-XXXX-C``: groups of four, then the check symbol."""
    if len(canonical) != TOKEN_SYMBOLS:
        raise TokenFormatError("length", f"it has {len(canonical)} symbols; expected 21")
    groups = [canonical[i : i + 4] for i in range(0, BODY_SYMBOLS, 4)]
    return "-".join([*groups, canonical[BODY_SYMBOLS]])


def _symbols_from_bytes(raw: np.ndarray) -> np.ndarray:
    """(n, 13) random bytes → (n, 20) symbol values from the first 100 bits."""
    import numpy as np

    bits = np.unpackbits(raw, axis=1)[:, :TOKEN_BITS].reshape(raw.shape[0], BODY_SYMBOLS, 5)
    weights = np.array([16, 8, 4, 2, 1], dtype=np.uint8)
    symbols: np.ndarray = (bits * weights).sum(axis=2, dtype=np.uint8)
    return symbols


def _canonical_block(n: int) -> np.ndarray:
    """(n, 21) ASCII codes of fresh canonical tokens (body from ``secrets``, Damm check)."""
    import numpy as np

    times_two = np.array(_TIMES_TWO, dtype=np.uint8)
    alphabet = np.frombuffer(ALPHABET.encode("ascii"), dtype=np.uint8)
    raw = np.frombuffer(secrets.token_bytes(13 * n), dtype=np.uint8).reshape(n, 13)
    body = _symbols_from_bytes(raw)
    s = np.zeros(n, dtype=np.uint8)
    for i in range(BODY_SYMBOLS):
        s = times_two[s] ^ body[:, i]
    values = np.empty((n, TOKEN_SYMBOLS), dtype=np.uint8)
    values[:, :BODY_SYMBOLS] = body
    values[:, BODY_SYMBOLS] = times_two[s]
    result: np.ndarray = alphabet[values]
    return result


def new_tokens(n: int, *, block: int = 1 << 17) -> list[str]:
    """``n`` fresh canonical tokens (vectorised; bounded memory via blocks)."""
    out: list[str] = []
    for start in range(0, n, block):
        m = min(block, n - start)
        text = _canonical_block(m).tobytes().decode("ascii")
        out.extend(text[i : i + TOKEN_SYMBOLS] for i in range(0, m * TOKEN_SYMBOLS, TOKEN_SYMBOLS))
    return out


def new_token() -> str:
    """One fresh canonical token: 100 bits from ``secrets`` plus its check symbol."""
    value = secrets.randbits(TOKEN_BITS)
    body = "".join(ALPHABET[(value >> (5 * (BODY_SYMBOLS - 1 - i))) & 0x1F] for i in range(20))
    return body + check_symbol(body)


def format_tokens(canonical: list[str]) -> list[str]:
    """``format_token`` over a list (the dispatch files' hot path)."""
    return [f"{t[0:4]}-{t[4:8]}-{t[8:12]}-{t[12:16]}-{t[16:20]}-{t[20]}" for t in canonical]
