#!/usr/bin/python3
"""Write testdata/django.sqlite3: a database as Django 3.2 leaves it, for tests and examples.

    /usr/bin/python3 testdata/djangoproject/make_sample_db.py

Runs `migrate` (contenttypes, auth, sessions) into a new SQLite file, then writes, with
Django's clock fixed (timezone.now and time.time patched):

    logged_in   alice (password "alice-password") logged in with django.contrib.auth.login
                at T0, plus {"cart": [1, 2]}; expires T0 + 14 days
    anonymous   {"theme": "dark", "visits": 3, "tags": ["a", "b"]} saved at T0; expires T0 + 14 days
    expired     {"stale": true} saved at T0 - 15 days; expired at T0 - 1 day

T0 = 1700000000 (2023-11-14T22:13:20Z). Read it with the clock at T0 + 60 (NOW below), when
the first two are live and the third is expired. SECRET_KEY is SECRET_KEY below, USE_TZ=True,
TIME_ZONE=UTC, JSON serializer, default password hasher (PBKDF2-SHA256).

Session keys and the password hash are random, so every run gives a different file: the
keys and expected contents go to testdata/djangoproject/sample_db.json next to it.
The file is VACUUMed with 1 KiB pages to stay small.
"""

import datetime
import json
import os
import sqlite3
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "django.sqlite3"))
MANIFEST = os.path.join(HERE, "sample_db.json")

SECRET_KEY = "django-insecure-djsession-sample-key"
T0 = 1700000000
NOW = T0 + 60

os.environ.update(
    {
        "DJANGO_SECRET_KEY": SECRET_KEY,
        "DATABASE_URL": "sqlite:///" + OUT,
        "SESSION_ENGINE": "db",
        "USE_TZ": "1",
        "TIME_ZONE": "UTC",
        "SESSION_SERIALIZER": "json",
    }
)
os.environ.pop("DJS_PASSWORD_HASHERS", None)
sys.path.insert(0, HERE)

import djs  # noqa: E402

CLOCK = {"t": float(T0)}


def fixed_clock():
    """Patch Django's two clocks (timezone.now for expire_date, time.time for signing)."""
    from django.utils import timezone

    real_time = time.time
    time.time = lambda: CLOCK["t"]
    timezone.now = lambda: datetime.datetime.fromtimestamp(CLOCK["t"], tz=datetime.timezone.utc)
    return real_time


def main():
    if os.path.exists(OUT):
        os.remove(OUT)
    djs.setup()
    fixed_clock()
    djs.op_migrate({})

    sessions = []
    CLOCK["t"] = float(T0)
    login = djs.op_login({"username": "alice", "password": "alice-password", "data": {"cart": [1, 2]}})
    sessions.append(("logged_in", login))
    # date_joined's default is the real timezone.now, bound when the model was defined.
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    get_user_model().objects.filter(pk=login["user_id"]).update(date_joined=timezone.now())
    anon = djs.op_write({"data": {"theme": "dark", "visits": 3, "tags": ["a", "b"]}})
    sessions.append(("anonymous", anon))
    CLOCK["t"] = float(T0 - 15 * 86400)
    expired = djs.op_write({"data": {"stale": True}})
    sessions.append(("expired", expired))

    con = sqlite3.connect(OUT)
    con.execute("PRAGMA page_size = 1024")
    con.execute("VACUUM")
    con.close()

    manifest = {
        "made_by": "testdata/djangoproject/make_sample_db.py",
        "django": __import__("django").get_version(),
        "secret_key": SECRET_KEY,
        "use_tz": True,
        "time_zone": "UTC",
        "t0": T0,
        "now": NOW,
        "users": [
            {
                "id": login["user_id"],
                "username": "alice",
                "password": "alice-password",
                "password_hash": login["password_hash"],
                "session_auth_hash": login["auth_hash"],
            }
        ],
        "sessions": [
            {
                "name": name,
                "session_key": r["session_key"],
                "data": r["data"],
                "session_data": r["row"]["session_data"],
                "expire_date": r["row"]["expire_date"],
                "live_at_now": name != "expired",
            }
            for name, r in sessions
        ],
    }
    with open(MANIFEST, "w", encoding="utf-8") as f:
        json.dump(manifest, f, ensure_ascii=False, indent=2)
        f.write("\n")
    print("wrote %s (%d bytes) and %s" % (OUT, os.path.getsize(OUT), MANIFEST))


if __name__ == "__main__":
    main()
