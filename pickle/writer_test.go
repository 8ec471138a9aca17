package pickle

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/djsession/djsession/pickle/py"
)

// The oracle for these tests is CPython itself: testdata/writer/cpython_dump.py
// run by /usr/bin/python3 (3.11, with pytz) builds each value from a tagged
// description, pickles it with pickle.dumps and loads our bytes back.

const dumpPython = "/usr/bin/python3"

var dumpOracleScript = filepath.Join("testdata", "writer", "cpython_dump.py")

// dumpNeedPython skips (or, with DJSESSION_REQUIRE_SERVICES=1, fails) when
// CPython with pytz is not available.
func dumpNeedPython(t testing.TB) {
	t.Helper()
	msg := ""
	if _, err := os.Stat(dumpPython); err != nil {
		msg = dumpPython + " not found"
	} else if out, err := exec.Command(dumpPython, "-c", "import pytz, zoneinfo, pickle").CombinedOutput(); err != nil {
		msg = fmt.Sprintf("%s cannot import pytz/zoneinfo: %v %s", dumpPython, err, out)
	}
	if msg == "" {
		return
	}
	if os.Getenv("DJSESSION_REQUIRE_SERVICES") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// ---------------------------------------------------------------------------
// Tagged values: a JSON description of a Python value both sides can build
// (see cpython_dump.py). ["l", items, id] etc.; id 0 = unshared.

type tagged = []any

// dumpFromTagged builds the py.Value a tagged description names.
func dumpFromTagged(t any, reg map[int]py.Value, tzs map[int]*py.TZInfo) (py.Value, error) {
	a, ok := t.([]any)
	if !ok || len(a) == 0 {
		return py.None, fmt.Errorf("bad tagged value %v", t)
	}
	tag, _ := a[0].(string)
	str := func(i int) string { s, _ := a[i].(string); return s }
	num := func(x any) int64 {
		switch n := x.(type) {
		case json.Number:
			i, _ := n.Int64()
			return i
		case float64:
			return int64(n)
		case int:
			return int64(n)
		case int64:
			return n
		}
		return 0
	}
	ident := func(i int) int {
		if len(a) > i && a[i] != nil {
			return int(num(a[i]))
		}
		return 0
	}
	items := func() ([]py.Value, error) {
		raw, _ := a[1].([]any)
		out := make([]py.Value, 0, len(raw))
		for _, x := range raw {
			v, err := dumpFromTagged(x, reg, tzs)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
	switch tag {
	case "N":
		return py.None, nil
	case "T":
		return py.Bool(true), nil
	case "F":
		return py.Bool(false), nil
	case "i":
		b, ok := new(big.Int).SetString(str(1), 10)
		if !ok {
			return py.None, fmt.Errorf("bad int %q", str(1))
		}
		return py.BigInt(b), nil
	case "f":
		raw, err := hex.DecodeString(str(1))
		if err != nil || len(raw) != 8 {
			return py.None, fmt.Errorf("bad float %q", str(1))
		}
		return py.Float(math.Float64frombits(binary.BigEndian.Uint64(raw))), nil
	case "s", "y", "ba":
		raw, err := hex.DecodeString(str(1))
		if err != nil {
			return py.None, err
		}
		switch tag {
		case "s":
			return py.Str(string(raw)), nil
		case "y":
			return py.Bytes(raw), nil
		}
		return py.NewByteArray(raw), nil
	case "ref":
		v, ok := reg[int(num(a[1]))]
		if !ok {
			return py.None, fmt.Errorf("unknown ref %v", a[1])
		}
		return v, nil
	case "l":
		l := &py.List{}
		v := py.ListOf(l)
		if id := ident(2); id != 0 {
			reg[id] = v
		}
		its, err := items()
		l.Items = its
		return v, err
	case "t":
		its, err := items()
		v := py.NewTuple(its...)
		if id := ident(2); id != 0 {
			reg[id] = v
		}
		return v, err
	case "d", "od":
		raw, _ := a[1].([]any)
		d := py.NewDict(len(raw))
		d.Ordered = tag == "od"
		v := py.DictOf(d)
		if id := ident(2); id != 0 {
			reg[id] = v
		}
		for _, kv := range raw {
			pair, _ := kv.([]any)
			if len(pair) != 2 {
				return py.None, fmt.Errorf("bad pair %v", kv)
			}
			k, err := dumpFromTagged(pair[0], reg, tzs)
			if err != nil {
				return py.None, err
			}
			x, err := dumpFromTagged(pair[1], reg, tzs)
			if err != nil {
				return py.None, err
			}
			if err := d.Set(k, x); err != nil {
				return py.None, err
			}
		}
		return v, nil
	case "set", "fs":
		its, err := items()
		if err != nil {
			return py.None, err
		}
		var v py.Value
		if tag == "set" {
			v, err = py.NewSet(its...)
		} else {
			v, err = py.NewFrozenSet(its...)
		}
		if id := ident(2); id != 0 {
			reg[id] = v
		}
		return v, err
	case "dt", "date", "time", "td":
		raw, _ := a[1].([]any)
		f := make([]int, len(raw))
		for i, x := range raw {
			f[i] = int(num(x))
		}
		var tz *py.TZInfo
		if len(a) > 2 && a[2] != nil {
			var err error
			if tz, err = dumpTZFromTagged(a[2], tzs); err != nil {
				return py.None, err
			}
		}
		var v py.Value
		var err error
		switch tag {
		case "dt":
			v, err = py.NewDateTime(py.DateTime{Year: f[0], Month: f[1], Day: f[2], Hour: f[3], Minute: f[4],
				Second: f[5], Microsecond: f[6], Fold: f[7], TZ: tz})
		case "date":
			v, err = py.NewDate(py.Date{Year: f[0], Month: f[1], Day: f[2]})
		case "time":
			v, err = py.NewTime(py.Time{Hour: f[0], Minute: f[1], Second: f[2], Microsecond: f[3], Fold: f[4], TZ: tz})
		default:
			v, err = py.NewTimeDelta(int64(f[0]), int64(f[1]), int64(f[2]))
		}
		if id := ident(3); id != 0 {
			reg[id] = v
		}
		return v, err
	case "dec":
		return py.ParseDecimal(str(1))
	case "uuid":
		raw, err := hex.DecodeString(str(1))
		if err != nil || len(raw) != 16 {
			return py.None, fmt.Errorf("bad uuid %q", str(1))
		}
		return py.UUID([16]byte(raw)), nil
	}
	return py.None, fmt.Errorf("unknown tag %q", tag)
}

func dumpTZFromTagged(t any, tzs map[int]*py.TZInfo) (*py.TZInfo, error) {
	a, _ := t.([]any)
	if len(a) == 0 {
		return nil, fmt.Errorf("bad tz %v", t)
	}
	num := func(x any) int64 {
		switch n := x.(type) {
		case json.Number:
			i, _ := n.Int64()
			return i
		case float64:
			return int64(n)
		case int:
			return int64(n)
		case int64:
			return n
		}
		return 0
	}
	switch a[0] {
	case "utc":
		return py.UTC, nil
	case "pytz":
		return py.PytzUTC, nil
	case "zi":
		return py.ZoneInfo(a[1].(string))
	case "tzref":
		return tzs[int(num(a[1]))], nil
	case "fixed":
		name, _ := a[2].(string)
		tz, err := py.FixedZone(time.Duration(num(a[1]))*time.Microsecond, name)
		if err == nil && len(a) > 3 && num(a[3]) != 0 {
			tzs[int(num(a[3]))] = tz
		}
		return tz, err
	}
	return nil, fmt.Errorf("bad tz %v", t)
}

// dumpParse turns a tagged description into a value, round-tripping it
// through JSON so that the same code serves generated and Python-made cases.
func dumpParse(t testing.TB, tv any) py.Value {
	t.Helper()
	raw, err := json.Marshal(tv)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		t.Fatal(err)
	}
	v, err := dumpFromTagged(x, map[int]py.Value{}, map[int]*py.TZInfo{})
	if err != nil {
		t.Fatalf("building %s: %v", raw, err)
	}
	return v
}

// ---------------------------------------------------------------------------
// Tagged constructors for the corpus.

func tNone() tagged          { return tagged{"N"} }
func tBool(b bool) tagged    { return map[bool]tagged{true: {"T"}, false: {"F"}}[b] }
func tInt(i int64) tagged    { return tagged{"i", strconv.FormatInt(i, 10)} }
func tBig(b *big.Int) tagged { return tagged{"i", b.String()} }
func tFloat(f float64) tagged {
	return tagged{"f", fmt.Sprintf("%016x", math.Float64bits(f))}
}
func tStr(s string) tagged       { return tagged{"s", hex.EncodeToString([]byte(s))} }
func tBytes(b []byte) tagged     { return tagged{"y", hex.EncodeToString(b)} }
func tByteArray(b []byte) tagged { return tagged{"ba", hex.EncodeToString(b)} }
func tList(items ...tagged) tagged {
	return tagged{"l", dumpAnyList(items), 0}
}
func tTuple(items ...tagged) tagged { return tagged{"t", dumpAnyList(items), 0} }
func tDict(kv ...tagged) tagged     { return tagged{"d", dumpPairs(kv), 0} }
func tODict(kv ...tagged) tagged    { return tagged{"od", dumpPairs(kv), 0} }
func tSet(items ...tagged) tagged   { return tagged{"set", dumpAnyList(items), 0} }
func tFSet(items ...tagged) tagged  { return tagged{"fs", dumpAnyList(items), 0} }
func tWithID(t tagged, id int) tagged {
	c := append(tagged(nil), t...)
	if c[0] == "dt" || c[0] == "date" || c[0] == "time" || c[0] == "td" {
		for len(c) < 4 {
			c = append(c, nil)
		}
		c[3] = id
	} else {
		c[2] = id
	}
	return c
}
func tRef(id int) tagged { return tagged{"ref", id} }
func tDT(y, mo, d, h, mi, s, us, fold int, tz any) tagged {
	return tagged{"dt", []any{y, mo, d, h, mi, s, us, fold}, tz}
}
func tDate(y, m, d int) tagged { return tagged{"date", []any{y, m, d}, nil} }
func tTime(h, mi, s, us, fold int, tz any) tagged {
	return tagged{"time", []any{h, mi, s, us, fold}, tz}
}
func tTD(d, s, us int64) tagged { return tagged{"td", []any{d, s, us}, nil} }
func tDec(s string) tagged      { return tagged{"dec", s} }
func tUUID(h string) tagged     { return tagged{"uuid", h} }

var (
	tzUTC  = []any{"utc"}
	tzPytz = []any{"pytz"}
)

func tzFixed(us int64, name string) []any { return []any{"fixed", us, name, 0} }
func tzZone(key string) []any             { return []any{"zi", key} }

func dumpAnyList(items []tagged) []any {
	out := make([]any, len(items))
	for i, x := range items {
		out[i] = x
	}
	return out
}

func dumpPairs(kv []tagged) []any {
	out := make([]any, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, []any{kv[i], kv[i+1]})
	}
	return out
}

// ---------------------------------------------------------------------------
// The corpus.

type dumpCase struct {
	name     string
	v        tagged
	jsonLike bool // bytes must equal CPython's
}

func dumpStrOf(n int, seed int) string {
	var b strings.Builder
	b.Grow(n)
	for i := 0; b.Len() < n; i++ {
		b.WriteByte(byte('a' + (i*7+seed)%26))
	}
	return b.String()
}

// dumpGen makes random values. Keys and set elements are unique by
// construction, so Go's and Python's dict/set dedup never disagree.
type dumpGen struct {
	r      *rand.Rand
	serial int
	types  bool // also non-JSON kinds
}

func (g *dumpGen) str() string {
	g.serial++
	switch g.r.Intn(12) {
	case 0:
		return ""
	case 1:
		return string(rune('a' + g.r.Intn(26)))
	case 2:
		return string(rune(0xa0 + g.r.Intn(0x60))) // one latin-1 char
	case 3:
		return "Zoë Ñandú 漢字 🎉" + strconv.Itoa(g.serial)
	case 4:
		return "\xed\xa0\x80lone" + strconv.Itoa(g.serial) // a lone surrogate (WTF-8)
	case 5:
		return dumpStrOf(200+g.r.Intn(120), g.serial) // around the 255-byte SHORT_BINUNICODE limit
	case 6:
		if g.r.Intn(40) == 0 {
			return dumpStrOf(60000+g.r.Intn(10000), g.serial) // around the 64 KiB frame limit
		}
		return dumpStrOf(1000+g.r.Intn(4000), g.serial)
	}
	return "k" + strconv.Itoa(g.serial) + dumpStrOf(g.r.Intn(20), g.serial)
}

func (g *dumpGen) int() tagged {
	switch g.r.Intn(8) {
	case 0:
		return tInt(int64(g.r.Intn(256)))
	case 1:
		return tInt(int64(g.r.Intn(1 << 16)))
	case 2:
		return tInt(int64(int32(g.r.Uint32())))
	case 3:
		return tInt(int64(g.r.Uint64()))
	case 4:
		b := new(big.Int).Lsh(big.NewInt(1), uint(64+g.r.Intn(2100)))
		b.Sub(b, big.NewInt(int64(g.r.Intn(1000))))
		if g.r.Intn(2) == 0 {
			b.Neg(b)
		}
		return tBig(b)
	}
	return tInt(int64(g.r.Intn(2000)) - 1000)
}

func (g *dumpGen) float() tagged {
	switch g.r.Intn(6) {
	case 0:
		return tFloat(math.Float64frombits(g.r.Uint64()))
	case 1:
		return tFloat([]float64{0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), math.NaN(), 5e-324, 1e300, 0.1}[g.r.Intn(8)])
	}
	return tFloat(g.r.NormFloat64() * 1e3)
}

func (g *dumpGen) key() tagged {
	g.serial++
	switch g.r.Intn(6) {
	case 0:
		return tInt(int64(g.serial) + 1<<40)
	case 1:
		if g.types {
			return tTuple(tInt(int64(g.serial)), tStr("t"))
		}
	}
	return tStr(fmt.Sprintf("key%d-%s", g.serial, g.str()))
}

func (g *dumpGen) value(depth int) tagged {
	n := 9
	if g.types {
		n = 19
	}
	k := g.r.Intn(n)
	if depth <= 0 && k >= 6 && k <= 8 {
		k = g.r.Intn(6)
	}
	switch k {
	case 0:
		return tNone()
	case 1:
		return tBool(g.r.Intn(2) == 0)
	case 2:
		return g.int()
	case 3:
		return g.float()
	case 4, 5:
		return tStr(g.str())
	case 6, 7, 8:
		m := g.r.Intn(6)
		if g.r.Intn(20) == 0 && depth >= 3 {
			m = 900 + g.r.Intn(300) // batching; with atoms only
			depth = 1
		}
		items := make([]tagged, 0, 2*m)
		switch k {
		case 6:
			for i := 0; i < m; i++ {
				items = append(items, g.value(depth-1))
			}
			return tList(items...)
		case 7:
			for i := 0; i < m%5; i++ {
				items = append(items, g.value(depth-1))
			}
			return tTuple(items...)
		}
		for i := 0; i < m; i++ {
			items = append(items, g.key(), g.value(depth-1))
		}
		if g.types && g.r.Intn(4) == 0 {
			return tODict(items...)
		}
		return tDict(items...)
	case 9:
		b := make([]byte, g.r.Intn(4)*g.r.Intn(300))
		g.r.Read(b)
		return tBytes(b)
	case 10:
		b := make([]byte, g.r.Intn(3)*g.r.Intn(50))
		g.r.Read(b)
		return tByteArray(b)
	case 11, 12:
		m := g.r.Intn(5)
		items := make([]tagged, m)
		for i := range items {
			g.serial++
			items[i] = tInt(int64(g.serial))
		}
		if k == 11 {
			return tSet(items...)
		}
		return tFSet(items...)
	case 13:
		tzs := []any{nil, tzUTC, tzPytz, tzZone("Europe/Paris"), tzFixed(int64(g.r.Intn(1000))*60e6-500*60e6, []string{"", "X", "EST+1"}[g.r.Intn(3)])}
		return tDT(1+g.r.Intn(9999), 1+g.r.Intn(12), 1+g.r.Intn(28), g.r.Intn(24), g.r.Intn(60), g.r.Intn(60), g.r.Intn(1000000), g.r.Intn(2), tzs[g.r.Intn(len(tzs))])
	case 14:
		return tDate(1+g.r.Intn(9999), 1+g.r.Intn(12), 1+g.r.Intn(28))
	case 15:
		tzs := []any{nil, tzUTC, tzFixed(-3600e6, ""), tzPytz}
		return tTime(g.r.Intn(24), g.r.Intn(60), g.r.Intn(60), g.r.Intn(1000000), g.r.Intn(2), tzs[g.r.Intn(len(tzs))])
	case 16:
		return tTD(int64(g.r.Intn(2000000000))-1000000000, int64(g.r.Intn(86400)), int64(g.r.Intn(1000000)))
	case 17:
		return tDec([]string{"1.50", "-0", "1E+3", "NaN", "-Infinity", "sNaN", "1", "12345.6789", "-1.2E-7"}[g.r.Intn(9)])
	}
	u := make([]byte, 16)
	g.r.Read(u)
	if g.r.Intn(4) == 0 {
		clear(u[:15])
	}
	return tUUID(hex.EncodeToString(u))
}

func dumpJSONCorpus() []dumpCase {
	var cs []dumpCase
	add := func(name string, v tagged) { cs = append(cs, dumpCase{name, v, true}) }
	add("none", tNone())
	add("true", tBool(true))
	add("false", tBool(false))
	for _, i := range []int64{0, 1, 255, 256, 65535, 65536, -1, -128, -129, -256, math.MaxInt32, math.MaxInt32 + 1,
		math.MinInt32, math.MinInt32 - 1, math.MaxInt64, math.MinInt64, 1 << 40, -(1 << 40), 1 << 55, -(1 << 56)} {
		add("int/"+strconv.FormatInt(i, 10), tInt(i))
	}
	for _, e := range []int{63, 64, 65, 100, 127, 128, 2039, 2040, 2041, 2047, 2048, 2049, 8000} {
		b := new(big.Int).Lsh(big.NewInt(1), uint(e))
		for _, d := range []int64{-1, 0, 1} {
			x := new(big.Int).Add(b, big.NewInt(d))
			add("bigint/2^"+strconv.Itoa(e)+"+"+strconv.FormatInt(d, 10), tBig(x))
			add("bigint/-2^"+strconv.Itoa(e)+"+"+strconv.FormatInt(d, 10), tBig(new(big.Int).Neg(x)))
		}
	}
	ten600, _ := new(big.Int).SetString("1"+strings.Repeat("0", 600), 10)
	add("bigint/10^600", tBig(ten600))
	for _, f := range []float64{0, math.Copysign(0, -1), 1.5, 0.1, 1e300, 5e-324, math.Inf(1), math.Inf(-1), math.NaN(), 1e16, 1234567.0} {
		add("float/"+strconv.FormatFloat(f, 'g', -1, 64), tFloat(f))
	}
	for _, s := range []string{"", "a", "é", "ÿ", "Ā", "ab", "Zoë Ñandú", "漢字かな", "🎉🐍", "\xed\xa0\x80", "\xed\xbf\xbf", "\xed\xa0\xbd\xed\xb8\x80", "a\x00b"} {
		add("str/"+s, tStr(s))
	}
	for _, n := range []int{255, 256, 65527, 65535, 65536, 65537, 70000, 200000} {
		add("str/len"+strconv.Itoa(n), tStr(dumpStrOf(n, n)))
		add("liststr/len"+strconv.Itoa(n), tList(tStr("q"), tStr(dumpStrOf(n, n)), tStr("rr")))
	}
	for n := 0; n <= 5; n++ {
		items := make([]tagged, n)
		for i := range items {
			items[i] = tInt(int64(i))
		}
		add("tuple/"+strconv.Itoa(n), tTuple(items...))
	}
	add("tuple/nested", tTuple(tTuple(), tTuple(tNone()), tList(tTuple(tStr("x"), tStr("yy")))))
	for _, n := range []int{0, 1, 2, 999, 1000, 1001, 2000, 2001, 3500} {
		items := make([]tagged, n)
		kv := make([]tagged, 0, 2*n)
		for i := range items {
			items[i] = tInt(int64(i * 37))
			kv = append(kv, tStr(fmt.Sprintf("key%d", i)), tInt(int64(i)))
		}
		add("list/"+strconv.Itoa(n), tList(items...))
		add("dict/"+strconv.Itoa(n), tDict(kv...))
	}
	// §6.3 and §9.8 examples, and the typical session.
	add("spec/a1", tDict(tStr("a"), tInt(1)))
	add("spec/auth", tDict(tStr("_auth_user_id"), tStr("1")))
	add("session", dumpSessionTagged())
	// repeated singletons: '' and one-character strs are one object in CPython.
	add("singletons", tList(tStr("a"), tStr("a"), tStr(""), tStr(""), tStr("é"), tStr("é"), tStr("1"), tDict(tStr("1"), tStr("a"))))
	// Framing: lists of k strs of length l crossing 64 KiB at many offsets.
	for _, l := range []int{1, 7, 100, 253, 254, 255, 256, 1000, 4093, 30000, 65000} {
		k := 70000/(l+10) + 3
		if k > 20000 {
			k = 20000
		}
		items := make([]tagged, k)
		for i := range items {
			items[i] = tStr(dumpStrOf(l, i) + strconv.Itoa(i))
		}
		add(fmt.Sprintf("frames/list%dx%d", k, l), tList(items...))
	}
	for k := 13100; k <= 13120; k++ { // BININT items: 5 bytes each
		items := make([]tagged, k)
		for i := range items {
			items[i] = tInt(int64(100000 + i))
		}
		add(fmt.Sprintf("frames/ints%d", k), tList(items...))
	}
	for off := -12; off <= 12; off++ {
		// a nested list whose big str ends just around the frame target
		n := 65536 - 16 + off
		add(fmt.Sprintf("frames/nested%+d", off), tList(tList(tStr(dumpStrOf(n, off+20))), tStr("b"), tInt(7), tDict(tStr("k"), tTuple(tStr("xy"), tNone()))))
		add(fmt.Sprintf("frames/flat%+d", off), tList(tStr(dumpStrOf(n, off+20)), tStr("b"), tFloat(1.5), tStr("cd")))
	}
	{
		kv := make([]tagged, 0, 6000)
		for i := 0; i < 3000; i++ {
			kv = append(kv, tStr(fmt.Sprintf("key-%05d", i)), tStr(dumpStrOf(30+i%50, i)))
		}
		add("frames/dict3000", tDict(kv...))
	}
	g := &dumpGen{r: rand.New(rand.NewSource(1))}
	for i := 0; i < 300; i++ {
		add(fmt.Sprintf("random/%d", i), g.value(4))
	}
	return cs
}

func dumpSessionTagged() tagged {
	return tDict(
		tStr("_auth_user_id"), tStr("1"),
		tStr("_auth_user_backend"), tStr("django.contrib.auth.backends.ModelBackend"),
		tStr("_auth_user_hash"), tStr("c3ab8ff13720e8ad9047dd39466b3c8974e592c2fa383d4a3960714caef0c4f2"),
		tStr("cart"), tList(tInt(1), tInt(2), tInt(3)),
		tStr("theme"), tStr("dark"),
	)
}

func dumpTypesCorpus() []dumpCase {
	var cs []dumpCase
	add := func(name string, v tagged) { cs = append(cs, dumpCase{name, v, false}) }
	for _, n := range []int{0, 1, 2, 255, 256, 65535, 65536, 70000} {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i * 13)
		}
		add("bytes/"+strconv.Itoa(n), tBytes(b))
		add("bytearray/"+strconv.Itoa(n), tByteArray(b))
	}
	add("bytes/singletons", tList(tBytes([]byte("a")), tBytes([]byte("a")), tBytes(nil), tBytes(nil), tStr("a"), tBytes([]byte{0xe9}), tStr("é"), tByteArray([]byte("a"))))
	add("set/empty", tSet())
	add("set/ints", tSet(tInt(1), tInt(2), tInt(3)))
	add("set/str", tSet(tStr("a"), tStr("b")))
	add("set/tuple", tSet(tTuple(tInt(1), tStr("x"))))
	add("frozenset/empty", tFSet())
	add("frozenset/ints", tFSet(tInt(1), tInt(2)))
	add("frozenset/nested", tFSet(tFSet(tInt(5)), tInt(6)))
	for _, n := range []int{999, 1000, 1001, 2500} {
		items := make([]tagged, n)
		for i := range items {
			items[i] = tInt(int64(i))
		}
		add("set/"+strconv.Itoa(n), tSet(items...))
		add("frozenset/"+strconv.Itoa(n), tFSet(items...))
		kv := make([]tagged, 0, 2*n)
		for i := 0; i < n; i++ {
			kv = append(kv, tInt(int64(i)), tStr("v"))
		}
		add("odict/"+strconv.Itoa(n), tODict(kv...))
	}
	add("odict/empty", tODict())
	add("odict/1", tODict(tStr("a"), tInt(1)))
	add("odict/2", tODict(tStr("a"), tInt(1), tStr("b"), tList()))
	add("datetime/naive", tDT(2020, 1, 1, 0, 0, 0, 0, 0, nil))
	add("datetime/utc", tDT(2024, 2, 29, 13, 45, 30, 123456, 0, tzUTC))
	add("datetime/fold", tDT(2024, 11, 3, 1, 30, 0, 0, 1, nil))
	add("datetime/fixed", tDT(1, 1, 1, 0, 0, 0, 0, 0, tzFixed(-(5*3600+30*60)*1e6, "")))
	add("datetime/named", tDT(9999, 12, 31, 23, 59, 59, 999999, 0, tzFixed(3600e6+1, "Odd")))
	add("datetime/fixed0named", tDT(2000, 1, 1, 0, 0, 0, 0, 0, tzFixed(0, "UTC")))
	add("datetime/pytz", tDT(2020, 1, 1, 12, 0, 0, 0, 0, tzPytz))
	add("datetime/zoneinfo", tDT(2020, 7, 1, 12, 0, 0, 0, 1, tzZone("Europe/Paris")))
	add("date", tDate(1999, 12, 31))
	add("time/naive", tTime(23, 59, 59, 0, 0, nil))
	add("time/tz", tTime(1, 2, 3, 4, 1, tzFixed(7200e6, "")))
	add("time/pytz", tTime(1, 2, 3, 4, 0, tzPytz))
	add("timedelta/neg", tTD(-1, 5, 7))
	add("timedelta/max", tTD(999999999, 86399, 999999))
	add("timedelta/min", tTD(-999999999, 0, 0))
	for _, d := range []string{"1.50", "-0", "1E+3", "NaN", "-Infinity", "sNaN", "1", "0E-1000000"} {
		add("decimal/"+d, tDec(d))
	}
	for _, u := range []string{"00000000000000000000000000000000", "00000000000000000000000000000005",
		"000000000000000000000000ffffffff", "00000000000000007fffffffffffffff", "12345678123456781234567812345678",
		"ffffffffffffffffffffffffffffffff", "80000000000000000000000000000000"} {
		add("uuid/"+u, tUUID(u))
	}
	// Repeats and cycles: the same Go pointer is the same Python object.
	add("repeat/list", tList(tWithID(tList(tInt(1)), 1), tRef(1), tDict(tStr("x"), tRef(1))))
	add("repeat/dict", tList(tWithID(tDict(tStr("a"), tInt(1)), 1), tRef(1)))
	add("repeat/tuple", tList(tWithID(tTuple(tStr("ab"), tInt(1)), 1), tRef(1), tRef(1)))
	add("repeat/set", tList(tWithID(tSet(tInt(1)), 1), tRef(1), tWithID(tFSet(tInt(2)), 2), tRef(2)))
	add("repeat/odict", tList(tWithID(tODict(tStr("a"), tInt(1)), 1), tRef(1)))
	add("repeat/datetime", tList(tWithID(tDT(2020, 1, 1, 0, 0, 0, 0, 0, tzUTC), 1), tRef(1), tDT(2021, 1, 1, 0, 0, 0, 0, 0, tzUTC)))
	add("repeat/timedelta", tList(tWithID(tTD(1, 2, 3), 1), tRef(1)))
	add("repeat/date", tList(tWithID(tDate(2020, 1, 2), 1), tRef(1)))
	add("repeat/tzfixed", tList(
		tDT(2020, 1, 1, 0, 0, 0, 0, 0, []any{"fixed", int64(3600e6), "A", 9}),
		tDT(2020, 1, 2, 0, 0, 0, 0, 0, []any{"tzref", 9}),
		tTime(1, 0, 0, 0, 0, []any{"tzref", 9})))
	add("repeat/zoneinfo", tList(tDT(2020, 1, 1, 0, 0, 0, 0, 0, tzZone("UTC")), tDT(2020, 1, 1, 0, 0, 0, 0, 0, tzZone("UTC")),
		tDT(2020, 1, 1, 0, 0, 0, 0, 0, tzZone("Europe/Paris")), tByteArray([]byte("a"))))
	add("repeat/pytz", tList(tDT(2020, 1, 1, 0, 0, 0, 0, 0, tzPytz), tTime(0, 0, 0, 0, 0, tzPytz)))
	add("repeat/uuid", tList(tUUID("00000000000000000000000000000005"), tUUID("00000000000000000000000000000006")))
	add("repeat/decimal", tList(tDec("1"), tStr("1"), tDec("1")))
	add("cycle/list", tWithID(tList(tInt(1), tRef(1)), 1))
	add("cycle/dict", tWithID(tDict(tStr("self"), tRef(1)), 1))
	add("cycle/odict", tWithID(tODict(tStr("self"), tRef(1)), 1))
	add("cycle/tuple-in-list", tList(tWithID(tList(tStr("x")), 1), tTuple(tRef(1))))
	add("cycle/list-tuple-list", tWithID(tList(tTuple(tStr("ab"), tRef(1)), tTuple(tRef(1), tRef(1), tRef(1), tRef(1))), 1))
	add("cycle/dict-tuple", tWithID(tDict(tStr("t"), tTuple(tRef(1))), 1))
	add("cycle/set-reduce", tWithID(tList(tSet(tInt(1)), tFSet(tTuple(tStr("x"))), tRef(1)), 1))
	add("mixed/djr_types", tDict(
		tStr("aware_dt"), tDT(2024, 2, 29, 13, 45, 30, 123456, 0, tzUTC),
		tStr("naive_dt"), tDT(2020, 1, 1, 0, 0, 0, 0, 0, nil),
		tStr("date"), tDate(1999, 12, 31),
		tStr("time"), tTime(23, 59, 59, 0, 0, nil),
		tStr("decimal"), tDec("12345.6789"),
		tStr("int_set"), tSet(tInt(1), tInt(2), tInt(3)),
		tStr("tuple"), tTuple(tInt(1), tStr("two"), tFloat(3.0)),
		tStr("bytes"), tBytes([]byte("\x00\xffbinary")),
		tStr("uuid"), tUUID("12345678123456781234567812345678"),
	))
	// Framing with non-JSON kinds: many reduce objects crossing 64 KiB.
	{
		items := make([]tagged, 0, 3000)
		for i := 0; i < 3000; i++ {
			items = append(items, tDT(2000+i%20, 1+i%12, 1+i%28, 0, 0, 0, i, 0, tzUTC), tDec(strconv.Itoa(i)+".5"), tUUID(fmt.Sprintf("%032x", i*7919)))
		}
		add("frames/types", tList(items...))
		b := make([]byte, 70000)
		add("frames/bytes", tList(tBytes([]byte("xy")), tBytes(b), tByteArray(b), tBytes([]byte("z"))))
	}
	g := &dumpGen{r: rand.New(rand.NewSource(2)), types: true}
	for i := 0; i < 300; i++ {
		add(fmt.Sprintf("random/%d", i), g.value(4))
	}
	return cs
}

// ---------------------------------------------------------------------------
// Running the oracle.

type dumpOracleResult struct {
	CPython    map[string]string `json:"cpython"`
	LoadsOK    map[string]bool   `json:"loads_ok"`
	OrderOK    bool              `json:"order_ok"`
	LoadErrors map[string]string `json:"load_errors"`
	Error      string            `json:"error"`
}

// dumpRunOracle sends each case (with our pickles) to CPython and returns its
// answers in order.
func dumpRunOracle(t *testing.T, cases []dumpCase, ours []map[string][]byte) []dumpOracleResult {
	t.Helper()
	in := make([]map[string]any, len(cases))
	for i, c := range cases {
		goHex := map[string]string{}
		for p, b := range ours[i] {
			goHex[p] = hex.EncodeToString(b)
		}
		in[i] = map[string]any{"v": c.v, "go": goHex}
	}
	return pyStream[map[string]any, dumpOracleResult](t, exec.Command(dumpPython, dumpOracleScript, "dump"), in)
}

func dumpAll(t *testing.T, cases []dumpCase) ([]py.Value, []map[string][]byte) {
	vals := make([]py.Value, len(cases))
	ours := make([]map[string][]byte, len(cases))
	for i, c := range cases {
		vals[i] = dumpParse(t, c.v)
		ours[i] = map[string][]byte{}
		for p := 2; p <= 5; p++ {
			b, err := Dumps(vals[i], p)
			if err != nil {
				t.Fatalf("%s: Dumps(p=%d): %v", c.name, p, err)
			}
			ours[i][strconv.Itoa(p)] = b
		}
	}
	return vals, ours
}

// TestDumpsJSONLikeEqualsCPython: for JSON-like values in which no object
// repeats, our bytes are CPython's, at every protocol.
func TestDumpsJSONLikeEqualsCPython(t *testing.T) {
	dumpNeedPython(t)
	cases := dumpJSONCorpus()
	_, ours := dumpAll(t, cases)
	res := dumpRunOracle(t, cases, ours)
	bad := 0
	for i, c := range cases {
		r := res[i]
		if r.Error != "" {
			t.Errorf("%s: oracle error %s", c.name, r.Error)
			continue
		}
		for p := 2; p <= 5; p++ {
			ps := strconv.Itoa(p)
			want, _ := hex.DecodeString(r.CPython[ps])
			if got := ours[i][ps]; !bytes.Equal(got, want) {
				bad++
				if bad <= 10 {
					t.Errorf("%s p=%d: bytes differ from CPython at offset %d (len %d vs %d)\n got %s\nwant %s",
						c.name, p, dumpFirstDiff(got, want), len(got), len(want), dumpHexAround(got, want), dumpHexAround(want, got))
				}
			}
			if !r.LoadsOK[ps] {
				t.Errorf("%s p=%d: CPython does not load our pickle to an equal value: %s", c.name, p, r.LoadErrors[ps])
			}
		}
	}
	t.Logf("%d JSON-like cases x 4 protocols compared byte for byte with CPython; %d differ", len(cases), bad)
}

// TestDumpsTypesLoadInCPython: every other kind loads in CPython to an equal
// value of the same types, and where CPython's bytes are deterministic (every
// set iterates in insertion order) they are ours too.
func TestDumpsTypesLoadInCPython(t *testing.T) {
	dumpNeedPython(t)
	cases := dumpTypesCorpus()
	_, ours := dumpAll(t, cases)
	res := dumpRunOracle(t, cases, ours)
	compared, skipped, bad := 0, 0, 0
	for i, c := range cases {
		r := res[i]
		if r.Error != "" {
			t.Errorf("%s: oracle error %s", c.name, r.Error)
			continue
		}
		for p := 2; p <= 5; p++ {
			ps := strconv.Itoa(p)
			if !r.LoadsOK[ps] {
				t.Errorf("%s p=%d: CPython does not load our pickle to an equal value: %s\n%.300x", c.name, p, r.LoadErrors[ps], ours[i][ps])
			}
			if !r.OrderOK {
				skipped++
				continue
			}
			compared++
			want, _ := hex.DecodeString(r.CPython[ps])
			if got := ours[i][ps]; !bytes.Equal(got, want) {
				bad++
				if bad <= 10 {
					t.Errorf("%s p=%d: bytes differ from CPython at offset %d (len %d vs %d)\n got %s\nwant %s",
						c.name, p, dumpFirstDiff(got, want), len(got), len(want), dumpHexAround(got, want), dumpHexAround(want, got))
				}
			}
		}
	}
	t.Logf("%d cases x 4 protocols load equal in CPython; %d compared byte for byte (%d differ), %d not comparable (set order)",
		len(cases), compared, bad, skipped)
}

func dumpFirstDiff(a, b []byte) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func dumpHexAround(a, b []byte) string {
	i := dumpFirstDiff(a, b)
	lo, hi := max(0, i-24), min(len(a), i+24)
	return fmt.Sprintf("[%d:%d] %x", lo, hi, a[lo:hi])
}

// TestDumpsSpecVectors checks the CPython outputs quoted in the spec
// (§6.3, §9.8), without Python.
func TestDumpsSpecVectors(t *testing.T) {
	a1 := py.NewDict(1)
	a1.SetStr("a", py.Int(1))
	auth := py.NewDict(1)
	auth.SetStr("_auth_user_id", py.Str("1"))
	tests := []struct {
		name  string
		v     py.Value
		proto int
		want  string
	}{
		{"§6.3 {'a': 1} p5", py.DictOf(a1), 5, "8005950a000000000000007d948c0161944b01732e"},
		{"§6.3 {'a': 1} p4", py.DictOf(a1), 4, "8004950a000000000000007d948c0161944b01732e"},
		{"§6.3 {'a': 1} p3", py.DictOf(a1), 3, "80037d710058010000006171014b01732e"},
		{"§6.3 {'a': 1} p2", py.DictOf(a1), 2, "80027d710058010000006171014b01732e"},
		{"§9.8 auth p5", py.DictOf(auth), 5, "80059518000000000000007d948c0d5f617574685f757365725f6964948c013194732e"},
		{"§9.8 True p5", py.Bool(true), 5, "8005882e"},
	}
	for _, tc := range tests {
		got, err := Dumps(tc.v, tc.proto)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if hex.EncodeToString(got) != tc.want {
			t.Errorf("%s: got %x, want %s", tc.name, got, tc.want)
		}
	}
}

// TestDumpsVectors: the pickles Django 5.2/6.0 stored in Redis (serializer
// pickle, no compressor). We build the value CPython loads from each and
// require our pickle of it to be byte-identical, with no allowed
// differences: to Django's bytes, or, where CPython itself does not re-dump
// the loaded value to Django's bytes, to CPython's re-dump. (That happens
// only when Django's value shared an interned literal key with a module name,
// as the key 'decimal' of a session that holds a Decimal: the loaded key is
// a new object, so CPython writes the module name again, and so do we.)
func TestDumpsVectors(t *testing.T) {
	dumpNeedPython(t)
	type vec struct{ id, b64 string }
	var vecs []vec
	for _, f := range []string{"django-5.2.jsonl", "django-6.0.jsonl"} {
		raw, err := os.ReadFile(filepath.Join("..", "testdata", "vectors", f))
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range bytes.Split(raw, []byte("\n")) {
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			var c struct {
				ID    string `json:"id"`
				Kind  string `json:"kind"`
				Input struct {
					CacheSpec map[string]any `json:"cache_spec"`
				} `json:"input"`
				Expected struct {
					ValueB64 string `json:"value_b64"`
				} `json:"expected"`
			}
			if err := json.Unmarshal(line, &c); err != nil {
				t.Fatal(err)
			}
			if (c.Kind != "redis_value" && c.Kind != "cached_db") || c.Expected.ValueB64 == "" {
				continue
			}
			spec := c.Input.CacheSpec
			if s, _ := spec["serializer"].(string); s != "" && s != "pickle" {
				continue
			}
			if s, _ := spec["compressor"].(string); s != "" && s != "none" {
				continue
			}
			vecs = append(vecs, vec{f + ":" + c.ID, c.Expected.ValueB64})
		}
	}
	if len(vecs) == 0 {
		t.Fatal("no pickle vectors found")
	}
	cmd := exec.Command(dumpPython, dumpOracleScript, "vectors")
	var in bytes.Buffer
	for _, v := range vecs {
		fmt.Fprintf(&in, "{\"b64\": %q}\n", v.b64)
	}
	cmd.Stdin = &in
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("oracle: %v", err)
	}
	lines := bytes.Split(bytes.TrimSpace(out), []byte("\n"))
	if len(lines) != len(vecs) {
		t.Fatalf("%d answers for %d vectors", len(lines), len(vecs))
	}
	same, redumped := 0, 0
	for i, v := range vecs {
		var r struct {
			Tagged     any    `json:"tagged"`
			Proto      int    `json:"proto"`
			RedumpSame bool   `json:"redump_same"`
			Redump     string `json:"redump"`
			Error      string `json:"error"`
		}
		dec := json.NewDecoder(bytes.NewReader(lines[i]))
		dec.UseNumber()
		if err := dec.Decode(&r); err != nil || r.Error != "" {
			t.Fatalf("%s: %v %s", v.id, err, r.Error)
		}
		want, _ := base64.StdEncoding.DecodeString(v.b64)
		ref := "Django's bytes"
		if !r.RedumpSame {
			// Django's value shared a str object that the loaded value does
			// not (an interned key such as 'decimal' that is also a module
			// name): the value alone gives CPython's re-dump.
			want, _ = hex.DecodeString(r.Redump)
			ref = "CPython's re-dump"
			redumped++
		}
		val, err := dumpFromTagged(r.Tagged, map[int]py.Value{}, map[int]*py.TZInfo{})
		if err != nil {
			t.Fatalf("%s: %v", v.id, err)
		}
		got, err := Dumps(val, r.Proto)
		if err != nil {
			t.Fatalf("%s: %v", v.id, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s (p%d): differs from %s at offset %d (len %d vs %d)\n got %s\nwant %s",
				v.id, r.Proto, ref, dumpFirstDiff(got, want), len(got), len(want), dumpHexAround(got, want), dumpHexAround(want, got))
			continue
		}
		same++
		t.Logf("%s (p%d): equals %s", v.id, r.Proto, ref)
	}
	t.Logf("%d Django vectors: %d byte-identical (%d of them to CPython's re-dump)", len(vecs), same, redumped)
	if same == 0 {
		t.Error("no vector matched byte for byte")
	}
}

// TestDumpsErrors: bad input gives the documented errors, never a panic.
func TestDumpsErrors(t *testing.T) {
	for _, p := range []int{-1, 0, 1, 6} {
		if _, err := Dumps(py.None, p); !errors.Is(err, ErrDumpProtocol) {
			t.Errorf("protocol %d: got %v, want ErrDumpProtocol", p, err)
		}
	}
	deep := py.NewList()
	for i := 0; i < MaxDumpDepth+5; i++ {
		deep = py.NewList(deep)
	}
	if _, err := Dumps(deep, 4); !errors.Is(err, ErrUnpicklable) {
		t.Errorf("deep nesting: got %v, want ErrUnpicklable", err)
	}
	ok := py.NewList()
	for i := 0; i < MaxDumpDepth-1; i++ {
		ok = py.NewList(ok)
	}
	if _, err := Dumps(ok, 4); err != nil {
		t.Errorf("nesting %d: %v", MaxDumpDepth, err)
	}
	// A tuple that holds itself directly (only possible in Go).
	self := py.NewTuple(py.None)
	tp, _ := self.Tuple()
	tp.Items[0] = self
	if _, err := Dumps(self, 4); !errors.Is(err, ErrUnpicklable) {
		t.Errorf("self-holding tuple: got %v, want ErrUnpicklable", err)
	}
	// A frozenset that holds itself.
	fs, _ := py.NewFrozenSet(py.Int(1))
	if _, err := Dumps(fs, 4); err != nil {
		t.Fatal(err)
	}
	if _, err := Dumps(py.Str("bad \xff utf-8"), 4); !errors.Is(err, ErrUnpicklable) {
		t.Errorf("invalid UTF-8: got %v", err)
	}
	dtv, _ := py.NewDateTime(py.DateTime{Year: 2020, Month: 1, Day: 1})
	dt, _ := dtv.DateTime()
	dt.Month = 13 // callers must not, but a bad field is an error, not a bad pickle
	if _, err := Dumps(dtv, 4); !errors.Is(err, ErrUnpicklable) {
		t.Errorf("month 13: got %v", err)
	}
	// A nil *List or *Dict is an empty one.
	for _, v := range []py.Value{py.ListOf(nil), py.DictOf(nil)} {
		out, err := Dumps(v, 2)
		if err != nil || (string(out) != "\x80\x02]q\x00." && string(out) != "\x80\x02}q\x00.") {
			t.Errorf("nil container: %q, %v", out, err)
		}
	}
	dst := []byte("keep")
	out, err := AppendDumps(dst, py.Str("\xff"), 5)
	if err == nil || string(out) != "keep" {
		t.Errorf("AppendDumps on error: %q, %v", out, err)
	}
}

// TestAppendDumps: appending keeps the prefix and equals Dumps.
func TestAppendDumps(t *testing.T) {
	v := dumpSessionValue()
	for p := 2; p <= 5; p++ {
		want, err := Dumps(v, p)
		if err != nil {
			t.Fatal(err)
		}
		got, err := AppendDumps([]byte("prefix"), v, p)
		if err != nil {
			t.Fatal(err)
		}
		if string(got[:6]) != "prefix" || !bytes.Equal(got[6:], want) {
			t.Errorf("p=%d: AppendDumps = %x, want prefix+%x", p, got, want)
		}
	}
}

func dumpSessionValue() py.Value {
	d := py.NewDict(5)
	d.SetStr("_auth_user_id", py.Str("1"))
	d.SetStr("_auth_user_backend", py.Str("django.contrib.auth.backends.ModelBackend"))
	d.SetStr("_auth_user_hash", py.Str("c3ab8ff13720e8ad9047dd39466b3c8974e592c2fa383d4a3960714caef0c4f2"))
	d.SetStr("cart", py.NewList(py.Int(1), py.Int(2), py.Int(3)))
	d.SetStr("theme", py.Str("dark"))
	return py.DictOf(d)
}

// BenchmarkDumpsSession pickles the typical session dict with Dumps and with
// AppendDumps into a reused buffer. The cpython-protoN sub-benchmarks time
// CPython's own pickle.dumps of the same dict (timeit, best of 5) in the same
// run and report it as their ns/op (wall) and cpu-ns/op (thread CPU time,
// which is steadier on a loaded machine).
func BenchmarkDumpsSession(b *testing.B) {
	v := dumpSessionValue()
	for _, p := range []int{4, 5} {
		b.Run(fmt.Sprintf("proto%d", p), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Dumps(v, p); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("proto%d-append", p), func(b *testing.B) {
			b.ReportAllocs()
			buf := make([]byte, 0, 512)
			for b.Loop() {
				var err error
				if buf, err = AppendDumps(buf[:0], v, p); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("cpython-proto%d", p), func(b *testing.B) {
			if _, err := os.Stat(dumpPython); err != nil {
				b.Skip("no " + dumpPython)
			}
			script := `import pickle,sys,time,timeit
p=int(sys.argv[1])
d={'_auth_user_id': '1', '_auth_user_backend': 'django.contrib.auth.backends.ModelBackend',
   '_auth_user_hash': 'c3ab8ff13720e8ad9047dd39466b3c8974e592c2fa383d4a3960714caef0c4f2',
   'cart': [1, 2, 3], 'theme': 'dark'}
n=100000
w=min(timeit.repeat(lambda: pickle.dumps(d, p), number=n, repeat=5))
c=min(timeit.repeat(lambda: pickle.dumps(d, p), number=n, repeat=5, timer=time.thread_time))
print(w/n*1e9, c/n*1e9)`
			for b.Loop() {
			}
			out, err := exec.Command(dumpPython, "-c", script, strconv.Itoa(p)).Output()
			var wall, cpu float64
			if err == nil {
				_, err = fmt.Sscan(string(out), &wall, &cpu)
			}
			if err != nil {
				b.Skipf("CPython timing failed: %v", err)
			}
			b.ReportMetric(wall, "ns/op")
			b.ReportMetric(cpu, "cpu-ns/op")
		})
	}
}

// ---------------------------------------------------------------------------
// Fuzzing: any value the model can hold (cycles included) is written without
// a panic, and what is written is a well-formed pickle (every opcode known,
// frames cut at opcode boundaries, STOP last).

// dumpFuzzValue builds a value from fuzz bytes with a tiny stack machine.
func dumpFuzzValue(data []byte) py.Value {
	var stack []py.Value
	var lists []*py.List
	tupleCycle := false
	pop := func() py.Value {
		if len(stack) == 0 {
			return py.None
		}
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		return v
	}
	// At most 300 steps: py.NewFrozenSet hashes nested frozensets in
	// quadratic time, which would stall the fuzzer on long inputs.
	for i, steps := 0, 0; i < len(data) && steps < 300; i, steps = i+1, steps+1 {
		c := data[i]
		arg := 0
		if i+1 < len(data) {
			arg = int(data[i+1])
		}
		op := c % 20
		if tupleCycle && (op == 8 || op == 9 || op == 10) {
			// py.HashKey does not guard against a tuple that holds itself
			// (it recurses forever); stop hashing once one may exist.
			continue
		}
		switch op {
		case 0:
			stack = append(stack, py.None)
		case 1:
			stack = append(stack, py.Int(int64(arg)<<uint(c%64)-int64(c)))
		case 2:
			stack = append(stack, py.BigInt(new(big.Int).Lsh(big.NewInt(int64(arg)-128), uint(arg)*8)))
		case 3:
			stack = append(stack, py.Float(float64(arg)/7))
		case 4:
			end := min(len(data), i+2+arg%40)
			stack = append(stack, py.Str(string(data[min(i+2, end):end])))
			i = end - 1
		case 5:
			stack = append(stack, py.Bytes(data[i:min(len(data), i+arg%30)]))
		case 6:
			n := min(arg%6, len(stack))
			items := append([]py.Value(nil), stack[len(stack)-n:]...)
			stack = stack[:len(stack)-n]
			l := &py.List{Items: items}
			lists = append(lists, l)
			stack = append(stack, py.ListOf(l))
		case 7:
			n := min(arg%6, len(stack))
			items := append([]py.Value(nil), stack[len(stack)-n:]...)
			stack = stack[:len(stack)-n]
			stack = append(stack, py.NewTuple(items...))
		case 8:
			d := py.NewDict(0)
			d.Ordered = arg%2 == 1
			for k := 0; k < arg%4; k++ {
				val, key := pop(), pop()
				_ = d.Set(key, val) // unhashable keys are skipped
			}
			stack = append(stack, py.DictOf(d))
		case 9:
			s, err := py.NewSet(pop(), pop())
			if err == nil {
				stack = append(stack, s)
			}
		case 10:
			s, err := py.NewFrozenSet(pop())
			if err == nil {
				stack = append(stack, s)
			}
		case 11:
			if len(lists) > 0 && len(stack) > 0 { // make a cycle or a repeat
				l := lists[arg%len(lists)]
				l.Items = append(l.Items, stack[len(stack)-1])
			}
		case 12:
			if len(stack) > 0 {
				stack = append(stack, stack[len(stack)-1])
			}
		case 13:
			tzs := []*py.TZInfo{nil, py.UTC, py.PytzUTC, {Kind: py.TZFixed, Offset: time.Duration(arg-128) * time.Minute, Name: "N"}, {Kind: py.TZZoneInfo, Key: "UTC"}, {Kind: 7}}
			v, err := py.NewDateTime(py.DateTime{Year: 1 + arg*37, Month: 1 + arg%12, Day: 1 + arg%28, Fold: arg % 2, TZ: tzs[arg%len(tzs)]})
			if err == nil {
				stack = append(stack, v)
			}
		case 14:
			v, _ := py.NewTimeDelta(int64(arg)-100, int64(c), -int64(arg))
			stack = append(stack, v)
		case 15:
			v, err := py.ParseDecimal(strconv.Itoa(arg) + ".5")
			if err == nil {
				stack = append(stack, v)
			}
		case 16:
			var u [16]byte
			u[arg%16] = c
			stack = append(stack, py.UUID(u))
		case 17:
			stack = append(stack, py.NewByteArray(data[i:min(len(data), i+arg%20)]))
		case 18:
			if t, ok := pop().Tuple(); ok && len(t.Items) > 0 && len(stack) > 0 {
				t.Items[0] = stack[len(stack)-1] // may close a cycle through a tuple
				tupleCycle = true
			}
		case 19:
			v, err := py.NewTime(py.Time{Hour: arg % 24, Fold: arg % 2, TZ: py.UTC})
			if err == nil {
				stack = append(stack, v)
			}
		}
	}
	return py.NewList(stack...)
}

// dumpCheckWellFormed walks a pickle we wrote, opcode by opcode.
func dumpCheckWellFormed(b []byte, proto int) error {
	_, err := dumpWalk(b, proto)
	return err
}

// dumpWalk checks the structure and counts the FRAME opcodes.
func dumpWalk(b []byte, proto int) (frames int, err error) {
	err = dumpWalkErr(b, proto, &frames)
	return frames, err
}

func dumpWalkErr(b []byte, proto int, frames *int) error {
	if len(b) < 3 || b[0] != wPROTO || int(b[1]) != proto {
		return errors.New("no PROTO")
	}
	frameEnd := -1
	for i := 2; i < len(b); {
		if frameEnd >= 0 && i == frameEnd {
			frameEnd = -1
		}
		op := b[i]
		n := 0 // argument bytes
		need := func(k int) (int, error) {
			if i+1+k > len(b) {
				return 0, fmt.Errorf("truncated at %d", i)
			}
			switch k {
			case 1:
				return int(b[i+1]), nil
			case 4:
				return int(binary.LittleEndian.Uint32(b[i+1:])), nil
			}
			v := binary.LittleEndian.Uint64(b[i+1:])
			if v > uint64(len(b)) {
				return 0, fmt.Errorf("length %d past end", v)
			}
			return int(v), nil
		}
		var err error
		var l int
		switch op {
		case wMARK, wPOP, wPOP_MARK, wNONE, wREDUCE, wAPPEND, wBUILD, wAPPENDS, wEMPTY_LIST, wSETITEM, wTUPLE,
			wSETITEMS, wEMPTY_DICT, wEMPTY_TUPLE, wNEWOBJ, wTUPLE1, wTUPLE2, wTUPLE3, wNEWTRUE, wNEWFALSE,
			wEMPTY_SET, wADDITEMS, wFROZENSET, wSTACK_GLOBAL, wMEMOIZE:
		case wSTOP:
			if i != len(b)-1 {
				return fmt.Errorf("STOP at %d of %d", i, len(b))
			}
			if frameEnd >= 0 && frameEnd != len(b) {
				return errors.New("frame does not end at STOP")
			}
			return nil
		case wBININT1, wBINGET, wBINPUT:
			n = 1
		case wBININT2:
			n = 2
		case wBININT, wLONG_BINGET, wLONG_BINPUT:
			n = 4
		case wBINFLOAT:
			n = 8
		case wLONG1, wSHORT_BINUNI, wSHORT_BINBYTES:
			l, err = need(1)
			n = 1 + l
		case wLONG4, wBINUNICODE, wBINBYTES:
			l, err = need(4)
			n = 4 + l
		case wBINUNICODE8, wBINBYTES8, wBYTEARRAY8:
			l, err = need(8)
			n = 8 + l
		case wFRAME:
			if frameEnd >= 0 {
				return fmt.Errorf("FRAME inside a frame at %d", i)
			}
			l, err = need(8)
			if err == nil && l < frameSizeMin {
				return fmt.Errorf("frame of %d bytes", l)
			}
			frameEnd = i + 9 + l
			n = 8
			*frames++
		case wGLOBAL:
			k := bytes.Count(b[i+1:min(len(b), i+200)], []byte("\n"))
			if k < 2 {
				return errors.New("bad GLOBAL")
			}
			j := bytes.IndexByte(b[i+1:], '\n')
			j += 1 + bytes.IndexByte(b[i+2+j:], '\n')
			n = j + 1
		default:
			return fmt.Errorf("unknown opcode %#x at %d", op, i)
		}
		if err != nil {
			return err
		}
		i += 1 + n
		if frameEnd >= 0 && i > frameEnd {
			return fmt.Errorf("opcode crosses frame end at %d", frameEnd)
		}
	}
	return errors.New("no STOP")
}

func FuzzDumps(f *testing.F) {
	f.Add([]byte{6, 3, 0, 1, 2, 8, 3})
	f.Add([]byte{4, 5, 'h', 'e', 'l', 'l', 'o', 6, 1, 11, 0, 12, 6, 2})
	f.Add([]byte{13, 40, 13, 41, 13, 44, 14, 3, 15, 9, 16, 2, 17, 4, 19, 7})
	f.Add([]byte{1, 200, 7, 2, 18, 0, 10, 1, 9, 2, 2, 200, 2, 255})
	f.Fuzz(func(t *testing.T, data []byte) {
		v := dumpFuzzValue(data)
		for p := 2; p <= 5; p++ {
			out, err := Dumps(v, p)
			if err != nil {
				if !errors.Is(err, ErrUnpicklable) {
					t.Fatalf("p=%d: error not ErrUnpicklable: %v", p, err)
				}
				continue
			}
			if err := dumpCheckWellFormed(out, p); err != nil {
				t.Fatalf("p=%d: %v\n%x", p, err, out)
			}
		}
	})
}

// TestDumpsWellFormedLarge runs the structural check over the generated
// corpora (no Python needed), which exercises framing.
func TestDumpsWellFormedLarge(t *testing.T) {
	multi := 0
	for _, c := range append(dumpJSONCorpus(), dumpTypesCorpus()...) {
		v := dumpParse(t, c.v)
		for p := 2; p <= 5; p++ {
			out, err := Dumps(v, p)
			if err != nil {
				t.Fatalf("%s p=%d: %v", c.name, p, err)
			}
			frames, err := dumpWalk(out, p)
			if err != nil {
				t.Fatalf("%s p=%d: %v", c.name, p, err)
			}
			if p < 4 && frames != 0 {
				t.Fatalf("%s p=%d: FRAME below protocol 4", c.name, p)
			}
			if frames > 1 {
				multi++
			}
		}
	}
	// The corpus must exercise framing, or the CPython comparison of it
	// proves little.
	if multi < 50 {
		t.Errorf("only %d pickles with more than one frame", multi)
	}
	t.Logf("%d pickles have more than one frame", multi)
}
