package pickle

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"

	gopickle "github.com/nlpodyssey/gopickle/pickle"

	"github.com/djsession/djsession/pickle/py"
)

// The reader's expected values come from CPython: testdata/reader/
// gen_corpus.py pickles every value type at protocols 0–5 (plus hand-made
// pickles in forms CPython 3 does not write) and records what
// pickle.loads returns for those bytes as a typed tree ("tagged") and as
// repr(). corpus.jsonl is its committed output; TestLoadsCorpusLive
// regenerates it with /usr/bin/python3 when available.

const (
	rdPython       = "/usr/bin/python3"
	rdCorpusFile   = "testdata/reader/corpus.jsonl"
	rdGenerator    = "testdata/reader/gen_corpus.py"
	rdBenchCPython = "testdata/reader/bench_cpython.py"
)

type rdCase struct {
	Name   string          `json:"name"`
	Proto  *int            `json:"proto"`
	Pickle string          `json:"pickle"`
	Tagged json.RawMessage `json:"tagged"`
	Repr   string          `json:"repr"`
	Error  string          `json:"error"`
}

func (c rdCase) String() string {
	if c.Proto == nil {
		return c.Name + "/raw"
	}
	return fmt.Sprintf("%s/p%d", c.Name, *c.Proto)
}

func (c rdCase) data(t testing.TB) []byte {
	b, err := hex.DecodeString(c.Pickle)
	if err != nil {
		t.Fatalf("%s: bad hex: %v", c, err)
	}
	return b
}

func rdReadCorpus(t testing.TB, r io.Reader) []rdCase {
	var cases []rdCase
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var c rdCase
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("corpus line %d: %v", len(cases)+1, err)
		}
		cases = append(cases, c)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 100 {
		t.Fatalf("corpus has only %d cases", len(cases))
	}
	return cases
}

func rdCommittedCorpus(t testing.TB) []rdCase {
	f, err := os.Open(rdCorpusFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return rdReadCorpus(t, f)
}

// rdNeedPython skips (or, with DJSESSION_REQUIRE_SERVICES=1, fails) when
// Debian's Python with pytz is not there.
func rdNeedPython(t testing.TB) {
	t.Helper()
	err := exec.Command(rdPython, "-c", "import pytz, zoneinfo, pickle").Run()
	if err == nil {
		return
	}
	msg := fmt.Sprintf("%s with pytz is not available: %v", rdPython, err)
	if os.Getenv("DJSESSION_REQUIRE_SERVICES") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// rdKnownUnsupported lists the corpus cases CPython loads and we refuse with
// ErrUnsupported, and why (see the package documentation).
func rdKnownUnsupported(c rdCase) (string, bool) {
	switch c.Name {
	case "long1_zero":
		return "gopickle panics on a zero-length LONG1", true
	case "int_text_big":
		return "gopickle parses INT with strconv.Atoi", true
	case "mixed_text_binary_strings":
		return "escaped UNICODE and BINUNICODE with the same raw text", true
	case "ordereddict_bytes_key", "ordereddict_bytes_key/nofix":
		return "gopickle keeps OrderedDict in a Go map", true
	case "set_bytes", "frozenset_bytes":
		if *c.Proto >= 4 {
			return "gopickle keeps protocol-4 sets in a Go map", true
		}
	}
	return "", false
}

// rdTag is the Go twin of tag() in gen_corpus.py.
func rdTag(v py.Value) any {
	switch v.Kind() {
	case py.NoneKind:
		return []any{"None"}
	case py.BoolKind:
		b, _ := v.Bool()
		return []any{"bool", b}
	case py.IntKind:
		n, _ := v.BigInt()
		return []any{"int", n.String()}
	case py.FloatKind:
		f, _ := v.Float()
		return []any{"float", fmt.Sprintf("%016x", math.Float64bits(f))}
	case py.StrKind:
		s, _ := v.Str()
		return []any{"str", hex.EncodeToString([]byte(s))}
	case py.BytesKind, py.ByteArrayKind:
		b, _ := v.Bytes()
		return []any{v.TypeName(), hex.EncodeToString(b)}
	case py.ListKind, py.TupleKind, py.SetKind, py.FrozenSetKind:
		items := []any{}
		for _, it := range v.Items() {
			items = append(items, rdTag(it))
		}
		return []any{v.TypeName(), items}
	case py.DictKind:
		d, _ := v.Dict()
		pairs := []any{}
		for _, e := range d.Entries() {
			pairs = append(pairs, []any{rdTag(e.Key), rdTag(e.Value)})
		}
		return []any{v.TypeName(), pairs}
	case py.DateTimeKind:
		d, _ := v.DateTime()
		return []any{"datetime", []any{d.Year, d.Month, d.Day, d.Hour, d.Minute, d.Second, d.Microsecond, d.Fold}, rdTagTZ(d.TZ)}
	case py.DateKind:
		d, _ := v.Date()
		return []any{"date", []any{d.Year, d.Month, d.Day}}
	case py.TimeKind:
		d, _ := v.Time()
		return []any{"time", []any{d.Hour, d.Minute, d.Second, d.Microsecond, d.Fold}, rdTagTZ(d.TZ)}
	case py.TimeDeltaKind:
		d, _ := v.TimeDelta()
		return []any{"timedelta", []any{d.Days, d.Seconds, d.Microseconds}}
	case py.DecimalKind:
		s, _ := v.Decimal()
		return []any{"Decimal", s}
	case py.UUIDKind:
		u, _ := v.UUID()
		return []any{"UUID", hex.EncodeToString(u[:])}
	}
	return []any{"?", v.Kind().String()}
}

func rdTagTZ(tz *py.TZInfo) any {
	if tz == nil {
		return nil
	}
	switch tz.Kind {
	case py.TZPytzUTC:
		return []any{"pytz.utc"}
	case py.TZZoneInfo:
		return []any{"zoneinfo", tz.Key}
	}
	var name any
	if tz.Name != "" {
		name = tz.Name
	}
	return []any{"timezone", tz.Offset.Microseconds(), name}
}

// rdCanon normalizes a tagged tree to plain JSON values and sorts set
// members (CPython's set order depends on hashing, ours on gopickle's map).
func rdCanon(t testing.TB, x any) string {
	b, err := json.Marshal(x)
	if err != nil {
		t.Fatal(err)
	}
	var generic any
	if err := json.Unmarshal(b, &generic); err != nil {
		t.Fatal(err)
	}
	b, err = json.Marshal(rdSortSets(generic))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func rdSortSets(x any) any {
	l, ok := x.([]any)
	if !ok {
		return x
	}
	out := make([]any, len(l))
	for i, e := range l {
		out[i] = rdSortSets(e)
	}
	if len(out) == 2 && (out[0] == "set" || out[0] == "frozenset") {
		members := out[1].([]any)
		sort.Slice(members, func(i, j int) bool {
			a, _ := json.Marshal(members[i])
			b, _ := json.Marshal(members[j])
			return string(a) < string(b)
		})
	}
	return out
}

func rdHasSet(raw json.RawMessage) bool {
	return bytes.Contains(raw, []byte(`["set",`)) || bytes.Contains(raw, []byte(`["frozenset",`))
}

// rdCheckCase loads one corpus case and compares it with CPython's result.
func rdCheckCase(t *testing.T, c rdCase) {
	t.Helper()
	v, err := Loads(c.data(t))
	if c.Error != "" {
		if err == nil {
			t.Errorf("%s: CPython refuses it (%s) but Loads returned %s", c, c.Error, v.Repr())
		}
		return
	}
	if why, ok := rdKnownUnsupported(c); ok {
		if !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: want ErrUnsupported (%s), got %v", c, why, err)
		}
		return
	}
	if err != nil {
		t.Errorf("%s: %v", c, err)
		return
	}
	var want any
	if err := json.Unmarshal(c.Tagged, &want); err != nil {
		t.Fatal(err)
	}
	if got, exp := rdCanon(t, rdTag(v)), rdCanon(t, want); got != exp {
		t.Errorf("%s:\n got %.400s\nwant %.400s", c, got, exp)
	}
	// repr() lists sets in hash order, which the pickle does not keep.
	if !rdHasSet(c.Tagged) && v.Repr() != c.Repr {
		t.Errorf("%s: repr\n got %.400s\nwant %.400s", c, v.Repr(), c.Repr)
	}
}

func TestLoadsCorpus(t *testing.T) {
	cases := rdCommittedCorpus(t)
	protos := map[int]int{}
	for _, c := range cases {
		if c.Proto != nil {
			protos[*c.Proto]++
		}
		rdCheckCase(t, c)
	}
	for p := 0; p <= 5; p++ {
		if protos[p] < 50 {
			t.Errorf("corpus has only %d protocol-%d cases", protos[p], p)
		}
	}
}

func TestLoadsCorpusLive(t *testing.T) {
	rdNeedPython(t)
	cmd := exec.Command(rdPython, rdGenerator)
	cmd.Env = append(os.Environ(), "PYTHONHASHSEED=0")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v", rdGenerator, err)
	}
	for _, c := range rdReadCorpus(t, bytes.NewReader(out)) {
		rdCheckCase(t, c)
	}
}

func rdFind(t testing.TB, name string, proto int) []byte {
	for _, c := range rdCommittedCorpus(t) {
		if c.Name == name && ((c.Proto == nil && proto < 0) || (c.Proto != nil && *c.Proto == proto)) {
			return c.data(t)
		}
	}
	t.Fatalf("no corpus case %s/%d", name, proto)
	return nil
}

// A list referenced twice in the pickle (memo GET) is one *py.List twice,
// as in Python.
func TestLoadsSharedReferences(t *testing.T) {
	for p := 0; p <= 5; p++ {
		v, err := Loads(rdFind(t, "shared_list", p))
		if err != nil {
			t.Fatal(err)
		}
		items := v.Items()
		l0, _ := items[0].List()
		l1, _ := items[1].List()
		d, _ := items[2].Dict()
		inner, _ := d.GetStr("a")
		l2, _ := inner.List()
		if l0 == nil || l0 != l1 || l0 != l2 {
			t.Errorf("protocol %d: shared list not shared: %p %p %p", p, l0, l1, l2)
		}
		v, err = Loads(rdFind(t, "session_types", p))
		if err != nil {
			t.Fatal(err)
		}
		sd, _ := v.Dict()
		a, _ := sd.GetStr("when")
		b, _ := sd.GetStr("again")
		if !a.Equal(b) {
			t.Errorf("protocol %d: shared datetime differs: %s %s", p, a.Repr(), b.Repr())
		}
	}
	v, err := Loads(rdFind(t, "dup_list", -1))
	if err != nil {
		t.Fatal(err)
	}
	l0, _ := v.Items()[0].List()
	l1, _ := v.Items()[1].List()
	if l0 != l1 {
		t.Error("DUP did not share the list")
	}
}

// Sets built by gopickle come out of a Go map; the order must not depend on
// map iteration.
func TestLoadsSetOrderDeterministic(t *testing.T) {
	data := rdFind(t, "set_mixed", 4)
	first, err := Loads(data)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		v, err := Loads(data)
		if err != nil {
			t.Fatal(err)
		}
		if v.Repr() != first.Repr() {
			t.Fatalf("set order changed: %s vs %s", v.Repr(), first.Repr())
		}
	}
}

// The pickled redis_value / cached_db cases of the Django 5.2 and 6.0
// vectors (serializer pickle, no compressor) load and match the normal form
// Django's own decode gave and the repr of the value.
func TestLoadsDjangoVectors(t *testing.T) {
	files, _ := filepath.Glob("../testdata/vectors/django-*.jsonl")
	if len(files) < 2 {
		t.Fatalf("vectors not found: %v", files)
	}
	n := 0
	for _, file := range files {
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<24)
		for sc.Scan() {
			var c struct {
				ID    string `json:"id"`
				Kind  string `json:"kind"`
				Input struct {
					CacheSpec map[string]any `json:"cache_spec"`
				} `json:"input"`
				Expected struct {
					ValueB64 string          `json:"value_b64"`
					Decoded  json.RawMessage `json:"decoded"`
				} `json:"expected"`
				PythonRepr string `json:"python_repr"`
			}
			if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
				t.Fatal(err)
			}
			if c.Kind != "redis_value" && c.Kind != "cached_db" {
				continue
			}
			spec := c.Input.CacheSpec
			if s, ok := spec["serializer"]; ok && s != "pickle" {
				continue
			}
			if s, ok := spec["compressor"]; ok && s != "none" {
				continue
			}
			name := filepath.Base(file) + ":" + c.ID
			raw, err := base64.StdEncoding.DecodeString(c.Expected.ValueB64)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			n++
			v, err := Loads(raw)
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			got, err := json.Marshal(rdNormal(v))
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if !rdJSONEqual(t, got, c.Expected.Decoded) {
				t.Errorf("%s: normal form\n got %.600s\nwant %.600s", name, got, c.Expected.Decoded)
			}
			if !rdValueHasSet(v) && v.Repr() != c.PythonRepr {
				t.Errorf("%s: repr\n got %.600s\nwant %.600s", name, v.Repr(), c.PythonRepr)
			}
		}
		f.Close()
	}
	if n < 8 {
		t.Errorf("only %d pickled cache vectors found", n)
	}
	t.Logf("%d pickled cache vectors", n)
}

// rdNormal is the normal form of testdata/vectors/README.md, written here
// from that description (independently of py.NormalJSON).
func rdNormal(v py.Value) any {
	switch v.Kind() {
	case py.NoneKind:
		return nil
	case py.BoolKind:
		b, _ := v.Bool()
		return b
	case py.IntKind:
		n, _ := v.BigInt()
		return json.Number(n.String())
	case py.FloatKind:
		return json.Number(v.Repr()) // Python's json writes repr(float)
	case py.StrKind:
		s, _ := v.Str()
		return s
	case py.BytesKind, py.ByteArrayKind:
		b, _ := v.Bytes()
		return base64.StdEncoding.EncodeToString(b)
	case py.ListKind, py.TupleKind, py.SetKind, py.FrozenSetKind:
		out := []any{}
		for _, it := range v.Items() {
			out = append(out, rdNormal(it))
		}
		if k := v.Kind(); k == py.SetKind || k == py.FrozenSetKind {
			sort.Slice(out, func(i, j int) bool {
				a, _ := json.Marshal(out[i])
				b, _ := json.Marshal(out[j])
				return string(a) < string(b)
			})
		}
		return out
	case py.DictKind:
		d, _ := v.Dict()
		out := map[string]any{}
		for _, e := range d.Entries() {
			k, ok := e.Key.Str()
			if !ok {
				k = e.Key.Repr() // str() of the key; equal to repr() for numbers and tuples
			}
			out[k] = rdNormal(e.Value)
		}
		return out
	case py.DateTimeKind:
		d, _ := v.DateTime()
		return d.IsoFormat()
	case py.DateKind:
		d, _ := v.Date()
		return d.IsoFormat()
	case py.TimeKind:
		d, _ := v.Time()
		return d.IsoFormat()
	case py.DecimalKind:
		s, _ := v.Decimal()
		return s
	case py.UUIDKind:
		u, _ := v.UUID()
		h := hex.EncodeToString(u[:])
		return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
	}
	return v.Repr()
}

// rdValueHasSet reports whether v holds a set or frozenset, whose repr
// lists elements in CPython's hash order.
func rdValueHasSet(v py.Value) bool {
	switch v.Kind() {
	case py.SetKind, py.FrozenSetKind:
		return true
	case py.DictKind:
		d, _ := v.Dict()
		for _, e := range d.Entries() {
			if rdValueHasSet(e.Key) || rdValueHasSet(e.Value) {
				return true
			}
		}
	}
	for _, it := range v.Items() {
		if rdValueHasSet(it) {
			return true
		}
	}
	return false
}

func rdJSONEqual(t testing.TB, a, b []byte) bool {
	parse := func(x []byte) any {
		d := json.NewDecoder(bytes.NewReader(x))
		d.UseNumber()
		var v any
		if err := d.Decode(&v); err != nil {
			t.Fatalf("bad JSON %.100s: %v", x, err)
		}
		return v
	}
	return reflect.DeepEqual(parse(a), parse(b))
}

// ---------------------------------------------------------------------------
// Hostile input
// ---------------------------------------------------------------------------

// rdLoad calls LoadsWith and turns a panic into a test failure.
func rdLoad(t *testing.T, data []byte, lim Limits) (v py.Value, err error) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("panic on %q: %v", rdShort(data), r)
		}
	}()
	return LoadsWith(data, lim)
}

func rdShort(b []byte) string {
	if len(b) > 60 {
		return string(b[:60]) + "..."
	}
	return string(b)
}

// rdSentinel returns the one sentinel err wraps.
func rdSentinel(err error) error {
	var found error
	for _, s := range []error{ErrMalformed, ErrDisallowedGlobal, ErrLimit, ErrUnsupported} {
		if errors.Is(err, s) {
			if found != nil {
				return fmt.Errorf("wraps both %v and %v", found, s)
			}
			found = s
		}
	}
	return found
}

func u64(n uint64) string {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], n)
	return string(b[:])
}

func u32(n uint32) string {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], n)
	return string(b[:])
}

func TestLoadsHostile(t *testing.T) {
	deepTuple := ")" + strings.Repeat("\x85", 99_000) + "."
	deepList := strings.Repeat("]", 50_000) + strings.Repeat("a", 49_999) + "."
	tests := []struct {
		name string
		in   string
		want error
		msg  string // substring the error text must contain
	}{
		{"empty", "", ErrMalformed, "no STOP"},
		{"no STOP", "\x80\x04K\x01", ErrMalformed, "no STOP"},
		{"0xFF opcode", "\xff", ErrMalformed, "0xff"},
		{"0xFF after proto", "\x80\x05\xff.", ErrMalformed, "0xff"},
		{"protocol 6", "\x80\x06N.", ErrUnsupported, "protocol 6"},
		{"STOP on empty stack", ".", ErrMalformed, "underflow"},
		{"REDUCE underflow", "N R.", ErrMalformed, ""},
		{"APPEND underflow", "a.", ErrMalformed, "underflow"},
		{"TUPLE2 underflow", "N\x86.", ErrMalformed, "underflow"},
		{"TUPLE without MARK", "Nt.", ErrMalformed, "MARK"},
		{"POP_MARK without MARK", "1N.", ErrMalformed, "MARK"},
		{"odd DICT", "(K\x01d.", ErrMalformed, "odd"},
		{"odd SETITEMS", "}(K\x01u.", ErrMalformed, "odd"},
		{"underflow below MARK", "N(R.", ErrMalformed, "underflow"},

		// Memo
		{"BINGET never stored", "h\x05.", ErrMalformed, "memo"},
		{"LONG_BINGET huge", "\x80\x02j\xff\xff\xff\x7f.", ErrMalformed, "memo"},
		{"GET text", "g99\n.", ErrMalformed, "memo"},
		{"GET negative", "N0g-1\n.", ErrMalformed, "memo"},
		{"PUT on empty stack", "q\x00N.", ErrMalformed, "underflow"},

		// Globals, in every form.
		{"GLOBAL os.system", "cos\nsystem\n(S'id'\ntR.", ErrDisallowedGlobal, `"os.system"`},
		{"GLOBAL posix.system", "cposix\nsystem\n(S'id'\ntR.", ErrDisallowedGlobal, `"posix.system"`},
		{"GLOBAL nt.system", "cnt\nsystem\n(S'id'\ntR.", ErrDisallowedGlobal, `"nt.system"`},
		{"GLOBAL builtins.eval", "cbuiltins\neval\n(S'1'\ntR.", ErrDisallowedGlobal, `"builtins.eval"`},
		{"GLOBAL __builtin__.eval", "c__builtin__\neval\n(S'1'\ntR.", ErrDisallowedGlobal, `"__builtin__.eval"`},
		{"GLOBAL builtins.exec", "cbuiltins\nexec\n.", ErrDisallowedGlobal, `"builtins.exec"`},
		{"GLOBAL builtins.__import__", "cbuiltins\n__import__\n.", ErrDisallowedGlobal, `"builtins.__import__"`},
		{"GLOBAL subprocess.Popen", "csubprocess\nPopen\n(S'id'\ntR.", ErrDisallowedGlobal, `"subprocess.Popen"`},
		{"STACK_GLOBAL os.system", "\x80\x04\x8c\x02os\x8c\x06system\x93\x8c\x02id\x85R.", ErrDisallowedGlobal, `"os.system"`},
		{"STACK_GLOBAL via memo", "\x80\x04\x8c\x02os\x94\x8c\x06system\x94Nh\x00h\x01\x93.", ErrDisallowedGlobal, `"os.system"`},
		{"STACK_GLOBAL via DUP", "\x80\x04\x8c\x02nt2\x93.", ErrDisallowedGlobal, `"nt.nt"`},
		{"STACK_GLOBAL BINSTRING", "\x80\x02U\x02osU\x06system\x93.", ErrDisallowedGlobal, `"os.system"`},
		{"STACK_GLOBAL non-strings", "\x80\x04K\x01K\x02\x93.", ErrMalformed, "two strings"},
		{"STACK_GLOBAL bytes", "\x80\x04C\x02osC\x06system\x93.", ErrMalformed, "two strings"},
		{"INST os.system", "(S'id'\nios\nsystem\n.", ErrDisallowedGlobal, `"os.system"`},
		{"OBJ os.system", "(cos\nsystem\nS'id'\no.", ErrDisallowedGlobal, `"os.system"`},
		{"gopickle builtin builtins.list", "cbuiltins\nlist\n(S'os'\ntR.", ErrDisallowedGlobal, `"builtins.list"`},
		{"gopickle builtin builtins.dict", "\x80\x04\x8c\x08builtins\x8c\x04dict\x93.", ErrDisallowedGlobal, `"builtins.dict"`},
		{"gopickle builtin array", "carray\n_array_reconstructor\n.", ErrDisallowedGlobal, `"array._array_reconstructor"`},
		{"herd Marker", "\x80\x04\x8c\x18django_redis.client.herd\x8c\x06Marker\x93)\x81.", ErrDisallowedGlobal, `"django_redis.client.herd.Marker"`},
		{"pytz zone", "cpytz\n_p\n(S'Europe/Paris'\ntR.", ErrDisallowedGlobal, `"pytz._p"`},
		{"getattr on datetime", "cbuiltins\ngetattr\n(cdatetime\ndatetime\nS'now'\ntR)R.", ErrDisallowedGlobal, `"datetime.datetime.now"`},
		{"getattr on ZoneInfo", "cbuiltins\ngetattr\n(czoneinfo\nZoneInfo\nS'clear_cache'\ntR)R.", ErrDisallowedGlobal, `"zoneinfo.ZoneInfo.clear_cache"`},
		{"getattr on object", "c__builtin__\ngetattr\n(c__builtin__\nobject\nS'__subclasses__'\ntR.", ErrDisallowedGlobal, `"builtins.getattr"`},
		{"getattr on int", "cbuiltins\ngetattr\n(K\x01S'real'\ntR.", ErrDisallowedGlobal, `"builtins.getattr"`},
		{"reconstructor os", "ccopy_reg\n_reconstructor\n(cos\nsystem\nc__builtin__\nobject\nNtR.", ErrDisallowedGlobal, `"os.system"`},
		{"_codecs.encode rot13", "c_codecs\nencode\n(Vabc\nVrot13\ntR.", ErrUnsupported, "latin1"},
		{"_codecs.encode above latin-1", "c_codecs\nencode\n(V\\u20ac\nVlatin1\ntR.", ErrMalformed, "U+00FF"},
		{"object() via NEWOBJ", "\x80\x02c__builtin__\nobject\n)\x81.", ErrMalformed, ""},

		// Values that are valid pickles we do not model.
		{"bare tzinfo", "\x80\x03cdatetime\ntimezone\ncdatetime\ntimedelta\nK\x00K\x00K\x00\x87R\x85R.", ErrUnsupported, "tzinfo"},
		{"class object", "cdatetime\ndatetime\n.", ErrUnsupported, "datetime.datetime"},
		{"ZoneInfo called", "czoneinfo\nZoneInfo\n(VUTC\ntR.", ErrUnsupported, ""},
		{"unknown zone", "cbuiltins\ngetattr\n(czoneinfo\nZoneInfo\nV_unpickle\ntR(VNo/Such_Zone\nI1\ntR.", ErrUnsupported, "No/Such_Zone"},
		{"NEWOBJ_EX uuid", "\x80\x04\x8c\x04uuid\x8c\x04UUID\x93)}\x92.", ErrUnsupported, ""},
		{"bytes in set (gopickle map)", "\x80\x04\x8f(C\x01a\x90.", ErrUnsupported, "bytes as a set element"},
		{"cycle list", "]q\x00h\x00a.", ErrUnsupported, "recursive"},
		{"cycle dict", "}q\x00K\x01h\x00s.", ErrUnsupported, "recursive"},
		{"PERSID", "Pfoo\n.", ErrUnsupported, "persistent"},
		{"BINPERSID", "K\x01Q.", ErrUnsupported, "persistent"},
		{"EXT1", "\x80\x02\x82\x01.", ErrUnsupported, "extension"},
		{"EXT2", "\x80\x02\x83\x01\x00.", ErrUnsupported, "extension"},
		{"EXT4", "\x80\x02\x84\x01\x00\x00\x00.", ErrUnsupported, "extension"},
		{"NEXT_BUFFER", "\x80\x05\x97.", ErrUnsupported, "out-of-band"},
		{"READONLY_BUFFER", "\x80\x05C\x01a\x98.", ErrUnsupported, "out-of-band"},

		// Python would raise.
		{"unhashable set element", "\x80\x04\x8f(]\x90.", ErrMalformed, "unhashable"},
		{"unhashable dict key", "}]K\x01s.", ErrMalformed, "unhashable"},
		{"datetime month 13", "\x80\x03cdatetime\ndatetime\nC\n\x07\xe8\x0d\x01\x00\x00\x00\x00\x00\x00\x85R.", ErrMalformed, ""},
		{"date Feb 30", "\x80\x03cdatetime\ndate\nC\x04\x07\xe8\x02\x1e\x85R.", ErrMalformed, ""},
		{"datetime short state", "\x80\x03cdatetime\ndatetime\nC\x03abc\x85R.", ErrUnsupported, "state of 3 bytes"},
		{"datetime bad tzinfo", "\x80\x03cdatetime\ndatetime\nC\n\x07\xe8\x01\x01\x00\x00\x00\x00\x00\x00K\x01\x86R.", ErrMalformed, "tzinfo"},
		{"timezone 24h", "\x80\x03cdatetime\ntimezone\ncdatetime\ntimedelta\nK\x01K\x00K\x00\x87R\x85R.", ErrMalformed, "range"},
		{"decimal garbage", "cdecimal\nDecimal\n(Vnot a number\ntR.", ErrMalformed, ""},
		{"uuid without state", "\x80\x02cuuid\nUUID\n)\x81.", ErrMalformed, "without state"},
		{"uuid int too big", "\x80\x02cuuid\nUUID\n)\x81}X\x03\x00\x00\x00int\x8a\x11" + strings.Repeat("\xff", 16) + "\x01sb.", ErrMalformed, "range"},
		{"uuid negative", "\x80\x02cuuid\nUUID\n)\x81}X\x03\x00\x00\x00intJ\xff\xff\xff\xffsb.", ErrMalformed, "range"},
		{"invalid UTF-8", "X\x02\x00\x00\x00\xc3(.", ErrMalformed, "UTF-8"},
		{"UNICODE truncated escape", "V\\u12\n.", ErrMalformed, "escape"},
		{"UNICODE escape out of range", "V\\U00110000\n.", ErrMalformed, "range"},
		{"STRING unquoted", "Sabc\n.", ErrMalformed, "quoted"},
		{"INT garbage", "Iabc\n.", ErrMalformed, "INT"},
		{"LONG garbage", "L12a\n.", ErrMalformed, "LONG"},
		{"FLOAT garbage", "Fabc\n.", ErrMalformed, ""},

		// Declared lengths beyond the input: refused before any allocation.
		{"BINUNICODE8 2^62", "\x80\x04\x8d" + u64(1<<62) + ".", ErrMalformed, "exceeds the remaining input"},
		{"BINUNICODE8 2^64-1", "\x80\x04\x8d" + u64(math.MaxUint64) + ".", ErrMalformed, "exceeds"},
		{"BINBYTES8 huge", "\x80\x04\x8e" + u64(1<<40) + ".", ErrMalformed, "exceeds"},
		{"BYTEARRAY8 huge", "\x80\x05\x96" + u64(1<<40) + ".", ErrMalformed, "exceeds"},
		{"BINUNICODE 4G", "X" + u32(math.MaxUint32) + ".", ErrMalformed, "exceeds"},
		{"BINBYTES 4G", "\x80\x03B" + u32(math.MaxUint32) + ".", ErrMalformed, "exceeds"},
		{"BINSTRING negative", "T" + u32(math.MaxUint32) + ".", ErrMalformed, "exceeds"},
		{"LONG4 2G", "\x80\x02\x8b" + u32(math.MaxInt32) + ".", ErrMalformed, "exceeds"},
		{"FRAME 2^63", "\x80\x04\x95" + u64(1<<63-1) + "N.", ErrMalformed, "exceeds"},
		{"SHORT_BINUNICODE short", "\x80\x04\x8c\xffabc.", ErrMalformed, "exceeds"},
		{"frame straddle", "\x80\x04\x95" + u64(1) + "K\x01.", ErrMalformed, "frame"},
		{"frame in frame", "\x80\x04\x95" + u64(10) + "\x95" + u64(0) + "N.", ErrMalformed, "FRAME"},

		// Limits.
		{"100k MARKs", strings.Repeat("(", 100_000) + ".", ErrLimit, "MaxDepth"},
		{"99k nested tuples", deepTuple, ErrLimit, "MaxDepth"},
		{"50k nested lists", deepList, ErrLimit, "MaxDepth"},
		{"too many items", strings.Repeat("N", 100_001) + ".", ErrLimit, "MaxTotalItems"},
		{"too many memo slots", "N" + strings.Repeat("N0", 0) + rdManyPuts(100_001) + ".", ErrLimit, "MaxTotalItems"},
		{"batch too long", "(" + strings.Repeat("N", 100_001) + "l.", ErrLimit, ""},
		{"LONG4 3000 bytes", "\x80\x02\x8b" + u32(3000) + strings.Repeat("\x01", 3000) + ".", ErrLimit, "MaxIntDigits"},
		{"text LONG 5000 digits", "L" + strings.Repeat("7", 5000) + "L\n.", ErrLimit, "MaxIntDigits"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := rdLoad(t, []byte(tc.in), DefaultLimits)
			if err == nil {
				t.Fatalf("loaded %s, want %v", v.Repr(), tc.want)
			}
			if s := rdSentinel(err); s != tc.want {
				t.Fatalf("error %q: sentinel %v, want %v", err, s, tc.want)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not mention %q", err, tc.msg)
			}
		})
	}
}

func rdManyPuts(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteString("r" + u32(uint32(i)))
	}
	return b.String()
}

// Every opcode byte that is not a pickle opcode is refused.
func TestLoadsUnknownOpcodes(t *testing.T) {
	known := "(.012FIJKLMNPQRSTUVXabcd}eghijl]opqrst)uGBC"
	n := 0
	for op := 0; op < 256; op++ {
		if strings.IndexByte(known, byte(op)) >= 0 || (op >= 0x80 && op <= 0x98) {
			continue
		}
		n++
		_, err := rdLoad(t, []byte{0x80, 4, byte(op), '.'}, DefaultLimits)
		if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "unknown opcode") {
			t.Errorf("opcode 0x%02x: %v", op, err)
		}
	}
	if n != 256-68 {
		t.Errorf("%d unknown opcodes, want %d", n, 256-68)
	}
}

// Every proper prefix of a valid pickle is an error, never a panic.
func TestLoadsTruncated(t *testing.T) {
	for _, c := range []struct {
		name  string
		proto int
	}{
		{"session_types", 0}, {"session_types", 1}, {"session_types", 2}, {"session_types", 3},
		{"session_types", 4}, {"session_types", 5}, {"dt_zoneinfo", 0}, {"uuid", 1},
		{"nested", 4}, {"str_surrogate", 0}, {"bytearray_all", 5}, {"huge", 4}, {"ordereddict", 2},
	} {
		data := rdFind(t, c.name, c.proto)
		if _, err := Loads(data); err != nil {
			t.Fatalf("%s/%d: %v", c.name, c.proto, err)
		}
		for i := 0; i < len(data); i++ {
			_, err := rdLoad(t, data[:i], DefaultLimits)
			if err == nil {
				t.Errorf("%s/%d: prefix of %d bytes loaded", c.name, c.proto, i)
			} else if rdSentinel(err) == nil {
				t.Errorf("%s/%d[:%d]: error %v wraps no sentinel", c.name, c.proto, i, err)
			}
		}
	}
}

// rdDAG pickles t(0) = [], t(i+1) = (t(i), t(i)) with memo references:
// 8·levels bytes describing a tree of 2^(levels+1)-1 nodes.
func rdDAG(levels int) []byte {
	var b strings.Builder
	b.WriteString("\x80\x04]\x94")
	for i := 0; i < levels; i++ {
		fmt.Fprintf(&b, "h%c2\x86\x94", byte(i))
	}
	b.WriteString(".")
	return []byte(b.String())
}

// Shared references load with their sharing kept, but a DAG whose tree
// form is exponential is refused (every walk of it — repr, JSON — would be).
func TestLoadsSharedDAG(t *testing.T) {
	v, err := rdLoad(t, rdDAG(10), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	depth := 0
	for v.Kind() == py.TupleKind {
		a, _ := v.Items()[0].Tuple()
		b, _ := v.Items()[1].Tuple()
		if a != b {
			t.Fatal("shared tuple converted twice")
		}
		v = v.Items()[0]
		depth++
	}
	if depth != 10 {
		t.Errorf("depth %d", depth)
	}
	if _, err := rdLoad(t, rdDAG(40), DefaultLimits); !errors.Is(err, ErrLimit) {
		t.Errorf("2^41-node DAG: %v", err)
	}
}

// Calls on one shared argument, repeated: their output is bounded.
func TestLoadsAmplification(t *testing.T) {
	big := strings.Repeat("b", 600_000)
	var reps strings.Builder
	for i := 0; i < 1000; i++ {
		reps.WriteString("h\x01h\x00\x85R")
	}
	cases := []struct {
		name string
		in   string
		want error
	}{
		{"bytearray(shared bytes) x1000", "\x80\x03B" + u32(600_000) + big + "q\x00c__builtin__\nbytearray\nq\x01(" + reps.String() + "l.", ErrLimit},
		{"_codecs.encode(shared str) x1000", "\x80\x02X" + u32(600_000) + big + "q\x00c_codecs\nencode\nq\x01(" +
			strings.Repeat("h\x01h\x00X\x06\x00\x00\x00latin1\x86R", 1000) + "l.", ErrLimit},
		{"set(shared list) x1000", "\x80\x02]q\x00(" + strings.Repeat("K\x01", 40_000) + "ec__builtin__\nset\nq\x01(" +
			strings.Repeat("h\x01h\x00\x85R", 1000) + "l.", ErrLimit},
		{"shared bytes x90000", "\x80\x03B" + u32(600_000) + big + "q\x00(" + strings.Repeat("h\x00", 90_000) + "l.", nil},
	}
	for _, c := range cases {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := rdLoad(t, []byte(c.in), DefaultLimits)
		runtime.ReadMemStats(&after)
		if (c.want == nil && err != nil) || (c.want != nil && !errors.Is(err, c.want)) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
			t.Errorf("%s: %d MB allocated", c.name, alloc>>20)
		}
	}
}

func TestLoadsLimits(t *testing.T) {
	list := "]" + strings.Repeat("K\x01a", 20) + "."
	cases := []struct {
		name string
		in   string
		lim  Limits
		want error
	}{
		{"MaxInput", list, Limits{MaxInput: 10}, ErrLimit},
		{"MaxInput ok", list, Limits{MaxInput: len(list)}, nil},
		{"MaxContainerLen via APPEND", list, Limits{MaxContainerLen: 19}, ErrLimit},
		{"MaxContainerLen ok", list, Limits{MaxContainerLen: 20}, nil},
		{"MaxTotalItems", list, Limits{MaxTotalItems: 20}, ErrLimit},
		{"MaxTotalItems ok", list, Limits{MaxTotalItems: 21}, nil},
		{"MaxDepth", "]]]aa.", Limits{MaxDepth: 2}, ErrLimit},
		{"MaxDepth ok", "]]]aa.", Limits{MaxDepth: 3}, nil},
		{"MaxDepth marks", "(((t.", Limits{MaxDepth: 2}, ErrLimit},
		{"MaxIntDigits", "L123456\n.", Limits{MaxIntDigits: 5}, ErrLimit},
		{"MaxIntDigits ok", "L12345\n.", Limits{MaxIntDigits: 5}, nil},
	}
	for _, c := range cases {
		_, err := rdLoad(t, []byte(c.in), c.lim)
		if (c.want == nil && err != nil) || (c.want != nil && !errors.Is(err, c.want)) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
}

// Worst cases for memory under DefaultLimits: the scan caps what gopickle
// may build, so no input of at most MaxInput bytes makes a load allocate
// without bound. The budget is checked against the allocation counter.
func TestLoadsBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation-heavy")
	}
	n := DefaultLimits.MaxTotalItems - 10
	inputs := map[string]string{
		"empty sets":       strings.Repeat("\x8f", n) + ".",
		"empty dicts":      strings.Repeat("}", n) + ".",
		"marks":            strings.Repeat("(1", n/2) + "N.",
		"dups of a string": "\x8c\xff" + strings.Repeat("x", 255) + strings.Repeat("2", n) + ".",
		"frame + strings":  "\x80\x04\x95" + u64(uint64(DefaultLimits.MaxInput-20)) + strings.Repeat("X"+u32(0), (DefaultLimits.MaxInput-20)/5) + ".",
		"huge BINBYTES8":   "\x80\x04\x8e" + u64(uint64(DefaultLimits.MaxInput-20)) + strings.Repeat("b", DefaultLimits.MaxInput-20) + ".",
	}
	const budget = 128 << 20
	for name, in := range inputs {
		if len(in) > DefaultLimits.MaxInput {
			in = in[:DefaultLimits.MaxInput]
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, err := rdLoad(t, []byte(in), DefaultLimits)
		runtime.ReadMemStats(&after)
		alloc := after.TotalAlloc - before.TotalAlloc
		t.Logf("%-18s %7d bytes in: %6.1f MB allocated, err=%v", name, len(in), float64(alloc)/(1<<20), err)
		if alloc > budget {
			t.Errorf("%s: %d bytes allocated (budget %d)", name, alloc, budget)
		}
	}
}

// Protocol-0 text strings are decoded as CPython decodes them.
func TestDecodeRawUnicodeEscape(t *testing.T) {
	// Expected values derived by hand from CPython's raw_unicode_escape
	// decoder (odd backslash runs before u/U start an escape; every other
	// byte is a Latin-1 code point); the corpus checks the same against
	// CPython itself.
	cases := []struct{ in, want string }{
		{`abc`, "abc"},
		{"caf\xe9", "café"},
		{`\u20ac`, "€"},
		{`\U0001f600`, "😀"},
		{`\\u0041`, `\\u0041`},
		{`\\\u0041`, `\\A`},
		{`a\b`, `a\b`},
		{`\ud800`, "\xed\xa0\x80"},
		{`\u005c`, `\`},
		{`\`, `\`},
	}
	for _, c := range cases {
		got, err := decodeRawUnicodeEscape([]byte(c.in))
		if err != nil || got != c.want {
			t.Errorf("%q: got %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{`\u12`, `\U1234`, `\u12g4`, `\U00110000`, `\u+123`} {
		if _, err := decodeRawUnicodeEscape([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestDecodePyEscapes(t *testing.T) {
	// Expected values by hand from Python's string-literal escapes
	// (codecs.escape_decode).
	cases := []struct{ in, want string }{
		{`plain`, "plain"},
		{`a\'b\n`, "a'b\n"},
		{`\x41\101\\`, `AA\`},
		{`\q`, `\q`},
		{`\0`, "\x00"},
		{`\t\r\a\b\f\v\"`, "\t\r\a\b\f\v\""},
	}
	for _, c := range cases {
		got, ok := decodePyEscapes(c.in)
		if !ok || got != c.want {
			t.Errorf("%q: got %q, %v; want %q", c.in, got, ok, c.want)
		}
	}
	for _, bad := range []string{`\x4`, `\x`, `abc\`, `\xzz`} {
		if _, ok := decodePyEscapes(bad); ok {
			t.Errorf("%q: no error", bad)
		}
	}
}

// ---------------------------------------------------------------------------
// Benchmark
// ---------------------------------------------------------------------------

// The typical session dict of the brief, pickled by CPython 3.11:
// pickle.dumps({'_auth_user_id': '1', '_auth_user_backend':
// 'django.contrib.auth.backends.ModelBackend', '_auth_user_hash': 'a'*64,
// 'cart': [1, 2, 3], 'theme': 'dark'}, protocol).
var rdSessionPickles = map[int]string{
	4: "800495cf000000000000007d94288c0d5f617574685f757365725f6964948c0131948c125f617574685f757365725f6261636b656e64948c29646a616e676f2e636f6e747269622e617574682e6261636b656e64732e4d6f64656c4261636b656e64948c0f5f617574685f757365725f68617368948c4061616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161948c0463617274945d94284b014b024b03658c057468656d65948c046461726b94752e",
	5: "800595cf000000000000007d94288c0d5f617574685f757365725f6964948c0131948c125f617574685f757365725f6261636b656e64948c29646a616e676f2e636f6e747269622e617574682e6261636b656e64732e4d6f64656c4261636b656e64948c0f5f617574685f757365725f68617368948c4061616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161948c0463617274945d94284b014b024b03658c057468656d65948c046461726b94752e",
}

// rdCPythonLoadsNs times CPython's pickle.loads on the same bytes
// (testdata/reader/bench_cpython.py); 0 when Python is not available.
func rdCPythonLoadsNs(b *testing.B, hexData string) float64 {
	out, err := exec.Command(rdPython, rdBenchCPython, hexData).Output()
	if err != nil {
		b.Logf("CPython timing unavailable: %v", err)
		return 0
	}
	f := strings.Fields(string(out))
	if len(f) != 2 {
		b.Logf("CPython timing: unexpected output %q", out)
		return 0
	}
	ns, _ := strconv.ParseFloat(f[1], 64)
	return ns
}

func BenchmarkLoadsSession(b *testing.B) {
	for _, proto := range []int{4, 5} {
		b.Run(fmt.Sprintf("proto%d", proto), func(b *testing.B) {
			data, _ := hex.DecodeString(rdSessionPickles[proto])
			cpy := rdCPythonLoadsNs(b, rdSessionPickles[proto])
			v, err := Loads(data)
			if err != nil {
				b.Fatal(err)
			}
			if d, _ := v.Dict(); d == nil || d.Len() != 5 {
				b.Fatalf("unexpected %s", v.Repr())
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := Loads(data); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if cpy > 0 {
				b.ReportMetric(cpy, "cpython-ns/op")
			}
		})
	}
}

// BenchmarkLoadsSessionParts splits Loads on the protocol-5 session into
// its three steps, to show where the time goes (see the package's
// performance note in the report: gopickle itself dominates).
func BenchmarkLoadsSessionParts(b *testing.B) {
	data, _ := hex.DecodeString(rdSessionPickles[5])
	b.Run("scan", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			st := &loadState{lim: DefaultLimits}
			if err := st.scan(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("gopickle", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			u := gopickle.NewUnpickler(bytes.NewReader(data))
			if _, err := u.Load(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("convert", func(b *testing.B) {
		u := gopickle.NewUnpickler(bytes.NewReader(data))
		res, err := u.Load()
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			st := &loadState{lim: DefaultLimits}
			if _, _, err := st.convert(res, 0); err != nil {
				b.Fatal(err)
			}
		}
	})
}
