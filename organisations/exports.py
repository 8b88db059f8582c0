"""Applicants as CSV or XLSX (tablib: one dataset, both formats)."""

import tablib
from django.utils import timezone

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
HEADERS = [
    "Prénom",
    "Nom",
    "E-mail",
    "Téléphone",
    "Code postal",
    "Statut",
    "Message",
    "Date",
    "Créneaux",
]
# A spreadsheet reads a cell starting with one of these as a formula (or, for tab and carriage
# return, as the start of one after its own trimming).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """Volunteers choose their names and messages: a leading quote keeps `=HYPERLINK(...)` the
    text it was typed as, in a spreadsheet opened by the organisation (OWASP CSV injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def applicants(applications, fmt: str) -> tuple[bytes | str, str]:
    dataset = tablib.Dataset(headers=HEADERS)
    for application in applications:
        volunteer = application.volunteer
        row = [
            volunteer.first_name,
            volunteer.last_name,
            volunteer.email,
            volunteer.phone,
            volunteer.postal_code,
            application.get_status_display(),
            application.message,
            application.created_at.strftime("%Y-%m-%d %H:%M"),
            "; ".join(slot_cell(booking) for booking in application.bookings.all()),
        ]
        dataset.append([neutralise(value) for value in row])
    return dataset.export(fmt), FORMATS[fmt]


def slot_cell(booking) -> str:
    """One slot of the application and where the volunteer stands on it."""
    start, end = timezone.localtime(booking.slot.start), timezone.localtime(booking.slot.end)
    return f"{start:%Y-%m-%d %H:%M}-{end:%H:%M} ({booking.get_status_display()})"
