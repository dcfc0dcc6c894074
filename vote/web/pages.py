"""The member's pages: enter the code → the ballot → review → cast → confirmation.

Server-rendered forms that work with no JavaScript; the token travels only in POST bodies (the
voter's own ballot and review forms carry it in a hidden field), never in a URL. Each page is
rendered from ``vote/templates/web/`` by ``omov.textio.render_html`` (auto-escaped).

Status codes say what happened, as the JSON API does: 404 unknown code, 409 used, 410 replaced,
422 mistyped, 403 outside the period or a failed CSRF check, 429 too many failed attempts.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from vote import ballot as core
from vote.ballot import Outcome
from vote.casting import CastingError
from vote.web.security import CSRF_FIELD, csrf_ok, csrf_value, set_csrf_cookie
from vote.web.service import VotingService

_STATUS = {
    Outcome.USED: 409,
    Outcome.REVOKED: 410,
    Outcome.UNKNOWN: 404,
    Outcome.MALFORMED: 422,
    Outcome.NOT_OPEN: 403,
    Outcome.CLOSED: 403,
    Outcome.RATE_LIMITED: 429,
}
#: What a malformed code's reason (issue.tokens) means to the member.
MALFORMED_HELP = {
    "length": "That code has the wrong number of characters. A code has 21 letters and digits.",
    "alphabet": "That code contains a character that is never used in a code. Check it "
    "against your letter or email.",
    "check": "That code has a typing mistake: one character does not match. Check it "
    "against your letter or email.",
}


def _service(request: Request) -> VotingService:
    service: VotingService = request.app.state.service
    return service


def _client(request: Request) -> str:
    return request.client.host if request.client else "?"


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page with the election's header and footer, and the CSRF cookie set if new."""
    from omov.textio import render_html

    service = _service(request)
    election = service.election
    csrf, new = csrf_value(request)
    html = render_html(
        "vote",
        f"web/{template}",
        election=election,
        title=election.ballot.title,
        csrf=csrf,
        csrf_field=CSRF_FIELD,
        opens=election.period.opens.isoformat(),
        closes=election.period.closes.isoformat(),
        opens_text=core.human_time(election.period.opens),
        closes_text=core.human_time(election.period.closes),
        **context,
    )
    response = HTMLResponse(html, status_code=status)
    if new:
        set_csrf_cookie(response, csrf, request)
    if status == 429:
        response.headers["Retry-After"] = str(service.retry_after(_client(request)))
    return response


def outcome_page(request: Request, outcome: Outcome, reason: str = "") -> HTMLResponse:
    """The page for a code that cannot be used now (or the entry page again, with why)."""
    status = _STATUS[outcome]
    if outcome in (Outcome.UNKNOWN, Outcome.MALFORMED):
        error = MALFORMED_HELP.get(reason, "") if outcome is Outcome.MALFORMED else ""
        return render(request, "entry.html.j2", status, outcome=outcome.value, error=error)
    return render(request, "outcome.html.j2", status, outcome=outcome.value)


async def _form(request: Request) -> FormData | None:
    """The posted form, or None if its CSRF value does not match the cookie."""
    form = await request.form(max_files=0, max_fields=400)
    return form if csrf_ok(request, form) else None


def _csrf_failed(request: Request) -> HTMLResponse:
    return render(request, "outcome.html.j2", 403, outcome="csrf")


def _token(form: FormData) -> str:
    value = form.get("token", "")
    return value if isinstance(value, str) else ""


async def entry(request: Request) -> Response:
    """GET /: the code entry page (or not yet open / closed)."""
    phase = _service(request).phase()
    if phase is not core.Phase.OPEN:
        return outcome_page(request, Outcome(phase.value))
    return render(request, "entry.html.j2", outcome="", error="")


def _ballot_page(
    request: Request, token: str, marks: str, status: int = 200, error: str = ""
) -> HTMLResponse:
    election = _service(request).election
    return render(
        request,
        "ballot.html.j2",
        status,
        token=token,
        ranks=core.ranks_of(marks, election.ncand),
        ncand=election.ncand,
        error=error,
        pack=election.pack is not None,
    )


async def ballot(request: Request) -> Response:
    """POST /ballot: a code was entered (or the member goes back to change the ranking)."""
    form = await _form(request)
    if form is None:
        return _csrf_failed(request)
    token = _token(form)
    checked = _service(request).check(token, _client(request))
    if checked.outcome is not None:
        return outcome_page(request, checked.outcome, checked.reason)
    ncand = _service(request).election.ncand
    try:
        marks = core.marks_from_form({k: str(v) for k, v in form.items()}, ncand)
    except ValueError:
        marks = ""
    return _ballot_page(request, token, marks)


async def review(request: Request) -> Response:
    """POST /review: the ranking in order, what is unranked, and any duplicate or gap."""
    form = await _form(request)
    if form is None:
        return _csrf_failed(request)
    token = _token(form)
    service = _service(request)
    checked = service.check(token, _client(request))
    if checked.outcome is not None:
        return outcome_page(request, checked.outcome, checked.reason)
    ncand = service.election.ncand
    try:
        marks = core.marks_from_form({k: str(v) for k, v in form.items()}, ncand)
    except ValueError:
        return _ballot_page(request, token, "", 422, "A rank was not one of the choices given.")
    rev = core.review(marks, ncand)
    names = service.election.ballot.names()
    return render(
        request,
        "review.html.j2",
        token=token,
        rev=rev,
        ranked=core.describe_ranking(rev.ranking, names),
        ignored=core.describe_ranking(rev.ignored, names),
        record=core.to_record(rev, ncand) if rev.acceptable else "",
        ranks=core.ranks_of(marks, ncand),
        ncand=ncand,
    )


async def submit(request: Request) -> Response:
    """POST /submit: the explicit, final cast; the confirmation page only after it is on disk."""
    form = await _form(request)
    if form is None:
        return _csrf_failed(request)
    service = _service(request)
    ncand = service.election.ncand
    marks = str(form.get("marks", ""))
    rev = core.review(marks, ncand)
    if not rev.acceptable or marks != core.to_record(rev, ncand):
        return render(request, "outcome.html.j2", 422, outcome="tampered")
    try:
        cast = await service.cast(_token(form), marks, _client(request))
    except CastingError:
        return render(request, "outcome.html.j2", 503, outcome="retry")
    if cast.outcome is not Outcome.CAST:
        return outcome_page(request, cast.outcome)
    return render(request, "confirmation.html.j2", code=cast.confirmation)


async def candidates_pack(request: Request) -> Response:
    """GET /candidates: the candidates' pack (statements), as `issue candidates pack` wrote it."""
    from vote.web.security import PACK_CSP

    pack = _service(request).election.pack
    if pack is None:
        return render(request, "outcome.html.j2", 404, outcome="no_pack")
    response = HTMLResponse(pack.read_text(encoding="utf-8"))
    response.headers["Content-Security-Policy"] = PACK_CSP
    return response


async def not_found(request: Request, exc: Exception) -> Response:
    return render(request, "outcome.html.j2", 404, outcome="not_found")
