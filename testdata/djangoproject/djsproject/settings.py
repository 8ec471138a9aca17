"""Settings of the djsession test project, read from environment variables.

Every setting the Go interop tests vary comes from the environment, named as Django names it
(or as the djsession CLI names it, DESIGN.md "The command-line contract"):

    DJANGO_SECRET_KEY            SECRET_KEY (default: a fixed test key)
    DJANGO_SECRET_KEY_FALLBACKS  SECRET_KEY_FALLBACKS, comma-separated (Django 4.1+ reads it)
    DEFAULT_HASHING_ALGORITHM    Django 3.1-3.2 only: "sha1" writes the pre-3.1 session format
    SESSION_ENGINE               db, cache, cached_db, file, signed_cookies, or a dotted path
    SESSION_SERIALIZER           json, pickle, or a dotted path
    SESSION_FILE_PATH            the file backend's folder
    SESSION_COOKIE_AGE, SESSION_COOKIE_NAME, SESSION_SAVE_EVERY_REQUEST,
    SESSION_EXPIRE_AT_BROWSER_CLOSE, SESSION_CACHE_ALIAS
    USE_TZ                       1/true/0/false (default true, as Django 5.0+)
    TIME_ZONE                    default UTC
    DATABASE_URL                 as dj-database-url reads it: sqlite:///relative.db,
                                 sqlite:////abs/path.db, sqlite://:memory:, postgres://...,
                                 postgresql://, pgsql://, mysql://user:pass@host:port/db?opts
                                 (default sqlite://:memory:)
    CACHE_URL                    locmem:// (default), redis://host:port/db (django-redis),
                                 memcache://host:port (pymemcache), pylibmc://host:port
    DJS_CACHES                   JSON for the whole CACHES setting (wins over CACHE_URL)
    DJS_CACHE_OPTIONS            JSON merged into CACHES["default"]["OPTIONS"]
    KEY_PREFIX, CACHE_VERSION    CACHES["default"] KEY_PREFIX and VERSION
    DJS_PASSWORD_HASHERS         PASSWORD_HASHERS, comma-separated (default: Django's)
"""

import json
import os
from urllib.parse import parse_qs, unquote, urlsplit

BASE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def env_bool(name, default):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def env_list(name):
    value = os.environ.get(name, "")
    return [v for v in (s.strip() for s in value.split(",")) if v]


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "django-insecure-djsession-test-key")
SECRET_KEY_FALLBACKS = env_list("DJANGO_SECRET_KEY_FALLBACKS")
if os.environ.get("DEFAULT_HASHING_ALGORITHM"):
    DEFAULT_HASHING_ALGORITHM = os.environ["DEFAULT_HASHING_ALGORITHM"]

DEBUG = False
ALLOWED_HOSTS = ["*"]

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
]

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]

ROOT_URLCONF = "djsproject.urls"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

USE_TZ = env_bool("USE_TZ", True)
TIME_ZONE = os.environ.get("TIME_ZONE") or "UTC"
USE_I18N = False

# --- databases ----------------------------------------------------------------------------

DB_ENGINES = {
    "sqlite": "django.db.backends.sqlite3",
    "postgres": "django.db.backends.postgresql",
    "postgresql": "django.db.backends.postgresql",
    "pgsql": "django.db.backends.postgresql",
    "mysql": "django.db.backends.mysql",
    "mysql2": "django.db.backends.mysql",
    "mariadb": "django.db.backends.mysql",
}


def parse_database_url(url):
    """DATABASES["default"] for url, read the way dj-database-url reads it."""
    if url in ("sqlite://:memory:", "sqlite://"):
        return {"ENGINE": DB_ENGINES["sqlite"], "NAME": ":memory:"}
    parts = urlsplit(url)
    engine = DB_ENGINES.get(parts.scheme)
    if engine is None:
        raise ValueError("No support for %r. We support: %s" % (parts.scheme, ", ".join(sorted(DB_ENGINES))))
    path = unquote(parts.path[1:])
    if parts.scheme == "sqlite":
        return {"ENGINE": engine, "NAME": path or ":memory:"}
    host = parts.hostname or ""
    if "%" in host:
        host = unquote(parts.netloc.rsplit("@", 1)[-1])
    options = {}
    for key, values in parse_qs(parts.query).items():
        value = values[-1]
        if value.isdigit():
            value = int(value)
        elif value.lower() in ("true", "false"):
            value = value.lower() == "true"
        options[key] = value
    if engine.endswith("postgresql") and "currentSchema" in options:
        options["options"] = "-c search_path=%s" % options.pop("currentSchema")
    if engine.endswith("mysql"):
        options.setdefault("charset", "utf8mb4")
    return {
        "ENGINE": engine,
        "NAME": path,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": host,
        "PORT": parts.port or "",
        "OPTIONS": options,
    }


DATABASES = {"default": parse_database_url(os.environ.get("DATABASE_URL") or "sqlite://:memory:")}

# --- caches (placeholders the cache/cached_db interop tests fill in) ---------------------


def parse_cache_url(url):
    parts = urlsplit(url)
    scheme = parts.scheme
    if scheme in ("", "locmem"):
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": parts.netloc or "djs"}
    if scheme in ("redis", "rediss", "unix"):
        return {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": url, "OPTIONS": {}}
    if scheme in ("memcache", "pymemcache"):
        return {"BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache", "LOCATION": parts.netloc}
    if scheme == "pylibmc":
        return {"BACKEND": "django.core.cache.backends.memcached.PyLibMCCache", "LOCATION": parts.netloc}
    if scheme == "dummy":
        return {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
    raise ValueError("unknown CACHE_URL scheme %r" % scheme)


if os.environ.get("DJS_CACHES"):
    CACHES = json.loads(os.environ["DJS_CACHES"])
else:
    CACHES = {"default": parse_cache_url(os.environ.get("CACHE_URL") or "locmem://")}
    if os.environ.get("DJS_CACHE_OPTIONS"):
        CACHES["default"].setdefault("OPTIONS", {}).update(json.loads(os.environ["DJS_CACHE_OPTIONS"]))
    if os.environ.get("KEY_PREFIX"):
        CACHES["default"]["KEY_PREFIX"] = os.environ["KEY_PREFIX"]
    if os.environ.get("CACHE_VERSION"):
        CACHES["default"]["VERSION"] = int(os.environ["CACHE_VERSION"])

# --- sessions -------------------------------------------------------------------------------

SESSION_ENGINES = {
    "db": "django.contrib.sessions.backends.db",
    "cache": "django.contrib.sessions.backends.cache",
    "cached_db": "django.contrib.sessions.backends.cached_db",
    "file": "django.contrib.sessions.backends.file",
    "signed_cookies": "django.contrib.sessions.backends.signed_cookies",
}
_engine = os.environ.get("SESSION_ENGINE") or "db"
SESSION_ENGINE = SESSION_ENGINES.get(_engine, _engine)

SERIALIZERS = {
    "json": "django.contrib.sessions.serializers.JSONSerializer",
    "pickle": "django.contrib.sessions.serializers.PickleSerializer",
}
_serializer = os.environ.get("SESSION_SERIALIZER") or "json"
SESSION_SERIALIZER = SERIALIZERS.get(_serializer, _serializer)

if os.environ.get("SESSION_FILE_PATH"):
    SESSION_FILE_PATH = os.environ["SESSION_FILE_PATH"]
if os.environ.get("SESSION_COOKIE_AGE"):
    SESSION_COOKIE_AGE = int(os.environ["SESSION_COOKIE_AGE"])
if os.environ.get("SESSION_COOKIE_NAME"):
    SESSION_COOKIE_NAME = os.environ["SESSION_COOKIE_NAME"]
if os.environ.get("SESSION_CACHE_ALIAS"):
    SESSION_CACHE_ALIAS = os.environ["SESSION_CACHE_ALIAS"]
SESSION_SAVE_EVERY_REQUEST = env_bool("SESSION_SAVE_EVERY_REQUEST", False)
SESSION_EXPIRE_AT_BROWSER_CLOSE = env_bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", False)

if env_list("DJS_PASSWORD_HASHERS"):
    PASSWORD_HASHERS = env_list("DJS_PASSWORD_HASHERS")

# Quiet: the Go tests read stdout as JSON, and Django's security loggers would write
# "Session data corrupted" to stderr for every tampered session a test feeds in.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"null": {"class": "logging.NullHandler"}},
    "loggers": {"django": {"handlers": ["null"], "propagate": False}},
}
