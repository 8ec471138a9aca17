#!/usr/bin/python3
"""Drive Django's sessions and auth for the djsession Go tests.

    djs.py OP [PARAMS_JSON | -]     run one operation, print its result as JSON
    djs.py batch                    read [{"op": OP, ...params}, ...] on stdin, print [result, ...]

Settings come from the environment (djsproject/settings.py lists them: DJANGO_SECRET_KEY,
SESSION_ENGINE, DATABASE_URL, USE_TZ, TIME_ZONE, SESSION_SERIALIZER, CACHE_URL, ...).
A batch runs in one process, so a test pays Django's start-up once.

Operations (params -> result):

    migrate          {}                                   -> {"ok": true}
    write            {"data": {...}, "set_expiry": n|null|TYPED, "session_key": optional}
                     -> {"session_key", "expiry_age", "expire_date", "data", "row"}
                     a new session (or the given key) saved with Django's SessionStore
    login            {"username", "password", "data": {...}, "set_expiry", "session_key"}
                     -> {"session_key", "user_id", "username", "password_hash", "auth_hash", "data", "row"}
                     creates the user if missing (or resets its password), then
                     django.contrib.auth.login() on a RequestFactory request
    read             {"session_key"} -> {"data", "survived", "session_key_after", "exists", "row"}
                     SessionStore(key).load(); survived = the key was kept (found)
    get_user         {"session_key"} -> {"user_id", "username", "authenticated", "session_key_after"}
                     django.contrib.auth.get_user() for a request carrying that session
    exists / delete  {"session_key"} -> {"exists"} / {"ok"}
    row              {"session_key"} -> {"row"}: the django_session row as Django reads it
    clearsessions    {} -> {"ok": true}   (manage.py clearsessions)
    create_user      {"username", "password"} -> {"user_id", "username", "password_hash"}
    set_password     {"username", "password"} -> {"user_id", "password_hash"}
    eval             {"code", "input"} -> {"result"}: exec code with `input` bound; it sets `result`
    time_load        {"session_keys": [...] | "count": 64, "number", "repeat", "migrate": bool}
                     -> {"vendor", "load_ns", "select_ns", "loads"}: best ns per
                     SessionStore(key).load(), and per bare SELECT session_data through
                     Django's cursor (the same query as Go's BenchmarkBareSelect); without
                     session_keys it makes `count` sessions like Go's BenchmarkLoad's first

Values: results are in the project's JSON normal form (testdata/vectors/README.md): datetimes
as isoformat(), Decimal/UUID as str, tuples and sets as arrays (sets sorted), bytes as base64.
Input data may carry Python types JSON has not as one-key objects: {"$tuple": [...]},
{"$set": [...]}, {"$frozenset": [...]}, {"$datetime": "ISO"}, {"$date": "..."}, {"$time": "..."},
{"$timedelta": [days, seconds, microseconds]}, {"$decimal": "1.5"}, {"$uuid": "..."},
{"$bytes": "base64"}.

Errors: an operation that raises gives {"error": ExceptionName, "message": str}; a single
operation then exits 1. A missing Python module (Django, a database driver) exits 77.
"""

import base64
import datetime
import decimal
import json
import os
import sys
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
EXIT_MISSING_MODULE = 77


# --- values -----------------------------------------------------------------------------------


def normal(v):
    """v in the project's JSON normal form."""
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, dict):
        return {str(k): normal(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [normal(x) for x in v]
    if isinstance(v, (set, frozenset)):
        items = [normal(x) for x in v]
        return sorted(items, key=lambda x: json.dumps(x))
    if isinstance(v, (datetime.datetime, datetime.date, datetime.time)):
        return v.isoformat()
    if isinstance(v, datetime.timedelta):
        return str(v)
    if isinstance(v, (decimal.Decimal, uuid.UUID)):
        return str(v)
    if isinstance(v, (bytes, bytearray)):
        return base64.b64encode(bytes(v)).decode("ascii")
    return repr(v)


def typed(v):
    """Decode the $-tagged input forms into Python values."""
    if isinstance(v, list):
        return [typed(x) for x in v]
    if not isinstance(v, dict):
        return v
    if len(v) == 1:
        (tag, x), = v.items()
        if tag == "$tuple":
            return tuple(typed(i) for i in x)
        if tag == "$set":
            return set(typed(i) for i in x)
        if tag == "$frozenset":
            return frozenset(typed(i) for i in x)
        if tag == "$datetime":
            return datetime.datetime.fromisoformat(x)
        if tag == "$date":
            return datetime.date.fromisoformat(x)
        if tag == "$time":
            return datetime.time.fromisoformat(x)
        if tag == "$timedelta":
            return datetime.timedelta(days=x[0], seconds=x[1], microseconds=x[2])
        if tag == "$decimal":
            return decimal.Decimal(x)
        if tag == "$uuid":
            return uuid.UUID(x)
        if tag == "$bytes":
            return base64.b64decode(x)
    return {k: typed(x) for k, x in v.items()}


def dumps(v):
    """Compact UTF-8 JSON; a lone surrogate becomes a \\udxxx escape, as Go's NormalJSON writes it."""
    return json.dumps(v, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "backslashreplace")


# --- Django ---------------------------------------------------------------------------------


def missing(what, err):
    sys.stderr.write("missing python module %s: %s\n" % (what, err))
    sys.exit(EXIT_MISSING_MODULE)


def setup():
    if HERE not in sys.path:
        sys.path.insert(0, HERE)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "djsproject.settings")
    try:
        import django
    except ImportError as e:
        missing("django", e)
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"]
    driver = {"django.db.backends.postgresql": "psycopg2", "django.db.backends.mysql": "MySQLdb"}.get(engine)
    if driver:
        try:
            __import__(driver)
        except ImportError as e:
            missing(driver, e)
    if "redis" in json.dumps(settings.CACHES):
        try:
            import django_redis  # noqa: F401
        except ImportError as e:
            missing("django_redis", e)
    django.setup()


def session_store(key=None):
    from importlib import import_module

    from django.conf import settings

    return import_module(settings.SESSION_ENGINE).SessionStore(key)


def uses_db():
    from django.conf import settings

    return settings.SESSION_ENGINE.endswith((".db", ".cached_db"))


def row(key):
    """The django_session row as Django reads it back, or None."""
    if not key or not uses_db():
        return None
    from django.contrib.sessions.models import Session

    r = Session.objects.filter(pk=key).values("session_data", "expire_date").first()
    if r is None:
        return None
    return {"session_data": r["session_data"], "expire_date": r["expire_date"].isoformat()}


def session_dict(s):
    return normal({k: s[k] for k in s.keys()})


def apply_expiry(s, params):
    if "set_expiry" in params:
        s.set_expiry(typed(params["set_expiry"]))


def op_migrate(p):
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    return {"ok": True}


def op_write(p):
    s = session_store(p.get("session_key"))
    for k, v in typed(p.get("data") or {}).items():
        s[k] = v
    apply_expiry(s, p)
    s.save(must_create=bool(p.get("session_key")) and not s.exists(p["session_key"]))
    return {
        "session_key": s.session_key,
        "expiry_age": s.get_expiry_age(),
        "expire_date": s.get_expiry_date().isoformat(),
        "data": session_dict(s),
        "row": row(s.session_key),
    }


def get_or_create_user(username, password):
    from django.contrib.auth import get_user_model

    User = get_user_model()
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User.objects.create_user(username=username, password=password)
    elif not user.check_password(password):
        user.set_password(password)
        user.save()
    return user


def fake_request(session_key=None):
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.session = session_store(session_key)
    return request


def op_login(p):
    from django.contrib import auth

    user = get_or_create_user(p["username"], p.get("password", "password"))
    request = fake_request(p.get("session_key"))
    for k, v in typed(p.get("data") or {}).items():
        request.session[k] = v
    apply_expiry(request.session, p)
    auth.login(request, user, backend=p.get("backend"))
    request.session.save()
    return {
        "session_key": request.session.session_key,
        "user_id": str(user.pk),
        "username": user.get_username(),
        "password_hash": user.password,
        "auth_hash": user.get_session_auth_hash(),
        "data": session_dict(request.session),
        "row": row(request.session.session_key),
    }


def op_read(p):
    key = p["session_key"]
    s = session_store(key)
    data = s.load()
    return {
        "data": normal(data),
        "survived": s.session_key == key,
        "session_key_after": s.session_key,
        "exists": session_store().exists(key),
        "row": row(key),
    }


def op_get_user(p):
    from django.contrib import auth

    request = fake_request(p["session_key"])
    user = auth.get_user(request)
    return {
        "user_id": str(user.pk) if user.is_authenticated else None,
        "username": user.get_username() if user.is_authenticated else None,
        "authenticated": bool(user.is_authenticated),
        "session_key_after": request.session.session_key,
    }


def op_exists(p):
    return {"exists": session_store().exists(p["session_key"])}


def op_delete(p):
    session_store().delete(p["session_key"])
    return {"ok": True}


def op_row(p):
    return {"row": row(p["session_key"])}


def op_clearsessions(p):
    from django.core.management import call_command

    call_command("clearsessions")
    return {"ok": True}


def op_create_user(p):
    user = get_or_create_user(p["username"], p.get("password", "password"))
    return {"user_id": str(user.pk), "username": user.get_username(), "password_hash": user.password}


def op_set_password(p):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username=p["username"])
    user.set_password(p["password"])
    user.save()
    return {"user_id": str(user.pk), "password_hash": user.password}


def op_eval(p):
    from django.conf import settings

    ns = {"input": typed(p.get("input")), "result": None, "settings": settings, "session_store": session_store}
    exec(p["code"], ns)
    return {"result": normal(ns["result"])}


# The session BenchmarkLoad in backends/db loads: a login plus a little app data.
BENCH_SESSION = {
    "_auth_user_id": "42",
    "_auth_user_backend": "django.contrib.auth.backends.ModelBackend",
    "_auth_user_hash": "f623faabdde81d502de01cd248edbc77a88b2cba55a0439639728ea62c7abf2a",
    "cart": [1, 2, "three"],
}


def op_time_load(p):
    """Best-of-repeat ns per SessionStore(key).load(), cycling through the keys.

    Without session_keys, makes `count` sessions holding BENCH_SESSION first (and deletes
    them after); with "migrate": true, runs migrate first.
    """
    import timeit

    from django.contrib.sessions.models import Session
    from django.db import connection

    if p.get("migrate"):
        op_migrate({})
    keys = p.get("session_keys")
    made = []
    if not keys:
        for _ in range(int(p.get("count", 64))):
            s = session_store()
            s.update(BENCH_SESSION)
            s.save()
            made.append(s.session_key)
        keys = made
    number = int(p.get("number", 2000))
    repeat = int(p.get("repeat", 5))
    found = sum(1 for k in keys if session_store(k).load())
    table = connection.ops.quote_name(Session._meta.db_table)
    sql = "SELECT session_data FROM %s WHERE session_key = %%s" % table
    state = {"i": 0}

    def load():
        i = state["i"] = (state["i"] + 1) % len(keys)
        session_store(keys[i]).load()

    cursor = connection.cursor()

    def select():
        i = state["i"] = (state["i"] + 1) % len(keys)
        cursor.execute(sql, [keys[i]])
        cursor.fetchone()

    load_best = min(timeit.repeat(load, number=number, repeat=repeat)) / number
    select_best = min(timeit.repeat(select, number=number, repeat=repeat)) / number
    if made:
        Session.objects.filter(pk__in=made).delete()
    return {
        "vendor": connection.vendor,
        "load_ns": int(load_best * 1e9),
        "select_ns": int(select_best * 1e9),
        "loads": found,
    }


OPS = {name[3:]: fn for name, fn in globals().items() if name.startswith("op_")}


def run(op, params):
    fn = OPS.get(op)
    if fn is None:
        return {"error": "UnknownOperation", "message": "unknown operation %r (have: %s)" % (op, ", ".join(sorted(OPS)))}
    try:
        return fn(params)
    except Exception as e:  # reported to the Go test, which decides
        return {"error": type(e).__name__, "message": str(e)}


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        sys.stdout.write(__doc__)
        return 2
    op = argv[1]
    if op == "batch":
        ops = json.loads(sys.stdin.buffer.read() or b"[]")
        setup()
        results = [run(o.get("op"), o) for o in ops]
        sys.stdout.buffer.write(dumps(results) + b"\n")
        return 0
    if len(argv) > 2 and argv[2] != "-":
        params = json.loads(argv[2])
    elif len(argv) > 2:
        params = json.loads(sys.stdin.buffer.read() or b"{}")
    else:
        params = {}
    setup()
    result = run(op, params)
    sys.stdout.buffer.write(dumps(result) + b"\n")
    return 1 if isinstance(result, dict) and "error" in result else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
