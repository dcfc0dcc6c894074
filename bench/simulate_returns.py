"""Simulated returned ballots (online and postal) for issued tokens, with the mess of real returns.

Reads the issue stage's dispatch CSV file(s) (any CSV with a ``token`` column; a file whose name
contains ``post`` is taken as postal dispatch), draws who votes, how they rank the candidates and
which papers or tokens go wrong, and writes::

    OUT/online.csv, OUT/postal.csv        token,preferences   (what the intake stage reads)
    OUT/truth/returns_truth.csv           channel,line,token_kind,paper_kind (never read by omov)
    OUT/truth/returns_manifest.json       seed, rates, counts per kind

``preferences`` is positional, like a paper: the marks given to candidates in ballot-paper order,
separated by ``;`` (``2;;1;3;`` = candidate 3 first, 1 second, 4 third). Same seed → same bytes.

Example:
    python bench/simulate_returns.py --dispatch out/demo/issue/dispatch_email.csv \\
        out/demo/issue/dispatch_post.csv --candidates 16 --seed 7 --out out/demo/returns
    python bench/simulate_returns.py --ballots-only 1000000 --candidates 16 --seed 1 \\
        --out bench/data/ret1m
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from issue.tokens import ALPHABET, is_valid_canonical

FORMAT_VERSION = "1"
MAX_RANKS = 15
MIN_EACH = 2  # every problem kind appears at least twice, even in a small sample

#: Share of issued tokens that come back at all, and the channel they come back by.
TURNOUT = 0.55
ONLINE_IF_EMAILED = 0.93
ONLINE_IF_POSTED = 0.10
#: Token problems, as a share of returned papers (lenient forms: typed from a letter).
TOKEN_RATES: dict[str, float] = {
    "reused_same_channel": 0.006,  # the same token sent twice by one channel
    "reused_cross_channel": 0.009,  # once online and once by post
    "unknown": 0.003,  # well-formed, right check symbol, never issued
    "malformed_check": 0.002,  # one symbol mistyped: the check symbol catches it
    "malformed_length": 0.001,  # a symbol dropped or doubled
    "lenient_online": 0.01,  # lower case / no dashes / O for 0 / spaces
    "lenient_postal": 0.25,
    "revoked": 0.3,  # share of --revoked tokens someone still tries to use
}
#: Paper problems, as a share of returned papers (valid_* kinds still count).
PAPER_RATES: dict[str, float] = {
    "blank": 0.005,
    "spoilt_two_firsts": 0.004,  # two 1s: first preference uncertain
    "spoilt_no_first": 0.003,  # a 2 (and more) but no 1
    "spoilt_crosses": 0.002,  # several X marks and no numbers
    "spoilt_beyond_ballot": 0.001,  # a mark after the last candidate
    "valid_gap": 0.01,  # 1, 2, 4: counts up to the gap
    "valid_repeated_later": 0.004,  # 1, 2, 2: counts up to the repeat
    "valid_ignored_mark": 0.003,  # 1, 2 and an X elsewhere
    "valid_single_cross": 0.002,  # one X alone reads as a first preference
}
#: Ballot length: many short ballots (1-3 ranks), some full.
LENGTH_WEIGHTS = np.array([18, 12, 14, 11, 9, 7, 6, 5, 4, 3, 3, 2, 2, 1.5, 2.5])


# ---- tokens -------------------------------------------------------------------------------


def _times_two_table() -> np.ndarray:
    """Multiply by x in GF(32) mod x^5 + x^2 + 1 (the same field as issue.tokens)."""
    return np.array(
        [((s << 1) & 0x1F) ^ (0b00101 if s & 0x10 else 0) for s in range(32)], dtype=np.uint8
    )


_X2 = _times_two_table()
_ALPHA = np.frombuffer(ALPHABET.encode("ascii"), dtype=np.uint8)


def seeded_tokens(rng: np.random.Generator, n: int) -> np.ndarray:
    """n well-formed grouped tokens from a seeded generator (test data only, never ballots).

    Same check symbol as ``issue.tokens`` (Damm over GF(32)); vectorised so a million is quick."""
    body = rng.integers(0, 32, size=(n, 20), dtype=np.uint8)
    s = np.zeros(n, dtype=np.uint8)
    for i in range(20):
        s = _X2[s] ^ body[:, i]
    sym = np.empty((n, 26), dtype=np.uint8)
    sym[:] = ord("-")
    for g in range(5):
        sym[:, g * 5 : g * 5 + 4] = _ALPHA[body[:, g * 4 : g * 4 + 4]]
    sym[:, 25] = _ALPHA[_X2[s]]
    return np.array(sym.view("S26").ravel().astype("U26"), dtype=object)


def lenient(token: str, k: int) -> str:
    """How a voter might type a grouped token; the intake must still accept it."""
    forms = [
        token.lower(),
        token.replace("-", ""),
        token.replace("0", "O"),
        token.replace("-", " "),
        token.replace("1", "l").lower(),
        " " + token + " ",
    ]
    out = forms[k % len(forms)]
    return out if out != token else token.lower()


def malformed(token: str, k: int, kind: str) -> str:
    """A token the intake must reject: one symbol changed (check fails) or wrong length."""
    canon = token.replace("-", "")
    if kind == "malformed_check":
        i = k % 21
        repl = ALPHABET[(ALPHABET.index(canon[i]) + 1 + k % 31) % 32]
        canon = canon[:i] + repl + canon[i + 1 :]
        assert not is_valid_canonical(canon)
    else:
        i = k % 20
        canon = canon[:i] + canon[i + 1 :] if k % 2 else canon[:i] + canon[i] + canon[i:]
    body, check = canon[:-1], canon[-1]
    return "-".join(body[j : j + 4] for j in range(0, len(body), 4)) + "-" + check


# ---- preferences -------------------------------------------------------------------------


def rankings(rng: np.random.Generator, n: int, ncand: int, factions: int = 4) -> np.ndarray:
    """n×ncand positional marks (0 = unmarked) from popularity + organisation affinity.

    Each candidate has a popularity and a home organisation; each voter leans to one
    organisation. Rankings are Plackett-Luce draws (Gumbel trick), cut to a drawn length."""
    pop = rng.lognormal(0.0, 0.7, ncand)
    home = rng.integers(0, factions, ncand)
    lean = rng.choice(
        factions,
        n,
        p=np.array([0.4, 0.25, 0.2, 0.15])[:factions]
        / np.array([0.4, 0.25, 0.2, 0.15])[:factions].sum(),
    )
    marks = np.zeros((n, ncand), dtype=np.int16)
    k = min(MAX_RANKS, ncand)
    lw = LENGTH_WEIGHTS[:k] / LENGTH_WEIGHTS[:k].sum()
    for start in range(0, n, 200_000):
        m = min(200_000, n - start)
        util = (
            np.log(pop)[None, :]
            + 1.2 * (home[None, :] == lean[start : start + m, None])
            + rng.gumbel(size=(m, ncand))
        )
        order = np.argsort(-util, axis=1)
        length = rng.choice(np.arange(1, k + 1), m, p=lw)
        rank = np.empty_like(order)
        np.put_along_axis(rank, order, np.arange(1, ncand + 1)[None, :].repeat(m, axis=0), axis=1)
        marks[start : start + m] = np.where(rank <= length[:, None], rank, 0)
    return marks


def _spoil(row: list[str], kind: str, k: int) -> tuple[list[str], str]:
    """Turn one positional paper (list of mark strings) into the given paper kind.

    Returns the new marks and the kind really applied ("valid" when the paper is too short for a
    gap or a repeat), so the truth file never claims a problem that is not on the paper."""
    c = len(row)
    ranks = {int(v): i for i, v in enumerate(row) if v}
    free = [i for i, v in enumerate(row) if not v]
    if kind == "blank":
        return [""] * c, kind
    if kind == "spoilt_two_firsts" and free:
        row[ranks[2] if 2 in ranks else free[k % len(free)]] = "1"
        return row, kind
    if kind == "spoilt_no_first":
        return [str(int(v) + 1) if v else "" for v in row], kind
    if kind == "spoilt_crosses":
        row = [""] * c
        i = k % c
        row[i] = row[(i + 1 + k % (c - 1)) % c] = "X"
        return row, kind
    if kind == "spoilt_beyond_ballot":
        return [*row, "3"], kind
    if kind == "valid_gap" and len(ranks) >= 3:
        for r in sorted(ranks, reverse=True)[: len(ranks) - 2]:
            row[ranks[r]] = str(r + 1)
        return row, kind
    if kind == "valid_repeated_later" and len(ranks) >= 2 and free:
        row[free[k % len(free)]] = "2"
        return row, kind
    if kind == "valid_ignored_mark" and free:
        row[free[k % len(free)]] = ["X", "?", "\u2713"][k % 3]
        return row, kind
    if kind == "valid_single_cross":
        row = [""] * c
        row[k % c] = "X" if k % 2 else "x"
        return row, kind
    return row, "valid"


# ---- returns ------------------------------------------------------------------------------


def _how_many(n: int, rate: float) -> int:
    """Rows of one problem kind: the rate, but at least MIN_EACH so a small demo shows them all."""
    return max(MIN_EACH, round(n * rate))


def read_dispatch(paths: list[Path]) -> tuple[np.ndarray, np.ndarray]:
    """Tokens from dispatch CSV files, and whether each was sent by post (from the file name)."""
    toks, post = [], []
    for path in paths:
        t = pd.read_csv(path, usecols=["token"], dtype=str, keep_default_na=False)[
            "token"
        ].to_numpy()
        toks.append(t)
        post.append(np.full(len(t), "post" in path.name.lower()))
    if not toks:
        raise ValueError("no dispatch file given")
    return np.concatenate(toks).astype(object), np.concatenate(post)


def simulate(
    tokens: np.ndarray,
    posted: np.ndarray,
    ncand: int,
    seed: int,
    out: Path,
    revoked: np.ndarray | None = None,
    turnout: float = TURNOUT,
) -> dict[str, Any]:
    """Write online.csv, postal.csv and truth/ for these issued tokens; return the manifest."""
    if ncand < 2:
        raise ValueError("--candidates must be at least 2")
    rng = np.random.default_rng(seed)
    n_issued = len(tokens)
    back = np.flatnonzero(rng.random(n_issued) < turnout)
    tok = tokens[back].copy()
    online = rng.random(len(back)) < np.where(posted[back], ONLINE_IF_POSTED, ONLINE_IF_EMAILED)
    token_kind = np.full(len(back), "issued", dtype=object)
    r = TOKEN_RATES
    # extra returns: reused, unknown, malformed, revoked
    n = len(back)
    extra_tok, extra_online, extra_kind = [], [], []

    def add(t: np.ndarray, onl: np.ndarray, kind: str) -> None:
        extra_tok.append(t)
        extra_online.append(onl)
        extra_kind.append(np.full(len(t), kind, dtype=object))

    same = rng.choice(n, min(n, _how_many(n, r["reused_same_channel"])), replace=False)
    add(tok[same], online[same], "reused_same_channel")
    cross = rng.choice(n, min(n, _how_many(n, r["reused_cross_channel"])), replace=False)
    add(tok[cross], ~online[cross], "reused_cross_channel")
    n_unknown = _how_many(n, r["unknown"])
    add(seeded_tokens(rng, n_unknown), rng.random(n_unknown) < 0.6, "unknown")
    for kind in ("malformed_check", "malformed_length"):
        m = _how_many(n, r[kind])
        src = tokens[rng.integers(0, n_issued, m)] if n_issued else seeded_tokens(rng, m)
        ks = rng.integers(0, 10**6, m)
        add(
            np.array([malformed(t, k, kind) for t, k in zip(src, ks, strict=True)], dtype=object),
            rng.random(m) < 0.3,
            kind,
        )
    if revoked is not None and len(revoked):
        m = max(1, int(len(revoked) * r["revoked"]))
        add(revoked[rng.choice(len(revoked), m, replace=False)], rng.random(m) < 0.5, "revoked")
    all_tok = np.concatenate([tok, *extra_tok]).astype(object)
    all_online = np.concatenate([online, *extra_online]).astype(bool)
    all_kind = np.concatenate([token_kind, *extra_kind]).astype(object)
    # lenient forms (typed by hand), mostly on postal returns
    total = len(all_tok)
    len_rate = np.where(all_online, r["lenient_online"], r["lenient_postal"])
    len_mask = (rng.random(total) < len_rate) & np.isin(
        all_kind, ["issued", "reused_same_channel", "reused_cross_channel", "revoked", "unknown"]
    )
    ks = rng.integers(0, 10**6, total)
    all_tok[len_mask] = np.array(
        [lenient(t, k) for t, k in zip(all_tok[len_mask], ks[len_mask], strict=True)], dtype=object
    )
    lenient_flag = len_mask
    # papers
    marks = rankings(rng, total, ncand)
    lookup = np.array([""] + [str(i) for i in range(1, ncand + 1)], dtype=object)
    rows = lookup[marks].tolist()
    paper_kind = np.full(total, "valid", dtype=object)
    order = rng.permutation(total)
    n_ranked = (marks > 0).sum(axis=1)
    used = np.zeros(total, dtype=bool)
    need = {"valid_gap": 3, "valid_repeated_later": 2}  # ranks a paper needs for the problem
    for kind, rate in PAPER_RATES.items():
        pool = order[~used[order] & (n_ranked[order] >= need.get(kind, 1))]
        hit = pool[: _how_many(total, rate)]
        used[hit] = True
        for i in hit:
            rows[i], paper_kind[i] = _spoil(rows[i], kind, int(ks[i]))
    prefs = np.array([";".join(x) for x in rows], dtype=object)
    manifest = _write(
        out,
        seed,
        n_issued,
        len(back),
        ncand,
        all_tok,
        all_online,
        all_kind,
        lenient_flag,
        paper_kind,
        prefs,
        rng,
        turnout,
    )
    return manifest


def _write(
    out: Path,
    seed: int,
    n_issued: int,
    n_back: int,
    ncand: int,
    tok: np.ndarray,
    online: np.ndarray,
    kind: np.ndarray,
    lenient_flag: np.ndarray,
    paper_kind: np.ndarray,
    prefs: np.ndarray,
    rng: np.random.Generator,
    turnout: float,
) -> dict[str, Any]:
    (out / "truth").mkdir(parents=True, exist_ok=True)
    truth = []
    for channel, mask in (("online", online), ("postal", ~online)):
        idx = np.flatnonzero(mask)
        idx = idx[rng.permutation(len(idx))]  # arrival order, not issue order
        df = pd.DataFrame({"token": tok[idx], "preferences": prefs[idx]})
        df.to_csv(out / f"{channel}.csv", index=False, lineterminator="\n")
        truth.append(
            pd.DataFrame(
                {
                    "channel": channel,
                    "line": np.arange(2, len(idx) + 2),
                    "token_kind": kind[idx],
                    "lenient": lenient_flag[idx],
                    "paper_kind": paper_kind[idx],
                }
            )
        )
    t = pd.concat(truth, ignore_index=True)
    t.to_csv(out / "truth" / "returns_truth.csv", index=False, lineterminator="\n")
    manifest = {
        "format_version": FORMAT_VERSION,
        "generator": "bench/simulate_returns.py",
        "seed": seed,
        "candidates": ncand,
        "issued": n_issued,
        "returned_issued_tokens": n_back,
        "rows": {"online": int(online.sum()), "postal": int((~online).sum())},
        "turnout": turnout,
        "token_rates": TOKEN_RATES,
        "paper_rates": PAPER_RATES,
        "token_kinds": {
            str(k): int(v) for k, v in t["token_kind"].value_counts().sort_index().items()
        },
        "lenient": int(t["lenient"].sum()),
        "paper_kinds": {
            str(k): int(v) for k, v in t["paper_kind"].value_counts().sort_index().items()
        },
    }
    (out / "truth" / "returns_manifest.json").write_text(
        json.dumps(manifest, indent=2) + "\n", encoding="utf-8"
    )
    return manifest


def ballots_only(n: int, ncand: int, seed: int, out: Path) -> dict[str, Any]:
    """A synthetic return set of about ``n`` ballots with fresh seeded tokens, for benchmarks.

    Also writes OUT/tokens.csv (every issued token, one column ``token``) so a benchmark can
    register them first. Every token returns (turnout 1) and the usual problem rates apply."""
    rng = np.random.default_rng([seed, 1])
    tokens = seeded_tokens(rng, n)
    out.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"token": tokens}).to_csv(out / "tokens.csv", index=False, lineterminator="\n")
    posted = rng.random(n) < 0.3
    return simulate(tokens, posted, ncand, seed, out, turnout=1.0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--dispatch",
        type=Path,
        nargs="*",
        default=[],
        help="dispatch CSV file(s) with a token column",
    )
    ap.add_argument(
        "--candidates", type=int, required=True, help="number of candidates on the ballot paper"
    )
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument(
        "--revoked",
        type=Path,
        help="file of revoked tokens (CSV with a token column, or one per line)",
    )
    ap.add_argument("--turnout", type=float, default=TURNOUT)
    ap.add_argument(
        "--ballots-only",
        type=int,
        metavar="N",
        help="no dispatch: N synthetic ballots for benchmarks",
    )
    a = ap.parse_args(argv)
    try:
        if a.ballots_only:
            m = ballots_only(a.ballots_only, a.candidates, a.seed, a.out)
        else:
            tokens, posted = read_dispatch(a.dispatch)
            revoked = _read_revoked(a.revoked) if a.revoked else None
            m = simulate(tokens, posted, a.candidates, a.seed, a.out, revoked, a.turnout)
    except (ValueError, OSError, KeyError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(
        f"online {m['rows']['online']:,} rows, postal {m['rows']['postal']:,} rows -> {a.out}",
        file=sys.stderr,
    )
    return 0


def _read_revoked(path: Path) -> np.ndarray:
    text = path.read_text(encoding="utf-8").splitlines()
    if (text and text[0].strip().lower().startswith("token")) or (text and "," in text[0]):
        return (
            pd.read_csv(path, usecols=["token"], dtype=str)["token"]
            .dropna()
            .to_numpy()
            .astype(object)
        )
    return np.array([t.strip() for t in text if t.strip()], dtype=object)


if __name__ == "__main__":
    sys.exit(main())
