"""The JSON API (docs/vote-api.md): for assisted voting, the tests and the benchmark.

``POST /api/v1/ballots`` ``{"token": "...", "ranking": [ballot numbers, most preferred first]}``
→ 201 ``{"confirmation": "XXXX-XXXX-XXXX"}``; 409 used; 410 revoked (replaced); 404 unknown;
422 malformed token or ranking; 403 outside the voting period; 429 too many failed attempts;
503 not recorded (try again). Errors are ``{"error": <outcome>, "detail": <words>}`` and never
repeat the token. ``GET /api/v1/health`` → 200 ``{"status": "ok", "phase": …, "opens", "closes"}``.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from vote import ballot as core
from vote.ballot import Outcome
from vote.casting import CastingError
from vote.web.service import VotingService

MAX_BODY = 16_384
_STATUS = {
    Outcome.CAST: 201,
    Outcome.USED: 409,
    Outcome.REVOKED: 410,
    Outcome.UNKNOWN: 404,
    Outcome.MALFORMED: 422,
    Outcome.NOT_OPEN: 403,
    Outcome.CLOSED: 403,
    Outcome.RATE_LIMITED: 429,
}
_DETAIL = {
    Outcome.USED: "this token has already been used",
    Outcome.REVOKED: "this token was replaced by a newer one",
    Outcome.UNKNOWN: "no such token: check it for typos",
    Outcome.MALFORMED: "the token is mistyped",
    Outcome.NOT_OPEN: "the ballot is not open yet",
    Outcome.CLOSED: "the ballot has closed",
    Outcome.RATE_LIMITED: "too many failed attempts: wait and try again",
}


def _error(status: int, error: str, detail: str, **headers: str) -> JSONResponse:
    return JSONResponse({"error": error, "detail": detail}, status_code=status, headers=headers)


async def _body(request: Request) -> dict[str, Any] | None:
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        return None
    raw = await request.body()
    if len(raw) > MAX_BODY:
        return None
    try:
        doc = json.loads(raw)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


async def post_ballot(request: Request) -> JSONResponse:
    """POST /api/v1/ballots (see the module docstring)."""
    service: VotingService = request.app.state.service
    client = request.client.host if request.client else "?"
    doc = await _body(request)
    if doc is None or not isinstance(doc.get("token"), str):
        return _error(422, "malformed", 'send JSON {"token": "...", "ranking": [...]}')
    try:
        marks = core.marks_from_ranking(doc.get("ranking"), service.election.ncand)
    except ValueError as exc:
        return _error(422, "malformed_ranking", str(exc))
    try:
        cast = await service.cast(doc["token"], marks, client)
    except CastingError:
        return _error(503, "not_recorded", "the ballot could not be recorded: try again")
    if cast.outcome is Outcome.CAST:
        return JSONResponse({"confirmation": cast.confirmation}, status_code=201)
    headers = {}
    if cast.outcome is Outcome.RATE_LIMITED:
        headers["Retry-After"] = str(service.retry_after(client))
    return _error(_STATUS[cast.outcome], cast.outcome.value, _DETAIL[cast.outcome], **headers)


async def health(request: Request) -> JSONResponse:
    """GET /api/v1/health: the server is up; the phase of the ballot (no counts)."""
    service: VotingService = request.app.state.service
    period = service.election.period
    return JSONResponse(
        {
            "status": "ok",
            "phase": service.phase().value,
            "opens": period.opens.isoformat(),
            "closes": period.closes.isoformat(),
        }
    )
