"""The web ballot's pure rules: period, marks, the review (ERS97 via intake), limits, codes."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omov.errors import UsageError
from vote import ballot as core
from vote import intake
from vote.web.limits import FailureLimiter, Limits

T0 = dt.datetime(2026, 5, 1, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))


def test_period_phases_and_zones() -> None:
    p = core.Period(T0, T0 + dt.timedelta(days=1))
    assert p.phase(T0 - dt.timedelta(seconds=1)) is core.Phase.NOT_OPEN
    assert p.phase(T0) is core.Phase.OPEN
    assert p.phase(T0 + dt.timedelta(days=1)) is core.Phase.CLOSED
    with pytest.raises(UsageError):
        core.Period(T0, T0)
    with pytest.raises(UsageError, match="no time zone"):
        core.parse_time("2026-05-01T09:00:00", "--opens")
    with pytest.raises(UsageError, match="not an ISO 8601"):
        core.parse_time("tomorrow", "--opens")
    assert core.parse_time("2026-05-01T08:00:00Z", "x") == T0
    assert core.human_time(T0) == "1 May 2026, 09:00 (UTC+01:00)"


def test_marks_from_ranking() -> None:
    assert core.marks_from_ranking([3, 1], 4) == "2;;1;"
    assert core.marks_from_ranking([], 3) == ";;"
    for bad in ([1, 1], [0], [5], ["1"], [True], "1,2", None, [1, 2, 3, 4, 1]):
        with pytest.raises(ValueError):
            core.marks_from_ranking(bad, 4)


def test_marks_from_form_refuses_values_no_select_offers() -> None:
    assert core.marks_from_form({"rank-2": "1", "rank-4": "2", "rank-1": ""}, 4) == ";1;;2"
    for bad in ("0", "5", "x", "١"):
        with pytest.raises(ValueError):
            core.marks_from_form({"rank-1": bad}, 4)
    assert core.ranks_of(";1;;2", 4) == {2: "1", 4: "2"}


@pytest.mark.parametrize(
    ("marks", "ranking", "problems", "acceptable", "ignored"),
    [
        ("2;1;3;", (2, 1, 3), (), True, ()),
        ("1;2;2;3", (1,), (core.Problem.DUPLICATE,), True, (2, 3, 4)),
        ("1;2;;4", (1, 2), (core.Problem.GAP,), True, (4,)),
        (";2;3;", (), (core.Problem.NO_FIRST,), False, (2, 3)),
        ("1;1;2;", (), (core.Problem.TWO_FIRSTS,), False, (1, 2, 3)),
    ],
)
def test_review_explains_what_the_count_will_read(
    marks: str,
    ranking: tuple[int, ...],
    problems: tuple[core.Problem, ...],
    acceptable: bool,
    ignored: tuple[int, ...],
) -> None:
    rev = core.review(marks, 4)
    assert rev.ranking == ranking
    assert rev.problems == problems
    assert rev.acceptable is acceptable
    assert rev.ignored == ignored
    assert rev.unranked == 4 - len(ranking)


def test_blank_is_acceptable_and_recorded_empty() -> None:
    rev = core.review(";;;", 4)
    assert rev.blank and rev.acceptable and core.to_record(rev, 4) == ""
    with pytest.raises(ValueError):
        core.to_record(core.review(";2;;", 4), 4)


@given(st.lists(st.sampled_from(["", "1", "2", "3", "4", "5"]), min_size=5, max_size=5))
def test_recorded_marks_classify_as_the_reviewed_ranking(marks: list[str]) -> None:
    """What the box stores reads back, through intake's rule, as exactly what was reviewed."""
    rev = core.review(";".join(marks), 5)
    if not rev.acceptable:
        return
    record = core.to_record(rev, 5)
    paper = intake.classify_paper(record, 5)
    if rev.blank:
        assert paper.status == intake.BLANK
    else:
        assert (paper.status, paper.ranking, paper.notes) == (intake.VALID, rev.ranking, ())


def test_confirmation_codes() -> None:
    codes = {core.new_confirmation_code() for _ in range(2000)}
    assert len(codes) == 2000
    for code in list(codes)[:50]:
        assert len(code) == 14 and code.count("-") == 2
        assert not set(code.replace("-", "")) & set("ILOU")


def test_limiter_per_client_then_global() -> None:
    lim = FailureLimiter(Limits(client_burst=3, client_rate=1.0, global_burst=5, global_rate=0.5))
    for _ in range(3):
        assert not lim.blocked("a", 0.0)
        lim.fail("a", 0.0)
    assert lim.blocked("a", 0.0)
    assert not lim.blocked("b", 0.0)  # another client is not punished
    assert lim.retry_after("a") >= 1
    assert not lim.blocked("a", 1.0)  # refilled one attempt after a second
    lim.fail("b", 1.0)
    lim.fail("c", 1.0)
    lim.fail("d", 1.0)
    assert lim.blocked("e", 1.0)  # the global bucket is empty: everyone waits
    assert not lim.blocked("e", 10.0)


def test_limiter_memory_is_bounded() -> None:
    lim = FailureLimiter(Limits(max_clients=100))
    for i in range(1000):
        lim.fail(f"10.0.{i // 256}.{i % 256}", float(i) / 1000)
    assert len(lim._clients) <= 100
