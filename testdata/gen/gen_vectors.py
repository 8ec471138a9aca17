#!/usr/bin/python3
"""Generate testdata/django-3.2.jsonl with Debian's Django 3.2 (run with /usr/bin/python3).

Every case is what a real Django 3.2.25 wrote and read back, in the case shape of
shared/vectors/README.md (the same shape as testdata/vectors/django-5.2.jsonl).

    /usr/bin/python3 testdata/gen/gen_vectors.py                 # writes testdata/django-3.2.jsonl
    /usr/bin/python3 testdata/gen/gen_vectors.py -o FILE         # writes FILE ("-" = stdout)
    /usr/bin/python3 testdata/gen/gen_vectors.py --check FILE    # regenerate and compare with FILE

Determinism: Django's clock (time.time and django.utils.timezone.now) is fixed per case
(T0 = 1700000000 unless the case records another timestamp/now), keys and salts are fixed,
session keys come from a PRNG seeded with the case id, and cases are written in a fixed
order, so re-running gives identical bytes. Cases whose bytes depend on real randomness
(bcrypt salts) carry "deterministic": false; --check only checks that they are present
and that their recorded hash still verifies.

Cases that also exist in the 5.2 file keep its id and input: their inputs are read from
testdata/vectors/django-5.2.jsonl and handed to Django 3.2 (those 3.2 cannot run, i.e.
SECRET_KEY_FALLBACKS / fallback_keys and scrypt, are skipped).
"""

import argparse
import base64
import datetime
import decimal
import json
import os
import random
import sys
import time
import uuid
import warnings
import zlib

warnings.simplefilter("ignore")  # RemovedInDjango40Warning for DEFAULT_HASHING_ALGORITHM etc.

# Pickles of str sets (and their repr) follow str hashing: pin it so output is reproducible.
if os.environ.get("PYTHONHASHSEED") != "0":
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable] + sys.argv)

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_OUT = os.path.join(REPO, "testdata", "django-3.2.jsonl")
VECTORS_52 = os.path.join(REPO, "testdata", "vectors", "django-5.2.jsonl")

T0 = 1700000000  # base62 "1r31eq"

# Keys shared with the 5.2/6.0 vectors and with spec §9.
ORACLE_KEY = "django-insecure-oracle-key-0123456789abcdefghijklmnopqrstuvwxyz"
UNICODE_KEY = "clé-secrète-ключ-秘密-🔑-ß"
TESTS_KEY = "django_tests_secret_key"  # spec §9: Django's test settings
PREDICTABLE = "predictable-secret"  # spec §9.2, §9.3
BASE_KEY = "gen-vectors-base-key-never-recorded"  # a case that needs SECRET_KEY sets it

JSON_SER = "django.core.signing.JSONSerializer"
SESS_JSON = "django.contrib.sessions.serializers.JSONSerializer"
SESS_PICKLE = "django.contrib.sessions.serializers.PickleSerializer"
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
AUTH_KEY_SALT = "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash"

# --- fixed clock -----------------------------------------------------------------------

_NOW = [float(T0)]


def _fake_time():
    return _NOW[0]


time.time = _fake_time  # django.core.signing calls time.time() through the module

import django  # noqa: E402
from django.conf import settings  # noqa: E402

settings.configure(
    SECRET_KEY=BASE_KEY,
    USE_TZ=True,
    TIME_ZONE="UTC",
    INSTALLED_APPS=[
        "django.contrib.contenttypes",
        "django.contrib.auth",
        "django.contrib.sessions",
    ],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    PASSWORD_HASHERS=[
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
        "django.contrib.auth.hashers.BCryptPasswordHasher",
        "django.contrib.auth.hashers.SHA1PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.UnsaltedSHA1PasswordHasher",
        "django.contrib.auth.hashers.UnsaltedMD5PasswordHasher",
        "django.contrib.auth.hashers.CryptPasswordHasher",
    ],
    LOGGING_CONFIG=None,
)
django.setup()

import logging  # noqa: E402

logging.disable(logging.CRITICAL)  # "Session data corrupted" warnings are expected

from django.contrib.auth import get_user, login  # noqa: E402
from django.contrib.auth import hashers  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.contrib.sessions.backends import base as sess_base  # noqa: E402
from django.contrib.sessions.backends import db as sess_db  # noqa: E402
from django.contrib.sessions.backends import signed_cookies as sess_cookies  # noqa: E402
from django.contrib.sessions.models import Session  # noqa: E402
from django.core import signing  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.http import HttpRequest, HttpResponse  # noqa: E402
from django.test import RequestFactory  # noqa: E402
from django.test.utils import override_settings  # noqa: E402
from django.utils import timezone as djtz  # noqa: E402
from django.utils.module_loading import import_string  # noqa: E402


def _fake_tz_now():
    if settings.USE_TZ:
        return datetime.datetime.fromtimestamp(_NOW[0], tz=djtz.utc)  # pytz UTC in 3.2
    return datetime.datetime.utcfromtimestamp(_NOW[0])


djtz.now = _fake_tz_now

# Session keys: Django draws them from `secrets`; a PRNG seeded per case keeps them stable.
_RNG = random.Random(0)


def _seeded_random_string(length=12, allowed_chars=sess_base.VALID_KEY_CHARS):
    return "".join(_RNG.choice(allowed_chars) for _ in range(length))


sess_base.get_random_string = _seeded_random_string


def set_now(t):
    _NOW[0] = float(t)


# --- normal form (shared/vectors/README.md) ---------------------------------------------


def nf(v):
    """The vectors' normal form of a Python value (JSON-native values unchanged)."""
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, int):
        return int(v)
    if isinstance(v, float):
        if v != v or v in (float("inf"), float("-inf")):
            raise ValueError("non-finite float has no normal form; use obj_json")
        return v
    if isinstance(v, (datetime.datetime, datetime.date, datetime.time)):
        return v.isoformat()
    if isinstance(v, (decimal.Decimal, uuid.UUID)):
        return str(v)
    if isinstance(v, (list, tuple)):
        return [nf(x) for x in v]
    if isinstance(v, (set, frozenset)):
        members = [nf(x) for x in v]
        return sorted(members, key=lambda m: json.dumps(m, ensure_ascii=False, allow_nan=False))
    if isinstance(v, (bytes, bytearray)):
        return base64.b64encode(bytes(v)).decode("ascii")
    if isinstance(v, dict):
        return {str(k): nf(x) for k, x in v.items()}
    raise TypeError("no normal form for %r" % type(v))


def err(e):
    """expected.error / message: bare names for Django and builtin exceptions."""
    t = type(e)
    mod = t.__module__
    if mod == "builtins" or mod.startswith("django."):
        name = t.__name__
    else:
        name = "%s.%s" % (mod, t.__qualname__)
    return {"error": name, "message": str(e)}


def py_json(v):
    """Python's json text (NaN/Infinity allowed) for values the normal form cannot hold."""
    return json.dumps(v, separators=(",", ":"))


def key_of(inp):
    if "key_bytes_b64" in inp:
        return base64.b64decode(inp["key_bytes_b64"])
    return inp.get("key")


def make_case(cid, kind, cfg, inp, expected, repr_of=None, extra=None):
    case = {
        "id": cid,
        "django": django.get_version(),
        "kind": kind,
        "settings": cfg,
        "input": inp,
        "expected": expected,
    }
    if repr_of is not None:
        case["python_repr"] = repr(repr_of[0])
    if extra:
        case.update(extra)
    return case


class Ctx:
    """Per-case environment: settings override, clock, seeded session keys."""

    def __init__(self, cid, cfg):
        self.cid = cid
        self.cfg = {k: v for k, v in cfg.items() if k != "SECRET_KEY_FALLBACKS"}

    def __enter__(self):
        _RNG.seed("djsession:" + self.cid)
        set_now(T0)
        self.ov = override_settings(**self.cfg)
        self.ov.enable()
        return self

    def __exit__(self, *exc):
        self.ov.disable()
        set_now(T0)
        return False


# --- runners: one per kind; each takes (settings, input, py) and returns (expected, repr) ---


def run_signer(cfg, inp, py):
    cls = getattr(signing, inp["class"])
    if inp["method"] == "__init__":
        try:
            kw = {"sep": inp["sep"]}
            if "key" in inp:
                kw["key"] = inp["key"]
            cls(**kw)
            return {"ok": True}, None
        except Exception as e:
            return err(e), None

    def signer():
        return cls(key=key_of(inp), sep=inp.get("sep", ":"), salt=inp.get("salt"),
                   algorithm=inp.get("algorithm"))

    method = inp["method"]
    if method in ("sign", "sign_object"):
        set_now(inp["timestamp"] if inp.get("timestamp") is not None else T0)
        try:
            s = signer()
            if method == "sign":
                signed = s.sign(py if py is not None else inp["value"])
                unsigned = s.unsign(signed)
                return {"signed": signed, "unsigned": unsigned}, None
            obj = py if py is not None else inp["obj"]
            ser = import_string(inp.get("serializer", JSON_SER))
            signed = s.sign_object(obj, serializer=ser, compress=inp.get("compress", False))
            back = s.unsign_object(signed, serializer=ser)
            return {"signed": signed, "unsigned": nf(back)}, (back,)
        except Exception as e:
            return err(e), None
    if method == "unsign":
        set_now(inp["now"] if inp.get("now") is not None else T0)
        try:
            s = signer()
            if inp["class"] == "TimestampSigner":
                max_age = inp.get("max_age")
                if max_age is not None and inp.get("max_age_type") == "timedelta":
                    max_age = datetime.timedelta(seconds=max_age)
                return {"unsigned": s.unsign(inp["signed"], max_age=max_age)}, None
            return {"unsigned": s.unsign(inp["signed"])}, None
        except Exception as e:
            return err(e), None
    raise ValueError("unknown signer method %r" % method)


def run_dumps(cfg, inp, py):
    if py is None:
        py = json.loads(inp["obj_json"]) if "obj_json" in inp else inp["obj"]
    set_now(inp["timestamp"])
    ser = import_string(inp.get("serializer", JSON_SER))
    key = key_of(inp)
    signed = signing.dumps(py, key=key, salt=inp["salt"], serializer=ser,
                           compress=inp["compress"])
    back = signing.loads(signed, key=key, salt=inp["salt"], serializer=ser)
    exp = {"signed": signed, "compressed": signed.startswith(".")}
    if "obj_json" in inp:
        exp["loads_json"] = py_json(back)
    else:
        exp["loads"] = nf(back)
    return exp, (back,)


def run_loads(cfg, inp, py):
    set_now(inp["now"])
    ser = import_string(inp.get("serializer", JSON_SER))
    max_age = inp.get("max_age")
    if max_age is not None and inp.get("max_age_type") == "timedelta":
        max_age = datetime.timedelta(seconds=max_age)
    kw = {"key": key_of(inp), "serializer": ser, "max_age": max_age}
    if "salt" in inp:
        kw["salt"] = inp["salt"]
    try:
        obj = signing.loads(inp["signed"], **kw)
    except Exception as e:
        return err(e), None
    return {"obj": nf(obj)}, (obj,)


def run_signed_cookie(cfg, inp, py):
    name, salt = inp["name"], inp.get("salt", "")
    if inp.get("method") == "get_signed_cookie":
        set_now(inp["now"])
        req = HttpRequest()
        req.COOKIES[name] = inp["cookie_value"]
        try:
            return {"plain": req.get_signed_cookie(name, salt=salt, max_age=inp.get("max_age"))}, None
        except Exception as e:
            return err(e), None
    set_now(inp["timestamp"])
    resp = HttpResponse()
    resp.set_signed_cookie(name, inp["value"], salt=salt)
    morsel = resp.cookies[name]
    req = HttpRequest()
    req.COOKIES[name] = morsel.value
    return {
        "cookie_value": morsel.value,
        "coded_value": morsel.coded_value,
        "set_cookie_header": morsel.output(),
        "plain": req.get_signed_cookie(name, salt=salt),
        "signer_salt": name + salt,  # spec §2.7: legacy salt, the only one 3.2 knows
        "signer_salt_scheme": "legacy",
        "signer_key": "b'django.http.cookies' + SECRET_KEY (utf-8)",
    }, None


def _strict(store, data):
    try:
        return {"obj": nf(signing.loads(data, salt=store.key_salt, serializer=store.serializer))}
    except Exception as e:
        return err(e)


def run_session_data(cfg, inp, py):
    method = inp.get("method")
    if method == "login":
        return run_login(cfg, inp)
    if method == "get_user":
        return run_get_user(cfg, inp, py)
    store = sess_db.SessionStore()
    if "session_data" in inp:  # decode case
        data = inp["session_data"]
        exp = {}
        try:
            decoded = store.decode(data)
            exp["decoded"] = nf(decoded)
            rep = (decoded,) if decoded else None
        except Exception as e:
            exp["decode_error"] = err(e)
            rep = None
        exp["strict"] = _strict(store, data)
        return exp, rep
    set_now(inp.get("timestamp", T0))
    if py is None:
        py = inp["session_dict"]
    try:
        data = store.encode(py)
    except Exception as e:
        return err(e), None
    decoded = sess_db.SessionStore().decode(data)
    return {"session_data": data, "decoded": nf(decoded)}, (decoded,)


def _expiry_arg(spec):
    """set_expiry argument from its JSON description."""
    if isinstance(spec, int):
        return spec
    if spec["type"] == "timedelta":
        return datetime.timedelta(seconds=spec["seconds"])
    if spec["type"] == "datetime":
        return datetime.datetime.fromisoformat(spec["iso"]).astimezone(djtz.utc)
    raise ValueError(spec)


_db_ready = [False]


def _ensure_db():
    if not _db_ready[0]:
        call_command("migrate", verbosity=0, interactive=False)
        _db_ready[0] = True


def _put_user(u):
    _ensure_db()
    User.objects.filter(pk=u["id"]).delete()
    return User.objects.create(id=u["id"], username=u["username"], password=u["password_hash"])


def _verdict(request):
    user = get_user(request)
    return {"authenticated": bool(user.is_authenticated), "user_id": user.pk,
            "username": getattr(user, "username", "")}


def run_login(cfg, inp):
    set_now(inp.get("timestamp", T0))
    user = _put_user(inp["user"])
    rf = RequestFactory()
    req = rf.get("/")
    req.session = sess_db.SessionStore()
    if inp.get("session_dict"):
        req.session.update(inp["session_dict"])
    login(req, user, backend=MODEL_BACKEND)
    req.session.save()
    key = req.session.session_key
    row = Session.objects.get(session_key=key)
    req2 = rf.get("/")
    req2.session = sess_db.SessionStore(key)
    decoded = sess_db.SessionStore().decode(row.session_data)
    return {
        "session_key": key,
        "session_auth_hash": user.get_session_auth_hash(),
        "legacy_sha1_hash": user._legacy_get_session_auth_hash(),
        "auth": {k: decoded.get(k) for k in ("_auth_user_id", "_auth_user_backend", "_auth_user_hash")},
        "session_data": row.session_data,
        "expire_date": row.expire_date.isoformat(),
        "decoded": nf(decoded),
        "get_user": _verdict(req2),
    }, (decoded,)


def run_get_user(cfg, inp, py):
    """Store session_dict in the db backend, then run auth.get_user() on it."""
    set_now(inp.get("timestamp", T0))
    _put_user(inp["user"])
    store = sess_db.SessionStore()
    store.update(inp["session_dict"])
    store.create()
    key = store.session_key
    req = RequestFactory().get("/")
    req.session = sess_db.SessionStore(key)
    verdict = _verdict(req)
    return {
        "session_key": key,
        "get_user": verdict,
        "session_kept": Session.objects.filter(session_key=key).exists(),
    }, None


def run_signed_cookies_session(cfg, inp, py):
    age = settings.SESSION_COOKIE_AGE
    salt = "django.contrib.sessions.backends.signed_cookies"
    if "cookie_value" in inp:
        set_now(inp["now"])
        s = sess_cookies.SessionStore(inp["cookie_value"])
        return {"decoded": nf(s.load())}, None
    set_now(inp["timestamp"])
    s = sess_cookies.SessionStore()
    s.update(py if py is not None else inp["session_dict"])
    s.save()
    cookie = s.session_key
    decoded = sess_cookies.SessionStore(cookie).load()
    set_now(inp["timestamp"] + 10)
    plus10 = sess_cookies.SessionStore(cookie).load()
    set_now(inp["timestamp"] + age + 1)
    after = sess_cookies.SessionStore(cookie).load()
    return {"cookie_value": cookie, "decoded": nf(decoded), "salt": salt,
            "load_at_timestamp_plus_10": nf(plus10), "load_after_cookie_age": nf(after)}, (decoded,)


def run_auth_hash(cfg, inp, py):
    u = User(password=inp["password_hash"])
    return {
        "session_auth_hash": u.get_session_auth_hash(),
        "algorithm": settings.DEFAULT_HASHING_ALGORITHM,
        "legacy_sha1_hash": u._legacy_get_session_auth_hash(),
    }, None


WRONG_PASSWORD = "wrong password"


def run_password_hash(cfg, inp, py):
    pw = inp["password"]
    if inp.get("method") == "check_password":
        encoded = inp["encoded"]
    else:
        salt = inp["salt"]
        if inp.get("salt_bytes"):
            salt = salt.encode("ascii")  # bcrypt: Django hands the salt to bcrypt.hashpw
        encoded = hashers.make_password(pw, salt, inp["hasher"])
    hasher = hashers.identify_hasher(encoded)
    return {
        "encoded": encoded,
        "check_password": hashers.check_password(pw, encoded),
        "check_wrong_password": hashers.check_password(WRONG_PASSWORD, encoded),
        "iterations": hasher.decode(encoded).get("iterations"),  # as carried by `encoded`
        "must_update": hasher.must_update(encoded),
    }, None


RUNNERS = {
    "signing.dumps": run_dumps,
    "signing.loads": run_loads,
    "signer": run_signer,
    "signed_cookie": run_signed_cookie,
    "session_data": run_session_data,
    "signed_cookies_session": run_signed_cookies_session,
    "auth_hash": run_auth_hash,
    "password_hash": run_password_hash,
}
KIND_ORDER = list(RUNNERS)


# --- case definitions ------------------------------------------------------------------


class Def:
    """One case to run: id, settings, input (JSON), optional Python value, extras."""

    def __init__(self, cid, cfg, inp, py=None, extra=None, deterministic=True, repr_input=False):
        self.cid, self.cfg, self.inp, self.py = cid, cfg, inp, py
        self.extra = extra or {}
        self.deterministic = deterministic
        self.repr_input = repr_input

    @property
    def kind(self):
        return self.cid.split("/", 1)[0]


def run_def(d):
    with Ctx(d.cid, d.cfg):
        expected, rep = RUNNERS[d.kind](d.cfg, d.inp, d.py)
    if d.py is not None and (d.repr_input or (rep is None and d.kind == "session_data")):
        rep = (d.py,)
    extra = dict(d.extra)
    if not d.deterministic:
        extra["deterministic"] = False
    return make_case(d.cid, d.kind, d.cfg, d.inp, expected, rep, extra)


# Cases of the 5.2 file that 3.2 cannot run.
SKIP_52 = {
    "signing.loads/fallback_key_ok": "fallback_keys (4.1+)",
    "signing.loads/fallback_key_second": "fallback_keys (4.1+)",
    "auth_hash/literal_argon2_fallbacks": "SECRET_KEY_FALLBACKS (4.1+)",
    "auth_hash/unicode_literal_fallbacks": "SECRET_KEY_FALLBACKS (4.1+)",
    "password_hash/scrypt_unicode": "scrypt hasher (4.0+)",
}


def mirrored_defs(kind):
    """The 5.2 cases of one kind, their inputs handed to 3.2 unchanged."""
    out = []
    with open(VECTORS_52, encoding="utf-8") as f:
        for line in f:
            c = json.loads(line)
            if c["kind"] != kind or c["id"] in SKIP_52:
                continue
            inp = dict(c["input"])
            if inp.get("fallback_keys") == []:
                del inp["fallback_keys"]  # 3.2 has no fallback keys; [] means none anyway
            elif "fallback_keys" in inp:
                continue
            extra = {k: c[k] for k in ("backend", "salt") if k in c}
            out.append(Def(c["id"], c["settings"], inp, extra=extra,
                           repr_input=kind == "session_data" and "session_dict" in inp))
    return out


LOREM = {"blob": "lorem ipsum dolor sit amet " * 120, "list": list(range(300))}
UNICODE_DICT = {
    "name": "Zoë Ñandú", "cjk": "漢字かな", "emoji": "🎉🐍", "rtl": "שלום",
    "ctrl": 'tab\tnl\n"quote"\\ back', "nul": "a\x00b", "ü-key": "ключ",
}
AB = {"a": 1, "b": "two"}
SPEC_AUTH_DICT = {"_auth_user_id": "1", "_auth_user_backend": MODEL_BACKEND, "_auth_user_hash": "x"}


def pickle_types():
    utc = djtz.utc  # pytz.UTC in 3.2: pickles as pytz._UTC
    return {
        "aware_dt": datetime.datetime(2024, 2, 29, 13, 45, 30, 123456, tzinfo=utc),
        "naive_dt": datetime.datetime(2020, 1, 1, 0, 0, 0),
        "date": datetime.date(1999, 12, 31),
        "time": datetime.time(23, 59, 59),
        "decimal": decimal.Decimal("12345.6789"),
        "int_set": {1, 2, 3},
        "str_frozenset": frozenset({"a", "b"}),
        "tuple": (1, "two", 3.0),
        "bytes": b"\x00\xffbinary",
        "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "big": 2 ** 70,
        "unicode": "Zoë 🎉",
    }


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode("ascii")


def hand_signed(payload, key=ORACLE_KEY, salt="django.core.signing", ts=T0):
    """A token with a valid MAC over an arbitrary payload (what a key holder could mint)."""
    set_now(ts)
    return signing.TimestampSigner(key=key, salt=salt).sign(payload)


def defs_signer():
    out = mirrored_defs("signer")

    def sign(cid, value, key=PREDICTABLE, cls="Signer", salt=None, sep=":", algorithm="sha256",
             timestamp=T0, cfg=None, key_bytes=None):
        inp = {"class": cls, "method": "sign", "value": value}
        if key_bytes is not None:
            inp["key_bytes_b64"] = base64.b64encode(key_bytes).decode()
        elif key is not None:
            inp["key"] = key
        inp.update({"salt": salt, "sep": sep, "algorithm": algorithm,
                    "timestamp": timestamp if cls == "TimestampSigner" else None})
        out.append(Def("signer/" + cid, cfg or {}, inp))

    def unsign(cid, signed, cls="Signer", key=PREDICTABLE, salt=None, sep=":", algorithm="sha256",
               max_age=None, now=T0, cfg=None, note=None, max_age_type=None, key_bytes=None):
        inp = {"class": cls, "method": "unsign", "signed": signed}
        if key_bytes is not None:
            inp["key_bytes_b64"] = base64.b64encode(key_bytes).decode()
        else:
            inp["key"] = key
        inp.update({"salt": salt, "sep": sep, "algorithm": algorithm, "max_age": max_age, "now": now})
        if max_age_type:
            inp["max_age_type"] = max_age_type
        if note:
            inp["note"] = note
        out.append(Def("signer/" + cid, cfg or {}, inp))

    # spec §9.2 [T]/[C]
    sign("spec_predictable_foo", "foo")
    for name, sep in (("slash", "/"), ("star_sep", "*sep*"), ("comma", ",")):
        sign("spec_predictable_foo_sep_" + name, "foo", sep=sep)
    sign("spec_key_bytes_e7", "foo", key_bytes=b"\xe7")
    sign("spec_default_key_secret_key", "foo", key=None, algorithm=None,
         cfg={"SECRET_KEY": TESTS_KEY})
    sign("key_empty_falls_back_to_secret_key", "foo", key="", algorithm=None,
         cfg={"SECRET_KEY": TESTS_KEY})
    sign("spec_extra_salt", "hello", salt="extra-salt")
    sign("spec_timestamp_hello", "hello", cls="TimestampSigner")
    sign("spec_sha512_hello", "hello", algorithm="sha512")
    sign("sign_int_value", 123)
    # DEFAULT_HASHING_ALGORITHM (3.1-3.2 only) picks the algorithm when none is given
    sign("dha_default_sha256", "hello", algorithm=None)
    sign("dha_sha1", "hello", algorithm=None, cfg={"DEFAULT_HASHING_ALGORITHM": "sha1"})
    sign("dha_sha1_timestamp", "hello", cls="TimestampSigner", algorithm=None,
         cfg={"DEFAULT_HASHING_ALGORITHM": "sha1"})
    # every hashlib constructor is an algorithm in 3.2 (getattr(hashlib, name))
    for alg in ("md5", "sha1", "sha224", "sha256", "sha384", "sha512", "sha3_224", "sha3_256",
                "sha3_384", "sha3_512", "blake2b", "blake2s"):
        sign("algorithm_" + alg, "hello", algorithm=alg)
    sign("algorithm_unknown", "hello", algorithm="nope")
    sign("algorithm_shake_128_unusable", "hello", algorithm="shake_128")
    sign("unicode_value_sha256", "ünïcode ✓ 漢字 🎉", key=UNICODE_KEY)
    sign("value_contains_sep", "3098247:529:087:")

    # unsign: good, tampered, wrong key, legacy SHA-1
    good = "foo:jZQoX_FtSO70jX9HLRGg2A_2s4kdDBxz1QoO_OpEQb0"
    sha1_sig = "foo:sH9B01cZcJ9FoT_jEVkRkNULrl8"
    unsign("unsign_good", good)
    unsign("unsign_value_contains_sep", "3098247:529:087::" +
           signing.Signer(key=PREDICTABLE).signature("3098247:529:087:"))
    unsign("unsign_tampered_value", "fox" + good[3:])
    unsign("unsign_tampered_sig", good[:-1] + "c")
    unsign("unsign_wrong_key", good, key="another-secret")
    unsign("unsign_wrong_salt", good, salt="other-salt")
    unsign("unsign_sha1_legacy_accepted", sha1_sig,
           note="SHA-1 signature (Django <=3.0) read by a sha256 Signer: 3.1-3.2 accept it")
    unsign("unsign_sha1_legacy_accepted_by_sha512", sha1_sig, algorithm="sha512",
           note="legacy_algorithm='sha1' is consulted whatever algorithm was asked for")
    unsign("unsign_md5_sig_rejected", "foo:" + signing.Signer(key=PREDICTABLE, algorithm="md5").signature("foo"),
           note="only SHA-1 is a legacy fallback")
    unsign("unsign_sha256_sig_by_sha1_signer", good, algorithm="sha1",
           note="a sha1 Signer does not accept SHA-256 signatures")
    unsign("unsign_dha_sha1_reads_sha256", good, algorithm=None, cfg={"DEFAULT_HASHING_ALGORITHM": "sha1"})
    unsign("unsign_timestamp_sha1_legacy_accepted", "hello:1r31eq:VimKT4VTBkllBKsR4bagtKLBnf0",
           cls="TimestampSigner", max_age=60, now=T0 + 30)
    unsign("unsign_key_bytes_e7", "foo:EE4qGC5MEKyQG5msxYA0sBohAxLC0BJf8uRhemh0BGU", key_bytes=b"\xe7")
    # TimestampSigner window [T]: signed at 123456789, read at 123456800 (age 11)
    set_now(123456789)
    win = signing.TimestampSigner(key="predictable-key").sign("value")
    for cid, age, typ in (("window_max_age_12_ok", 12, None), ("window_timedelta_11_ok", 11, "timedelta"),
                          ("window_max_age_10_expired", 10, None),
                          ("window_timedelta_10_expired", 10, "timedelta")):
        unsign("unsign_ts_" + cid, win, cls="TimestampSigner", key="predictable-key",
               max_age=age, now=123456800, max_age_type=typ)
    ts_tok = "hello:1r31eq:ESnvh0UG3MKjmlEh8oOo4AB3aBbzEzE2OxtKdYRmPIU"
    unsign("unsign_ts_boundary_equal_ok", ts_tok, cls="TimestampSigner", max_age=60, now=T0 + 60)
    unsign("unsign_ts_fractional_now_expired", ts_tok, cls="TimestampSigner", max_age=60, now=T0 + 60.5)
    unsign("unsign_ts_no_max_age_old_ok", ts_tok, cls="TimestampSigner", max_age=None, now=T0 + 10 ** 8)
    set_now(T0 + 3600)
    future = signing.TimestampSigner(key=PREDICTABLE).sign("hello")
    unsign("unsign_ts_future_timestamp_ok", future, cls="TimestampSigner", max_age=60, now=T0,
           note="signed one hour after 'now': no check against future timestamps")
    unsign("unsign_ts_tampered_timestamp", "hello:1r31er:" + ts_tok.rsplit(":", 1)[1],
           cls="TimestampSigner", max_age=None)
    plain_ts_salt = signing.Signer(key=PREDICTABLE, salt="django.core.signing.TimestampSigner")
    unsign("unsign_ts_valid_mac_no_timestamp", plain_ts_salt.sign("notimestamp"),
           cls="TimestampSigner", note="valid MAC, no second separator: ValueError, not BadSignature")
    unsign("unsign_ts_valid_mac_bad_base62", plain_ts_salt.sign("value:!!"), cls="TimestampSigner")
    unsign("unsign_ts_valid_mac_empty_timestamp", plain_ts_salt.sign("value:"), cls="TimestampSigner",
           note="empty base62 string: IndexError in 3.2's baseconv")
    unsign("unsign_sep_slash", "foo/" + signing.Signer(key=PREDICTABLE, sep="/").signature("foo"), sep="/")
    unsign("unsign_empty_string", "")

    # sign_object (3.1+)
    for cid, cls, obj, compress in (("signer_sign_object_nested", "Signer", {"a": [1, {"b": None}], "c": "ü"}, False),
                                    ("timestamp_sign_object_large_compressed", "TimestampSigner", LOREM, True),
                                    ("signer_sign_object_compress_not_worth", "Signer", [1, 2], True)):
        out.append(Def("signer/" + cid, {}, {
            "class": cls, "method": "sign_object", "obj": obj, "key": PREDICTABLE, "salt": None,
            "sep": ":", "algorithm": "sha256", "compress": compress, "serializer": JSON_SER,
            "timestamp": T0 if cls == "TimestampSigner" else None}))

    # separators rejected at __init__ [T]: "", "-", "abc"; A-z also covers [ \ ] ^ _ `
    for cid, sep in (("empty", ""), ("abc", "abc"), ("bracket", "["), ("backslash", "\\"),
                     ("backtick", "`"), ("equals", "="), ("mixed_alnum", "a-Z_0=")):
        out.append(Def("signer/invalid_sep_" + cid, {}, {"class": "Signer", "method": "__init__", "sep": sep}))
    for cid, sep in (("colon", ":"), ("star_sep", "*sep*"), ("dot", "."), ("a_dot", "a.")):
        out.append(Def("signer/valid_sep_" + cid, {}, {"class": "Signer", "method": "__init__", "sep": sep,
                                                         "key": PREDICTABLE}))
    return out


def dumps_def(cid, obj=None, key=ORACLE_KEY, salt="django.core.signing", compress=False, ts=T0,
              obj_json=None, cfg=None, key_bytes=None):
    inp = {}
    if obj_json is not None:
        inp["obj_json"] = obj_json
    else:
        inp["obj"] = nf(obj)
    if key_bytes is not None:
        inp["key_bytes_b64"] = base64.b64encode(key_bytes).decode()
    else:
        inp["key"] = key
    inp.update({"salt": salt, "compress": compress, "serializer": JSON_SER, "timestamp": ts})
    return Def("signing.dumps/" + cid, cfg or {}, inp, py=obj, repr_input=obj is not None)


def defs_dumps():
    out = mirrored_defs("signing.dumps")
    # spec §9.3 [C]
    out.append(dumps_def("spec_dict", {"foo": "bar", "baz": 1}, key=PREDICTABLE))
    out.append(dumps_def("spec_string_u2019", "a string \u2019", key=PREDICTABLE))
    out.append(dumps_def("spec_range_compress", list(range(1, 20)), key=PREDICTABLE, compress=True))
    out.append(dumps_def("spec_list_compress_not_used", [1, 2], key=PREDICTABLE, compress=True))
    out.append(dumps_def("unicode_compress", UNICODE_DICT, compress=True))
    out.append(dumps_def("large_compress", LOREM, compress=True))
    out.append(dumps_def("nested", {"a": {"b": {"c": [1, [2, [3, {"d": None}]]]}}, "e": [], "f": {}}))
    out.append(dumps_def("floats", {"f": [0.1, 1.0, 1e16, 1.5e-07, 0.30000000000000004, -0.0, 5e-324,
                                          1.7976931348623157e308, 123456789.125]}))
    out.append(dumps_def("floats_nonfinite", obj_json='{"nan":NaN,"inf":Infinity,"ninf":-Infinity}'))
    out.append(dumps_def("big_ints", {"big": 2 ** 70, "neg": -(2 ** 64), "i53": 2 ** 53 + 1, "zero": 0}))
    out.append(dumps_def("top_string_escapes", "\x00\x1f\x7f\"\\/\b\f\n\r\t é"))
    out.append(dumps_def("top_null", None))
    out.append(dumps_def("top_int_compress", 12345, compress=True))
    out.append(dumps_def("key_bytes_e7", {"foo": "bar"}, key_bytes=b"\xe7"))
    out.append(dumps_def("key_default_secret_key", {"foo": "bar"}, key=None, cfg={"SECRET_KEY": TESTS_KEY}))
    out.append(dumps_def("dha_sha1", {"foo": "bar"}, key=PREDICTABLE, cfg={"DEFAULT_HASHING_ALGORITHM": "sha1"}))
    out.append(dumps_def("session_salt_compress", SPEC_AUTH_DICT, key=TESTS_KEY,
                         salt="django.contrib.sessions.SessionStore", compress=True))
    return out


def loads_def(cid, signed, key=ORACLE_KEY, salt="django.core.signing", max_age=None, now=T0,
              cfg=None, note=None, max_age_type=None):
    inp = {"signed": signed, "key": key, "salt": salt, "max_age": max_age, "now": now,
           "serializer": JSON_SER}
    if max_age_type:
        inp["max_age_type"] = max_age_type
    if note:
        inp["note"] = note
    return Def("signing.loads/" + cid, cfg or {}, inp)


def defs_loads():
    out = mirrored_defs("signing.loads")
    set_now(T0)
    tok = signing.dumps(AB, key=ORACLE_KEY)
    payload, ts, sig = tok.split(":")
    out.append(loads_def("good", tok))
    out.append(loads_def("spec_range_compressed",
                         ".eJwFwcERACAIwLCF-rCiILN47r-GyZVJsNgkxaFxoDgxcOHGxMKD_T7vhAml:1r31eq:"
                         "cWrrlyJwdPYgP55b3ZfMQina7WM89uOdlmM6QHxJnMI", key=PREDICTABLE))
    out.append(loads_def("legacy_sha1_token_accepted", "ImEgc3RyaW5nIFx1MjAyMCI:1k1beT:ZfNhN1kdws7KosUleOvuYroPHEc",
                         key=None, cfg={"SECRET_KEY": TESTS_KEY},
                         note="spec §9.2 [T]: SHA-1 token, accepted by 3.1-3.2 via the legacy algorithm"))
    out.append(loads_def("legacy_sha1_token_expired", "ImEgc3RyaW5nIFx1MjAyMCI:1k1beT:ZfNhN1kdws7KosUleOvuYroPHEc",
                         key=None, max_age=3600, cfg={"SECRET_KEY": TESTS_KEY}))
    out.append(loads_def("bad_signature", tok[:-2] + ("AA" if not tok.endswith("AA") else "BB")))
    out.append(loads_def("wrong_key", tok, key="some-other-key"))
    out.append(loads_def("wrong_salt", tok, salt="other.salt"))
    out.append(loads_def("truncated_no_sep", payload))
    out.append(loads_def("expired_int", tok, max_age=60, now=T0 + 61))
    out.append(loads_def("expired_timedelta", tok, max_age=60, now=T0 + 61, max_age_type="timedelta"))
    out.append(loads_def("timedelta_ok", tok, max_age=60, now=T0 + 60, max_age_type="timedelta"))
    out.append(loads_def("fractional_now_expired", tok, max_age=60, now=T0 + 60.25))
    out.append(loads_def("future_timestamp_ok", hand_signed(payload, ts=T0 + 86400), max_age=10))
    out.append(loads_def("bad_base64_length", hand_signed("A")))
    out.append(loads_def("base64_junk_chars_ignored", hand_signed("e30!*"),
                         note="valid MAC; Python's non-validating base64 drops '!' and '*'"))
    out.append(loads_def("base64_std_alphabet_accepted", hand_signed(base64.b64encode(b'[">>>?"]').decode().rstrip("=")),
                         note="valid MAC; '+' and '/' are accepted by the urlsafe decoder"))
    out.append(loads_def("corrupt_zlib", hand_signed("." + b64url(b"x\x9c\x00\x00\x00garbage"))))
    out.append(loads_def("truncated_zlib", hand_signed("." + b64url(zlib.compress(b'{"a":"' + b"x" * 200 + b'"}')[:12]))))
    out.append(loads_def("non_json_payload", hand_signed(b64url(b"not json"))))
    out.append(loads_def("json_trailing_data", hand_signed(b64url(b'{"a":1} x'))))
    out.append(loads_def("raw_utf8_read_as_latin1", hand_signed(b64url('"é"'.encode("utf-8"))),
                         note="serializer decodes latin-1: unescaped UTF-8 becomes mojibake"))
    out.append(loads_def("duplicate_keys_last_wins", hand_signed(b64url(b'{"a":1,"a":2}'))))
    out.append(loads_def("valid_mac_no_timestamp",
                         signing.Signer(key=ORACLE_KEY, salt="django.core.signing").sign(payload)))
    out.append(loads_def("empty_string", ""))
    return out


def cookie_def(cid, name, value, salt="", key=TESTS_KEY, ts=T0):
    return Def("signed_cookie/" + cid,
               {"SECRET_KEY": key, "SIGNING_BACKEND": "django.core.signing.TimestampSigner"},
               {"name": name, "value": value, "salt": salt, "timestamp": ts})


def get_cookie_def(cid, name, cookie_value, salt="", key=TESTS_KEY, max_age=None, now=T0, note=None):
    inp = {"name": name, "cookie_value": cookie_value, "salt": salt, "max_age": max_age, "now": now,
           "method": "get_signed_cookie"}
    if note:
        inp["note"] = note
    return Def("signed_cookie/" + cid, {"SECRET_KEY": key}, inp)


def defs_signed_cookie():
    out = mirrored_defs("signed_cookie")
    out.append(cookie_def("spec_color_blue", "color", "blue"))
    out.append(cookie_def("spec_color_blue_pepper", "color", "blue", salt="pepper"))
    out.append(cookie_def("value_needs_quoting", "color", "hello world; \"x\""))
    out.append(cookie_def("unicode_value", "pref", "Zoë ✓"))
    blue = "blue:1r31eq:ryF06y9_VY16OWl5lf1iQ8xLaD9iSFDaQtkqEZ7vB-E"
    out.append(get_cookie_def("get_spec_color_blue", "color", blue))
    out.append(get_cookie_def("get_salt_ambiguity", "colo", blue, salt="r",
                              note="legacy salt is name+salt: ('colo','r') == ('color','')"))
    out.append(get_cookie_def("get_wrong_salt", "color", blue, salt="pepper"))
    out.append(get_cookie_def("get_max_age_ok", "color", blue, max_age=60, now=T0 + 60))
    out.append(get_cookie_def("get_expired", "color", blue, max_age=60, now=T0 + 61))
    out.append(get_cookie_def("get_tampered", "color", "blue:1r31eq:ryF06y9_VY16OWl5lf1iQ8xLaD9iSFDaQtkqEZ7vB-F"))
    out.append(get_cookie_def("get_sha1_legacy_accepted", "color", "blue:1r31eq:L9-tWdBPVJvxQoGUl8AYsmfDAa4",
                              note="Django <=3.0 cookie (SHA-1): 3.2 accepts it"))
    out.append(get_cookie_def("get_v2_salt_rejected", "color", "blue:1r31eq:7E4NBRvjXkdCdzX-39r1iHcJUwkS7D1Xxwukv7c7idE",
                              note="5.2.15+/6.0.6+ v2-salt cookie: 3.2 knows only the legacy salt"))
    out.append(get_cookie_def("get_no_timestamp", "color",
                              signing.Signer(b"django.http.cookies" + TESTS_KEY.encode(), salt="color").sign("blue"),
                              note="valid MAC but no timestamp"))
    return out


def sess_cfg(serializer=SESS_JSON, key=ORACLE_KEY, **more):
    cfg = {"SECRET_KEY": key, "SESSION_SERIALIZER": serializer}
    cfg.update(more)
    return cfg


SESS_EXTRA = {"backend": "django.contrib.sessions.backends.db", "salt": "django.contrib.sessions.SessionStore"}


def sess_encode(cid, py, cfg, set_expiry=None, note=None, ts=T0):
    """An encode case; with set_expiry, the dict is what SessionStore.set_expiry() left."""
    inp = {"session_dict": None, "timestamp": ts}
    if set_expiry is not None:
        inp["set_expiry"] = set_expiry
        with Ctx(cid, cfg):
            set_now(ts)
            store = sess_db.SessionStore()
            store.update(py)
            store.set_expiry(_expiry_arg(set_expiry))
            py = dict(store._session)
    if note:
        inp["note"] = note
    return Def("session_data/" + cid, cfg, inp, py=py, extra=SESS_EXTRA)


def sess_decode(cid, data, cfg, note=None):
    inp = {"session_data": data}
    if note:
        inp["note"] = note
    return Def("session_data/" + cid, cfg, inp, extra=SESS_EXTRA)


SPEC_L = ("OWUzNTNmNWQxNTBjOWExZmM4MmQ3NzNhMDRmMjU4NmYwNDUyNGI2NDp7ImEgdGVzdCBrZXkiOiJhIHRlc3QgdmFsdWUifQ==")


def defs_session_data():
    out = mirrored_defs("session_data")
    for d in out:
        d.extra = dict(SESS_EXTRA)
    j, p = sess_cfg(), sess_cfg(SESS_PICKLE)
    out += [
        sess_encode("json_simple", dict(AB), j),
        sess_encode("json_unicode", dict(UNICODE_DICT), j),
        sess_encode("json_large_compressed", dict(LOREM), j),
        sess_encode("json_expiry_0", {"cart": [1, 2]}, j, set_expiry=0,
                    note="set_expiry(0): expire at browser close"),
        sess_encode("json_expiry_datetime_error", {"cart": [1, 2]}, j,
                    set_expiry={"type": "datetime", "iso": "2024-02-29T13:45:30+00:00"},
                    note="before 4.1 a datetime expiry cannot be stored with JSON (TypeError)"),
        sess_encode("spec_a_test_key", {"a test key": "a test value"}, sess_cfg(key=TESTS_KEY)),
        sess_encode("spec_auth_dict_compressed", dict(SPEC_AUTH_DICT), sess_cfg(key=TESTS_KEY)),
        sess_encode("legacy_encode_dha_sha1", {"a test key": "a test value"},
                    sess_cfg(key=TESTS_KEY, DEFAULT_HASHING_ALGORITHM="sha1"),
                    note="DEFAULT_HASHING_ALGORITHM='sha1' makes 3.1.1-3.2 write format L"),
        sess_encode("legacy_encode_dha_sha1_auth", dict(SPEC_AUTH_DICT),
                    sess_cfg(key=TESTS_KEY, DEFAULT_HASHING_ALGORITHM="sha1")),
        sess_encode("legacy_encode_dha_sha1_pickle", dict(AB),
                    sess_cfg(SESS_PICKLE, DEFAULT_HASHING_ALGORITHM="sha1")),
        sess_encode("pickle_simple", dict(AB), p),
        sess_encode("pickle_auth", dict(SPEC_AUTH_DICT), p),
        sess_encode("pickle_types", pickle_types(), p),
        sess_encode("pickle_unicode", dict(UNICODE_DICT), p),
        sess_encode("pickle_large_compressed", dict(LOREM), p),
        sess_encode("pickle_expiry_int_300", {"cart": [1, 2]}, p, set_expiry=300),
        sess_encode("pickle_expiry_0", {"cart": [1, 2]}, p, set_expiry=0),
        sess_encode("pickle_expiry_datetime", {"cart": [1, 2]}, p,
                    set_expiry={"type": "datetime", "iso": "2024-02-29T13:45:30.123456+00:00"},
                    note="set_expiry(datetime): 3.2 stores the datetime object (pytz UTC)"),
        sess_encode("pickle_expiry_timedelta_300", {"cart": [1, 2]}, p,
                    set_expiry={"type": "timedelta", "seconds": 300},
                    note="set_expiry(timedelta(seconds=300)) at timezone.now()=2023-11-14T22:13:20+00:00"),
    ]
    # decoding: legacy format L, SHA-1 format S, failures
    set_now(T0)
    with override_settings(SECRET_KEY=TESTS_KEY):
        sha1_s = signing.TimestampSigner(salt="django.contrib.sessions.SessionStore", algorithm="sha1") \
            .sign_object({"a test key": "a test value"}, compress=True)
        not_json = signing.TimestampSigner(salt="django.contrib.sessions.SessionStore").sign(b64url(b"not json"))
        bytes_repr = signing.TimestampSigner(salt="django.contrib.sessions.SessionStore").sign(b"invalid data")
    legacy_bad_hash = base64.b64encode(b"0" * 40 + b':{"a test key":"a test value"}').decode()
    with override_settings(SECRET_KEY=ORACLE_KEY, SESSION_SERIALIZER=SESS_PICKLE):
        pickled = sess_db.SessionStore().encode(dict(AB))
    t = sess_cfg(key=TESTS_KEY)
    out += [
        sess_decode("decode_legacy_format_L", SPEC_L, t, note="spec §9.5 [T] test_decode_legacy"),
        sess_decode("decode_legacy_format_L_wrong_key", SPEC_L, sess_cfg(key=ORACLE_KEY)),
        sess_decode("decode_legacy_format_L_bad_hash", legacy_bad_hash, t),
        sess_decode("decode_format_S_sha1_mac", sha1_s, t,
                    note="format S signed with SHA-1 (3.1.0 with DEFAULT_HASHING_ALGORITHM='sha1')"),
        sess_decode("decode_spec_format_S", "eyJhIHRlc3Qga2V5IjoiYSB0ZXN0IHZhbHVlIn0:1r31eq:"
                    "z3T5kuYwaLspnAAUpfRWpbinC-rn6c6P1Qf9PsCyZ2s", t),
        sess_decode("decode_bad_encoded_value", "bad:encoded:value", t),
        sess_decode("decode_flaskdj", base64.b64encode(b"flaskdj:alkdjf").decode(), t),
        sess_decode("decode_empty", "", t),
        sess_decode("decode_valid_mac_non_json", not_json, t,
                    note="valid MAC, payload not JSON: 3.2 falls back to the legacy decoder"),
        sess_decode("decode_valid_mac_bytes_repr", bytes_repr, t,
                    note="TimestampSigner(salt=key_salt).sign(b'invalid data'): 3.2 decode() raises"),
        sess_decode("decode_pickle_data_by_json_store", pickled, sess_cfg(),
                    note="pickle-serialized session read with the JSON serializer"),
        sess_decode("decode_pickle_data_by_pickle_store", pickled, sess_cfg(SESS_PICKLE)),
    ]
    # login() and get_user() against an in-memory SQLite auth_user
    alice = {"id": 1, "username": "alice", "password": "correct horse battery staple"}
    alice["password_hash"] = hashers.make_password(alice["password"], "fixedsalt1234567", "pbkdf2_sha256")
    bob = {"id": 42, "username": "bøb", "password": "pässwörd-✓"}
    bob["password_hash"] = hashers.make_password(bob["password"], "fixedsalt1234567", "pbkdf2_sha256")
    for cid, user, cfg, pre in (
            ("login_json", alice, sess_cfg(), {}),
            ("login_json_keeps_anonymous_data", bob, sess_cfg(), {"cart": [1, 2]}),
            ("login_pickle", alice, sess_cfg(SESS_PICKLE), {}),
            ("login_dha_sha1", alice, sess_cfg(DEFAULT_HASHING_ALGORITHM="sha1"), {})):
        inp = {"method": "login", "user": user, "session_dict": pre, "timestamp": T0}
        out.append(Def("session_data/" + cid, cfg, inp, extra=SESS_EXTRA))
    u = User(password=alice["password_hash"])
    with override_settings(SECRET_KEY=ORACLE_KEY):
        sha256_hash, sha1_hash = u.get_session_auth_hash(), u._legacy_get_session_auth_hash()
    for cid, h, backend, note in (
            ("get_user_current_hash", sha256_hash, MODEL_BACKEND, None),
            ("get_user_legacy_sha1_hash", sha1_hash, MODEL_BACKEND,
             "SHA-1 session auth hash (Django <=3.0): 3.2 accepts it, session left as is"),
            ("get_user_wrong_hash", "0" * 64, MODEL_BACKEND, "hash mismatch: session flushed"),
            ("get_user_empty_hash", "", MODEL_BACKEND, None),
            ("get_user_unknown_backend", sha256_hash, "myapp.backends.Other", None)):
        inp = {"method": "get_user", "user": alice,
               "session_dict": {"_auth_user_id": "1", "_auth_user_backend": backend, "_auth_user_hash": h},
               "timestamp": T0}
        if note:
            inp["note"] = note
        out.append(Def("session_data/" + cid, sess_cfg(), inp, extra=SESS_EXTRA))
    return out


def defs_signed_cookies_session():
    out = mirrored_defs("signed_cookies_session")
    cfg = {"SECRET_KEY": TESTS_KEY, "SESSION_SERIALIZER": SESS_JSON,
           "SESSION_ENGINE": "django.contrib.sessions.backends.signed_cookies", "SESSION_COOKIE_AGE": 1209600}
    out.append(Def("signed_cookies_session/spec_auth_dict", cfg,
                   {"session_dict": dict(SPEC_AUTH_DICT), "timestamp": T0}))
    pcfg = dict(cfg, SESSION_SERIALIZER=SESS_PICKLE)
    out.append(Def("signed_cookies_session/pickle_simple", pcfg,
                   {"session_dict": dict(AB), "timestamp": T0}))
    out.append(Def("signed_cookies_session/dha_sha1", dict(cfg, DEFAULT_HASHING_ALGORITHM="sha1"),
                   {"session_dict": dict(AB), "timestamp": T0,
                    "note": "the cookie backend uses signing.dumps: SHA-1 MAC, not format L"}))
    return out


def defs_auth_hash():
    out = mirrored_defs("auth_hash")
    spec_pw = "pbkdf2_sha256$1000000$seasalt$r1uLUxoxpP2Ued/qxvmje7UH9PUJBkRrvf9gGPL7Cps="
    for cid, cfg, pw in (
            ("spec_tests_key", {"SECRET_KEY": TESTS_KEY}, spec_pw),
            ("spec_tests_key_dha_sha1", {"SECRET_KEY": TESTS_KEY, "DEFAULT_HASHING_ALGORITHM": "sha1"}, spec_pw),
            ("pbkdf2_260000_fixed_salt", {"SECRET_KEY": ORACLE_KEY},
             "pbkdf2_sha256$260000$fixedsalt1234567$" + "x" * 43 + "="),
            ("bytes_secret_key", {"SECRET_KEY": b"\xe7bytes-key"}, spec_pw),
            ("unicode_password_hash", {"SECRET_KEY": UNICODE_KEY}, "pbkdf2_sha256$1$sälz$hash✓")):
        rec = dict(cfg)
        if isinstance(rec["SECRET_KEY"], bytes):
            rec = {"SECRET_KEY_bytes_b64": base64.b64encode(cfg["SECRET_KEY"]).decode()}
        d = Def("auth_hash/" + cid, cfg, {"password_hash": pw, "key_salt": AUTH_KEY_SALT})
        d.record_cfg = rec
        out.append(d)
    return out


def defs_password_hash():
    out = mirrored_defs("password_hash")
    ascii_pw, uni_pw, spec_pw = "correct horse battery staple", "pässwörd-✓-漢字", "lètmein"

    def ph(cid, pw, salt, hasher, deterministic=True, **more):
        inp = {"password": pw, "salt": salt, "hasher": hasher}
        inp.update(more)
        out.append(Def("password_hash/" + cid, {}, inp, deterministic=deterministic))

    ph("spec_pbkdf2_sha256_seasalt", spec_pw, "seasalt", "pbkdf2_sha256")
    ph("spec_pbkdf2_sha1_seasalt2", spec_pw, "seasalt2", "pbkdf2_sha1")
    ph("spec_md5_seasalt", spec_pw, "seasalt", "md5")
    ph("pbkdf2_sha256_22char_salt", ascii_pw, "abcdefghijklmnopqrstuv", "pbkdf2_sha256")
    ph("pbkdf2_sha256_unicode", uni_pw, "fixedsalt1234567", "pbkdf2_sha256")
    ph("argon2_ascii", ascii_pw, "fixedsalt1234567", "argon2")
    ph("argon2_unicode_22char_salt", uni_pw, "abcdefghijklmnopqrstuv", "argon2")
    ph("sha1_ascii", ascii_pw, "fixedsalt1234567", "sha1")
    ph("md5_unicode", uni_pw, "fixedsalt1234567", "md5")
    ph("unsalted_sha1_ascii", ascii_pw, "", "unsalted_sha1")
    ph("unsalted_md5_ascii", ascii_pw, "", "unsalted_md5")
    ph("crypt_ascii", ascii_pw, "ab", "crypt")
    ph("bcrypt_sha256_fixed_salt", ascii_pw, "$2b$12$abcdefghijklmnopqrstuu", "bcrypt_sha256", salt_bytes=True,
       note="salt handed to bcrypt.hashpw as bytes; make_password(pw, None, ...) draws it from bcrypt.gensalt")
    ph("bcrypt_fixed_salt", ascii_pw, "$2b$12$abcdefghijklmnopqrstuu", "bcrypt", salt_bytes=True)
    ph("bcrypt_sha256_random_salt", ascii_pw, None, "bcrypt_sha256", deterministic=False)
    ph("bcrypt_sha256_random_salt_long_unicode", uni_pw * 10, None, "bcrypt_sha256", deterministic=False)
    ph("bcrypt_random_salt", ascii_pw, None, "bcrypt", deterministic=False)

    def chk(cid, pw, encoded):
        out.append(Def("password_hash/" + cid, {}, {"method": "check_password", "password": pw,
                                                    "encoded": encoded}))
    chk("check_argon2i_no_version", "secret",
        "argon2$argon2i$m=8,t=1,p=1$c29tZXNhbHQ$gwQOXSNhxiOxPOA0+PY10P9QFO4NAYysnqRt1GSQLE55m+2GYDt9FEjPMHhP2Cuf0nOEXXMocVrsJAtNSsKyfg")
    chk("check_argon2i_v19", "secret", "argon2$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q")
    chk("check_argon2id_default_params", "secret",
        "argon2$argon2id$v=19$m=102400,t=2,p=8$Y041dExhNkljRUUy$TMa6A8fPJhCAUXRhJXCXdw")
    chk("check_pbkdf2_5_2_iterations", spec_pw,
        "pbkdf2_sha256$1000000$seasalt$r1uLUxoxpP2Ued/qxvmje7UH9PUJBkRrvf9gGPL7Cps=")
    return out


DEF_BUILDERS = {
    "signing.dumps": defs_dumps,
    "signing.loads": defs_loads,
    "signer": defs_signer,
    "signed_cookie": defs_signed_cookie,
    "session_data": defs_session_data,
    "signed_cookies_session": defs_signed_cookies_session,
    "auth_hash": defs_auth_hash,
    "password_hash": defs_password_hash,
}


def fill_session_dicts(d):
    """Encode cases record the Python session dict in normal form."""
    if d.kind in ("session_data", "signed_cookies_session") and "session_dict" in d.inp \
            and d.inp["session_dict"] is None:
        d.inp["session_dict"] = nf(d.py)


def generate():
    cases, seen = [], set()
    for kind in KIND_ORDER:
        for d in DEF_BUILDERS[kind]():
            if d.cid in seen:
                raise SystemExit("duplicate case id %s" % d.cid)
            seen.add(d.cid)
            fill_session_dicts(d)
            case = run_def(d)
            if hasattr(d, "record_cfg"):
                case["settings"] = d.record_cfg
            cases.append(case)
    return cases


def to_lines(cases):
    return [json.dumps(c, ensure_ascii=False, allow_nan=False) + "\n" for c in cases]


# --- --check ---------------------------------------------------------------------------


def check(path, cases):
    with open(path, encoding="utf-8") as f:
        old_lines = f.readlines()
    old = {}
    order = []
    for n, line in enumerate(old_lines, 1):
        c = json.loads(line)
        old[c["id"]] = (line, c)
        order.append(c["id"])
    new = {c["id"]: (l, c) for l, c in zip(to_lines(cases), cases)}
    problems = []
    for cid in order:
        if cid not in new:
            problems.append((cid, "in %s but no longer generated" % path, None, None))
    for cid, (line, c) in new.items():
        if cid not in old:
            problems.append((cid, "generated but missing from %s" % path, None, None))
            continue
        old_line, old_c = old[cid]
        if c.get("deterministic", True) is False or old_c.get("deterministic", True) is False:
            # The recorded hash must still verify with this Django.
            if c["kind"] == "password_hash":
                enc = old_c["expected"].get("encoded", "")
                ok = hashers.check_password(old_c["input"]["password"], enc)
                if ok != old_c["expected"].get("check_password"):
                    problems.append((cid, "recorded encoded hash no longer verifies", None, None))
            continue
        if old_line != line:
            problems.append((cid, "differs", old_c, c))
    if [i for i in order if i in new] != [c["id"] for c in cases if c["id"] in old]:
        problems.append(("(order)", "case order differs", None, None))
    if not problems:
        print("ok: %d cases in %s match Django %s" % (len(cases), path, django.get_version()))
        return 0
    print("%d case(s) differ from %s:" % (len(problems), path))
    for cid, what, a, b in problems[:10]:
        print("  %s: %s" % (cid, what))
        if a is not None:
            for line in diff_lines(a, b)[:12]:
                print("      " + line)
    if len(problems) > 10:
        print("  ... and %d more" % (len(problems) - 10))
    return 1


def diff_lines(a, b, path=""):
    """Readable differences between two JSON values: one line per differing leaf."""
    out = []
    if isinstance(a, dict) and isinstance(b, dict):
        for k in list(a) + [k for k in b if k not in a]:
            p = "%s.%s" % (path, k) if path else k
            if k not in b:
                out.append("%s: only in file: %s" % (p, short(a[k])))
            elif k not in a:
                out.append("%s: only in new: %s" % (p, short(b[k])))
            else:
                out += diff_lines(a[k], b[k], p)
        return out
    if a != b or type(a) is not type(b):
        out.append("%s: file %s != new %s" % (path, short(a), short(b)))
    return out


def short(v):
    s = json.dumps(v, ensure_ascii=False)
    return s if len(s) <= 100 else s[:60] + "..." + s[-30:]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-o", "--output", default=DEFAULT_OUT, help="where to write (default %(default)s; - = stdout)")
    ap.add_argument("--check", metavar="FILE", help="regenerate and compare with FILE; exit 1 on a difference")
    args = ap.parse_args(argv)
    if django.get_version() != "3.2.25":
        print("warning: running Django %s, the vectors are for 3.2.25" % django.get_version(), file=sys.stderr)
    cases = generate()
    if args.check:
        return check(args.check, cases)
    data = "".join(to_lines(cases))
    if args.output == "-":
        sys.stdout.write(data)
    else:
        with open(args.output, "w", encoding="utf-8", newline="\n") as f:
            f.write(data)
        print("wrote %d cases to %s" % (len(cases), args.output))
    return 0


if __name__ == "__main__":
    sys.exit(main())
