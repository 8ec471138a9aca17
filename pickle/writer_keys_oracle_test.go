package pickle

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/djsession/djsession/pickle/py"
)

// The oracle for dict-key sharing: CPython's json.loads memoizes equal
// object keys within one call, so pickle.dumps(json.loads(doc), p) writes a
// repeated key as a BINGET of its first occurrence. These tests send JSON
// documents to /usr/bin/python3 and require our Dumps of py.DecodeJSON(doc)
// (the path a JSON session takes to become a pickled one) to be those bytes.

// keysOracleScript answers one line per request {"doc": TEXT, "ordered":
// bool} with {"2": HEX, ..., "5": HEX, "long_binget": [protocols whose
// pickle holds LONG_BINGET], "key_gets": BINGETs at protocol 4} or
// {"error": ...}. Protocols 0 and 1 are not asked: Dumps writes 2 to 5.
const keysOracleScript = `import collections, json, pickle, pickletools, sys
for line in sys.stdin:
    try:
        req = json.loads(line)
        hook = collections.OrderedDict if req["ordered"] else None
        v = json.loads(req["doc"], object_pairs_hook=hook)
        res = {"long_binget": [], "gets": 0}
        for p in (2, 3, 4, 5):
            b = pickle.dumps(v, p)
            res[str(p)] = b.hex()
            names = [op.name for op, _, _ in pickletools.genops(b)]
            if "LONG_BINGET" in names:
                res["long_binget"].append(p)
            if p == 4:
                res["gets"] = names.count("BINGET") + names.count("LONG_BINGET")
    except Exception as e:
        res = {"error": repr(e)}
    sys.stdout.write(json.dumps(res) + "\n")
    sys.stdout.flush()
`

type keysDoc struct {
	name    string
	doc     string
	ordered bool
}

type keysAnswer struct {
	Hex        map[string]string
	LongBinget []int
	Gets       int
	Error      string
}

func (a *keysAnswer) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	a.Hex = map[string]string{}
	for k, v := range raw {
		var err error
		switch k {
		case "long_binget":
			err = json.Unmarshal(v, &a.LongBinget)
		case "gets":
			err = json.Unmarshal(v, &a.Gets)
		case "error":
			err = json.Unmarshal(v, &a.Error)
		default:
			var s string
			err = json.Unmarshal(v, &s)
			a.Hex[k] = s
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// keysRunOracle sends every document to CPython and returns its answers in
// order.
func keysRunOracle(t *testing.T, docs []keysDoc) []keysAnswer {
	t.Helper()
	in := make([]map[string]any, len(docs))
	for i, d := range docs {
		in[i] = map[string]any{"doc": d.doc, "ordered": d.ordered}
	}
	return pyStream[map[string]any, keysAnswer](t, exec.Command(dumpPython, "-c", keysOracleScript), in)
}

// keysQuote writes s as a JSON string the way json.dumps does by default
// (ensure_ascii): every non-ASCII code point as \uXXXX, astral ones as a
// surrogate pair, a lone surrogate (WTF-8 in s) as its own \uXXXX.
func keysQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
			i++
			continue
		case c < 0x20:
			fmt.Fprintf(&b, "\\u%04x", c)
			i++
			continue
		case c < 0x80:
			b.WriteByte(c)
			i++
			continue
		}
		if c == 0xed && i+2 < len(s) && s[i+1] >= 0xa0 { // a lone surrogate
			r := rune(c&0x0f)<<12 | rune(s[i+1]&0x3f)<<6 | rune(s[i+2]&0x3f)
			fmt.Fprintf(&b, "\\u%04x", r)
			i += 3
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r > 0xffff {
			r1, r2 := utf16.EncodeRune(r)
			fmt.Fprintf(&b, "\\u%04x\\u%04x", r1, r2)
		} else {
			fmt.Fprintf(&b, "\\u%04x", r)
		}
		i += n
	}
	b.WriteByte('"')
	return b.String()
}

// keysPool holds the keys the generator draws from: repeated keys of two or
// more characters, the one-character keys CPython keeps as singletons
// (ASCII and Latin-1), one-character keys that are not singletons (U+0100
// and above, astral), the empty key, non-ASCII keys, a lone surrogate, a key
// long enough for BINUNICODE, and keys that also appear as values.
var keysPool = []string{
	"ab", "sku", "qty", "id", "items", "name", "_auth_user_id", "price", "tags",
	"a", "x", "1", " ", "\u00e9", "\u00ff",
	"\u0100", "\u4e2d", "\U0001f389",
	"",
	"Zo\u00eb", "\u043a\u043b\u044e\u0447", "\U0001f389\U0001f389", "caf\u00e9 \u4e2d",
	"\xed\xa0\x80x", // "\ud800x"
	strings.Repeat("long-key-", 40),
}

type keysGen struct {
	r *rand.Rand
	b strings.Builder
}

func (g *keysGen) key() string {
	switch g.r.Intn(5) {
	case 0: // a dynamic key, sometimes repeated
		return "k" + strconv.Itoa(g.r.Intn(40))
	default:
		return keysPool[g.r.Intn(len(keysPool))]
	}
}

func (g *keysGen) scalar() {
	switch g.r.Intn(12) {
	case 0:
		g.b.WriteString("null")
	case 1:
		g.b.WriteString("true")
	case 2:
		g.b.WriteString("false")
	case 3:
		g.b.WriteString(strconv.Itoa(g.r.Intn(300) - 20))
	case 4:
		g.b.WriteString(strconv.FormatInt(g.r.Int63()-g.r.Int63(), 10))
	case 5:
		g.b.WriteString("123456789012345678901234567890")
	case 6:
		g.b.WriteString([]string{"1.5", "-0.0", "1e300", "2.5e-8", "0.1", "Infinity"}[g.r.Intn(6)])
	case 7, 8, 9: // a str equal to a key
		g.b.WriteString(keysQuote(g.key()))
	default:
		g.b.WriteString(keysQuote(fmt.Sprintf("v%d", g.r.Intn(1000))))
	}
}

func (g *keysGen) value(depth int) {
	if depth <= 0 {
		g.scalar()
		return
	}
	switch g.r.Intn(5) {
	case 0, 1:
		g.object(depth)
	case 2:
		n := g.r.Intn(5)
		g.b.WriteByte('[')
		for i := 0; i < n; i++ {
			if i > 0 {
				g.b.WriteString(", ")
			}
			g.value(depth - 1)
		}
		g.b.WriteByte(']')
	default:
		g.scalar()
	}
}

func (g *keysGen) object(depth int) {
	n := g.r.Intn(7)
	g.b.WriteByte('{')
	for i := 0; i < n; i++ {
		if i > 0 {
			g.b.WriteString(", ")
		}
		g.b.WriteString(keysQuote(g.key())) // may repeat a key of this object
		g.b.WriteString(": ")
		g.value(depth - 1)
	}
	g.b.WriteByte('}')
}

func (g *keysGen) doc() string {
	g.b.Reset()
	if g.r.Intn(4) == 0 {
		g.value(4)
	} else {
		g.object(5)
	}
	return g.b.String()
}

// keysSpecialDocs are the documents written by hand: more than 256 memo
// entries (LONG_BINGET), frames, batches, a key of 64 KiB, keys equal to
// values, repeated keys within one object.
func keysSpecialDocs() []keysDoc {
	var docs []keysDoc
	add := func(name, doc string) { docs = append(docs, keysDoc{name: name, doc: doc}) }
	obj := func(keys []string, val func(i int) string) string {
		var b strings.Builder
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(keysQuote(k) + ": " + val(i))
		}
		b.WriteByte('}')
		return b.String()
	}
	// 300 distinct keys, each in its own dict, then all of them again: the
	// repeats past memo index 255 are LONG_BINGET at every protocol.
	keys := make([]string, 300)
	for i := range keys {
		keys[i] = fmt.Sprintf("key%03d", i)
	}
	{
		var b strings.Builder
		b.WriteString(`{"first": [`)
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("{" + keysQuote(k) + ": " + strconv.Itoa(i) + "}")
		}
		b.WriteString(`], "again": ` + obj(keys, func(i int) string { return keysQuote(keys[len(keys)-1-i]) }) + "}")
		add("long_binget", b.String())
	}
	// A dict of 2500 keys (SETITEMS batches) whose keys come back in a list
	// of dicts big enough to span several 64 KiB frames.
	{
		big := make([]string, 2500)
		for i := range big {
			big[i] = fmt.Sprintf("entry-%d-%s", i, strings.Repeat("z", i%50))
		}
		var b strings.Builder
		b.WriteString(`{"big": ` + obj(big, func(i int) string { return strconv.Itoa(i * 7) }) + `, "rows": [`)
		for i := 0; i < 2000; i++ {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(obj([]string{big[(i*37)%len(big)], "sku", "qty"}, func(j int) string {
				return keysQuote(fmt.Sprintf("%s-%d", big[(i+j)%len(big)], j))
			}))
		}
		b.WriteString("]}")
		add("frames_batches", b.String())
	}
	// Exactly 1000 and 1001 entries (the trailing empty batch).
	for _, n := range []int{1000, 1001} {
		ks := keys[:0:0]
		for i := 0; i < n; i++ {
			ks = append(ks, fmt.Sprintf("b%d", i))
		}
		add(fmt.Sprintf("batch_%d", n), "["+obj(ks, func(i int) string { return "null" })+", "+obj(ks[:3], func(i int) string { return "1" })+"]")
	}
	// A key of 70000 characters: its first occurrence is written outside any
	// frame at protocol 4+, its repeat is a BINGET.
	{
		huge := keysQuote(strings.Repeat("h\u00e9", 35000))
		add("huge_key", `{`+huge+`: {`+huge+`: `+huge+`}, "x": [{`+huge+`: 1}]}`)
	}
	add("keys_equal_values", `{"ab": "ab", "list": ["ab", {"ab": "ab", "cd": "ab"}], "cd": {"cd": "cd"}, "ab2": ["cd", "ab"]}`)
	add("value_before_key", `["sku", "qty", {"sku": "qty", "qty": "sku"}, {"qty": 1, "sku": 2}]`)
	add("repeated_in_one_object", `{"ab": 1, "cd": 2, "ab": 3, "": 4, "": 5, "\u4e2d": 6, "\u4e2d": 7, "x": {"ab": 8, "ab": 9}}`)
	add("empty_key", `{"": {"": {"": ""}}, "e": [{"": 1}, {"": 2}]}`)
	add("single_chars", `{"a": {"a": "a"}, "\u00e9": {"\u00e9": 1}, "\u0100": {"\u0100": "\u0100"}, "\ud83c\udf89": [{"\ud83c\udf89": 1}], "\ud800": {"\ud800": 2}}`)
	add("unicode_keys", `{"Zo\u00eb": {"Zo\u00eb": 1, "\u043a\u043b\u044e\u0447": 2}, "list": [{"\u043a\u043b\u044e\u0447": 3}, {"caf\u00e9 \u4e2d": 4, "Zo\u00eb": 5}], "caf\u00e9 \u4e2d": null}`)
	add("session", `{"_auth_user_id": "1", "_auth_user_backend": "django.contrib.auth.backends.ModelBackend", "_auth_user_hash": "0f3d", "cart": {"items": [{"sku": "A-1", "qty": 2, "price": 9.99}, {"sku": "B", "qty": 1, "tags": ["x", null, true, false]}], "coupon": null}, "history": [{"sku": "A-1"}, {"sku": "C", "qty": 3}], "_auth_user_id_copy": "_auth_user_id"}`)
	add("top_level_str", `"ab"`)
	add("top_level_list", `[{"ab": 1}, {"ab": 2}, [{"ab": {"ab": []}}]]`)
	add("empty", `{}`)
	return docs
}

// keysSetOrdered marks every dict in v as an OrderedDict, as
// json.loads(doc, object_pairs_hook=OrderedDict) builds them.
func keysSetOrdered(v py.Value) {
	switch v.Kind() {
	case py.DictKind:
		d, _ := v.Dict()
		d.Ordered = true
		for _, e := range d.Entries() {
			keysSetOrdered(e.Value)
		}
	case py.ListKind:
		l, _ := v.List()
		for _, x := range l.Items {
			keysSetOrdered(x)
		}
	}
}

// TestDumpsSharedKeysEqualCPython: for every document, our pickle of
// py.DecodeJSON(doc) is byte for byte CPython's pickle.dumps(json.loads(doc),
// p) at protocols 2 to 5, with repeated keys shared as CPython shares them;
// also with every dict an OrderedDict.
func TestDumpsSharedKeysEqualCPython(t *testing.T) {
	dumpNeedPython(t)
	docs := keysSpecialDocs()
	g := &keysGen{r: rand.New(rand.NewSource(11))}
	for i := 0; i < 600; i++ {
		docs = append(docs, keysDoc{name: fmt.Sprintf("random/%d", i), doc: g.doc()})
	}
	for i, n := 0, len(docs); i < n; i += 3 {
		d := docs[i]
		d.name += "/ordered"
		d.ordered = true
		docs = append(docs, d)
	}
	res := keysRunOracle(t, docs)
	bad, gets := 0, 0
	longSeen := map[int]bool{}
	for i, d := range docs {
		a := res[i]
		if a.Error != "" {
			t.Errorf("%s: oracle error %s", d.name, a.Error)
			continue
		}
		v, err := py.DecodeJSONString(d.doc)
		if err != nil {
			t.Fatalf("%s: DecodeJSON: %v", d.name, err)
		}
		if d.ordered {
			keysSetOrdered(v)
		}
		for p := 2; p <= 5; p++ {
			want, _ := hex.DecodeString(a.Hex[strconv.Itoa(p)])
			got, err := Dumps(v, p)
			if err != nil {
				t.Fatalf("%s: Dumps(p=%d): %v", d.name, p, err)
			}
			if !bytes.Equal(got, want) {
				bad++
				if bad <= 10 {
					t.Errorf("%s p=%d: bytes differ from CPython at offset %d (len %d vs %d)\n got %s\nwant %s",
						d.name, p, dumpFirstDiff(got, want), len(got), len(want), dumpHexAround(got, want), dumpHexAround(want, got))
				}
			}
		}
		for _, p := range a.LongBinget {
			longSeen[p] = true
		}
		gets += a.Gets
		if d.name == "long_binget" && len(a.LongBinget) != 4 {
			t.Errorf("long_binget: CPython wrote LONG_BINGET only at protocols %v", a.LongBinget)
		}
	}
	if gets == 0 {
		t.Error("no document made CPython share a key")
	}
	t.Logf("%d documents x 4 protocols compared byte for byte with CPython (%d BINGETs at protocol 4, LONG_BINGET at protocols %v); %d differ",
		len(docs), gets, longSeen, bad)
}

// TestDumpsSharedKeysPinned: CPython's bytes for repeated keys, without
// Python: pickle.dumps(json.loads('{"ab": {"ab": "ab", "x": [{"ab": 1,
// "\u4e2d": 2}, {"\u4e2d": 3}]}}'), p). The key 'ab' is written once, the
// value 'ab' again; the one-character '中' (not a CPython singleton) is
// shared as a key; 'x' is a singleton.
func TestDumpsSharedKeysPinned(t *testing.T) {
	v, err := py.DecodeJSONString(`{"ab": {"ab": "ab", "x": [{"ab": 1, "\u4e2d": 2}, {"\u4e2d": 3}]}}`)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		proto int
		want  string
	}{
		{2, "80027d71005802000000616271017d710228680158020000006162710358010000007871045d7105287d71062868014b015803000000e4b8ad71074b02757d710868074b03736575732e"},
		{4, "80049533000000000000007d948c026162947d942868018c026162948c0178945d94287d942868014b018c03e4b8ad944b02757d9468074b03736575732e"},
	} {
		got, err := Dumps(v, c.proto)
		if err != nil {
			t.Fatal(err)
		}
		if hex.EncodeToString(got) != c.want {
			t.Errorf("p%d: got %x\nwant %s", c.proto, got, c.want)
		}
	}
}
