"""A new row's column values, as save() converts them, without save()'s per-field cost on the hot path."""

import json
import uuid
from datetime import datetime
from functools import partial

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from psycopg.types.json import Json, Jsonb

def _is_str(value):
    return isinstance(value, str)  # a TextChoices member too: to_python returns it as is


def _is_int(value):
    return type(value) is int  # not a bool: int() would turn True into 1


def _is_float(value):
    return type(value) is float


def _is_uuid(value):
    return isinstance(value, uuid.UUID)


def _is_aware_datetime(value):
    return isinstance(value, datetime) and value.tzinfo is not None


# For these fields, save()'s conversion returns a value of the checked Python type unchanged on
# PostgreSQL (CharField.to_python of a str, int() of an int, the native uuid and timestamptz
# adapters; integers only get Django's sized wrapper). Checking the type is cheaper: a JobRun
# row took 40 us through get_db_prep_save and takes 12 us here, of a ~300-450 us enqueue. Any
# other value, and every other field (JSON above all), goes through Django's own conversion.
_PASS = {
    "CharField": _is_str, "TextField": _is_str,
    "SmallIntegerField": _is_int, "IntegerField": _is_int, "PositiveIntegerField": _is_int,
    "BigIntegerField": _is_int, "AutoField": _is_int, "BigAutoField": _is_int,
    "FloatField": _is_float, "UUIDField": _is_uuid, "DateTimeField": _is_aware_datetime,
}
_plans = {}  # (model, fields) -> [(field, attname, the check a value passes with or None, its adapter, per row)]


def _plan(fields):
    plan = []
    for field in fields:
        target = field.target_field if isinstance(field, models.ForeignKey) else field
        internal_type = target.get_internal_type()
        passes = _PASS.get(internal_type)
        # pre_save() sets these, for each row its own instant.
        per_row = getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
        if per_row:
            passes = None
        # Integers get the same sized wrapper (Int4, Int8...) as Django gives them; keys of an
        # auto field go as plain ints, as Django sends them.
        adapt = None
        if passes is _is_int and not internal_type.endswith("AutoField"):
            adapt = partial(connection.ops.adapt_integerfield_value, internal_type=internal_type)
        plan.append((field, field.attname, passes, adapt, per_row))
    return plan


def row_values(obj, fields, like=None, db=None):
    """Column values for INSERTing `obj` (a new instance; __init__ set the defaults).

    `like` is (another new instance, its row values), for a bulk insert of siblings (see
    JobRun.sibling): an attribute holding the very object `like` holds gets its converted value.
    Only the few attributes that differ per run (id, arguments, timestamps) are converted again.
    `db` is the connection (a bulk insert resolves it once: each look-up through Django's
    thread-local `connection` proxy cost ~1 us, several per row).
    """
    plan = _plan_of(obj, fields)
    db = db or connections[DEFAULT_DB_ALIAS]
    if like is not None:
        theirs, values, mine = like[0].__dict__, list(like[1]), obj.__dict__
        for index, entry in enumerate(plan):
            if mine[entry[1]] is not theirs[entry[1]] or entry[4]:
                values[index] = _value(obj, entry, db)
        return values
    return [_value(obj, entry, db) for entry in plan]


def _plan_of(obj, fields):
    key = (type(obj), id(fields))  # the model's cached field list: hashing its fields costs more
    plan = _plans.get(key)
    if plan is None:
        plan = _plans[key] = _plan(fields)
    return plan


def _value(obj, entry, db):
    field, attname, passes, adapt, _ = entry
    value = getattr(obj, attname)
    if value is None or (passes is not None and passes(value)):
        return value if adapt is None or value is None else adapt(value)
    return field.get_db_prep_save(field.pre_save(obj, True), db)


def differing_columns(obj, like, fields):
    """Indexes of the columns whose value `obj` does not share with `like` (see row_values)."""
    plan = _plan_of(obj, fields)
    mine, theirs = obj.__dict__, like.__dict__
    return tuple(index for index, entry in enumerate(plan) if entry[4] or mine[entry[1]] is not theirs[entry[1]])


def with_columns(obj, fields, values, attnames):
    """`values` (a sibling's row) with the columns of `attnames` converted from `obj` instead."""
    plan, db = _plan_of(obj, fields), connections[DEFAULT_DB_ALIAS]
    values = list(values)
    for index, entry in enumerate(plan):
        if entry[1] in attnames:
            values[index] = _value(obj, entry, db)
    return values


def dumped_json(values):
    """`values` with each JSON value as its text: a text COPY would dump a shared one again per row."""
    return [(value.dumps or json.dumps)(value.obj) if isinstance(value, (Json, Jsonb)) else value
            for value in values]


def column_values(obj, fields, indexes):
    """The row values of `obj` in the columns at `indexes` only."""
    plan, db = _plan_of(obj, fields), connections[DEFAULT_DB_ALIAS]
    return [_value(obj, plan[index], db) for index in indexes]
