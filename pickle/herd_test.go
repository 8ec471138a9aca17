package pickle

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/djsession/djsession/pickle/py"
)

// herdVector is spec §9.8: CPython's pickle of (Marker(), {'a': 1},
// 1700000060) at protocol 4 (django-redis's default), byte for byte.
const herdVector = "8004953a000000000000008c18646a616e676f5f72656469732e636c69656e742e68657264948c064d61726b65729493942981947d948c0161944b01734a3cf1536587942e"

func herdDictA1() py.Value {
	d := py.NewDict(1)
	d.SetStr("a", py.Int(1))
	return py.DictOf(d)
}

func TestDumpsHerdSpecVector(t *testing.T) {
	got, err := DumpsHerd(herdDictA1(), 1700000060, 4)
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(got) != herdVector {
		t.Fatalf("DumpsHerd = %x\nwant        %s", got, herdVector)
	}
	// Protocols 2, 3 and 5, as CPython 3.11 writes them.
	for proto, want := range map[int]string{
		2: "800263646a616e676f5f72656469732e636c69656e742e686572640a4d61726b65720a7100298171017d710258010000006171034b01734a3cf153658771042e",
		3: "800363646a616e676f5f72656469732e636c69656e742e686572640a4d61726b65720a7100298171017d710258010000006171034b01734a3cf153658771042e",
		5: "8005" + herdVector[4:],
	} {
		got, err := DumpsHerd(herdDictA1(), 1700000060, proto)
		if err != nil || hex.EncodeToString(got) != want {
			t.Errorf("protocol %d: %x %v\nwant %s", proto, got, err, want)
		}
	}
	// AppendDumpsHerd appends; bad protocols fail as Dumps fails.
	out, err := AppendDumpsHerd([]byte("xy"), herdDictA1(), 1700000060, 4)
	if err != nil || string(out[:2]) != "xy" || hex.EncodeToString(out[2:]) != herdVector {
		t.Errorf("AppendDumpsHerd = %x, %v", out, err)
	}
	for _, p := range []int{0, 1, 6, -1} {
		if _, err := DumpsHerd(herdDictA1(), 1, p); !errors.Is(err, ErrDumpProtocol) {
			t.Errorf("protocol %d: %v", p, err)
		}
	}
	if _, err := DumpsHerd(py.Str("\xff"), 1, 4); !errors.Is(err, ErrUnpicklable) {
		t.Errorf("bad str: %v", err)
	}
}

func TestLoadsHerdVector(t *testing.T) {
	b, _ := hex.DecodeString(herdVector)
	v, deadline, herd, err := LoadsHerd(b, Limits{})
	if err != nil || !herd {
		t.Fatalf("LoadsHerd: herd %v, %v", herd, err)
	}
	if v.Repr() != "{'a': 1}" {
		t.Errorf("value %s", v.Repr())
	}
	if n, ok := deadline.Int(); !ok || n != 1700000060 {
		t.Errorf("deadline %s", deadline.Repr())
	}
	// The default allow-list still refuses the Marker.
	if _, err := Loads(b); !errors.Is(err, ErrDisallowedGlobal) || !strings.Contains(err.Error(), `"django_redis.client.herd.Marker"`) {
		t.Errorf("Loads: %v", err)
	}
	// Round trips at every protocol we write, and plain pickles load as
	// LoadsWith loads them, herd false.
	for p := 2; p <= 5; p++ {
		b, err := DumpsHerd(herdDictA1(), -5, p)
		if err != nil {
			t.Fatal(err)
		}
		v, deadline, herd, err := LoadsHerd(b, Limits{})
		if n, _ := deadline.Int(); err != nil || !herd || n != -5 || v.Repr() != "{'a': 1}" {
			t.Errorf("protocol %d: %s %s %v %v", p, v.Repr(), deadline.Repr(), herd, err)
		}
		plain, _ := Dumps(herdDictA1(), p)
		v, deadline, herd, err = LoadsHerd(plain, Limits{})
		if err != nil || herd || !deadline.IsNone() || v.Repr() != "{'a': 1}" {
			t.Errorf("plain protocol %d: %s %s %v %v", p, v.Repr(), deadline.Repr(), herd, err)
		}
	}
}

// herdP4 is the protocol-4 prologue up to the Marker class on the stack.
const herdP4 = "\x80\x04\x8c\x18django_redis.client.herd\x8c\x06Marker\x93"

// herdP0 is the protocol-0 Marker class.
const herdP0 = "cdjango_redis.client.herd\nMarker\n"

const herdDeadline = "J\x3c\xf1\x53\x65" // BININT 1700000060

func TestLoadsHerdShapes(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		herd     bool
		value    string // repr, when no error
		deadline string
		err      error
		msg      string
	}{
		{"NEWOBJ, TUPLE3", herdP4 + ")\x81}\x8c\x01aK\x01s" + herdDeadline + "\x87.", true, "{'a': 1}", "1700000060", nil, ""},
		{"MARK TUPLE", "(" + herdP4 + ")\x81K\x07" + herdDeadline + "t.", true, "7", "1700000060", nil, ""},
		{"Marker from the memo", herdP4 + ")\x81\x940h\x00N" + herdDeadline + "\x87.", true, "None", "1700000060", nil, ""},
		{"protocol 1 reconstructor", "(ccopy_reg\n_reconstructor\n(" + herdP0 + "c__builtin__\nobject\nNtR}K\x02tq\x00.", true, "{}", "2", nil, ""},
		{"float deadline", herdP4 + ")\x81}G@\x00\x00\x00\x00\x00\x00\x00\x87.", true, "{}", "2.0", nil, ""},
		{"big deadline", herdP4 + ")\x81}\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x01\x87.", true, "{}", "18446744073709551616", nil, ""},
		{"plain 3-tuple", "\x80\x04K\x01K\x02K\x03\x87.", false, "(1, 2, 3)", "None", nil, ""},
		{"plain dict", "\x80\x04}.", false, "{}", "None", nil, ""},

		{"Marker with state", herdP4 + ")\x81}\x8c\x01xK\x01sb}" + herdDeadline + "\x87.", false, "", "", ErrUnsupported, "BUILD"},
		{"Marker with empty state", herdP4 + ")\x81}b}" + herdDeadline + "\x87.", false, "", "", ErrUnsupported, "BUILD"},
		{"Marker with args", herdP4 + "K\x01\x85\x81}" + herdDeadline + "\x87.", false, "", "", ErrMalformed, "no arguments"},
		{"Marker called", herdP4 + ")R}" + herdDeadline + "\x87.", false, "", "", ErrUnsupported, "not callable"},
		{"Marker by INST", "(i" + herdP0[1:] + "}" + herdDeadline + "\x87.", false, "", "", ErrUnsupported, ""},
		{"Marker by OBJ", "(" + herdP0 + "o}" + herdDeadline + "\x87.", false, "", "", ErrUnsupported, ""},
		{"reconstructor with state", "(ccopy_reg\n_reconstructor\n(" + herdP0 + "c__builtin__\nobject\nK\x01tR}K\x02t.", false, "", "", ErrUnsupported, "state"},
		{"reconstructor on set", "(ccopy_reg\n_reconstructor\n(" + herdP0 + "c__builtin__\nset\nNtR}K\x02t.", false, "", "", ErrUnsupported, ""},
		{"class, not instance", herdP4 + "}" + herdDeadline + "\x87.", false, "", "", ErrUnsupported, "Marker"},
		{"arity 2", herdP4 + ")\x81}\x86.", false, "", "", ErrUnsupported, "Marker"},
		{"arity 4", "(" + herdP4 + ")\x81}" + herdDeadline + "Nt.", false, "", "", ErrUnsupported, "Marker"},
		{"arity 1", herdP4 + ")\x81\x85.", false, "", "", ErrUnsupported, "Marker"},
		{"bare Marker", herdP4 + ")\x81.", false, "", "", ErrUnsupported, "Marker"},
		{"Marker second", "\x80\x04}" + herdP4[2:] + ")\x81" + herdDeadline + "\x87.", false, "", "", ErrUnsupported, "Marker"},
		{"Marker in the value", herdP4 + ")\x81\x94]h\x00a" + herdDeadline + "\x87.", false, "", "", ErrUnsupported, "Marker"},
		{"Marker as the deadline", herdP4 + ")\x81\x94}h\x00\x87.", false, "", "", ErrUnsupported, "Marker"},
		{"Marker twice", herdP4 + ")\x81\x94h\x00" + herdDeadline + "\x87.", false, "", "", ErrUnsupported, "Marker"},
		{"Marker in a list", "\x80\x04](" + herdP4[2:] + ")\x81}" + herdDeadline + "e.", false, "", "", ErrUnsupported, "Marker"},
		{"Marker as a dict key", "\x80\x04}" + herdP4[2:] + ")\x81K\x01s.", false, "", "", ErrUnsupported, "Marker"},
		{"nested herd tuple", herdP4 + ")\x81\x94h\x00}" + herdDeadline + "\x87}" + herdDeadline + "\x87.", false, "", "", ErrUnsupported, ""},
		{"tzinfo as the value", herdP4 + ")\x81\x8c\x08datetime\x8c\x08timezone\x93\x8c\x08datetime\x8c\x09timedelta\x93K\x00K\x00K\x00\x87R\x85R" + herdDeadline + "\x87.", false, "", "", ErrUnsupported, "tzinfo"},
		{"getattr on Marker", "\x80\x04\x8c\x08builtins\x8c\x07getattr\x93" + herdP4[2:] + "\x8c\x08__init__\x86R.", false, "", "", ErrDisallowedGlobal, `"django_redis.client.herd.Marker.__init__"`},
		{"other class of the module", "\x80\x04\x8c\x18django_redis.client.herd\x8c\x0aHerdClient\x93)\x81}K\x01\x87.", false, "", "", ErrDisallowedGlobal, "HerdClient"},
		{"truncated", herdVector, false, "", "", ErrMalformed, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := []byte(tc.in)
			if tc.name == "truncated" {
				b, _ := hex.DecodeString(herdVector)
				in = b[:len(b)-3]
			}
			v, deadline, herd, err := LoadsHerd(in, Limits{})
			if tc.err != nil {
				if rdSentinel(err) != tc.err || !strings.Contains(err.Error(), tc.msg) {
					t.Fatalf("err = %v, want %v containing %q", err, tc.err, tc.msg)
				}
				if herd || !v.IsNone() || !deadline.IsNone() {
					t.Fatalf("error with herd %v, %s, %s", herd, v.Repr(), deadline.Repr())
				}
				// Without the herd option, every case fails too.
				if _, err := Loads(in); err == nil {
					t.Fatal("Loads accepted it")
				}
				return
			}
			if err != nil || herd != tc.herd || v.Repr() != tc.value || deadline.Repr() != tc.deadline {
				t.Fatalf("got %s, %s, herd %v, %v; want %s, %s, herd %v", v.Repr(), deadline.Repr(), herd, err, tc.value, tc.deadline, tc.herd)
			}
			if herd {
				if _, err := Loads(in); rdSentinel(err) != ErrDisallowedGlobal {
					t.Fatalf("Loads: %v", err)
				}
			}
		})
	}
}

// TestLoadsHerdLimits: the limits apply to the wrapped value, shared
// containers included.
func TestLoadsHerdLimits(t *testing.T) {
	b, _ := hex.DecodeString(herdVector)
	if _, _, _, err := LoadsHerd(b, Limits{MaxInput: len(b) - 1}); !errors.Is(err, ErrLimit) {
		t.Errorf("MaxInput: %v", err)
	}
	// The value nests 3 deep, plus the tuple.
	deep := herdP4 + ")\x81]]]" + "aa" + herdDeadline + "\x87."
	if _, _, _, err := LoadsHerd([]byte(deep), Limits{MaxDepth: 3}); !errors.Is(err, ErrLimit) {
		t.Errorf("MaxDepth 3: %v", err)
	}
	if _, _, herd, err := LoadsHerd([]byte(deep), Limits{MaxDepth: 4}); err != nil || !herd {
		t.Errorf("MaxDepth 4: %v %v", herd, err)
	}
	// A DAG of shared lists, 2^20 items as a tree, is walked and refused.
	dag := herdP4 + ")\x81" + string(rdDAG(20))[2:]
	dag = strings.TrimSuffix(dag, ".") + herdDeadline + "\x87."
	if _, _, _, err := LoadsHerd([]byte(dag), Limits{}); !errors.Is(err, ErrLimit) {
		t.Errorf("shared DAG: %v", err)
	}
}

// TestHerdCPython: CPython with django-redis's own Marker class. Its
// pickles of (Marker(), v, deadline) at protocols 0 to 5 load with
// LoadsHerd; at protocols 2 to 5 DumpsHerd writes the same bytes, and
// CPython loads ours to a Marker instance (no state), v and the deadline.
func TestHerdCPython(t *testing.T) {
	dumpNeedPython(t)
	const script = `
import sys, json, base64, pickle, datetime
try:
    from django.conf import settings
    settings.configure()
    from django_redis.client.herd import Marker
except Exception as e:
    sys.stderr.write("django_redis: %s\n" % e)
    sys.exit(77)
req = json.load(sys.stdin)
out = {"theirs": [], "ours": []}
for c in req["cases"]:
    v = eval(c["expr"])
    row = []
    for p in range(6):
        row.append(base64.b64encode(pickle.dumps((Marker(), v, c["deadline"]), p)).decode())
    out["theirs"].append({"pickles": row, "value5": base64.b64encode(pickle.dumps(v, 5)).decode()})
for b in req["ours"]:
    t = pickle.loads(base64.b64decode(b))
    out["ours"].append({"tuple": type(t).__name__, "len": len(t),
        "marker": type(t[0]) is Marker, "state": t[0].__dict__ == {},
        "value5": base64.b64encode(pickle.dumps(t[1], 5)).decode(), "deadline": t[2]})
print(json.dumps(out))
`
	cases := []struct {
		expr     string
		deadline int64
		value    func() py.Value
	}{
		{"{'a': 1}", 1700000060, herdDictA1},
		{"{'_auth_user_id': '42', '_auth_user_backend': 'django.contrib.auth.backends.ModelBackend', 'n': [1, 2.5, None, True, 'x'], 'nested': {'t': (1, 'two')}, 'big': 2**70}", 1700001209, func() py.Value {
			d := py.NewDict(5)
			d.SetStr("_auth_user_id", py.Str("42"))
			d.SetStr("_auth_user_backend", py.Str("django.contrib.auth.backends.ModelBackend"))
			d.SetStr("n", py.NewList(py.Int(1), py.Float(2.5), py.None, py.Bool(true), py.Str("x")))
			nested := py.NewDict(1)
			nested.SetStr("t", py.NewTuple(py.Int(1), py.Str("two")))
			d.SetStr("nested", py.DictOf(nested))
			d.SetStr("big", py.BigInt(new(big.Int).Lsh(big.NewInt(1), 70)))
			return py.DictOf(d)
		}},
		{"'lorem ipsum ' * 2000", 1 << 40, func() py.Value { return py.Str(strings.Repeat("lorem ipsum ", 2000)) }},
		{"{}", -1, func() py.Value { return py.DictOf(py.NewDict(0)) }},
		{"42", 0, func() py.Value { return py.Int(42) }},
	}
	type req struct {
		Cases []map[string]any `json:"cases"`
		Ours  []string         `json:"ours"`
	}
	var in req
	for _, c := range cases {
		in.Cases = append(in.Cases, map[string]any{"expr": c.expr, "deadline": c.deadline})
		for p := 2; p <= 5; p++ {
			b, err := DumpsHerd(c.value(), c.deadline, p)
			if err != nil {
				t.Fatal(err)
			}
			in.Ours = append(in.Ours, base64.StdEncoding.EncodeToString(b))
		}
	}
	js, _ := json.Marshal(in)
	cmd := exec.Command(dumpPython, "-c", script)
	cmd.Stdin = bytes.NewReader(js)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	raw, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 77 {
		if os.Getenv("DJSESSION_REQUIRE_SERVICES") == "1" {
			t.Fatal(stderr.String())
		}
		t.Skip(stderr.String())
	}
	if err != nil {
		t.Fatalf("python: %v\n%s", err, stderr.String())
	}
	var out struct {
		Theirs []struct {
			Pickles []string `json:"pickles"`
			Value5  string   `json:"value5"`
		} `json:"theirs"`
		Ours []struct {
			Tuple    string `json:"tuple"`
			Len      int    `json:"len"`
			Marker   bool   `json:"marker"`
			State    bool   `json:"state"`
			Value5   string `json:"value5"`
			Deadline int64  `json:"deadline"`
		} `json:"ours"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Theirs) != len(cases) || len(out.Ours) != 4*len(cases) {
		t.Fatalf("python answered %d/%d", len(out.Theirs), len(out.Ours))
	}
	for i, c := range cases {
		want := c.value()
		want5, _ := Dumps(want, 5)
		if out.Theirs[i].Value5 != base64.StdEncoding.EncodeToString(want5) {
			t.Fatalf("case %d: the Go value is not CPython's", i)
		}
		for p, b64 := range out.Theirs[i].Pickles {
			theirs, _ := base64.StdEncoding.DecodeString(b64)
			v, deadline, herd, err := LoadsHerd(theirs, Limits{})
			if err != nil || !herd {
				t.Fatalf("case %d protocol %d: LoadsHerd: herd %v, %v", i, p, herd, err)
			}
			got5, _ := Dumps(v, 5)
			if n, ok := deadline.Int(); !ok || n != c.deadline || !bytes.Equal(got5, want5) {
				t.Errorf("case %d protocol %d: read %.80s, %s", i, p, v.Repr(), deadline.Repr())
			}
			if p >= 2 {
				ours, _ := DumpsHerd(want, c.deadline, p)
				if !bytes.Equal(ours, theirs) {
					t.Errorf("case %d protocol %d: DumpsHerd %s\nCPython %s", i, p, dumpHexAround(ours, theirs), dumpHexAround(theirs, ours))
				}
			}
		}
		for j := 0; j < 4; j++ {
			o := out.Ours[4*i+j]
			if o.Tuple != "tuple" || o.Len != 3 || !o.Marker || !o.State || o.Deadline != c.deadline ||
				o.Value5 != base64.StdEncoding.EncodeToString(want5) {
				t.Errorf("case %d protocol %d: CPython read ours as %+v", i, j+2, o)
			}
		}
	}
}

// FuzzLoadsHerd: LoadsHerd never panics, every error wraps one sentinel,
// and a herd result's value loads the same way again.
func FuzzLoadsHerd(f *testing.F) {
	b, _ := hex.DecodeString(herdVector)
	f.Add(b)
	for p := 2; p <= 5; p++ {
		b, _ := DumpsHerd(herdDictA1(), 1700000060, p)
		f.Add(b)
	}
	f.Add([]byte("(ccopy_reg\n_reconstructor\n(" + herdP0 + "c__builtin__\nobject\nNtR}K\x02tq\x00."))
	f.Add([]byte(herdP4 + ")\x81}\x8c\x01xK\x01sb}" + herdDeadline + "\x87."))
	f.Add([]byte(herdP4 + ")\x81\x94]h\x00a" + herdDeadline + "\x87."))
	for _, s := range rdFuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, deadline, herd, err := LoadsHerd(data, Limits{})
		if err != nil {
			if rdSentinel(err) == nil || strings.Contains(err.Error(), "internal error") {
				t.Fatalf("error %v", err)
			}
			return
		}
		if !herd {
			if !deadline.IsNone() {
				t.Fatal("deadline without herd")
			}
			return
		}
		_ = v.Repr()
		_ = deadline.Repr()
		v2, d2, herd2, err := LoadsHerd(data, Limits{})
		if err != nil || !herd2 || v2.Repr() != v.Repr() || d2.Repr() != deadline.Repr() {
			t.Fatalf("not deterministic: %v", err)
		}
	})
}
