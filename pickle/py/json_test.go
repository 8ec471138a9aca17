package py

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"math/big"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// Expected texts below follow spec §2.6 and were checked against CPython
// 3.11's json.dumps(v, separators=(",", ":")) (TestValuesAgainstCPython
// covers the same rules over a generated corpus).
func TestEncodeJSON(t *testing.T) {
	cases := []struct {
		v    Value
		want string
	}{
		{None, `null`}, {Bool(true), `true`}, {Bool(false), `false`}, {Int(-7), `-7`},
		{BigInt(bigPow2(70)), `1180591620717411303424`}, {Float(1), `1.0`}, {Float(1e16), `1e+16`},
		{Float(math.Copysign(0, -1)), `-0.0`}, {Float(5e-324), `5e-324`}, {Float(math.NaN()), `NaN`},
		{Float(math.Inf(1)), `Infinity`}, {Float(math.Inf(-1)), `-Infinity`},
		{Str("a/b\"c\\d\b\f\n\r\t\x00\x1f\x7f"), `"a/b\"c\\d\b\f\n\r\t\u0000\u001f\u007f"`},
		{Str("Zoë 漢 🎉"), `"Zo\u00eb \u6f22 \ud83c\udf89"`}, {Str("\xed\xa0\x80x\xed\xbf\xbf"), `"\ud800x\udfff"`},
		{Str("bad\xff\xc3"), `"bad\ufffd\ufffd"`}, {Str("\uFFFD"), `"\ufffd"`},
		{NewList(), `[]`}, {NewTuple(Int(1), Str("two"), Float(3)), `[1,"two",3.0]`},
		{dict(t, Str("b"), Int(1), Str("a"), NewList(None)), `{"b":1,"a":[null]}`},
		{odict(t, Str("z"), Int(1), Str("y"), Int(2)), `{"z":1,"y":2}`},
		{dict(t, Int(1), Int(1), Float(1.5), Int(2), Bool(false), Int(3), None, Int(4), Float(math.NaN()), Int(5),
			Float(math.Inf(-1)), Int(6), BigInt(bigPow2(64)), Int(7)),
			`{"1":1,"1.5":2,"false":3,"null":4,"NaN":5,"-Infinity":6,"18446744073709551616":7}`},
		{DictOf(nil), `{}`},
	}
	for _, c := range cases {
		got, err := EncodeJSON(c.v)
		if err != nil || string(got) != c.want {
			t.Errorf("EncodeJSON(%s) = %s, %v; want %s", c.v, got, err, c.want)
		}
		pre := []byte("prefix")
		got, err = AppendJSON(pre, c.v)
		if err != nil || string(got) != "prefix"+c.want {
			t.Errorf("AppendJSON(%s) = %s, %v", c.v, got, err)
		}
	}
}

func TestEncodeJSONErrors(t *testing.T) {
	dt := must(NewDateTime(DateTime{2024, 1, 1, 0, 0, 0, 0, 0, nil}))
	cases := []struct {
		v    Value
		want string
	}{
		{dt, "Object of type datetime is not JSON serializable"},
		{NewList(Int(1), must(NewSet())), "Object of type set is not JSON serializable"},
		{BytesString("x"), "Object of type bytes is not JSON serializable"},
		{must(ParseDecimal("1")), "Object of type Decimal is not JSON serializable"},
		{dict(t, NewTuple(Int(1)), Int(1)), "keys must be str, int, float, bool or None, not tuple"},
		{dict(t, dt, Int(1)), "keys must be str, int, float, bool or None, not datetime"},
		{BigInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(4300), nil)), "Exceeds the limit (4300 digits)"},
	}
	for _, c := range cases {
		out, err := AppendJSON([]byte("keep"), c.v)
		if !errors.Is(err, ErrNotJSONSerializable) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("EncodeJSON(%s): %v, want %q", c.v, err, c.want)
		}
		if string(out) != "keep" {
			t.Errorf("AppendJSON on error returned %q", out)
		}
	}
	// Cycles and deep nesting end in ErrTooDeep, not a stack overflow.
	l := &List{}
	l.Items = []Value{ListOf(l)}
	if _, err := EncodeJSON(ListOf(l)); !errors.Is(err, ErrTooDeep) {
		t.Errorf("cyclic list: %v", err)
	}
	if _, err := EncodeJSON(nested(MaxJSONDepth)); err != nil {
		t.Errorf("depth %d: %v", MaxJSONDepth, err)
	}
	if _, err := EncodeJSON(nested(MaxJSONDepth + 1)); !errors.Is(err, ErrTooDeep) {
		t.Errorf("depth %d: %v", MaxJSONDepth+1, err)
	}
}

// nested returns n lists inside each other.
func nested(n int) Value {
	v := NewList()
	for range n - 1 {
		v = NewList(v)
	}
	return v
}

func TestDecodeJSON(t *testing.T) {
	nan := Float(math.NaN())
	cases := []struct {
		in   string
		want Value
	}{
		{`null`, None}, {` true `, Bool(true)}, {"\t\n\rfalse", Bool(false)}, {`0`, Int(0)}, {`-0`, Int(0)},
		{`-0.0`, Float(math.Copysign(0, -1))}, {`123456789012345678`, Int(123456789012345678)},
		{`9223372036854775807`, Int(math.MaxInt64)}, {`-9223372036854775808`, Int(math.MinInt64)},
		{`18446744073709551616`, BigInt(bigPow2(64))}, {`1e400`, Float(math.Inf(1))}, {`-1E400`, Float(math.Inf(-1))},
		{`1e-400`, Float(0)}, {`1.5e-07`, Float(1.5e-7)}, {`1E+2`, Float(100)}, {`NaN`, nan}, {`Infinity`, Float(math.Inf(1))},
		{`-Infinity`, Float(math.Inf(-1))}, {`""`, Str("")}, {`"\u00e9\u00E9"`, Str("éé")},
		{`"\ud83d\ude00"`, Str("😀")}, {`"\ud800"`, Str("\xed\xa0\x80")}, {`"\udc00\ud800"`, Str("\xed\xb0\x80\xed\xa0\x80")},
		{`"\ud800\u0041"`, Str("\xed\xa0\x80A")}, {`"\ud800\ud800\udc00"`, Str("\xed\xa0\x80\U00010000")},
		{"\"\x7f\x80\xe9\xff\"", Str("\x7f\u0080éÿ")}, {`"\/\"\\\b\f\n\r\t"`, Str("/\"\\\b\f\n\r\t")},
		{`[]`, NewList()}, {`[1,"a",[{}]]`, NewList(Int(1), Str("a"), NewList(DictOf(nil)))},
		{`{"a":1,"b":2,"a":3}`, dict(t, Str("a"), Int(3), Str("b"), Int(2))},
		{`{ "a" : [ 1 , 2 ] }`, dict(t, Str("a"), NewList(Int(1), Int(2)))},
	}
	for _, c := range cases {
		got, err := DecodeJSON([]byte(c.in))
		if err != nil || !got.Equal(c.want) {
			t.Errorf("DecodeJSON(%q) = %s, %v; want %s", c.in, got, err, c.want)
		}
		got2, err := DecodeJSONString(c.in)
		if err != nil || !got2.Equal(c.want) {
			t.Errorf("DecodeJSONString(%q) = %s, %v", c.in, got2, err)
		}
	}
	// Duplicate keys keep the first position (Python dict), also past the
	// point where the decoder switches to a map.
	var b strings.Builder
	b.WriteString("{")
	for i := range 40 {
		b.WriteString(`"k` + strconv.Itoa(i) + `":1,`)
	}
	b.WriteString(`"k0":2,"k25":3}`)
	v, err := DecodeJSON([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	d, _ := v.Dict()
	if d.Len() != 40 || d.Entries()[0].Value.n != 2 || d.Entries()[25].Value.n != 3 {
		t.Errorf("duplicate keys in a large object: %s", v)
	}
	if x, ok := d.GetStr("k25"); !ok || x.n != 3 {
		t.Errorf("index lookup after decode: %v %v", x, ok)
	}
}

func TestDecodeJSONErrors(t *testing.T) {
	bad := []string{
		``, ` `, `nul`, `nulll`, `True`, `nan`, `-NaN`, `- 1`, `-`, `01`, `1.`, `1e`, `.5`, `+1`, `0x10`, `1 x`,
		`[1,]`, `[1 2]`, `[`, `]`, `{"a":1,}`, `{"a" 1}`, `{a:1}`, `{'a':1}`, `{"a":1`, `"abc`, `"\x"`,
		`"\U0041"`, `"\u12"`, `"\ud800\u12"`, `"\ud800\x"`, "\"\t\"", "\"\x00\"", "\"\x1f\"", "\xa01", "\x0c1",
		"\xef\xbb\xbf1", `[1]/*c*/`, `1` + strings.Repeat("0", 4300), `-` + strings.Repeat("1", 4301),
	}
	for _, in := range bad {
		v, err := DecodeJSON([]byte(in))
		if !errors.Is(err, ErrInvalidJSON) {
			t.Errorf("DecodeJSON(%q) = %s, %v; want ErrInvalidJSON", in, v, err)
			continue
		}
		if len(err.Error()) > 120 {
			t.Errorf("error too long (echoes input?): %v", err)
		}
		if !strings.Contains(err.Error(), "offset") {
			t.Errorf("error without offset: %v", err)
		}
	}
	// 4300 digits is still an int.
	if v, err := DecodeJSON([]byte("-" + strings.Repeat("1", 4300))); err != nil || v.k != IntKind {
		t.Errorf("4300 digits: %v", err)
	}
	// Depth: MaxJSONDepth levels pass, one more fails with ErrTooDeep.
	ok := strings.Repeat("[", MaxJSONDepth) + strings.Repeat("]", MaxJSONDepth)
	if _, err := DecodeJSON([]byte(ok)); err != nil {
		t.Errorf("depth %d: %v", MaxJSONDepth, err)
	}
	deep := `{"a":` + ok + `}`
	if _, err := DecodeJSON([]byte(deep)); !errors.Is(err, ErrTooDeep) || !errors.Is(err, ErrInvalidJSON) {
		t.Errorf("depth %d: %v", MaxJSONDepth+1, err)
	}
	if _, err := DecodeJSON([]byte(strings.Repeat("[", 1<<20))); !errors.Is(err, ErrTooDeep) {
		t.Errorf("1M brackets: %v", err)
	}
}

// mutate returns a few random edits of a JSON text.
func mutate(r *rand.Rand, s []byte) []byte {
	b := append([]byte(nil), s...)
	alphabet := []byte(" \t\n\x00\x1f\"\\/,:[]{}0123456789-+.eEnultrfasNIy\x7f\x80\xe9\xff")
	for range 1 + r.Intn(3) {
		if len(b) == 0 {
			b = append(b, alphabet[r.Intn(len(alphabet))])
			continue
		}
		i := r.Intn(len(b))
		switch r.Intn(4) {
		case 0:
			b[i] = alphabet[r.Intn(len(alphabet))]
		case 1:
			b = append(b[:i], b[i+1:]...)
		case 2:
			b = append(b[:i], append([]byte{alphabet[r.Intn(len(alphabet))]}, b[i:]...)...)
		default:
			b = b[:i]
		}
	}
	return b
}

// decodeCorpus: hand-written edge cases, encodings of generated values and
// random mutations of those.
func decodeCorpus() [][]byte {
	var in [][]byte
	for _, s := range []string{
		`{"a":1,"b":2,"a":3}`, `[1e5,1E+5,1e-5,1.0e0,-0,-0.0,0e0]`, `"\ud800\udc00"`, `"\udc00\ud800"`, `"\ud800\u0041"`,
		`"\ud800\ud800\udc00"`, `"\ud800\u12"`, "\"\x7f\x80\xff\"", "\"\t\"", ` 1 `, `1 x`, `[1,]`, `{"a":1,}`,
		`-Infinity`, `-NaN`, `- 1`, `01`, `1.`, `1e`, `.5`, `"\/"`, `"\U0041"`, `NaN`, `nan`, "\xa01", "\x0c1",
		`123456789012345678901234567890`, `-9223372036854775809`, `1.7976931348623157e309`, `4.9e-324`, `2.4703282292062328e-324`,
		`0.1000000000000000055511151231257827021181583404541015625`, `1` + strings.Repeat("0", 400) + `.5`, `{}`, `[[]]`,
		`{"":""}`, `{"a":{"b":{"c":[null,true,false]}}}`, "[\"\\u00e9\xe9\"]", `[1,2,3]` + "\r\n",
	} {
		in = append(in, []byte(s))
	}
	r := rand.New(rand.NewSource(3))
	g := &gen{r: r, jsonOnly: true}
	for range 800 {
		if b, err := EncodeJSON(g.value(0)); err == nil {
			in = append(in, b)
			in = append(in, mutate(r, b))
			in = append(in, mutate(r, b))
		}
	}
	return in
}

// TestDecodeJSONAgainstCPython: for every input, json.loads(b.decode(
// "latin-1")) and DecodeJSON agree: both fail, or both give Equal values.
func TestDecodeJSONAgainstCPython(t *testing.T) {
	ins := decodeCorpus()
	reqs := make([]any, len(ins))
	for i, b := range ins {
		reqs[i] = map[string]any{"op": "loads", "hex": hex.EncodeToString(b)}
	}
	answers := runOracle(t, reqs)
	nOK, nErr := 0, 0
	for i, b := range ins {
		var a struct {
			OK  bool            `json:"ok"`
			V   json.RawMessage `json:"v"`
			Err string          `json:"err"`
		}
		if err := json.Unmarshal(answers[i], &a); err != nil {
			t.Fatal(err)
		}
		got, err := DecodeJSON(b)
		if !a.OK {
			if err == nil {
				t.Errorf("DecodeJSON(%q) = %s; Python raises %s", b, got, a.Err)
			}
			nErr++
			continue
		}
		if err != nil {
			t.Errorf("DecodeJSON(%q): %v; Python accepts it", b, err)
			continue
		}
		want, err := fromTagged(a.V)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Equal(want) {
			t.Errorf("DecodeJSON(%q):\n got %s\nwant %s", b, got, want)
			continue
		}
		nOK++
	}
	t.Logf("%d inputs: %d decoded alike, %d refused by both", len(ins), nOK, nErr)
}

// vectorCase is one line of testdata/vectors/*.jsonl.
type vectorCase struct {
	ID         string          `json:"id"`
	Kind       string          `json:"kind"`
	Input      json.RawMessage `json:"input"`
	Expected   json.RawMessage `json:"expected"`
	PythonRepr string          `json:"python_repr"`
}

func loadVectors(t testing.TB) []vectorCase {
	t.Helper()
	files, _ := filepath.Glob("../../testdata/vectors/*.jsonl")
	if len(files) == 0 {
		t.Fatal("no vectors in testdata/vectors")
	}
	var out []vectorCase
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range bytes.Split(data, []byte("\n")) {
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			var c vectorCase
			if err := json.Unmarshal(line, &c); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			out = append(out, c)
		}
	}
	return out
}

// asciiEscapeJSON rewrites the non-ASCII characters of a UTF-8 JSON text
// (they can only be inside strings) as \u escapes, so that DecodeJSON, which
// reads bytes as Latin-1, sees the same text. The test uses it to read the
// vectors' objects in order without any other JSON parser.
func asciiEscapeJSON(raw []byte) []byte {
	var out []byte
	for len(raw) > 0 {
		r, n := utf8.DecodeRune(raw)
		if r < utf8.RuneSelf {
			out = append(out, raw[0])
		} else {
			out = appendUEscape(out, r)
		}
		raw = raw[n:]
	}
	return out
}

// signedPayload returns the JSON inside an uncompressed signing.dumps token
// "PAYLOAD:TS:SIG" (spec §2.6).
func signedPayload(t testing.TB, signed string) []byte {
	t.Helper()
	payload, _, _ := strings.Cut(signed, ":")
	b, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		t.Fatalf("payload of %q: %v", signed, err)
	}
	return b
}

// TestSigningDumpsVectors: for every signing.dumps vector that Django did
// not compress, EncodeJSON(input.obj) is exactly the JSON Django signed, and
// DecodeJSON of Django's JSON gives the object back.
func TestSigningDumpsVectors(t *testing.T) {
	n := 0
	for _, c := range loadVectors(t) {
		if c.Kind != "signing.dumps" {
			continue
		}
		var in struct {
			Obj json.RawMessage `json:"obj"`
		}
		var exp struct {
			Signed     string `json:"signed"`
			Compressed bool   `json:"compressed"`
		}
		if err := json.Unmarshal(c.Input, &in); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(c.Expected, &exp); err != nil {
			t.Fatal(err)
		}
		if exp.Compressed {
			continue
		}
		obj, err := DecodeJSON(asciiEscapeJSON(in.Obj))
		if err != nil {
			t.Fatalf("%s: input.obj: %v", c.ID, err)
		}
		want := signedPayload(t, exp.Signed)
		got, err := EncodeJSON(obj)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: EncodeJSON =\n%s, %v\nDjango signed\n%s", c.ID, got, err, want)
		}
		back, err := DecodeJSON(want)
		if err != nil || !back.Equal(obj) {
			t.Errorf("%s: DecodeJSON(Django's JSON) = %s, %v; want %s", c.ID, back, err, obj)
		}
		if back.Repr() != c.PythonRepr && c.PythonRepr != "" {
			t.Errorf("%s: Repr = %s, python_repr %s", c.ID, back.Repr(), c.PythonRepr)
		}
		n++
	}
	if n == 0 {
		t.Fatal("no uncompressed signing.dumps vectors")
	}
	t.Logf("%d uncompressed signing.dumps vectors match byte for byte", n)
}

// sessionJSON is a typical logged-in session as Django's JSONSerializer
// writes it.
const sessionJSON = `{"_auth_user_id":"1","_auth_user_backend":"django.contrib.auth.backends.ModelBackend",` +
	`"_auth_user_hash":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08","cart":[1,2,3]}`

func TestDecodeJSONSessionAllocs(t *testing.T) {
	data := []byte(sessionJSON)
	n := testing.AllocsPerRun(100, func() { _, _ = DecodeJSON(data) })
	if n > 3 { // string(data), Dict+entries, List+items
		t.Errorf("DecodeJSON(session) allocates %.0f times, want <= 3", n)
	}
	n = testing.AllocsPerRun(100, func() { _, _ = DecodeJSONString(sessionJSON) })
	if n > 2 {
		t.Errorf("DecodeJSONString(session) allocates %.0f times, want <= 2", n)
	}
	v, _ := DecodeJSON(data)
	n = testing.AllocsPerRun(100, func() { _, _ = EncodeJSON(v) })
	if n > 1 {
		t.Errorf("EncodeJSON(session) allocates %.0f times, want 1", n)
	}
	if out, _ := EncodeJSON(v); string(out) != sessionJSON {
		t.Errorf("session round trip: %s", out)
	}
}

func BenchmarkDecodeJSONSession(b *testing.B) {
	data := []byte(sessionJSON)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := DecodeJSON(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeJSONStringSession(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(sessionJSON)))
	for b.Loop() {
		if _, err := DecodeJSONString(sessionJSON); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeJSONSession(b *testing.B) {
	v, err := DecodeJSONString(sessionJSON)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(sessionJSON)))
	for b.Loop() {
		if _, err := EncodeJSON(v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendJSONSession(b *testing.B) {
	v, _ := DecodeJSONString(sessionJSON)
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = AppendJSON(buf[:0], v); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzDecodeJSON: DecodeJSON never panics; what it accepts encodes, and
// decoding that encoding gives an Equal value whose encoding is the same.
func FuzzDecodeJSON(f *testing.F) {
	for _, c := range loadVectors(f) {
		var exp struct {
			Signed     string `json:"signed"`
			Compressed bool   `json:"compressed"`
		}
		if c.Kind == "signing.dumps" && json.Unmarshal(c.Expected, &exp) == nil && !exp.Compressed {
			f.Add(signedPayload(f, exp.Signed))
		}
		f.Add(asciiEscapeJSON(c.Input))
	}
	f.Add([]byte(sessionJSON))
	for _, b := range decodeCorpus()[:60] {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := DecodeJSON(data)
		if err != nil {
			if !errors.Is(err, ErrInvalidJSON) {
				t.Fatalf("error not ErrInvalidJSON: %v", err)
			}
			return
		}
		enc, err := EncodeJSON(v)
		if err != nil {
			t.Fatalf("EncodeJSON of decoded %q: %v", data, err)
		}
		v2, err := DecodeJSON(enc)
		if err != nil {
			t.Fatalf("DecodeJSON(EncodeJSON(v)) = %v for %q", err, enc)
		}
		if !v2.Equal(v) {
			t.Fatalf("round trip changed the value: %s -> %s", v, v2)
		}
		enc2, err := EncodeJSON(v2)
		if err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding not stable: %s vs %s", enc, enc2)
		}
		if _, err := NormalJSON(v); err != nil {
			t.Fatalf("NormalJSON: %v", err)
		}
		_ = v.Repr()
	})
}

// TestSWARSpecial: the word test finds a special string byte exactly when
// one of the eight bytes is '"', '\\', below 0x20 or at least 0x80.
func TestSWARSpecial(t *testing.T) {
	special := func(c byte) bool { return c == '"' || c == '\\' || c < 0x20 || c >= 0x80 }
	r := rand.New(rand.NewSource(5))
	check := func(w uint64) {
		want := false
		for i := range 8 {
			want = want || special(byte(w>>(8*i)))
		}
		if got := swarSpecial(w) != 0; got != want {
			t.Fatalf("swarSpecial(%#x) = %v, want %v", w, got, want)
		}
	}
	for c := range 256 {
		for pos := range 8 {
			w := uint64(0x6161616161616161)
			w = w&^(0xFF<<(8*pos)) | uint64(c)<<(8*pos)
			check(w)
		}
	}
	for range 200000 {
		var w uint64
		for i := range 8 {
			c := byte(0x20 + r.Intn(0x60))
			if r.Intn(16) == 0 {
				c = byte(r.Intn(256))
			}
			w |= uint64(c) << (8 * i)
		}
		check(w)
	}
}
