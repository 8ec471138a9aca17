package pickle

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/djsession/djsession/pickle/py"
)

// The oracle for pytz zones other than pytz.utc: /usr/bin/python3 with
// pytz (and Django 3.2, whose timezone.localtime attaches pytz instances
// under USE_TZ with a TIME_ZONE other than UTC) builds each case, pickles it
// at protocols 0 to 5 and gives its repr() and normal form; Loads must read
// every one of those pickles to a value with the same repr() and normal
// form, Dumps must write CPython's bytes at protocols 2 to 5, and CPython
// must load our bytes back to the same objects.

// pytzOracleScript answers one JSON line per request:
//
//	{"op": "make", "name": N} → {"0".."5": {"hex", "repr", "normal"}}
//	{"op": "check", "name": N, "protocol": P, "hex": HEX} → {"ok", "why"}
//
// "make" gives, per protocol, the pickle of the case and the repr() and
// normal form of what CPython loads from it (a datetime keeps its fold only
// at protocol ≥ 4). "check" loads HEX and requires the value CPython loads
// from its own pickle at that protocol: the same repr(), ==, and the very
// tzinfo objects (pytz keeps one instance per zone state, so the loaded
// datetimes must hold those singletons).
const pytzOracleScript = `import datetime as D, json, pickle, sys
import pytz
from django.conf import settings
settings.configure(USE_TZ=True, TIME_ZONE="Europe/Paris")
from django.utils import timezone as djtz

def L(zone, *a):
    return pytz.timezone(zone).localize(D.datetime(*a))

def cases():
    c = {}
    paris = pytz.timezone("Europe/Paris")
    c["paris_summer"] = {"dt": L("Europe/Paris", 2024, 7, 1, 12, 0)}
    c["paris_winter"] = {"dt": L("Europe/Paris", 2024, 1, 15, 8, 30, 5, 123456)}
    c["new_york"] = {"winter": L("America/New_York", 2024, 1, 1, 12), "summer": L("America/New_York", 2024, 7, 4, 9, 15, 1)}
    c["kolkata"] = {"dt": L("Asia/Kolkata", 2024, 3, 1, 23, 59, 59)}
    c["etc_gmt5"] = {"dt": L("Etc/GMT+5", 2024, 1, 1, 12), "dt2": L("Etc/GMT-14", 2024, 1, 1)}
    c["static_zones"] = [L("EST", 2020, 5, 5), L("Etc/UTC", 2020, 5, 5), L("Etc/GMT+5", 2020, 5, 5), L("GMT", 2021, 1, 1)]
    s1 = L("Europe/Paris", 2024, 7, 1, 12)
    c["shared"] = {
        "a": s1, "b": L("Europe/Paris", 2024, 7, 2, 8), "c": s1,
        "d": L("Europe/Paris", 2024, 1, 2), "e": L("Europe/Berlin", 2024, 1, 2), "f": L("Europe/Berlin", 2024, 7, 2),
        "g": L("Europe/Moscow", 2024, 1, 1), "h": L("Europe/Moscow", 2012, 1, 1), "i": L("Europe/Moscow", 2024, 6, 1),
    }
    ny = L("America/New_York", 2024, 1, 1, 12)
    c["in_list"] = {"l": [ny, L("America/New_York", 2024, 1, 2), ny, L("Europe/Paris", 2024, 7, 1)], "t": (ny, 1)}
    c["lmt_and_zero"] = [D.datetime(2024, 1, 1, tzinfo=paris), D.datetime(2024, 1, 1, tzinfo=pytz.timezone("America/New_York")),
                         L("Europe/London", 2024, 1, 1), L("Europe/London", 2024, 7, 1), L("Europe/Dublin", 2024, 1, 1),
                         L("Europe/Dublin", 2024, 7, 1), L("Australia/Lord_Howe", 2024, 1, 1), L("Asia/Kathmandu", 2024, 1, 1)]
    c["mixed_utc"] = {"u": D.datetime(2024, 1, 1, tzinfo=pytz.utc), "p": L("Europe/Paris", 2024, 1, 1),
                      "z": D.datetime(2024, 1, 1, tzinfo=D.timezone.utc), "n": D.datetime(2024, 1, 1)}
    c["times"] = [D.time(1, 2, tzinfo=paris), D.time(1, 2, 3, tzinfo=s1.tzinfo), D.time(23, 59, tzinfo=pytz.timezone("Etc/GMT+5"))]
    c["key"] = {s1: "paris", L("Etc/GMT+5", 2024, 1, 1): 5}
    c["fold"] = [L("Europe/Paris", 2024, 10, 27, 2, 30).replace(fold=1), paris.localize(D.datetime(2024, 10, 27, 2, 30), is_dst=True)]
    # Instances pytz's zone files do not hold (offsets in seconds, a
    # negative dst), as its unpickler adds them back; fresh name objects.
    odd = [("Europe/Amsterdam", 1172, 0, "L" + "MT"), ("America/New_York", -17762, 0, "L" + "MT".lower().upper()),
           ("Europe/Dublin", 0, -3600, "G" + "MT"), ("Europe/Paris", 86399, 86399, "X" + "X"), ("Asia/Tokyo", -86399, -86399, "Y" + "Y")]
    c["odd_triples"] = [D.datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=pytz._p(*a)) for a in odd]
    base = D.datetime(2024, 7, 1, 10, 0, tzinfo=pytz.utc)
    lt = djtz.localtime(base)
    assert type(lt.tzinfo).__module__.startswith("pytz"), type(lt.tzinfo)
    c["django_localtime"] = {"_auth_user_id": "1", "_auth_user_backend": "django.contrib.auth.backends.ModelBackend",
                             "_session_expiry": lt, "seen": [djtz.localtime(base - D.timedelta(days=200)), lt]}
    return c

CASES = cases()

def normal(x):
    if isinstance(x, dict):
        return {str(k): normal(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [normal(v) for v in x]
    if isinstance(x, (D.datetime, D.date, D.time)):
        return x.isoformat()
    return x

def tzs(x, out):
    if isinstance(x, dict):
        for k, v in x.items():
            tzs(k, out); tzs(v, out)
    elif isinstance(x, (list, tuple)):
        for v in x:
            tzs(v, out)
    elif isinstance(x, (D.datetime, D.time)):
        out.append(x.tzinfo)
    return out

for line in sys.stdin:
    req = json.loads(line)
    v = CASES[req["name"]]
    if req["op"] == "make":
        res = {}
        for p in range(6):
            b = pickle.dumps(v, p)
            w = pickle.loads(b)  # at protocol <= 3 a datetime loses its fold
            res[str(p)] = {"hex": b.hex(), "repr": repr(w),
                           "normal": json.dumps(normal(w), ensure_ascii=False, separators=(",", ":"))}
    else:
        try:
            want = pickle.loads(pickle.dumps(v, req["protocol"]))
            w = pickle.loads(bytes.fromhex(req["hex"]))
            a, b = tzs(want, []), tzs(w, [])
            if repr(w) != repr(want):
                res = {"ok": False, "why": "repr " + repr(w)}
            elif w != want:
                res = {"ok": False, "why": "not equal"}
            elif len(a) != len(b) or any(x is not y for x, y in zip(a, b)):
                res = {"ok": False, "why": "tzinfo objects differ: %r" % (b,)}
            else:
                res = {"ok": True}
        except Exception as e:
            res = {"ok": False, "why": repr(e)}
    sys.stdout.write(json.dumps(res) + "\n")
    sys.stdout.flush()
`

var pytzCases = []string{
	"paris_summer", "paris_winter", "new_york", "kolkata", "etc_gmt5", "static_zones", "shared",
	"in_list", "lmt_and_zero", "mixed_utc", "times", "key", "fold", "odd_triples", "django_localtime",
}

// pytzMade is the oracle's answer to "make": per protocol, the pickle and
// the repr() and normal form of what CPython loads from it.
type pytzMade map[string]struct {
	Hex    string
	Repr   string
	Normal string
}

type pytzChecked struct {
	OK  bool
	Why string
}

// pytzNeedOracle skips (or, with DJSESSION_REQUIRE_SERVICES=1, fails)
// when CPython with pytz and Django is not available.
func pytzNeedOracle(t *testing.T) {
	t.Helper()
	dumpNeedPython(t)
	if out, err := exec.Command(dumpPython, "-c", "import django, pytz").CombinedOutput(); err != nil {
		msg := fmt.Sprintf("%s cannot import django: %v %s", dumpPython, err, out)
		if os.Getenv("DJSESSION_REQUIRE_SERVICES") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

// pytzFreshTZ returns a copy of v in which every datetime and time holds
// its own copy of its tzinfo: equal pytz instances that are distinct Go
// pointers, which Dumps must still write as CPython writes pytz's one
// shared instance. Containers and datetimes stay shared where they were.
func pytzFreshTZ(t *testing.T, v py.Value, seen map[any]py.Value) py.Value {
	t.Helper()
	var id any
	switch v.Kind() {
	case py.DictKind:
		d, _ := v.Dict()
		id = d
	case py.ListKind:
		l, _ := v.List()
		id = l
	case py.TupleKind:
		tu, _ := v.Tuple()
		id = tu
	case py.DateTimeKind:
		dt, _ := v.DateTime()
		id = dt
	case py.TimeKind:
		tm, _ := v.Time()
		id = tm
	default:
		return v
	}
	if w, ok := seen[id]; ok {
		return w
	}
	fresh := func(tz *py.TZInfo) *py.TZInfo {
		if tz != nil && (tz.Kind == py.TZPytz || tz.Kind == py.TZPytzStatic) {
			c := *tz
			return &c
		}
		return tz
	}
	var w py.Value
	var err error
	switch v.Kind() {
	case py.DictKind:
		d, _ := v.Dict()
		out := py.NewDict(d.Len())
		for _, e := range d.Entries() {
			if err := out.Set(pytzFreshTZ(t, e.Key, seen), pytzFreshTZ(t, e.Value, seen)); err != nil {
				t.Fatal(err)
			}
		}
		w = py.DictOf(out)
	case py.ListKind, py.TupleKind:
		var items []py.Value
		for _, it := range v.Items() {
			items = append(items, pytzFreshTZ(t, it, seen))
		}
		if v.Kind() == py.TupleKind {
			w = py.NewTuple(items...)
		} else {
			w = py.NewList(items...)
		}
	case py.DateTimeKind:
		dt, _ := v.DateTime()
		c := *dt
		c.TZ = fresh(c.TZ)
		w, err = py.NewDateTime(c)
	case py.TimeKind:
		tm, _ := v.Time()
		c := *tm
		c.TZ = fresh(c.TZ)
		w, err = py.NewTime(c)
	}
	if err != nil {
		t.Fatal(err)
	}
	seen[id] = w
	return w
}

func TestPytzOracle(t *testing.T) {
	pytzNeedOracle(t)
	reqs := make([]map[string]string, len(pytzCases))
	for i, n := range pytzCases {
		reqs[i] = map[string]string{"op": "make", "name": n}
	}
	made := pyStream[map[string]string, pytzMade](t, exec.Command(dumpPython, "-c", pytzOracleScript), reqs)
	var checks []map[string]any
	var checkWhat []string
	for i, name := range pytzCases {
		var first py.Value
		for p := 0; p <= 5; p++ {
			m := made[i][strconv.Itoa(p)]
			raw, err := hex.DecodeString(m.Hex)
			if err != nil || len(raw) == 0 {
				t.Fatalf("%s: bad oracle answer", name)
			}
			v, err := Loads(raw)
			if err != nil {
				t.Errorf("%s protocol %d: Loads: %v", name, p, err)
				continue
			}
			if r := v.Repr(); r != m.Repr {
				t.Errorf("%s protocol %d: repr\n got %s\nwant %s", name, p, r, m.Repr)
			}
			nj, err := py.NormalJSON(v)
			if err != nil || string(nj) != m.Normal {
				t.Errorf("%s protocol %d: NormalJSON\n got %s (%v)\nwant %s", name, p, nj, err, m.Normal)
			}
			switch {
			case p == 0 || p == 4:
				first = v
			case !v.Equal(first):
				t.Errorf("%s protocol %d: loads to a value not Equal to protocol %d's", name, p, p/4*4)
			}
			if p < 2 {
				continue
			}
			for _, variant := range []struct {
				what string
				v    py.Value
			}{{"loaded", v}, {"fresh tzinfo pointers", pytzFreshTZ(t, v, map[any]py.Value{})}} {
				out, err := Dumps(variant.v, p)
				if err != nil {
					t.Errorf("%s protocol %d (%s): Dumps: %v", name, p, variant.what, err)
					continue
				}
				if !bytes.Equal(out, raw) {
					t.Errorf("%s protocol %d (%s): Dumps differs from CPython\n got %x\nwant %x", name, p, variant.what, out, raw)
				}
				checks = append(checks, map[string]any{"op": "check", "name": name, "protocol": p, "hex": hex.EncodeToString(out)})
				checkWhat = append(checkWhat, name+" protocol "+strconv.Itoa(p)+" ("+variant.what+")")
			}
		}
	}
	if len(checks) == 0 {
		return
	}
	res := pyStream[map[string]any, pytzChecked](t, exec.Command(dumpPython, "-c", pytzOracleScript), checks)
	for i, r := range res {
		if !r.OK {
			t.Errorf("%s: CPython loads our pickle wrongly: %s", checkWhat[i], r.Why)
		}
	}
}

// pytzPickle builds a protocol-2 pickle of datetime(2024, 7, 1, 12, 0,
// tzinfo=pytz._p(*args)), args being the pickle text of the arguments
// between MARK and TUPLE.
func pytzPickle(args string) []byte {
	return []byte("\x80\x02cdatetime\ndatetime\nc_codecs\nencode\nX\x0b\x00\x00\x00\x07\xc3\xa8\x07\x01\x0c\x00\x00\x00\x00\x00X\x06\x00\x00\x00latin1\x86R" +
		"cpytz\n_p\n(" + args + "tR\x86R.")
}

func pytzStr(s string) string {
	n := len(s)
	return "X" + string([]byte{byte(n), byte(n >> 8), byte(n >> 16), byte(n >> 24)}) + s
}

func TestPytzReaderShapes(t *testing.T) {
	paris := pytzStr("Europe/Paris")
	cest := pytzStr("CEST")
	good := pytzPickle(paris + "M\x20\x1cM\x10\x0e" + cest)
	v, err := Loads(good)
	if err != nil {
		t.Fatalf("good pickle: %v", err)
	}
	if r, want := v.Repr(), "datetime.datetime(2024, 7, 1, 12, 0, tzinfo=<DstTzInfo 'Europe/Paris' CEST+2:00:00 DST>)"; r != want {
		t.Fatalf("repr %s, want %s", r, want)
	}
	if v, err := Loads(pytzPickle(pytzStr("Etc/GMT+5"))); err != nil || !strings.Contains(v.Repr(), "<StaticTzInfo 'Etc/GMT+5'>") {
		t.Fatalf("static zone: %v %v", v.Repr(), err)
	}
	i := func(n int64) string {
		return "J" + string([]byte{byte(n), byte(n >> 8), byte(n >> 16), byte(n >> 24)})
	}
	dst := func(key string, off, d string, name string) string { return pytzStr(key) + off + d + name }
	bad := []struct {
		name string
		args string
		want error
	}{
		{"no args", "", ErrMalformed},
		{"two args", paris + i(7200), ErrMalformed},
		{"three args", paris + i(7200) + i(3600), ErrMalformed},
		{"five args", paris + i(7200) + i(3600) + cest + i(0), ErrMalformed},
		{"int key", i(5), ErrMalformed},
		{"bytes key", "C\x0cEurope/Paris", ErrMalformed},
		{"None key", "N", ErrMalformed},
		{"None key, 4 args", "N" + i(7200) + i(3600) + cest, ErrMalformed},
		{"dotdot", dst("Europe/../../etc/passwd", i(0), i(0), cest), ErrMalformed},
		{"slash dotdot tail", dst("Europe/..", i(0), i(0), cest), ErrMalformed},
		{"leading dotdot", pytzStr("../etc/passwd"), ErrMalformed},
		{"absolute", pytzStr("/etc/passwd"), ErrMalformed},
		{"double slash", dst("Europe//Paris", i(0), i(0), cest), ErrMalformed},
		{"dot", dst("Europe/./Paris", i(0), i(0), cest), ErrMalformed},
		{"NUL", dst("Europe/Paris\x00", i(0), i(0), cest), ErrMalformed},
		{"space", dst("Europe/Par is", i(0), i(0), cest), ErrMalformed},
		{"non-ASCII", dst("Europe/Pärïs", i(0), i(0), cest), ErrMalformed},
		{"backslash", dst("Europe\\Paris", i(0), i(0), cest), ErrMalformed},
		{"empty key", dst("", i(0), i(0), cest), ErrMalformed},
		{"Local", pytzStr("Local"), ErrMalformed},
		{"UTC static", pytzStr("UTC"), ErrMalformed},
		{"utc dst", dst("utc", i(0), i(0), pytzStr("UTC")), ErrMalformed},
		{"munged", pytzStr("Etc/GMT_plus_5"), ErrMalformed},
		{"long key", dst(strings.Repeat("A", 65), i(0), i(0), cest), ErrMalformed},
		{"huge key", dst(strings.Repeat("Abc/", 1<<18), i(0), i(0), cest), ErrMalformed},
		{"offset 24h", dst("Europe/Paris", i(86400), i(0), cest), ErrMalformed},
		{"offset -24h", dst("Europe/Paris", i(-86400), i(0), cest), ErrMalformed},
		{"offset 2^31-1", dst("Europe/Paris", i(1<<31-1), i(0), cest), ErrMalformed},
		{"offset long", dst("Europe/Paris", "\x8a\x09"+strings.Repeat("\xff", 8)+"\x7f", i(0), cest), ErrMalformed},
		{"dst 24h", dst("Europe/Paris", i(7200), i(86400), cest), ErrMalformed},
		{"float offset", dst("Europe/Paris", "G@\xbc \x00\x00\x00\x00\x00", i(3600), cest), ErrMalformed},
		{"bool offset", dst("Europe/Paris", "\x88", i(3600), cest), ErrMalformed},
		{"str offset", dst("Europe/Paris", pytzStr("7200"), i(3600), cest), ErrMalformed},
		{"None dst", dst("Europe/Paris", i(7200), "N", cest), ErrMalformed},
		{"int tzname", dst("Europe/Paris", i(7200), i(3600), i(1)), ErrMalformed},
		{"None tzname", dst("Europe/Paris", i(7200), i(3600), "N"), ErrMalformed},
		{"empty tzname", dst("Europe/Paris", i(7200), i(3600), pytzStr("")), ErrMalformed},
		{"long tzname", dst("Europe/Paris", i(7200), i(3600), pytzStr(strings.Repeat("C", 17))), ErrMalformed},
		{"huge tzname", dst("Europe/Paris", i(7200), i(3600), pytzStr(strings.Repeat("C", 1<<20))), ErrMalformed},
		{"tzname with space", dst("Europe/Paris", i(7200), i(3600), pytzStr("CE ST")), ErrMalformed},
		{"tzname with NUL", dst("Europe/Paris", i(7200), i(3600), pytzStr("CEST\x00")), ErrMalformed},
		{"static zone with transitions", paris, ErrUnsupported},
		{"unknown static zone", pytzStr("Nowhere/Land"), ErrUnsupported},
	}
	for _, c := range bad {
		_, err := Loads(pytzPickle(c.args))
		if err == nil {
			t.Errorf("%s: loaded", c.name)
			continue
		}
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), "pytz._p") {
			t.Errorf("%s: error %v, want %v naming pytz._p", c.name, err, c.want)
		}
		if len(err.Error()) > 300 {
			t.Errorf("%s: error message of %d bytes", c.name, len(err.Error()))
		}
	}
	// _p is a function: not a class for NEWOBJ, nor a value, nor its
	// result a value of its own.
	for name, p := range map[string]string{
		"NEWOBJ":         "\x80\x02cpytz\n_p\n" + pytzStr("Etc/GMT+5") + "\x85\x81.",
		"global value":   "\x80\x02cpytz\n_p\n.",
		"tzinfo value":   "\x80\x02cpytz\n_p\n" + pytzStr("Etc/GMT+5") + "\x85R.",
		"STACK_GLOBAL":   "\x80\x04\x8c\x04pytz\x8c\x02_p\x93.",
		"other pytz":     "\x80\x02cpytz\ntimezone\n" + pytzStr("Etc/GMT+5") + "\x85R.",
		"FixedOffset":    "\x80\x02cpytz\nFixedOffset\nK\x3c\x85R.",
		"tzinfo unpickl": "\x80\x02cpytz.tzinfo\nunpickler\n" + pytzStr("Etc/GMT+5") + "\x85R.",
	} {
		if _, err := Loads([]byte(p)); err == nil || rdSentinel(err) == nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestPytzDumpsRefusesInvalid(t *testing.T) {
	for _, tz := range []*py.TZInfo{
		{Kind: py.TZPytz, Key: "../etc/passwd", Offset: time.Hour, Name: "CET"},
		{Kind: py.TZPytz, Key: "Europe/Paris", Offset: 24 * time.Hour, Name: "CET"},
		{Kind: py.TZPytz, Key: "Europe/Paris", Offset: time.Hour, DST: -24 * time.Hour, Name: "CET"},
		{Kind: py.TZPytz, Key: "Europe/Paris", Offset: time.Hour + time.Millisecond, Name: "CET"},
		{Kind: py.TZPytz, Key: "Europe/Paris", Offset: time.Hour, Name: ""},
		{Kind: py.TZPytz, Key: "Europe/Paris", Offset: time.Hour, Name: "C\xffT"},
		{Kind: py.TZPytzStatic, Key: "Etc/GMT+5\x00"},
		{Kind: py.TZPytzStatic, Key: ""},
	} {
		v, err := py.NewDateTime(py.DateTime{Year: 2024, Month: 1, Day: 1, TZ: tz})
		if err != nil {
			t.Fatal(err)
		}
		for p := 2; p <= 5; p++ {
			if _, err := Dumps(v, p); !errors.Is(err, ErrUnpicklable) {
				t.Errorf("%+v protocol %d: %v", *tz, p, err)
			}
		}
	}
}

// TestPytzRoundTrip: every pytz value Dumps writes, Loads reads back Equal,
// at every protocol.
func TestPytzRoundTrip(t *testing.T) {
	paris, err := py.PytzZone("Europe/Paris", 2*time.Hour, time.Hour, "CEST")
	if err != nil {
		t.Fatal(err)
	}
	est, err := py.PytzStaticZone("EST")
	if err != nil {
		t.Fatal(err)
	}
	one := func(tz *py.TZInfo, h int) py.Value {
		v, err := py.NewDateTime(py.DateTime{Year: 2024, Month: 7, Day: 1, Hour: h, TZ: tz})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tm, _ := py.NewTime(py.Time{Hour: 3, TZ: est})
	v := py.NewList(one(paris, 1), one(est, 2), one(paris, 3), tm, py.NewTuple(one(paris, 4), one(est, 5)))
	for p := 2; p <= 5; p++ {
		out, err := Dumps(v, p)
		if err != nil {
			t.Fatal(err)
		}
		w, err := Loads(out)
		if err != nil {
			t.Fatalf("protocol %d: %v", p, err)
		}
		if !w.Equal(v) {
			t.Fatalf("protocol %d: %s != %s", p, w.Repr(), v.Repr())
		}
	}
}

func init() {
	// FuzzLoads seeds (fuzz_reader_test.go): pytz._p in each shape, at
	// protocols 2 and 4, and refused variants to mutate from.
	rdFuzzSeeds = append(rdFuzzSeeds,
		string(pytzPickle(pytzStr("Europe/Paris")+"M\x20\x1cM\x10\x0e"+pytzStr("CEST"))),
		string(pytzPickle(pytzStr("Etc/GMT+5"))),
		string(pytzPickle(pytzStr("Europe/../x")+"K\x00K\x00"+pytzStr("X"))),
		"\x80\x04\x8c\x08datetime\x94\x8c\x08datetime\x94\x93\x94C\n\x07\xe8\x07\x01\x0c\x00\x00\x00\x00\x00\x94\x8c\x04pytz\x94\x8c\x02_p\x94\x93\x94(\x8c\x0cEurope/Paris\x94M \x1cM\x10\x0e\x8c\x04CEST\x94t\x94R\x94\x86\x94R\x94h\x0c\x86.",
	)
}

// FuzzDumpsPytz: Dumps of a datetime with any pytz tzinfo either fails
// with ErrUnpicklable (exactly when py.PytzZone refuses the fields, or the
// static key is malformed) or writes a pickle Loads reads back Equal, the
// two equal instances written once.
func FuzzDumpsPytz(f *testing.F) {
	f.Add("Europe/Paris", int64(7200), int64(3600), "CEST", false, uint8(4))
	f.Add("America/New_York", int64(-17762), int64(0), "LMT", false, uint8(2))
	f.Add("Etc/GMT+5", int64(0), int64(0), "", true, uint8(3))
	f.Add("Europe/Paris", int64(0), int64(0), "", true, uint8(5))
	f.Add("../x", int64(86400), int64(0), "", false, uint8(5))
	f.Add("A", int64(1), int64(-1), "B", false, uint8(4))
	f.Fuzz(func(t *testing.T, key string, off, dst int64, name string, static bool, proto uint8) {
		p := 2 + int(proto%4)
		tz := &py.TZInfo{Kind: py.TZPytz, Key: key, Offset: time.Duration(off) * time.Second, DST: time.Duration(dst) * time.Second, Name: name}
		_, dstErr := py.PytzZone(tz.Key, tz.Offset, tz.DST, tz.Name)
		wantErr := dstErr != nil
		if static {
			tz = &py.TZInfo{Kind: py.TZPytzStatic, Key: key}
			if z, err := py.PytzStaticZone(key); err == nil {
				tz = z
			}
			wantErr = !py.ValidPytzKey(key)
		}
		dt := func(tz *py.TZInfo, h int) py.Value {
			v, err := py.NewDateTime(py.DateTime{Year: 2024, Month: 7, Day: 1, Hour: h, TZ: tz})
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		tz2 := *tz
		v := py.NewList(dt(tz, 1), dt(&tz2, 2))
		out, err := Dumps(v, p)
		if (err != nil) != wantErr || (err != nil && !errors.Is(err, ErrUnpicklable)) {
			t.Fatalf("Dumps: %v (want error: %v)", err, wantErr)
		}
		if err != nil {
			return
		}
		global := []byte("cpytz\n_p\n")
		if p >= 4 {
			global = []byte("\x8c\x02_p\x94\x93")
		}
		if n := bytes.Count(out, global); n != 1 {
			t.Fatalf("pytz._p written %d times", n)
		}
		w, err := Loads(out)
		if static && tz.Name == "" {
			// A key the Go runtime does not know as a single-offset zone.
			if !errors.Is(err, ErrUnsupported) {
				t.Fatalf("Loads of an unknown static zone: %v", err)
			}
			return
		}
		if err != nil || !w.Equal(v) {
			t.Fatalf("Loads: %v %s, want %s", err, w.Repr(), v.Repr())
		}
	})
}
