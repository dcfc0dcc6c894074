"""Intake core with a fake register: ERS97 §6 marks, token classes, conservation (hypothesis)."""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from issue.tokens import TokenFormatError, format_token, new_tokens, normalise_token
from omov.blt import blt_lines, parse_blt
from vote import intake as core
from vote import intake_ballots


def normalise_one(text: str) -> tuple[str | None, str]:
    try:
        return normalise_token(text), ""
    except TokenFormatError as exc:
        return None, exc.reason


def normalise(texts: Sequence[str]) -> list[tuple[str | None, str]]:
    return [normalise_one(t) for t in texts]


class FakeRegister:
    """unused/used/revoked states in a dict; first use wins; counts every win."""

    def __init__(
        self, unused: Sequence[str] = (), used: Sequence[str] = (), revoked: Sequence[str] = ()
    ) -> None:
        self.state = {t: "unused" for t in unused}
        self.state.update({t: "used" for t in used})
        self.state.update({t: "revoked" for t in revoked})
        self.wins: Counter[str] = Counter()

    def consume_many(self, tokens: Sequence[str]) -> list[str]:
        out = []
        for t in tokens:
            s = self.state.get(t)
            if s is None:
                out.append("unknown")
            elif s == "unused":
                self.state[t] = "used"
                self.wins[t] += 1
                out.append("consumed")
            else:
                out.append(s)
        return out


def paper(prefs: str, n: int = 5) -> core.Paper:
    return core.classify_paper(prefs, n)


def test_positional_marks() -> None:
    assert paper("2;;1;3;") == core.Paper(core.VALID, (3, 1, 4))
    assert paper("1") == core.Paper(core.VALID, (1,))
    assert paper(" 1 ; 2 ") == core.Paper(core.VALID, (1, 2))


def test_blank_and_invalid() -> None:
    assert paper("").status == core.BLANK
    assert paper(";;;;").status == core.BLANK
    assert paper(" ; ;").status == core.BLANK
    assert paper("2;3;;;").status == core.INVALID_NO_FIRST
    assert paper("1;1;2;;").status == core.INVALID_FIRST_UNCERTAIN
    assert paper("1;;;;;2").status == core.INVALID_EXTRA_MARKS
    assert paper("abc;;;;").status == core.INVALID_NO_FIRST
    assert paper("X;X;;;").status == core.INVALID_NO_FIRST


def test_repeated_or_missing_rank_ends_the_paper() -> None:
    assert paper("1;2;2;3;") == core.Paper(core.VALID, (1,), (core.NOTE_TRUNCATED_REPEATED,))
    assert paper("1;2;4;5;") == core.Paper(core.VALID, (1, 2), (core.NOTE_TRUNCATED_MISSING,))
    assert paper("1;;;;;") == core.Paper(core.VALID, (1,))  # trailing empty field tolerated


def test_single_cross_is_a_first_preference() -> None:
    assert paper(";;X;;") == core.Paper(core.VALID, (3,), (core.NOTE_SINGLE_CROSS,))
    assert paper(";;✓") == core.Paper(core.VALID, (3,), (core.NOTE_SINGLE_CROSS,))
    assert paper("1;X;;;") == core.Paper(core.VALID, (1,), (core.NOTE_IGNORED_MARKS,))
    assert paper("1;0;9;;") == core.Paper(core.VALID, (1,), (core.NOTE_IGNORED_MARKS,))


def test_short_paper_is_padded() -> None:
    assert paper("2;1") == core.Paper(core.VALID, (2, 1))


def _rows(kinds: list[str], pool: dict[str, list[str]]) -> list[core.ReturnedRow]:
    rows = []
    for i, kind in enumerate(kinds):
        channel = "online" if i % 2 else "postal"
        if kind == "malformed":
            token = "NOT-A-TOKEN"
        elif kind == "mistyped":
            good = pool["valid"][i % len(pool["valid"])]
            token = good[:-1] + ("0" if good[-1] != "0" else "1")
        else:
            token = pool[kind][i % len(pool[kind])]
            token = format_token(token).lower() if i % 3 == 0 else token
        prefs = ["1;2;3;;", "", "2;3;;;", ";;X;;", "1;2;2;;"][i % 5]
        rows.append(core.ReturnedRow(channel, i + 2, token, prefs))
    return rows


@settings(max_examples=60, deadline=None)
@given(
    kinds=st.lists(
        st.sampled_from(["valid", "valid", "used", "revoked", "unknown", "malformed", "mistyped"]),
        max_size=80,
    ),
    batch=st.integers(1, 17),
)
def test_conservation_and_no_token_counted_twice(kinds: list[str], batch: int) -> None:
    tokens = new_tokens(40)
    pool = {
        "valid": tokens[:10],
        "used": tokens[10:15],
        "revoked": tokens[15:20],
        "unknown": tokens[20:],
    }
    reg = FakeRegister(unused=pool["valid"], used=pool["used"], revoked=pool["revoked"])
    rows = _rows(kinds, pool)
    result = core.run_intake(rows, 5, reg, normalise, batch_size=batch)
    totals = result.totals()
    assert totals.received == len(rows)
    assert totals.valid + sum(totals.rejected.values()) == len(rows)
    assert result.balanced()
    assert all(n == 1 for n in reg.wins.values())
    papers_counted = totals.valid + sum(totals.rejected[c] for c in core.PAPER_REJECTS)
    assert papers_counted == sum(reg.wins.values())  # a paper is judged only on a won token
    assert len(result.rejections) == sum(totals.rejected.values())
    assert sum(result.rankings.values()) == totals.valid
    expected_valid_tokens = {
        normalise_one(r.token)[0] for r, k in zip(rows, kinds, strict=True) if k == "valid"
    }
    assert set(reg.wins) == expected_valid_tokens


def test_repeat_in_run_names_first_place() -> None:
    (tok,) = new_tokens(1)
    reg = FakeRegister(unused=[tok])
    rows = [
        core.ReturnedRow("online", 2, tok, "1"),
        core.ReturnedRow("postal", 7, format_token(tok), "2;1"),
    ]
    result = core.run_intake(rows, 2, reg, normalise)
    assert result.rankings == Counter({(1,): 1})
    (rej,) = result.rejections
    assert (rej.channel, rej.line, rej.reason) == ("postal", 7, core.TOKEN_REPEATED)
    assert "online line 2" in rej.detail


def test_malformed_detail_is_reason_not_token() -> None:
    (tok,) = new_tokens(1)
    bad = tok[:5] + ("A" if tok[5] != "A" else "B") + tok[6:]
    result = core.run_intake(
        [
            core.ReturnedRow("p", 2, bad, "1"),
            core.ReturnedRow("p", 3, "", "1"),
            core.ReturnedRow("p", 4, "x", "1", "3 fields"),
        ],
        2,
        FakeRegister(),
        normalise,
    )
    reasons = [(r.reason, r.detail) for r in sorted(result.rejections, key=lambda r: r.line)]
    assert reasons == [
        (core.TOKEN_MALFORMED, "check"),
        (core.TOKEN_MALFORMED, "length"),
        (core.MALFORMED_ROW, "3 fields"),
    ]


def test_blt_and_shuffle() -> None:
    rankings = Counter({(1, 2): 3, (2,): 1, (3, 1, 2): 2})
    groups = intake_ballots.shuffled_groups(rankings, secrets.token_bytes)
    assert sorted(groups) == sorted(rankings.items())
    text = "".join(blt_lines(groups, ["A", 'B "Bee"', "C"], 2, "T"))
    lines = text.splitlines()
    assert lines[0] == "3 2"
    assert sorted(lines[1:4]) == ["1 2 0", "2 3 1 2 0", "3 1 2 0"]
    assert lines[4:] == ["0", '"A"', '"B ""Bee"""', '"C"', '"T"']  # a quote is doubled
    back = parse_blt(text.encode())
    assert back.names == ("A", 'B "Bee"', "C") and back.rankings() == rankings


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(max_size=30),
            st.text(
                alphabet="0123456789ABCDEFGHJKMNPQRSTVWXYZabcOoIiLl- \t", min_size=19, max_size=28
            ),
            st.sampled_from(new_tokens(5)).map(lambda t: format_token(t).lower()),
            st.tuples(
                st.sampled_from(new_tokens(5)), st.integers(0, 20), st.sampled_from("0AZ9")
            ).map(lambda x: x[0][: x[1]] + x[2] + x[0][x[1] + 1 :]),
        ),
        max_size=30,
    )
)
def test_vectorised_normalise_agrees_with_issue_tokens(texts: list[str]) -> None:
    from vote.intake_read import normalise as fast

    assert fast(texts) == normalise(texts)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.sampled_from(["", "", "1", "2", "3", "4", "5", "0", "9", "12"]), min_size=0, max_size=6
    )
)
def test_fast_path_agrees_with_general_path(marks: list[str]) -> None:
    prefs = ";".join(marks)
    assert core.classify_paper(prefs, 5) == core._classify_general(prefs, 5)


def test_csv_grid_is_read_back_by_the_count(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from count.ballot_files import read_csv_ballots
    from omov.ballotcsv import csv_grid_lines

    groups = [((3, 1), 2), ((2,), 1), ((1, 2, 3), 4)]
    names = ["A, the first", 'B "bee"', "C"]
    path = tmp_path / "b.csv"
    path.write_text("".join(csv_grid_lines(groups, names, 2, "Title 'x'")), encoding="utf-8")
    back = read_csv_ballots(path)
    assert back.candidates == tuple(names) and back.title == "Title 'x'"
    assert sorted(back.rankings()) == sorted((tuple(c - 1 for c in r), w) for r, w in groups)
