"""Many rows in one INSERT whose text does not depend on how many there are.

`INSERT … SELECT * FROM unnest(%s::type[], …)`: one array parameter per column. A `VALUES`
list of 500 rows × 20 columns (what bulk_create sends) is a new 10,000-placeholder query each
time, which psycopg splits and converts again on every batch: in the signup writer's profile
that cost more than PostgreSQL took to insert the rows. Here the query is the same for any
batch, and the values go as arrays. PostgreSQL only; elsewhere (the demo's SQLite) callers use
Django's bulk_create.
"""

from django.db import connection


def insert(model, objs: list, *, conflict: str = "", returning: str = "") -> list[tuple]:
    """INSERT `objs` (unsaved instances of `model`, primary key left to the database) and
    return the RETURNING rows. `conflict`: e.g. "ON CONFLICT (email) DO NOTHING";
    `returning`: e.g. "id, email". Fields' pre_save runs (auto_now_add dates); values are
    prepared by their field only where psycopg cannot take them as they are (JSON)."""
    if not objs:
        return []
    quote = connection.ops.quote_name
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    arrays, params = [], []
    for field in fields:
        arrays.append(f"%s::{field.db_type(connection)}[]")
        prepare = field.get_internal_type() == "JSONField"
        values = [field.pre_save(obj, True) for obj in objs]
        if prepare:
            values = [field.get_db_prep_save(value, connection) for value in values]
        params.append(values)
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} "
        f"({', '.join(quote(f.column) for f in fields)}) "
        f"SELECT * FROM unnest({', '.join(arrays)}) {conflict}"
    )
    if returning:
        sql += f" RETURNING {returning}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if returning else []
