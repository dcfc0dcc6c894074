"""Simulated returns: every class of problem present, tokens as the issue stage would read them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from bench_helpers import bench_module

from issue.tokens import TokenFormatError, is_valid_canonical, normalise_token

sim = bench_module("simulate_returns")

NCAND = 12


@pytest.fixture(scope="module")
def issued(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray, np.ndarray]:
    folder = tmp_path_factory.mktemp("dispatch")
    tokens = sim.seeded_tokens(np.random.default_rng(99), 6000)
    pd.DataFrame(
        {"format_version": "omov.dispatch/1", "token": tokens[:4000], "email": "x@example.org"}
    ).to_csv(folder / "dispatch_email.csv", index=False)
    pd.DataFrame(
        {"format_version": "omov.dispatch/1", "token": tokens[4000:5800], "postcode": "LS1 1AA"}
    ).to_csv(folder / "dispatch_post.csv", index=False)
    (folder / "revoked.txt").write_text("\n".join(tokens[5800:]) + "\n", encoding="utf-8")
    return folder, tokens[:5800], tokens[5800:]


def _run(issued: tuple[Path, np.ndarray, np.ndarray], out: Path, seed: int = 3) -> int:
    folder = issued[0]
    return sim.main(
        [
            "--dispatch",
            str(folder / "dispatch_email.csv"),
            str(folder / "dispatch_post.csv"),
            "--candidates",
            str(NCAND),
            "--seed",
            str(seed),
            "--out",
            str(out),
            "--revoked",
            str(folder / "revoked.txt"),
        ]
    )


@pytest.fixture(scope="module")
def returns(
    issued: tuple[Path, np.ndarray, np.ndarray], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    out = tmp_path_factory.mktemp("returns")
    assert _run(issued, out) == 0
    return out


def _channels(returns: Path) -> pd.DataFrame:
    parts = []
    truth = pd.read_csv(returns / "truth" / "returns_truth.csv", dtype=str, keep_default_na=False)
    for channel in ("online", "postal"):
        raw = (returns / f"{channel}.csv").read_text(encoding="utf-8")
        assert raw.startswith("token,preferences\n")
        df = pd.read_csv(returns / f"{channel}.csv", dtype=str, keep_default_na=False)
        t = truth[truth["channel"] == channel].reset_index(drop=True)
        assert len(t) == len(df)
        parts.append(pd.concat([df, t], axis=1))
    return pd.concat(parts, ignore_index=True)


def _canon(token: str) -> str | None:
    try:
        return normalise_token(token)
    except TokenFormatError:
        return None


def test_seeded_tokens_carry_the_issue_check_symbol() -> None:
    toks = sim.seeded_tokens(np.random.default_rng(1), 500)
    assert all(len(t) == 26 and t.count("-") == 5 for t in toks)
    assert all(is_valid_canonical(t.replace("-", "")) for t in toks)


def test_same_seed_same_bytes(
    issued: tuple[Path, np.ndarray, np.ndarray], tmp_path: Path, returns: Path
) -> None:
    assert _run(issued, tmp_path / "again") == 0
    for name in ("online.csv", "postal.csv", "truth/returns_truth.csv"):
        assert (tmp_path / "again" / name).read_bytes() == (returns / name).read_bytes()
    assert _run(issued, tmp_path / "other", seed=4) == 0
    assert (tmp_path / "other" / "online.csv").read_bytes() != (returns / "online.csv").read_bytes()


def test_every_token_class_is_present(
    issued: tuple[Path, np.ndarray, np.ndarray], returns: Path
) -> None:
    _, tokens, revoked = issued
    rows = _channels(returns)
    assert {
        "issued",
        "reused_same_channel",
        "reused_cross_channel",
        "unknown",
        "malformed_check",
        "malformed_length",
        "revoked",
    } <= set(rows["token_kind"])
    canon = rows["token"].map(_canon)
    issued_set = {t.replace("-", "") for t in tokens}
    revoked_set = {t.replace("-", "") for t in revoked}
    by_kind = dict(tuple(rows.assign(canon=canon).groupby("token_kind")))
    assert by_kind["issued"]["canon"].isin(issued_set).all()
    assert by_kind["revoked"]["canon"].isin(revoked_set).all()
    unknown = by_kind["unknown"]["canon"]
    assert unknown.notna().all() and not unknown.isin(issued_set | revoked_set).any()
    assert by_kind["malformed_check"]["canon"].isna().all()
    assert by_kind["malformed_length"]["canon"].isna().all()
    # the second copy of a re-used token repeats a token returned once already
    first_copies = set(by_kind["issued"]["canon"])
    assert by_kind["reused_same_channel"]["canon"].isin(first_copies).all()
    cross = by_kind["reused_cross_channel"]
    assert cross["canon"].isin(first_copies).all()
    online_first = set(by_kind["issued"].loc[by_kind["issued"]["channel"] == "online", "canon"])
    assert (cross["canon"].isin(online_first) == (cross["channel"] == "postal")).all()
    lenient = rows[rows["lenient"] == "True"]
    assert len(lenient) > 0 and lenient["token"].map(_canon).notna().all()
    assert (lenient["token"] != lenient["token"].str.upper()).any()  # some typed in lower case
    turnout = len(by_kind["issued"]) / len(tokens)
    assert 0.5 < turnout < 0.6


def test_every_paper_class_is_present_and_positional(returns: Path) -> None:
    rows = _channels(returns)
    kinds = set(rows["paper_kind"])
    assert set(sim.PAPER_RATES) | {"valid"} == kinds
    marks = rows["preferences"].str.split(";")
    lengths = marks.str.len()
    assert (lengths[rows["paper_kind"] != "spoilt_beyond_ballot"] == NCAND).all()
    assert (lengths[rows["paper_kind"] == "spoilt_beyond_ballot"] == NCAND + 1).all()
    assert (rows.loc[rows["paper_kind"] == "blank", "preferences"] == ";" * (NCAND - 1)).all()
    valid = marks[rows["paper_kind"] == "valid"].map(lambda m: sorted(int(x) for x in m if x))
    assert valid.map(lambda r: r == list(range(1, len(r) + 1))).all()
    n_ranked = valid.map(len)
    assert (n_ranked <= 3).mean() > 0.3 and n_ranked.max() == NCAND


def test_papers_agree_with_the_count_intake(returns: Path) -> None:
    intake = pytest.importorskip("vote.intake")
    expected = {
        "blank": "blank",
        "spoilt_two_firsts": "invalid_first_preference_uncertain",
        "spoilt_no_first": "invalid_no_first_preference",
        "spoilt_crosses": "invalid_no_first_preference",
        "spoilt_beyond_ballot": "invalid_marks_beyond_ballot",
    }
    rows = _channels(returns)
    got = rows["preferences"].map(lambda p: intake.classify_paper(p, NCAND).status)
    want = rows["paper_kind"].map(lambda k: expected.get(k, "valid"))
    assert (got == want).all()


def test_ballots_only_mode(tmp_path: Path) -> None:
    assert (
        sim.main(
            ["--ballots-only", "3000", "--candidates", "16", "--seed", "2", "--out", str(tmp_path)]
        )
        == 0
    )
    tokens = pd.read_csv(tmp_path / "tokens.csv", dtype=str)["token"]
    assert len(tokens) == 3000 and tokens.is_unique
    online = pd.read_csv(tmp_path / "online.csv", dtype=str, keep_default_na=False)
    postal = pd.read_csv(tmp_path / "postal.csv", dtype=str, keep_default_na=False)
    assert len(online) + len(postal) > 3000  # every token back, plus the problem rows
