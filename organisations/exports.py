"""Applicants as CSV or XLSX (tablib: one dataset, both formats)."""

import tablib

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
HEADERS = ["Prénom", "Nom", "E-mail", "Téléphone", "Code postal", "Statut", "Message", "Date"]


def applicants(applications, fmt: str) -> tuple[bytes | str, str]:
    dataset = tablib.Dataset(headers=HEADERS)
    for application in applications:
        volunteer = application.volunteer
        dataset.append([
            volunteer.first_name, volunteer.last_name, volunteer.email, volunteer.phone,
            volunteer.postal_code, application.get_status_display(), application.message,
            application.created_at.strftime("%Y-%m-%d %H:%M"),
        ])  # fmt: skip
    return dataset.export(fmt), FORMATS[fmt]
