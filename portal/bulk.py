"""Many rows in one INSERT whose text does not depend on how many there are.

`INSERT … SELECT … FROM jsonb_to_recordset(%s)`: the rows that vary travel as one JSON
document, the values every row shares as plain parameters, the model's default fills every
other column. A `VALUES` list of 500 rows × 20 columns (what bulk_create sends) is a new
10,000-placeholder query each time; an array parameter per column (unnest) is quoted value by
value in Python by psycopg. json.dumps and PostgreSQL's JSON parser do the same work in C: in
the signup writer's profile, building the query went from more CPU than PostgreSQL took to
insert the rows to a small part of it. Rows are given column-wise, not as model instances:
building 500 instances and reading their 20 fields back cost more than the insert.
PostgreSQL only; elsewhere (the demo's SQLite) callers use Django's bulk_create.
"""

import datetime
import json
import uuid
from decimal import Decimal

from django.db import connection
from django.utils import timezone


def _jsonable(values: list) -> list:
    """Dates, times, UUIDs and decimals as the strings PostgreSQL reads them from."""
    sample = next((v for v in values if v is not None), None)
    if isinstance(sample, datetime.date | datetime.time):
        return [v if v is None else v.isoformat() for v in values]
    if isinstance(sample, uuid.UUID | Decimal):
        return [v if v is None else str(v) for v in values]
    return values


def insert(
    model, columns: dict[str, list], *, values: dict | None = None, conflict="", returning=""
) -> list[tuple]:
    """INSERT len(any column) rows into `model`'s table and return the RETURNING rows.

    `columns`: attname → one value per row; `values`: attname → one value for every row;
    any other field (primary key aside) takes its default, computed once for the batch
    (auto_now / auto_now_add: now). `conflict`: e.g. "ON CONFLICT (email) DO NOTHING";
    `returning`: e.g. "id, email". Values go through the field's get_db_prep_save (JSON).
    """
    values = values or {}
    count = len(next(iter(columns.values())))
    if not count:
        return []
    quote = connection.ops.quote_name
    now = timezone.now()
    names, select, shared, varying, record = [], [], [], [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        names.append(quote(field.column))
        cast = field.db_type(connection)
        if field.attname in columns:
            given = columns[field.attname]
            if len(given) != count:
                raise ValueError(f"{field.attname}: {len(given)} values for {count} rows")
            alias = f"c{len(varying)}"
            select.append(alias)
            record.append(f"{alias} {cast}")
            # A JSON field's value is nested as it is (its column in the record is jsonb).
            varying.append(given if field.get_internal_type() == "JSONField" else _jsonable(given))
            continue
        if field.attname in values:
            value = values[field.attname]
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            value = now
        else:
            value = field.get_default()
        select.append(f"%s::{cast}")
        shared.append(field.get_db_prep_save(value, connection))
    unknown = (columns.keys() | values.keys()) - {
        f.attname for f in model._meta.concrete_fields if not f.primary_key
    }
    if unknown:
        raise ValueError(f"no such field on {model.__name__}: {sorted(unknown)}")
    keys = [f"c{i}" for i in range(len(varying))]
    rows = [dict(zip(keys, row, strict=True)) for row in zip(*varying, strict=True)]
    document = json.dumps(rows, separators=(",", ":"))
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(names)}) "
        f"SELECT {', '.join(select)} FROM jsonb_to_recordset(%s::jsonb) AS r({', '.join(record)}) "
        f"{conflict}"
    )
    if returning:
        sql += f" RETURNING {returning}"
    with connection.cursor() as cursor:
        cursor.execute(sql, [*shared, document])
        return cursor.fetchall() if returning else []
