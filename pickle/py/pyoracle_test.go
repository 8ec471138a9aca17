package py

// Test helpers shared by the tests that check this package against CPython:
// running /usr/bin/python3, moving values to and from it without relying on
// the code under test, and a generator of random values.

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"math/rand"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// pythonPath finds the interpreter: /usr/bin/python3 first, then python3 on
// PATH (no Django is needed here). Without one the test skips, or fails
// when DJSESSION_REQUIRE_SERVICES=1.
func pythonPath(t testing.TB) string {
	t.Helper()
	if _, err := os.Stat("/usr/bin/python3"); err == nil {
		return "/usr/bin/python3"
	}
	if p, err := exec.LookPath("python3"); err == nil {
		return p
	}
	if os.Getenv("DJSESSION_REQUIRE_SERVICES") == "1" {
		t.Fatal("python3 not found (/usr/bin/python3 nor on PATH) and DJSESSION_REQUIRE_SERVICES=1")
	}
	t.Skip("skipping: python3 not found (/usr/bin/python3 nor on PATH); the CPython oracle tests need it")
	return ""
}

// oracleScript answers one JSON request per input line with one JSON line.
// Values travel as tagged trees (see toTagged) so that neither side relies
// on the code under test to carry them.
const oracleScript = `
import sys, json, datetime, decimal, uuid, collections, zoneinfo, base64
try:
    import pytz
except ImportError:
    pytz = None

def untz(z):
    if z is None: return None
    if z[0] == 'fixed':
        off = datetime.timedelta(microseconds=z[1])
        return datetime.timezone(off) if z[2] is None else datetime.timezone(off, z[2])
    if z[0] == 'pytz': return pytz.utc
    if z[0] == 'zi': return zoneinfo.ZoneInfo(z[1])
    raise ValueError(z)

def untag(t):
    k = t[0]
    if k == 'N': return None
    if k == 'b': return t[1]
    if k == 'i': return int(t[1], 0)
    if k == 'f': return float(t[1]) if t[1] in ('inf', '-inf', 'nan') else float.fromhex(t[1])
    if k == 's': return ''.join(map(chr, t[1]))
    if k == 'y': return bytes.fromhex(t[1])
    if k == 'Y': return bytearray.fromhex(t[1])
    if k == 'l': return [untag(x) for x in t[1]]
    if k == 't': return tuple(untag(x) for x in t[1])
    if k == 'd':
        d = {}
        for a, b in t[1]: d[untag(a)] = untag(b)
        return d
    if k == 'o':
        d = collections.OrderedDict()
        for a, b in t[1]: d[untag(a)] = untag(b)
        return d
    if k == 'S': return set(untag(x) for x in t[1])
    if k == 'F': return frozenset(untag(x) for x in t[1])
    if k == 'dt':
        y, m, d, h, mi, s, us, fold, tz = t[1:]
        return datetime.datetime(y, m, d, h, mi, s, us, tzinfo=untz(tz), fold=fold)
    if k == 'date': return datetime.date(*t[1:])
    if k == 'time':
        h, mi, s, us, fold, tz = t[1:]
        return datetime.time(h, mi, s, us, tzinfo=untz(tz), fold=fold)
    if k == 'td': return datetime.timedelta(days=t[1], seconds=t[2], microseconds=t[3])
    if k == 'dec': return decimal.Decimal(t[1])
    if k == 'uuid': return uuid.UUID(hex=t[1])
    raise ValueError(k)

def tztag(z):
    if z is None: return None
    if pytz is not None and z is pytz.utc: return ['pytz']
    if isinstance(z, zoneinfo.ZoneInfo): return ['zi', z.key]
    args = z.__getinitargs__()
    off = args[0] // datetime.timedelta(microseconds=1)
    return ['fixed', off, args[1] if len(args) > 1 else None]

def tag(v):
    if v is None: return ['N']
    if isinstance(v, bool): return ['b', v]
    if isinstance(v, int): return ['i', hex(v)]
    if isinstance(v, float): return ['f', v.hex()]
    if isinstance(v, str): return ['s', [ord(c) for c in v]]
    if isinstance(v, bytes): return ['y', v.hex()]
    if isinstance(v, bytearray): return ['Y', v.hex()]
    if isinstance(v, list): return ['l', [tag(x) for x in v]]
    if isinstance(v, tuple): return ['t', [tag(x) for x in v]]
    if isinstance(v, collections.OrderedDict): return ['o', [[tag(a), tag(b)] for a, b in v.items()]]
    if isinstance(v, dict): return ['d', [[tag(a), tag(b)] for a, b in v.items()]]
    if isinstance(v, set): return ['S', [tag(x) for x in v]]
    if isinstance(v, frozenset): return ['F', [tag(x) for x in v]]
    if isinstance(v, datetime.datetime):
        return ['dt', v.year, v.month, v.day, v.hour, v.minute, v.second, v.microsecond, v.fold, tztag(v.tzinfo)]
    if isinstance(v, datetime.date): return ['date', v.year, v.month, v.day]
    if isinstance(v, datetime.time):
        return ['time', v.hour, v.minute, v.second, v.microsecond, v.fold, tztag(v.tzinfo)]
    if isinstance(v, datetime.timedelta): return ['td', v.days, v.seconds, v.microseconds]
    if isinstance(v, decimal.Decimal): return ['dec', str(v)]
    if isinstance(v, uuid.UUID): return ['uuid', v.hex]
    raise TypeError(type(v))

# The JSON normal form of testdata/vectors/README.md, written from the
# README's rules (timedelta: str()).
def normal(v):
    if v is None or isinstance(v, (bool, int, float, str)): return v
    if isinstance(v, (bytes, bytearray)): return base64.b64encode(v).decode()
    if isinstance(v, (list, tuple)): return [normal(x) for x in v]
    if isinstance(v, (set, frozenset)): return sorted((normal(x) for x in v), key=json.dumps)
    if isinstance(v, dict): return {str(k): normal(x) for k, x in v.items()}
    if isinstance(v, (datetime.datetime, datetime.date, datetime.time)): return v.isoformat()
    if isinstance(v, (datetime.timedelta, decimal.Decimal, uuid.UUID)): return str(v)
    raise TypeError(type(v))

def handle(req):
    op = req['op']
    if op == 'value':
        v = untag(req['v'])
        out = {'repr': None, 'str': None, 'dumps': None, 'err': None, 'loads': None}
        try:
            out['repr'] = repr(v)
            if not isinstance(v, (dict, list, tuple, set, frozenset)): out['str'] = str(v)
        except ValueError:  # an int past the 4300-digit limit
            pass
        try:
            s = json.dumps(v, separators=(',', ':'))
            out['dumps'] = s
            out['loads'] = tag(json.loads(s.encode('latin-1').decode('latin-1')))
        except (TypeError, ValueError) as e:
            out['err'] = str(e)
        return out
    if op == 'loads':
        try:
            return {'ok': True, 'v': tag(json.loads(bytes.fromhex(req['hex']).decode('latin-1')))}
        except (ValueError, RecursionError) as e:
            return {'ok': False, 'err': type(e).__name__}
    if op == 'decimal':
        try:
            return {'ok': True, 'str': str(decimal.Decimal(req['s']))}
        except decimal.InvalidOperation:
            return {'ok': False}
    if op == 'eval':
        ns = {'datetime': datetime, 'Decimal': decimal.Decimal, 'UUID': uuid.UUID,
              'OrderedDict': collections.OrderedDict, 'zoneinfo': zoneinfo}
        if pytz is not None: ns['UTC'] = pytz.utc
        return {'v': tag(eval(req['src'].replace('<UTC>', 'UTC'), ns))}
    if op == 'normal':
        n = normal(untag(req['v']))
        text = json.dumps(n, ensure_ascii=False, separators=(',', ':'))
        # Through JSON and back, as a parser of our output sees it (adjacent
        # lone surrogates written as \u escapes read back as one pair).
        return {'v': tag(json.loads(json.dumps(n))), 'text': text, 'sur': any(0xD800 <= ord(c) <= 0xDFFF for c in text)}
    if op == 'isprint':
        return {'p': [chr(c).isprintable() for c in req['cps']]}
    raise ValueError(op)

for line in sys.stdin:
    sys.stdout.write(json.dumps(handle(json.loads(line))) + '\n')
`

// runOracle sends the requests to CPython and returns its answers in order.
func runOracle(t testing.TB, reqs []any) []json.RawMessage {
	t.Helper()
	py := pythonPath(t)
	var in bytes.Buffer
	enc := json.NewEncoder(&in)
	for _, r := range reqs {
		if err := enc.Encode(r); err != nil {
			t.Fatalf("encode request: %v", err)
		}
	}
	cmd := exec.Command(py, "-c", oracleScript)
	cmd.Stdin = &in
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python oracle: %v\n%s", err, stderr.String())
	}
	var res []json.RawMessage
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<26)
	for sc.Scan() {
		res = append(res, append(json.RawMessage(nil), sc.Bytes()...))
	}
	if len(res) != len(reqs) {
		t.Fatalf("python oracle: %d answers for %d requests\n%s", len(res), len(reqs), stderr.String())
	}
	return res
}

// toTagged turns a Value into the oracle's transport form. It reads fields
// directly, not through the code under test.
func toTagged(v Value) any {
	switch v.k {
	case NoneKind:
		return []any{"N"}
	case BoolKind:
		return []any{"b", v.n == 1}
	case IntKind:
		b, _ := v.BigInt()
		s := b.Text(16)
		if strings.HasPrefix(s, "-") {
			return []any{"i", "-0x" + s[1:]}
		}
		return []any{"i", "0x" + s}
	case FloatKind:
		f := math.Float64frombits(v.n)
		switch {
		case math.IsNaN(f):
			return []any{"f", "nan"}
		case math.IsInf(f, 1):
			return []any{"f", "inf"}
		case math.IsInf(f, -1):
			return []any{"f", "-inf"}
		}
		return []any{"f", strconv.FormatFloat(f, 'x', -1, 64)}
	case StrKind:
		cps := []int{}
		for i := 0; i < len(v.s); {
			r, n := decodeWTF8(v.s, i)
			cps = append(cps, int(r))
			i += n
		}
		return []any{"s", cps}
	case BytesKind:
		return []any{"y", hex.EncodeToString([]byte(v.s))}
	case ByteArrayKind:
		return []any{"Y", hex.EncodeToString(v.r.(*ByteArray).B)}
	case ListKind, TupleKind, SetKind, FrozenSetKind:
		tag := map[Kind]string{ListKind: "l", TupleKind: "t", SetKind: "S", FrozenSetKind: "F"}[v.k]
		items := []any{}
		for _, it := range v.Items() {
			items = append(items, toTagged(it))
		}
		return []any{tag, items}
	case DictKind:
		d := v.r.(*Dict)
		tag := "d"
		if d.Ordered {
			tag = "o"
		}
		pairs := []any{}
		for _, e := range d.entries {
			pairs = append(pairs, []any{toTagged(e.Key), toTagged(e.Value)})
		}
		return []any{tag, pairs}
	case DateTimeKind:
		dt := v.r.(*DateTime)
		return []any{"dt", dt.Year, dt.Month, dt.Day, dt.Hour, dt.Minute, dt.Second, dt.Microsecond, dt.Fold, tzTagged(dt.TZ)}
	case DateKind:
		d := v.r.(*Date)
		return []any{"date", d.Year, d.Month, d.Day}
	case TimeKind:
		t := v.r.(*Time)
		return []any{"time", t.Hour, t.Minute, t.Second, t.Microsecond, t.Fold, tzTagged(t.TZ)}
	case TimeDeltaKind:
		td := v.r.(*TimeDelta)
		return []any{"td", td.Days, td.Seconds, td.Microseconds}
	case DecimalKind:
		return []any{"dec", v.s}
	case UUIDKind:
		return []any{"uuid", hex.EncodeToString([]byte(v.s))}
	}
	panic(fmt.Sprintf("toTagged: kind %v", v.k))
}

func tzTagged(tz *TZInfo) any {
	if tz == nil {
		return nil
	}
	switch tz.Kind {
	case TZPytzUTC:
		return []any{"pytz"}
	case TZZoneInfo:
		return []any{"zi", tz.Key}
	}
	var name any
	if tz.Name != "" {
		name = tz.Name
	}
	return []any{"fixed", int64(tz.Offset / time.Microsecond), name}
}

// fromTagged builds a Value from the oracle's transport form.
func fromTagged(raw json.RawMessage) (Value, error) {
	var t []json.RawMessage
	if err := json.Unmarshal(raw, &t); err != nil || len(t) == 0 {
		return None, fmt.Errorf("bad tagged value %s", raw)
	}
	var tag string
	if err := json.Unmarshal(t[0], &tag); err != nil {
		return None, err
	}
	ints := func() []int64 {
		var xs []int64
		for _, r := range t[1:] {
			var x int64
			_ = json.Unmarshal(r, &x)
			xs = append(xs, x)
		}
		return xs
	}
	str := func(r json.RawMessage) string {
		var s string
		_ = json.Unmarshal(r, &s)
		return s
	}
	list := func() ([]Value, error) {
		var raws []json.RawMessage
		if err := json.Unmarshal(t[1], &raws); err != nil {
			return nil, err
		}
		var out []Value
		for _, r := range raws {
			v, err := fromTagged(r)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
	switch tag {
	case "N":
		return None, nil
	case "b":
		var b bool
		_ = json.Unmarshal(t[1], &b)
		return Bool(b), nil
	case "i":
		b, ok := new(big.Int).SetString(str(t[1]), 0)
		if !ok {
			return None, fmt.Errorf("bad int %s", t[1])
		}
		return BigInt(b), nil
	case "f":
		f, err := strconv.ParseFloat(str(t[1]), 64)
		if err != nil {
			return None, err
		}
		if math.IsNaN(f) {
			f = math.Float64frombits(0x7FF8000000000000)
		}
		return Float(f), nil
	case "s":
		var cps []rune
		_ = json.Unmarshal(t[1], &cps)
		var b []byte
		for _, c := range cps {
			if c >= 0xD800 && c <= 0xDFFF {
				b = appendSurrogate(b, c)
			} else {
				b = append(b, string(c)...)
			}
		}
		return Str(string(b)), nil
	case "y", "Y":
		b, err := hex.DecodeString(str(t[1]))
		if err != nil {
			return None, err
		}
		if tag == "Y" {
			return NewByteArray(b), nil
		}
		return Bytes(b), nil
	case "l", "t", "S", "F":
		items, err := list()
		if err != nil {
			return None, err
		}
		switch tag {
		case "l":
			return NewList(items...), nil
		case "t":
			return NewTuple(items...), nil
		case "S":
			return NewSet(items...)
		}
		return NewFrozenSet(items...)
	case "d", "o":
		var pairs [][2]json.RawMessage
		if err := json.Unmarshal(t[1], &pairs); err != nil {
			return None, err
		}
		d := NewDict(len(pairs))
		d.Ordered = tag == "o"
		for _, p := range pairs {
			k, err := fromTagged(p[0])
			if err != nil {
				return None, err
			}
			v, err := fromTagged(p[1])
			if err != nil {
				return None, err
			}
			if err := d.Set(k, v); err != nil {
				return None, err
			}
		}
		return DictOf(d), nil
	case "dt":
		x := ints()
		tz, err := tzFromTagged(t[9])
		if err != nil {
			return None, err
		}
		return NewDateTime(DateTime{int(x[0]), int(x[1]), int(x[2]), int(x[3]), int(x[4]), int(x[5]), int(x[6]), int(x[7]), tz})
	case "date":
		x := ints()
		return NewDate(Date{int(x[0]), int(x[1]), int(x[2])})
	case "time":
		x := ints()
		tz, err := tzFromTagged(t[6])
		if err != nil {
			return None, err
		}
		return NewTime(Time{int(x[0]), int(x[1]), int(x[2]), int(x[3]), int(x[4]), tz})
	case "td":
		x := ints()
		return NewTimeDelta(x[0], x[1], x[2])
	case "dec":
		return ParseDecimal(str(t[1]))
	case "uuid":
		b, err := hex.DecodeString(str(t[1]))
		if err != nil || len(b) != 16 {
			return None, fmt.Errorf("bad uuid %s", t[1])
		}
		return UUID([16]byte(b)), nil
	}
	return None, fmt.Errorf("unknown tag %q", tag)
}

func tzFromTagged(raw json.RawMessage) (*TZInfo, error) {
	var z []json.RawMessage
	if err := json.Unmarshal(raw, &z); err != nil || z == nil {
		return nil, nil
	}
	var kind string
	_ = json.Unmarshal(z[0], &kind)
	switch kind {
	case "pytz":
		return PytzUTC, nil
	case "zi":
		var key string
		_ = json.Unmarshal(z[1], &key)
		return ZoneInfo(key)
	}
	var off int64
	var name *string
	_ = json.Unmarshal(z[1], &off)
	_ = json.Unmarshal(z[2], &name)
	if name == nil {
		if off == 0 {
			return UTC, nil
		}
		return FixedZone(time.Duration(off)*time.Microsecond, "")
	}
	return FixedZone(time.Duration(off)*time.Microsecond, *name)
}

// gen makes random values for the oracle tests.
type gen struct {
	r *rand.Rand
	// jsonOnly limits values to what json.dumps accepts (plus tuples).
	jsonOnly bool
}

// Code point pools. None holds code points first assigned after Unicode 14
// (CPython 3.11's tables), so Python and Go agree on printability.
var cpPools = [][2]rune{
	{0x20, 0x7E}, {0x20, 0x7E}, {0x20, 0x7E}, {0x00, 0x1F}, {0x7F, 0xA0}, {0xA0, 0xFF},
	{0x370, 0x3FF}, {0x400, 0x45F}, {0x300, 0x36F}, {0x5D0, 0x5EA}, {0x600, 0x60F},
	{0x2000, 0x202F}, {0x2060, 0x206F}, {0x3000, 0x3003}, {0x4E00, 0x4E20}, {0xAC00, 0xAC10},
	{0xD800, 0xDFFF}, {0xE000, 0xE005}, {0xFDD0, 0xFDD3}, {0xFEFF, 0xFEFF}, {0xFFF9, 0xFFFF},
	{0x10000, 0x1000F}, {0x1D400, 0x1D40F}, {0x1F600, 0x1F64F}, {0x1F3FB, 0x1F3FF},
	{0xE0001, 0xE0001}, {0xF0000, 0xF0003}, {0x10FFFE, 0x10FFFF}, {'\'', '\''}, {'"', '"'}, {'\\', '\\'},
}

func (g *gen) rune() rune {
	p := cpPools[g.r.Intn(len(cpPools))]
	return p[0] + rune(g.r.Intn(int(p[1]-p[0]+1)))
}

func (g *gen) str() string {
	n := g.r.Intn(12)
	var b []byte
	for range n {
		c := g.rune()
		if c >= 0xD800 && c <= 0xDFFF {
			b = appendSurrogate(b, c)
		} else {
			b = append(b, string(c)...)
		}
	}
	return string(b)
}

var edgeFloats = []float64{
	0, math.Copysign(0, -1), 5e-324, -5e-324, 2.2250738585072014e-308, 1.7976931348623157e308,
	1e16, 1e15, 9999999999999998, 1e17, 1e-4, 1e-5, 0.0001234, 0.1, 0.2, 0.30000000000000004, 1.5e-7,
	123456789012345680, 1e22, 1e23, 1 << 53, 1<<53 + 2, 2.5, -1.5, 1e300, 1e-300, 3.14159,
	math.Inf(1), math.Inf(-1), math.NaN(), 1234567.0, 9.99, 100, 1e100, 123e-20, 0.5,
}

func (g *gen) float() float64 {
	switch g.r.Intn(4) {
	case 0:
		return edgeFloats[g.r.Intn(len(edgeFloats))]
	case 1:
		f := math.Float64frombits(g.r.Uint64())
		if math.IsNaN(f) {
			return math.NaN()
		}
		return f
	case 2:
		return float64(g.r.Intn(2000000)-1000000) / math.Pow(10, float64(g.r.Intn(12)))
	}
	return g.r.NormFloat64() * math.Pow(10, float64(g.r.Intn(40)-20))
}

func (g *gen) int() Value {
	switch g.r.Intn(6) {
	case 0:
		return Int(int64(g.r.Intn(200) - 100))
	case 1:
		return Int([]int64{math.MaxInt64, math.MinInt64, 0, -1, 1 << 53, 999999999999999999, -1000000000000000000}[g.r.Intn(7)])
	case 2:
		b := new(big.Int).Lsh(big.NewInt(1), uint(60+g.r.Intn(200)))
		b.Add(b, big.NewInt(g.r.Int63()))
		if g.r.Intn(2) == 0 {
			b.Neg(b)
		}
		return BigInt(b)
	case 3:
		return Int(g.r.Int63() - g.r.Int63())
	}
	return Int(int64(g.r.Intn(10)))
}

func (g *gen) tz() *TZInfo {
	switch g.r.Intn(7) {
	case 0, 1:
		return nil
	case 2:
		return UTC
	case 3:
		tz, _ := FixedZone(time.Duration(g.r.Int63n(2*86400e6-1)-(86400e6-1))*time.Microsecond, "")
		return tz
	case 4:
		tz, _ := FixedZone(time.Duration(g.r.Intn(48)-24)*30*time.Minute, []string{"", "CET", "it's", "Zoë"}[g.r.Intn(4)])
		return tz
	case 5:
		return PytzUTC
	}
	tz, _ := ZoneInfo([]string{"Europe/Paris", "America/New_York", "UTC", "Asia/Kolkata"}[g.r.Intn(4)])
	return tz
}

func (g *gen) value(depth int) Value {
	n := 14
	if depth > 3 {
		n = 8 // scalars only
	}
	if !g.jsonOnly {
		n += 10
	}
	switch k := g.r.Intn(n); k {
	case 0:
		return None
	case 1:
		return Bool(g.r.Intn(2) == 0)
	case 2, 3:
		return g.int()
	case 4, 5:
		return Float(g.float())
	case 6, 7:
		return Str(g.str())
	case 8, 9:
		items := make([]Value, g.r.Intn(5))
		for i := range items {
			items[i] = g.value(depth + 1)
		}
		if k == 9 {
			return NewTuple(items...)
		}
		return NewList(items...)
	case 10, 11, 12, 13:
		d := NewDict(0)
		for range g.r.Intn(6) {
			var key Value
			switch g.r.Intn(10) {
			case 0:
				key = g.int()
			case 1:
				// NaN keys differ: each CPython NaN object is its own key.
				if f := g.float(); !math.IsNaN(f) {
					key = Float(f)
				} else {
					key = Str("nan")
				}
			case 2:
				key = Bool(g.r.Intn(2) == 0)
			case 3:
				key = None
			default:
				key = Str(g.str())
			}
			_ = d.Set(key, g.value(depth+1))
		}
		return DictOf(d)
	}
	// Kinds json.dumps refuses.
	switch g.r.Intn(12) {
	case 0:
		b := make([]byte, g.r.Intn(8))
		g.r.Read(b)
		if g.r.Intn(3) == 0 {
			b = append(b, '\'')
		}
		return Bytes(b)
	case 1:
		b := make([]byte, g.r.Intn(4))
		g.r.Read(b)
		return NewByteArray(b)
	case 2:
		v, _ := NewDateTime(DateTime{1 + g.r.Intn(9999), 1 + g.r.Intn(12), 1 + g.r.Intn(28), g.r.Intn(24), g.r.Intn(60),
			g.r.Intn(2) * g.r.Intn(60), g.r.Intn(2) * g.r.Intn(1000000), g.r.Intn(4) / 3, g.tz()})
		return v
	case 3:
		v, _ := NewDate(Date{1 + g.r.Intn(9999), 1 + g.r.Intn(12), 1 + g.r.Intn(28)})
		return v
	case 4:
		tz := g.tz()
		if tz != nil && tz.Kind == TZZoneInfo {
			tz = nil
		}
		v, _ := NewTime(Time{g.r.Intn(24), g.r.Intn(60), g.r.Intn(2) * g.r.Intn(60), g.r.Intn(2) * g.r.Intn(1000000), g.r.Intn(4) / 3, tz})
		return v
	case 5:
		v, _ := NewTimeDelta(g.r.Int63n(2000000)-1000000, g.r.Int63n(200000)-100000, g.r.Int63n(4e6)-2e6)
		return v
	case 6:
		v, _ := ParseDecimal([]string{"1.50", "-0", "1e3", "0.0000001", "NaN", "-sNaN5", "Inf", "123456789.000", "-1E-10"}[g.r.Intn(9)])
		return v
	case 7:
		var u [16]byte
		g.r.Read(u[:])
		return UUID(u)
	case 8, 9:
		// Sets of small ints in ascending order: CPython iterates them in
		// that order too, so repr agrees.
		var items []Value
		for i := range 8 {
			if g.r.Intn(3) == 0 {
				items = append(items, Int(int64(i)))
			}
		}
		if g.r.Intn(2) == 0 {
			v, _ := NewFrozenSet(items...)
			return v
		}
		v, _ := NewSet(items...)
		return v
	case 10:
		d := NewDict(0)
		d.Ordered = true
		for range g.r.Intn(4) {
			d.SetStr(g.str(), g.value(depth+1))
		}
		return DictOf(d)
	}
	d := NewDict(0)
	_ = d.Set(NewTuple(Int(1), Str("a")), Int(2))
	return DictOf(d)
}
