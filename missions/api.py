"""The partner API (django-ninja: typed schemas, OpenAPI at /api/v1/schema)."""

from datetime import date, datetime

from django.http import HttpResponse, JsonResponse
from ninja import Field, NinjaAPI, Query, Schema, Status
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import django_auth

from portal.cache import has_session, public_header
from search.missions import InvalidSearch, parse, search

from . import services
from .models import Mission

api = NinjaAPI(
    title="Portal API",
    version="1",
    description="Public missions of the portal answering on this host, and applications.",
    urls_namespace="api",
    openapi_url="/schema",
    docs_url="/docs",
)


HTTP_ERRORS = {400: "bad_request", 403: "forbidden", 404: "not_found", 405: "not_allowed"}


@api.exception_handler(HttpError)
def http_error(request, exc):
    """django-ninja's own refusals (CSRF, unparsable body) in the API's error shape."""
    code = HTTP_ERRORS.get(exc.status_code, "error")
    return api.create_response(
        request, {"error": code, "message": str(exc)}, status=exc.status_code
    )


@api.exception_handler(AuthenticationError)
def unauthenticated(request, exc):
    """No session: the same error shape as every other refusal."""
    body = {"error": "unauthenticated", "message": "Sign in to apply."}
    return api.create_response(request, body, status=401)


@api.exception_handler(NinjaValidationError)
def invalid_input(request, exc):
    """Bad input is a 400 with the fields named, like the rest of the portal's API."""
    return api.create_response(
        request,
        {"error": "invalid", "message": "Some fields are invalid.", "fields": exc.errors},
        status=400,
    )


class OrganisationOut(Schema):
    id: int
    name: str


class MissionFields(Schema):
    """What a mission shows in a list and on its own."""

    id: int
    title: str
    organisation: OrganisationOut
    domain: str | None = None
    activity: str | None = None
    audience: str
    is_remote: bool
    city: str
    postal_code: str
    latitude: float | None = None
    longitude: float | None = None
    start_date: date | None = None
    end_date: date | None = None
    places: int
    places_left: int
    waiting_list: bool


class SlotOut(Schema):
    id: int
    start: datetime
    end: datetime
    places_left: int


class MissionOut(MissionFields):
    description: str
    slots: list[SlotOut] = Field(
        [],
        description="The dated slots a volunteer may still choose (not started), soonest first; "
        "empty for a mission without slots.",
    )

    @staticmethod
    def resolve_slots(mission):
        return [
            {"id": s.pk, "start": s.start, "end": s.end, "places_left": s.places_left}
            for s in mission.slots.upcoming().with_counts()
        ]

    @staticmethod
    def resolve_domain(mission):
        return mission.domain.slug if mission.domain else None

    @staticmethod
    def resolve_activity(mission):
        return mission.activity.slug if mission.activity else None


class ApplicationIn(Schema):
    message: str = Field("", max_length=2000)
    slots: list[int] = Field(
        [],
        max_length=100,
        description="Ids of the mission's slots (required when it has slots, GET the mission).",
    )


class BookingOut(Schema):
    slot: int
    status: str = Field(..., description="booked (holds a place) or waitlisted.")


class ApplicationOut(Schema):
    id: int
    mission: int
    status: str
    slots: list[BookingOut] = []


class ErrorOut(Schema):
    error: str
    message: str


def public_missions(request):
    return (
        Mission.objects.public(request.site)
        .select_related("organisation", "domain", "activity")
        .order_by("start_date", "pk")
    )


def cacheable(request, response: HttpResponse):
    if not has_session(request):
        response["Cache-Control"] = public_header()


class MissionSummaryOut(MissionFields):
    """One search result (search.missions.serialize)."""

    distance_km: float | None = Field(None, description="From the place searched around.")


class FacetsOut(Schema):
    """How many results per value, for the filters (absent in degraded mode)."""

    domain: dict[str, int] = {}
    activity: dict[str, int] = {}
    remote: dict[str, int] = Field({}, description='Keys "remote" and "on_site".')
    audience: dict[str, int] = {}


class InvalidOut(Schema):
    error: str
    message: str
    fields: dict[str, str | list]


class SearchOut(Schema):
    count: int | None = Field(..., description="Absent (null) in degraded mode.")
    page: int
    results: list[MissionSummaryOut]
    facets: FacetsOut | None = None
    degraded: bool


@api.get("/missions", response={200: SearchOut, 400: InvalidOut}, tags=["missions"])
def list_missions(
    request,
    q: str = "",
    lat: float | None = None,
    lng: float | None = None,
    postal_code: str = "",
    radius_km: float | None = None,
    domain: str = "",
    activity: str = "",
    remote: str = "",
    date_from: str = "",
    date_to: str = "",
    audience: str = "",
    sort: str = Query("", description="distance, relevance or date (soonest start first)."),
    page: int = 1,
):
    """Public missions of this portal: full text (`q`), around a place (`lat`/`lng` or
    `postal_code`, `radius_km` up to 200), filters, facet counts, 20 per page. Sorted by
    distance when a place is given, else relevance, else start date, unless `sort` says."""
    try:
        params = parse(request.GET)
    except InvalidSearch as invalid:
        return Status(
            400, {"error": "invalid", "message": "Invalid search.", "fields": invalid.fields}
        )
    answer = JsonResponse(search_body(search(request.site, params)))
    cacheable(request, answer)
    return answer


SUMMARY_FIELDS = tuple(MissionSummaryOut.model_fields)


def search_body(found) -> dict:
    """The answer in SearchOut's shape, projected from our own dicts (search.missions), not
    validated by pydantic on every request: on a cached search that validation of 20 results
    cost more than the search itself. The schema tests (schemathesis over /api/v1/schema and
    tests/test_search.py) hold the shape to the documented schema."""
    return {
        "count": found.count,
        "page": found.page,
        "results": [
            {name: result.get(name) for name in SUMMARY_FIELDS} for result in found.results
        ],
        "facets": None if found.degraded else found.facets,  # "absent in degraded mode"
        "degraded": found.degraded,
    }


@api.get("/missions/{mission_id}", response={200: MissionOut, 404: ErrorOut}, tags=["missions"])
def get_mission(request, mission_id: int, response: HttpResponse):
    cacheable(request, response)
    mission = public_missions(request).filter(pk=mission_id).first()
    if mission is None:
        return Status(404, {"error": "not_found", "message": "No such mission on this portal."})
    return mission


REFUSAL_STATUS = {
    "duplicate": 409,
    "unconfirmed": 403,
    "too_young": 403,
    "forbidden": 403,
    "closed": 400,
    "full": 400,
    "slots_required": 400,
    "invalid_slots": 400,
    "slot_started": 400,
}


@api.post(
    "/missions/{mission_id}/applications",
    auth=django_auth,
    response={
        201: ApplicationOut,
        400: InvalidOut | ErrorOut,
        401: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        409: ErrorOut,
    },
    tags=["applications"],
)
def apply(request, mission_id: int, payload: ApplicationIn):
    """Apply as the signed-in volunteer (session cookie and CSRF token).

    201 with `pending`, or `waitlisted` when the mission is full and keeps a waiting list.
    A mission with slots takes `slots` (ids): a place on each chosen slot with one left, its
    waiting list on each full one (`slots` in the answer says which); the application is
    `pending` with at least one place. 400 `slots_required`, `invalid_slots` (not this
    mission's), `slot_started`, or `full` (a full slot and no waiting list).
    """
    if not Mission.objects.filter(pk=mission_id, sites=request.site).exists():
        return Status(404, {"error": "not_found", "message": "No such mission on this portal."})
    try:
        application = services.apply(mission_id, request.user, payload.message, payload.slots)
    except services.ApplicationRefused as refused:
        body = {"error": refused.code, "message": refused.message}
        return Status(REFUSAL_STATUS[refused.code], body)
    bookings = application.bookings.order_by("slot__start", "slot_id")
    return Status(
        201,
        {
            "id": application.pk,
            "mission": mission_id,
            "status": application.status,
            "slots": [{"slot": b.slot_id, "status": b.status} for b in bookings],
        },
    )
