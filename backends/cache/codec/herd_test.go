package codec

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/djsession/djsession/pickle"
	"github.com/djsession/djsession/pickle/py"
)

// herdVector is spec §9.8: django-redis's HerdClient value for {'a': 1}
// with deadline 1700000060, pickle protocol 4, no compressor.
const herdVector = "8004953a000000000000008c18646a616e676f5f72656469732e636c69656e742e68657264948c064d61726b65729493942981947d948c0161944b01734a3cf1536587942e"

func TestEncodeHerdVector(t *testing.T) {
	v := dictOf("a", py.Int(1))
	got, err := DjangoRedis{}.EncodeHerd(v, 1700000060)
	if err != nil || hex.EncodeToString(got) != herdVector {
		t.Fatalf("EncodeHerd = %x, %v\nwant %s", got, err, herdVector)
	}
	b, _ := hex.DecodeString(herdVector)
	d, deadline, herd, err := DjangoRedis{}.DecodeHerd(b)
	if err != nil || !herd || deadline != 1700000060 || d.Repr() != "{'a': 1}" {
		t.Fatalf("DecodeHerd = %s, %d, %v, %v", d.Repr(), deadline, herd, err)
	}
	// Decode (DefaultClient) refuses the Marker, as before.
	if _, err := (DjangoRedis{}).Decode(b, 0); !errors.Is(err, ErrMalformed) || !errors.Is(err, pickle.ErrDisallowedGlobal) {
		t.Errorf("Decode: %v", err)
	}
	// PICKLE_VERSION 5 (django-redis ≤ 5.0.0's default) changes the PROTO byte only.
	got, err = DjangoRedis{Serializer: PickleSerializer{Protocol: -1}}.EncodeHerd(v, 1700000060)
	if err != nil || hex.EncodeToString(got) != "8005"+herdVector[4:] {
		t.Errorf("protocol 5: %x, %v", got, err)
	}
	got, err = DjangoRedis{Serializer: &PickleSerializer{Protocol: 2}}.EncodeHerd(v, 1700000060)
	if want, _ := pickle.DumpsHerd(v, 1700000060, 2); err != nil || !bytes.Equal(got, want) {
		t.Errorf("protocol 2 (pointer serializer): %x, %v", got, err)
	}
}

// TestHerdRoundTrip: every compressor applies to the pickled tuple, as
// django-redis's encode does, and reads back; plain values read with herd
// false.
func TestHerdRoundTrip(t *testing.T) {
	big := dictOf("_auth_user_id", py.Str("1"), "blob", py.Str(strings.Repeat("lorem ipsum ", 40)))
	for _, c := range allCompressors {
		f := DjangoRedis{Compressor: c}
		for _, v := range []py.Value{dictOf("a", py.Int(1)), big, py.Int(42), py.None} {
			for _, deadline := range []int64{0, -1, 1700000060, math.MaxInt64, math.MinInt64} {
				data, err := f.EncodeHerd(v, deadline)
				if err != nil {
					t.Fatalf("%s: %v", c.Name(), err)
				}
				raw, err := f.raw(data)
				want, _ := pickle.DumpsHerd(v, deadline, pickle.DefaultProtocol)
				if err != nil || !bytes.Equal(raw, want) {
					t.Fatalf("%s: stored bytes are not the compressed pickle: %v", c.Name(), err)
				}
				got, d, herd, err := f.DecodeHerd(data)
				if err != nil || !herd || d != deadline || got.Repr() != v.Repr() {
					t.Errorf("%s %s %d: %s, %d, %v, %v", c.Name(), v.Repr(), deadline, got.Repr(), d, herd, err)
				}
			}
			plain, _, err := f.Encode(v)
			if err != nil {
				t.Fatal(err)
			}
			got, d, herd, err := f.DecodeHerd(plain)
			if err != nil || herd || d != 0 || got.Repr() != v.Repr() {
				t.Errorf("%s plain %s: %s, %d, %v, %v", c.Name(), v.Repr(), got.Repr(), d, herd, err)
			}
		}
	}
}

// TestHerdOtherSerializers: django-redis's JSON and msgpack serializers
// raise TypeError on the Marker; their plain values read.
func TestHerdOtherSerializers(t *testing.T) {
	for _, s := range []Serializer{JSONSerializer{}, MsgpackSerializer{}} {
		f := DjangoRedis{Serializer: s, Compressor: ZlibCompressor{}}
		if _, err := f.EncodeHerd(dictOf("a", py.Int(1)), 1); !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: EncodeHerd: %v", s.Name(), err)
		}
		for _, v := range []py.Value{dictOf("a", py.Int(1)), py.NewList(py.Int(1), py.Int(2), py.Int(3)), py.Int(7)} {
			data, _, err := f.Encode(v)
			if err != nil {
				t.Fatal(err)
			}
			got, _, herd, err := f.DecodeHerd(data)
			if err != nil || herd || got.Repr() != v.Repr() {
				t.Errorf("%s: %s read as %s, %v, %v", s.Name(), v.Repr(), got.Repr(), herd, err)
			}
		}
		// The herd pickle is not JSON or msgpack: an error, no panic.
		b, _ := hex.DecodeString(herdVector)
		if _, _, herd, err := f.DecodeHerd(b); err == nil || herd {
			t.Errorf("%s: read a pickle: %v %v", s.Name(), herd, err)
		}
	}
}

// herdHostile are pickles that name the Marker in shapes django-redis never
// writes, or wrap a deadline that is not an int. Every one is an error.
var herdHostile = map[string]string{
	"Marker with state":   herdP4 + ")\x81}\x8c\x01xK\x01sb" + herdSess + herdFuture + "\x87.",
	"Marker, empty state": herdP4 + ")\x81}b" + herdSess + herdFuture + "\x87.",
	"Marker with args":    herdP4 + "K\x01\x85\x81" + herdSess + herdFuture + "\x87.",
	"Marker kwargs":       herdP4 + ")}\x92" + herdSess + herdFuture + "\x87.",
	"Marker called":       herdP4 + ")R" + herdSess + herdFuture + "\x87.",
	"class":               herdP4 + herdSess + herdFuture + "\x87.",
	"arity 1":             herdP4 + ")\x81\x85.",
	"arity 2":             herdP4 + ")\x81" + herdSess + "\x86.",
	"arity 4":             "(" + herdP4 + ")\x81" + herdSess + herdFuture + "Nt.",
	"list":                "\x80\x04](" + herdP4[2:] + ")\x81" + herdSess + herdFuture + "e.",
	"float deadline":      herdP4 + ")\x81" + herdSess + "G\x41\xd9\x54\x5d\x40\x00\x00\x00\x87.",
	"str deadline":        herdP4 + ")\x81" + herdSess + "\x8c\x0a1879048192\x87.",
	"bytes deadline":      herdP4 + ")\x81" + herdSess + "C\x011\x87.",
	"None deadline":       herdP4 + ")\x81" + herdSess + "N\x87.",
	"bool deadline":       herdP4 + ")\x81" + herdSess + "\x88\x87.",
	"Decimal deadline":    herdP4 + ")\x81" + herdSess + "\x8c\x07decimal\x8c\x07Decimal\x93\x8c\x011\x85R\x87.",
	"Marker deadline":     herdP4 + ")\x81\x94" + herdSess + "h\x00\x87.",
	"Marker in value":     herdP4 + ")\x81\x94}\x8c\x01mh\x00s" + herdFuture + "\x87.",
	"nested":              herdP4 + ")\x81\x94h\x00" + herdSess + herdFuture + "\x87" + herdFuture + "\x87.",
	"other class":         "\x80\x04\x8c\x18django_redis.client.herd\x8c\x0aHerdClient\x93)\x81" + herdSess + herdFuture + "\x87.",
	"Marker elsewhere":    "\x80\x04\x8c\x0edjango_redis.x\x8c\x06Marker\x93)\x81" + herdSess + herdFuture + "\x87.",
	"truncated":           herdP4 + ")\x81" + herdSess + herdFuture,
}

const (
	herdP4     = "\x80\x04\x8c\x18django_redis.client.herd\x8c\x06Marker\x93"
	herdSess   = "}\x8c\x01aK\x01s"  // {'a': 1}
	herdFuture = "J\x00\x00\x00\x70" // BININT 1879048192
)

func TestDecodeHerdHostile(t *testing.T) {
	ok := herdP4 + ")\x81" + herdSess + herdFuture + "\x87."
	for _, c := range []Compressor{IdentityCompressor{}, ZlibCompressor{}, Lz4Compressor{}} {
		f := DjangoRedis{Compressor: c}
		enc := func(s string) []byte {
			b, err := c.Compress([]byte(s))
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
		if v, d, herd, err := f.DecodeHerd(enc(ok)); err != nil || !herd || d != 1879048192 || v.Repr() != "{'a': 1}" {
			t.Fatalf("%s: the well-formed value: %s %d %v %v", c.Name(), v.Repr(), d, herd, err)
		}
		for name, raw := range herdHostile {
			v, d, herd, err := f.DecodeHerd(enc(raw))
			if err == nil || herd || d != 0 || !v.IsNone() {
				t.Errorf("%s %s: %s, %d, %v, %v", c.Name(), name, v.Repr(), d, herd, err)
			}
			for _, s := range []error{ErrMalformed, ErrUnsupported, ErrTooLarge} {
				if errors.Is(err, s) {
					err = nil
				}
			}
			if err != nil {
				t.Errorf("%s %s: error wraps no sentinel", c.Name(), name)
			}
		}
	}
	// Deadlines beyond int64 are clamped; the limits apply to the value.
	f := DjangoRedis{}
	for raw, want := range map[string]int64{
		herdP4 + ")\x81" + herdSess + "\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x01\x87.": math.MaxInt64,
		herdP4 + ")\x81" + herdSess + "\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\xff\x87.": math.MinInt64,
		herdP4 + ")\x81" + herdSess + "\x8a\x08\x00\x00\x00\x00\x00\x00\x00\x80\x87.":     math.MinInt64,
	} {
		if _, d, herd, err := f.DecodeHerd([]byte(raw)); err != nil || !herd || d != want {
			t.Errorf("deadline %x: %d %v %v", raw[len(raw)-11:], d, herd, err)
		}
	}
	small := DjangoRedis{Serializer: PickleSerializer{Limits: pickle.Limits{MaxInput: 20}}}
	if _, _, _, err := small.DecodeHerd([]byte(ok)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("pickle limit: %v", err)
	}
	sized := DjangoRedis{MaxSize: 10}
	if _, _, _, err := sized.DecodeHerd([]byte(ok)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("MaxSize: %v", err)
	}
	// An int as stored reads as the int (DefaultClient's decode first).
	if v, _, herd, err := f.DecodeHerd([]byte("1879048192")); err != nil || herd || v.Repr() != "1879048192" {
		t.Errorf("int: %s %v %v", v.Repr(), herd, err)
	}
}

func TestHerdMiss(t *testing.T) {
	const now = 1700000000
	never := func(int) int { panic("drew") }
	fixed := func(r int) func(int) int {
		return func(n int) int {
			if r >= n {
				panic("draw out of range")
			}
			return r
		}
	}
	for _, tc := range []struct {
		deadline int64
		h        int
		draw     func(int) int
		miss     bool
	}{
		{now + 1, 60, never, false},
		{now, 60, never, false},
		{now - 1, 60, fixed(0), false},
		{now - 1, 60, fixed(57), false},
		{now - 1, 60, fixed(58), true},
		{now - 1, 60, fixed(59), true},
		{now - 59, 60, fixed(0), true},
		{now - 60, 60, never, true},
		{now - 61, 60, never, true},
		{math.MinInt64, 60, never, true},
		{math.MaxInt64, 60, never, false},
		{now - 1, 2, fixed(0), true}, // 1 + 1 ≥ 2
		{now - 1, 1, never, true},
		{now - 1, 0, never, true},
		{now - 1, -5, never, true},
		{now, 0, never, false},
		{math.MinInt64, math.MaxInt, never, true}, // x overflows int64 in Go, not in Python
		{now - 1, math.MaxInt, fixed(0), false},
		{now - 1, math.MaxInt, fixed(math.MaxInt - 2), true},
	} {
		if got := HerdMiss(now, tc.deadline, tc.h, tc.draw); got != tc.miss {
			t.Errorf("HerdMiss(now, now%+d, %d) = %v", tc.deadline-now, tc.h, got)
		}
	}
	// The default draw is uniform enough: 1 s past a 60 s deadline, about
	// 2 reads in 60 miss.
	misses := 0
	for i := 0; i < 6000; i++ {
		if HerdMiss(now, now-1, 60, nil) {
			misses++
		}
	}
	if misses < 100 || misses > 320 {
		t.Errorf("%d misses in 6000 draws, want about 200", misses)
	}
}

// pyHerdScript drives django-redis 5.2's own HerdClient (no server): each
// request line is {"name": expr, "kind": "value"} with the deadline in
// "extra", answered per alias with client.encode((Marker(), v, deadline))
// (or the error) in "data" and normal(v) in "out"; or {"kind": alias,
// "data": ours}, answered with _unpack(decode(ours)): normal(value) in
// "out", refresh in "extra".
var pyHerdScript = pyCaches("HerdClient") + `from django_redis.client.herd import HerdClient, Marker
import base64
def normal(v):
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, (list, tuple)):
        return [normal(x) for x in v]
    if isinstance(v, dict):
        return {str(k): normal(x) for k, x in v.items()}
    raise TypeError(type(v))
def ntext(v):
    return json.dumps(normal(v), ensure_ascii=False, separators=(",", ":"))
for line in sys.stdin:
    c = json.loads(line)
    if c["kind"] == "value":
        v = eval(c["name"])
        for alias in caches:
            if alias == "default":
                continue
            client = dj_caches[alias].client
            assert isinstance(client, HerdClient)
            r = {"name": c["name"], "kind": alias, "extra": c["extra"], "out": ntext(v)}
            try:
                r["data"] = base64.b64encode(client.encode((client._marker, v, int(c["extra"])))).decode()
            except Exception as e:
                r["err"] = type(e).__name__
            print(json.dumps(r))
    else:
        client = dj_caches[c["kind"]].client
        r = {"name": c["name"], "kind": c["kind"]}
        try:
            val, refresh = client._unpack(client.decode(base64.b64decode(c["data"])))
            r["out"] = ntext(val)
            r["extra"] = str(refresh)
        except Exception as e:
            r["err"] = type(e).__name__
        print(json.dumps(r))
`

// TestDjangoRedisHerdInterop: django-redis 5.2's HerdClient encodes
// (Marker(), v, deadline) with every serializer and compressor; we read
// its bytes (pickle) and write the same bytes where deterministic; its
// _unpack(decode()) reads ours, with refresh False for a future deadline
// and True for one long past. JSON and msgpack raise TypeError, and we
// fail with ErrUnsupported.
func TestDjangoRedisHerdInterop(t *testing.T) {
	exprs := map[string]func() py.Value{
		"{'a': 1}": func() py.Value { return dictOf("a", py.Int(1)) },
		"{'_auth_user_id': '1', '_auth_user_backend': 'django.contrib.auth.backends.ModelBackend', '_auth_user_hash': 'a' * 64, '_session_expiry': 1209600}": func() py.Value {
			return dictOf("_auth_user_id", py.Str("1"), "_auth_user_backend", py.Str("django.contrib.auth.backends.ModelBackend"),
				"_auth_user_hash", py.Str(strings.Repeat("a", 64)), "_session_expiry", py.Int(1209600))
		},
		"{'blob': 'lorem ipsum ' * 50, 'n': [1, 2.5, None, True, 'x']}": func() py.Value {
			return dictOf("blob", py.Str(strings.Repeat("lorem ipsum ", 50)), "n",
				py.NewList(py.Int(1), py.Float(2.5), py.None, py.Bool(true), py.Str("x")))
		},
		"42":       func() py.Value { return py.Int(42) },
		"(1, 'x')": func() py.Value { return py.NewTuple(py.Int(1), py.Str("x")) },
	}
	deadlines := []int64{4000000000, 1700000060}
	var req []pyCase
	for e := range exprs {
		for _, d := range deadlines {
			req = append(req, pyCase{Name: e, Kind: "value", Extra: strconv.FormatInt(d, 10)})
		}
	}
	res := pyLines(t, pyHerdScript, req)
	if len(res) != len(req)*12 {
		t.Fatalf("python answered %d lines", len(res))
	}
	var back []pyCase
	exact := 0
	for _, r := range res {
		f := djangoRedisFormat(t, r.Kind)
		v := exprs[r.Name]()
		deadline, _ := strconv.ParseInt(r.Extra, 10, 64)
		ours, err := f.EncodeHerd(v, deadline)
		if r.Err != "" {
			if !strings.HasPrefix(r.Kind, "json/") && !strings.HasPrefix(r.Kind, "msgpack/") || r.Err != "TypeError" {
				t.Errorf("%s %s: django-redis: %s", r.Kind, r.Name, r.Err)
			}
			if !errors.Is(err, ErrUnsupported) {
				t.Errorf("%s %s: EncodeHerd: %v, want ErrUnsupported", r.Kind, r.Name, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s %s: EncodeHerd: %v", r.Kind, r.Name, err)
		}
		theirs := unb64(t, r.Data)
		got, d, herd, err := f.DecodeHerd(theirs)
		if err != nil || !herd || d != deadline || normalText(t, got) != r.Out {
			t.Errorf("%s %s: read %s, %d, %v, %v; want %s", r.Kind, r.Name, normalText(t, got), d, herd, err, r.Out)
		}
		if strings.HasSuffix(r.Kind, "/identity") || strings.HasSuffix(r.Kind, "/zlib") {
			if !bytes.Equal(ours, theirs) {
				t.Errorf("%s %s: ours %x\ntheirs %x", r.Kind, r.Name, ours, theirs)
			}
			exact++
		}
		back = append(back, pyCase{Name: r.Name, Kind: r.Kind, Data: b64(ours), Out: r.Out, Extra: r.Extra})
	}
	if exact != 2*len(req) {
		t.Errorf("%d byte comparisons, want %d (pickle/identity and pickle/zlib)", exact, 2*len(req))
	}
	res2 := pyLines(t, pyHerdScript, back)
	if len(res2) != len(back) {
		t.Fatalf("python read %d of %d", len(res2), len(back))
	}
	for i, r := range res2 {
		want := back[i]
		refresh := "False"
		if want.Extra == "1700000060" {
			refresh = "True"
		}
		if r.Err != "" || r.Out != want.Out || r.Extra != refresh {
			t.Errorf("%s %s (deadline %s): django-redis read ours as %s, refresh %s (err %s)", r.Kind, r.Name, want.Extra, r.Out, r.Extra, r.Err)
		}
	}
}

// FuzzDecodeHerd: DecodeHerd never panics; a herd result re-encodes.
func FuzzDecodeHerd(f *testing.F) {
	b, _ := hex.DecodeString(herdVector)
	f.Add(uint8(0), b)
	for _, raw := range herdHostile {
		f.Add(uint8(0), []byte(raw))
	}
	for i, c := range allCompressors {
		data, _ := DjangoRedis{Compressor: c}.EncodeHerd(dictOf("a", py.Int(1), "blob", py.Str(strings.Repeat("x", 200))), 1700000060)
		f.Add(uint8(i), data)
	}
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		fm := DjangoRedis{Compressor: allCompressors[int(which)%len(allCompressors)], MaxSize: 1 << 20}
		v, deadline, herd, err := fm.DecodeHerd(data)
		if err != nil {
			return
		}
		if _, err := py.NormalJSON(v); err != nil {
			t.Fatalf("NormalJSON: %v", err)
		}
		if herd {
			_, _ = fm.EncodeHerd(v, deadline)
		}
	})
}
