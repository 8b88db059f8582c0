"""Many rows in one INSERT whose text does not depend on how many there are.

`INSERT … SELECT … FROM jsonb_to_recordset(%s)`: the rows travel as one JSON document, the
model's default fills every other column. A `VALUES` list of 500 rows × 20 columns (what
bulk_create sends) is a new 10,000-placeholder query each time; an array parameter per column
(unnest) is quoted value by value in Python by psycopg. json.dumps and PostgreSQL's JSON parser
do the same work in C: in the signup writer's profile, building the query went from more CPU
than PostgreSQL took to insert the rows to a small part of it. Rows are given as dicts, not as
model instances: building 500 instances and reading their 20 fields back cost more than the
insert.
PostgreSQL only; elsewhere (the demo's SQLite) callers use Django's bulk_create.
"""

import datetime
import json
import uuid
from decimal import Decimal

from django.db import connection
from django.utils import timezone


def _jsonable(value):
    """Dates, times, UUIDs and decimals as the strings PostgreSQL reads them from."""
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def insert(model, rows: list[dict], *, conflict="", returning=""):
    """INSERT `rows` into `model`'s table and return the RETURNING rows (a list of tuples).

    `rows`: dicts of attname → value, every one with the same names; any other field (primary
    key aside) takes its default, computed once for the batch (auto_now / auto_now_add: now).
    `conflict`: e.g. "ON CONFLICT (email) DO NOTHING"; `returning`: e.g. "id, email". A JSON
    field's value is nested as it is.
    """
    if not rows:
        return []
    given = rows[0].keys()
    if any(row.keys() != given for row in rows):
        raise ValueError("every row must name the same fields")
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    unknown = given - {f.attname for f in fields}
    if unknown:
        raise ValueError(f"no such field on {model.__name__}: {sorted(unknown)}")
    quote = connection.ops.quote_name
    now = timezone.now()
    select, record, shared = [], [], []
    for field in fields:
        cast = field.db_type(connection)
        if field.attname in given:  # read from the JSON document, by its name
            select.append(f"r.{quote(field.attname)}")
            record.append(f"{quote(field.attname)} {cast}")
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            value = now
        else:
            value = field.get_default()
        select.append(f"%s::{cast}")
        shared.append(field.get_db_prep_save(value, connection))
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} "
        f"({', '.join(quote(f.column) for f in fields)}) "
        f"SELECT {', '.join(select)} FROM jsonb_to_recordset(%s::jsonb) AS r({', '.join(record)}) "
        f"{conflict}"
    )
    if returning:
        sql += f" RETURNING {returning}"
    document = json.dumps(rows, separators=(",", ":"), default=_jsonable)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*shared, document])
        return cursor.fetchall() if returning else []
