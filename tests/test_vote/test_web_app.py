"""The web ballot in-process (Starlette's TestClient): pages, JSON API, headers, CSRF, limits.

The real server, concurrency and kill -9 are in test_web_server.py; real browsers in
test_web_browser.py.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from web_helpers import WebElection, box_marks, build, register_states

from issue.tokens import format_token
from vote.ballot import Period, parse_time
from vote.web.app import ServeOptions, build_app, opened
from vote.web.limits import Limits

OPENS = parse_time("2026-05-01T09:00:00+01:00", "opens")
CLOSES = parse_time("2026-05-15T17:00:00+01:00", "closes")


class Clock:
    def __init__(self) -> None:
        self.now = OPENS + dt.timedelta(days=1)

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def election(tmp_path: Path) -> WebElection:
    return build(tmp_path)


@pytest.fixture
def web(election: WebElection) -> Iterator[tuple[TestClient, Clock, WebElection]]:
    opts = ServeOptions(
        election.register,
        election.keys,
        election.ballot_def,
        election.box,
        Period(OPENS, CLOSES),
        "Test Party NEC ballot",
        "scrutineer@example.org",
        election.pack,
        Limits(client_burst=5, client_rate=0.001, global_burst=1000, global_rate=1.0),
    )
    clock = Clock()
    with opened(opts) as handle:
        handle.service.clock = clock
        with TestClient(build_app(handle.service)) as client:
            yield client, clock, election


def _csrf(client: TestClient) -> str:
    page = client.get("/")
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def _vote_by_pages(client: TestClient, token: str, ranks: dict[int, int]) -> str:
    csrf = _csrf(client)
    page = client.post("/ballot", data={"csrf": csrf, "token": token})
    assert page.status_code == 200 and 'id="ballot-form"' in page.text
    form = {"csrf": csrf, "token": token, **{f"rank-{n}": str(r) for n, r in ranks.items()}}
    page = client.post("/review", data=form)
    assert page.status_code == 200
    marks = re.search(r'name="marks" value="([^"]*)"', page.text)
    assert marks
    page = client.post("/submit", data={"csrf": csrf, "token": token, "marks": marks.group(1)})
    assert page.status_code == 200, page.text
    code = re.search(r'id="confirmation">([^<]+)<', page.text)
    assert code
    return code.group(1)


def test_a_member_votes_through_the_pages(web: tuple[TestClient, Clock, WebElection]) -> None:
    client, _, e = web
    token = format_token(e.unused[0]).lower().replace("0", "o")  # as forgiving as issue check
    code = _vote_by_pages(client, " " + token + " ", {3: 1, 1: 2})
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", code)
    assert box_marks(e.box) == ["2;;1;;;"]
    assert register_states(e, [e.unused[0]])[e.unused[0]] == "used"
    # The same code again: the used page, which says nothing about when or how.
    csrf = _csrf(client)
    page = client.post("/ballot", data={"csrf": csrf, "token": e.unused[0]})
    assert page.status_code == 409 and "already been used" in page.text
    assert "2;;1" not in page.text


def test_review_explains_duplicates_and_gaps(web: tuple[TestClient, Clock, WebElection]) -> None:
    client, _, e = web
    csrf = _csrf(client)
    base = {"csrf": csrf, "token": e.unused[1]}
    page = client.post("/review", data={**base, "rank-1": "1", "rank-2": "2", "rank-3": "2"})
    assert "same rank to more than one candidate" in page.text
    assert "5 candidates are not ranked" in page.text
    assert re.search(r'name="marks" value="1;;;;;"', page.text)
    page = client.post("/review", data={**base, "rank-1": "1", "rank-2": "3"})
    assert "skipped a rank" in page.text
    page = client.post("/review", data={**base, "rank-1": "2"})
    assert "would not count for any candidate" in page.text and 'action="/submit"' not in page.text
    page = client.post("/review", data=base)
    assert "blank" in page.text and 'name="marks" value=""' in page.text
    # "Change my ballot" brings the selects back as they were.
    page = client.post("/ballot", data={**base, "rank-2": "1", "rank-5": "2"})
    assert re.search(r'<option value="1" selected>1</option>', page.text)


def test_submit_refuses_marks_the_review_never_offered(
    web: tuple[TestClient, Clock, WebElection],
) -> None:
    client, _, e = web
    csrf = _csrf(client)
    for marks in ("1;2;2;;;", ";2;;;;", "1;x;;;;", "9;;;;;"):
        page = client.post("/submit", data={"csrf": csrf, "token": e.unused[2], "marks": marks})
        assert page.status_code == 422
    assert register_states(e, [e.unused[2]])[e.unused[2]] == "unused"


def test_outcome_pages(web: tuple[TestClient, Clock, WebElection]) -> None:
    client, clock, e = web
    csrf = _csrf(client)
    page = client.post("/ballot", data={"csrf": csrf, "token": e.revoked[0]})
    assert page.status_code == 410 and "replaced" in page.text
    last = e.unused[0][-1]
    mistyped = e.unused[0][:-1] + ("A" if last != "A" else "B")  # the check symbol catches it
    page = client.post("/ballot", data={"csrf": csrf, "token": mistyped})
    assert page.status_code == 422 and "typing mistake" in page.text
    from issue.tokens import new_token

    page = client.post("/ballot", data={"csrf": csrf, "token": new_token()})
    assert page.status_code == 404 and "do not recognise" in page.text
    clock.now = OPENS - dt.timedelta(minutes=1)
    assert client.get("/").status_code == 403
    page = client.post("/ballot", data={"csrf": csrf, "token": e.unused[0]})
    assert page.status_code == 403 and "not opened yet" in page.text
    clock.now = CLOSES
    page = client.post("/api/v1/ballots", json={"token": e.unused[0], "ranking": [1]})
    assert page.status_code == 403 and page.json()["error"] == "closed"
    assert "Voting has closed" in client.get("/").text
    assert client.get("/nowhere").status_code == 404


def test_csrf_is_required_on_every_form(web: tuple[TestClient, Clock, WebElection]) -> None:
    client, _, e = web
    csrf = _csrf(client)
    for path in ("/ballot", "/review", "/submit"):
        assert client.post(path, data={"token": e.unused[0]}).status_code == 403
        wrong = csrf[:-1] + ("A" if csrf[-1] != "A" else "B")
        assert client.post(path, data={"csrf": wrong, "token": e.unused[0]}).status_code == 403
    client.cookies.clear()
    assert client.post("/ballot", data={"csrf": csrf, "token": e.unused[0]}).status_code == 403
    assert register_states(e, [e.unused[0]])[e.unused[0]] == "unused"


def test_api_statuses(web: tuple[TestClient, Clock, WebElection]) -> None:
    client, _, e = web
    post = client.post
    r = post("/api/v1/ballots", json={"token": e.unused[3], "ranking": [2, 1]})
    assert r.status_code == 201 and set(r.json()) == {"confirmation"}
    assert post("/api/v1/ballots", json={"token": e.unused[3], "ranking": [1]}).status_code == 409
    assert post("/api/v1/ballots", json={"token": e.used[0], "ranking": [1]}).status_code == 409
    assert post("/api/v1/ballots", json={"token": e.revoked[0], "ranking": [1]}).status_code == 410
    from issue.tokens import new_token

    assert post("/api/v1/ballots", json={"token": new_token(), "ranking": [1]}).status_code == 404
    assert post("/api/v1/ballots", json={"token": "ABC", "ranking": [1]}).status_code == 422
    for bad in ([1, 1], [0], [7], "1", [1.0]):
        r = post("/api/v1/ballots", json={"token": e.unused[4], "ranking": bad})
        assert r.status_code == 422 and r.json()["error"] == "malformed_ranking"
    assert post("/api/v1/ballots", content=b"token=x").status_code == 422
    r = post("/api/v1/ballots", content=b"{", headers={"content-type": "application/json"})
    assert r.status_code == 422
    r = post("/api/v1/ballots", json={"token": e.unused[4], "ranking": []})  # a blank ballot
    assert r.status_code == 201
    health = client.get("/api/v1/health").json()
    assert health["status"] == "ok" and health["phase"] == "open"
    assert sorted(box_marks(e.box)) == sorted([";;;;;;"[:5], "2;1;;;;"])


def test_failed_attempts_are_rate_limited(web: tuple[TestClient, Clock, WebElection]) -> None:
    client, _, e = web
    from issue.tokens import new_token

    codes = [
        client.post("/api/v1/ballots", json={"token": new_token(), "ranking": [1]}).status_code
        for _ in range(7)
    ]
    assert codes[:5] == [404] * 5 and codes[5:] == [429, 429]
    r = client.post("/api/v1/ballots", json={"token": e.unused[5], "ranking": [1]})
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    csrf = _csrf(client)
    page = client.post("/ballot", data={"csrf": csrf, "token": e.unused[5]})
    assert page.status_code == 429 and "Too many" in page.text


def test_headers_on_every_response(web: tuple[TestClient, Clock, WebElection]) -> None:
    client, _, e = web
    first = client.get("/")
    csrf = _csrf(client)
    responses = [
        first,
        client.post("/ballot", data={"csrf": csrf, "token": e.unused[0]}),
        client.get("/static/vote.css"),
        client.get("/static/entry.js"),
        client.get("/candidates"),
        client.get("/api/v1/health"),
        client.get("/missing"),
    ]
    for r in responses:
        assert r.headers["cache-control"] == "no-store"
        assert r.headers["referrer-policy"] == "no-referrer"
        csp = r.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "'unsafe-inline'" not in csp.split("style")[0]
        assert "script-src 'self'" in csp or "script" not in csp
    cookie = responses[0].headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    for r in responses:
        assert not re.search(r"<script>", r.text)  # no inline script anywhere


def test_no_token_in_any_response_but_the_voters_own_forms(
    web: tuple[TestClient, Clock, WebElection], caplog: pytest.LogCaptureFixture
) -> None:
    client, _, e = web
    caplog.set_level(logging.DEBUG)
    csrf = _csrf(client)
    from issue.tokens import new_token

    other = [new_token(), e.revoked[1], e.used[1], e.unused[6][:-1] + "Z"]
    texts: list[str] = []
    _vote_by_pages(client, e.unused[6], {1: 1})
    for t in other:
        texts.append(client.post("/ballot", data={"csrf": csrf, "token": t}).text)
        texts.append(client.post("/review", data={"csrf": csrf, "token": t}).text)
        texts.append(client.post("/api/v1/ballots", json={"token": t, "ranking": [1]}).text)
    texts.append(client.post("/ballot", data={"csrf": csrf, "token": e.unused[6]}).text)
    for t in [*other, e.unused[6]]:
        for variant in (t, t.lower(), format_token(t) if len(t) == 21 else t):
            assert all(variant not in text for text in texts)
            assert variant not in caplog.text


def test_statement_links_reach_the_pack(web: tuple[TestClient, Clock, WebElection]) -> None:
    client, _, e = web
    csrf = _csrf(client)
    page = client.post("/ballot", data={"csrf": csrf, "token": e.unused[0]}).text
    links = re.findall(r'href="/candidates#(candidate-\d+)"', page)
    assert links == [f"candidate-{i}" for i in range(1, 7)]
    pack = client.get("/candidates").text
    assert all(f'id="{a}"' in pack for a in links)
    names = re.findall(r'<span class="name">([^<]+)</span>', page)
    assert names == ["Ann Able", "Bob Baker", "Cat Cole", "Dan Dale", "Eve Etta", "Fay Fox"]


def test_vote_link_keeps_the_token_out_of_query_strings() -> None:
    from issue.dispatch import DEFAULT_VOTE_URL, check_vote_url
    from omov.errors import UsageError

    assert check_vote_url(DEFAULT_VOTE_URL).endswith("#{token}")
    check_vote_url("https://vote.example.org/#{token}")
    for bad in (
        "https://vote.example.org/ballot?token={token}",
        "https://vote.example.org/{token}",
        "https://vote.example.org/?x={token}#{token}",
        "https://vote.example.org/#",
    ):
        with pytest.raises(UsageError):
            check_vote_url(bad)


def test_oversized_bodies_are_refused_unread(web: tuple[TestClient, Clock, WebElection]) -> None:
    client, _, e = web
    big = b'{"token": "' + b"A" * 70_000 + b'", "ranking": [1]}'
    r = client.post("/api/v1/ballots", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.headers["cache-control"] == "no-store"

    def chunks():  # no Content-Length: the stream is cut off at the limit
        for _ in range(100):
            yield b"x" * 1024

    form = {"content-type": "application/x-www-form-urlencoded"}
    r = client.post("/ballot", content=chunks(), headers=form)
    assert r.status_code == 413
    assert register_states(e, [e.unused[0]])[e.unused[0]] == "unused"
