package codec

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/djsession/djsession/pickle/py"
)

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func dictOf(kv ...any) py.Value {
	d := py.NewDict(len(kv) / 2)
	for i := 0; i < len(kv); i += 2 {
		d.SetStr(kv[i].(string), kv[i+1].(py.Value))
	}
	return py.DictOf(d)
}

// Examples of spec §6.3 and §9.8 (computed with CPython there).
func TestDjangoRedisCacheSpecExamples(t *testing.T) {
	f := DjangoRedisCache{}
	for _, c := range []struct {
		v    py.Value
		want string
	}{
		{py.Int(42), "3432"}, // "42"
		{py.Bool(true), "8005882e"},
		{dictOf("a", py.Int(1)), "8005950a000000000000007d948c0161944b01732e"},
		{dictOf("_auth_user_id", py.Str("1")), "80059518000000000000007d948c0d5f617574685f757365725f6964948c013194732e"},
	} {
		got, flags, err := f.Encode(c.v)
		if err != nil || flags != 0 || hex.EncodeToString(got) != c.want {
			t.Errorf("Encode(%s) = %x, %d, %v; want %s", c.v.Repr(), got, flags, err, c.want)
		}
		back, err := f.Decode(got, 0)
		if err != nil || !back.Equal(c.v) || back.Kind() != c.v.Kind() {
			t.Errorf("Decode(%x) = %s, %v", got, back.Repr(), err)
		}
	}
	// django-redis ≥ 5.1 pickles the same dict at protocol 4 (spec §6.3).
	got, _, _ := DjangoRedis{}.Encode(dictOf("a", py.Int(1)))
	if hex.EncodeToString(got) != "8004950a000000000000007d948c0161944b01732e" {
		t.Errorf("DjangoRedis pickle = %x", got)
	}
	legacy := DjangoRedis{Serializer: PickleSerializer{Protocol: DjangoRedisLegacyPickleProtocol}}
	got, _, _ = legacy.Encode(dictOf("a", py.Int(1)))
	if hex.EncodeToString(got) != "8005950a000000000000007d948c0161944b01732e" {
		t.Errorf("DjangoRedis legacy pickle = %x", got)
	}
	got, _, _ = DjangoRedis{Serializer: PickleSerializer{Protocol: -1}}.Encode(dictOf("a", py.Int(1)))
	if got[1] != 5 {
		t.Errorf("PICKLE_VERSION -1 wrote protocol %d", got[1])
	}
}

// DjangoPickle (LocMem, FileBased, Database caches, spec §6.3) pickles
// every value, ints too; the bytes were printed by CPython 3.11's
// pickle.dumps(v, 5).
func TestDjangoPickleSpecExamples(t *testing.T) {
	f := DjangoPickle{}
	for _, c := range []struct {
		v    py.Value
		want string
	}{
		{py.Int(42), "80054b2a2e"},
		{py.Bool(true), "8005882e"},
		{dictOf("a", py.Int(1)), "8005950a000000000000007d948c0161944b01732e"},
	} {
		got, flags, err := f.Encode(c.v)
		if err != nil || flags != 0 || hex.EncodeToString(got) != c.want {
			t.Errorf("Encode(%s) = %x, %d, %v; want %s", c.v.Repr(), got, flags, err, c.want)
		}
		back, err := f.Decode(got, 0)
		if err != nil || !back.Equal(c.v) || back.Kind() != c.v.Kind() {
			t.Errorf("Decode(%x) = %s, %v", got, back.Repr(), err)
		}
	}
	// Digits are not an int here: "42" is not a pickle.
	if v, err := f.Decode([]byte("42"), 0); err == nil {
		t.Errorf("Decode(\"42\") = %s, want an error", v.Repr())
	}
	if _, err := (DjangoPickle{MaxSize: 4}).Decode([]byte("8005882e"), 0); !errors.Is(err, ErrTooLarge) {
		t.Errorf("over MaxSize: %v, want ErrTooLarge", err)
	}
}

// Hand-derived from spec §7.2: ints (not bools) raw, big ones too; every
// stored value that int() accepts reads as an int, whatever the serializer.
func TestDjangoRedisIntRules(t *testing.T) {
	big70 := new(big.Int).Lsh(big.NewInt(1), 70)
	for _, ser := range []Serializer{PickleSerializer{}, JSONSerializer{}, MsgpackSerializer{}} {
		f := DjangoRedis{Serializer: ser, Compressor: ZlibCompressor{}}
		for v, want := range map[string]py.Value{"42": py.Int(42), "-7": py.Int(-7), "1180591620717411303424": py.BigInt(big70)} {
			got, _, err := f.Encode(want)
			if err != nil || string(got) != v {
				t.Errorf("%s: Encode(%s) = %q, %v", ser.Name(), want.Repr(), got, err)
			}
			back, err := f.Decode([]byte(v), 0)
			if err != nil || !back.Equal(want) {
				t.Errorf("%s: Decode(%q) = %s, %v", ser.Name(), v, back.Repr(), err)
			}
		}
		got, _, err := f.Encode(py.Bool(true))
		if err != nil || string(got) == "1" || string(got) == "True" {
			t.Errorf("%s: a bool must be serialized, got %q, %v", ser.Name(), got, err)
		}
		if back, err := f.Decode(got, 0); err != nil || back.Kind() != py.BoolKind {
			t.Errorf("%s: bool round trip: %s, %v", ser.Name(), back.Repr(), err)
		}
		// A raw number another client wrote reads as an int.
		if back, err := f.Decode([]byte(" 0_7 \n"), 0); err != nil || !back.Equal(py.Int(7)) {
			t.Errorf("%s: raw number: %s, %v", ser.Name(), back.Repr(), err)
		}
		// Python cannot write an int with more than 4300 digits.
		huge := new(big.Int).Exp(big.NewInt(10), big.NewInt(4300), nil)
		if _, _, err := f.Encode(py.BigInt(huge)); !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: 4301-digit int: %v", ser.Name(), err)
		}
	}
	// JSON text "12" stored by the JSON serializer is indistinguishable
	// from an int: it reads as one.
	f := DjangoRedis{Serializer: JSONSerializer{}}
	if v, err := f.Decode([]byte("12"), 0); err != nil || v.Kind() != py.IntKind {
		t.Errorf("json int: %s, %v", v.Repr(), err)
	}
}

func TestDjangoRedisSizeLimits(t *testing.T) {
	big := py.Str(strings.Repeat("lorem ipsum ", 10000))
	for _, c := range allCompressors {
		f := DjangoRedis{Compressor: c, MaxSize: 50_000}
		data, _, err := f.Encode(big)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Decode(data, 0); !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s: %v, want ErrTooLarge", c.Name(), err)
		}
		f.MaxSize = 200_000
		if v, err := f.Decode(data, 0); err != nil || !v.Equal(big) {
			t.Errorf("%s: %v", c.Name(), err)
		}
	}
	// A raw (uncompressed) value over the limit is refused too.
	f := DjangoRedis{Compressor: ZlibCompressor{}, MaxSize: 10}
	if _, err := f.Decode(bytes.Repeat([]byte{0x80}, 11), 0); !errors.Is(err, ErrTooLarge) {
		t.Errorf("raw value over the limit: %v", err)
	}
	// Truncated gzip is an error, not a raw value (spec §7.4).
	g := DjangoRedis{Compressor: GzipCompressor{}}
	data, _, _ := g.Encode(big)
	if _, err := g.Decode(data[:len(data)-4], 0); !errors.Is(err, ErrCorrupt) {
		t.Errorf("truncated gzip: %v", err)
	}
}

// JSON serializer cases decided by DjangoJSONEncoder's rules (Python output
// for these was checked in TestDjangoRedisInterop; these pin the errors).
func TestJSONSerializerErrors(t *testing.T) {
	utc, _ := py.ZoneInfo("UTC")
	paris, _ := py.ZoneInfo("Europe/Paris")
	awareUTC, _ := py.NewTime(py.Time{Hour: 12, TZ: utc})
	awareParis, _ := py.NewTime(py.Time{Hour: 12, TZ: paris})
	set, _ := py.NewSet(py.Int(1))
	for _, c := range []struct {
		v    py.Value
		want string // "" = error
	}{
		{awareUTC, ""},             // ZoneInfo('UTC') time has a utcoffset(): ValueError
		{awareParis, `"12:00:00"`}, // a zone with transitions has none: naive
		{set, ""},
		{py.Bytes([]byte("x")), ""},
		{dictOf("k", py.NewTuple(py.Int(1), py.Float(0.5))), `{"k": [1, 0.5]}`},
	} {
		got, err := JSONSerializer{}.Dumps(c.v)
		if c.want == "" {
			if !errors.Is(err, ErrUnsupported) {
				t.Errorf("Dumps(%s) = %s, %v; want ErrUnsupported", c.v.Repr(), got, err)
			}
		} else if err != nil || string(got) != c.want {
			t.Errorf("Dumps(%s) = %s, %v; want %s", c.v.Repr(), got, err, c.want)
		}
	}
	// Keys json.dumps cannot write.
	d := py.NewDict(1)
	_ = d.Set(py.NewTuple(py.Int(1)), py.Int(1))
	if _, err := (JSONSerializer{}).Dumps(py.DictOf(d)); !errors.Is(err, ErrUnsupported) {
		t.Errorf("tuple key: %v", err)
	}
}

func TestMemcacheEncodeRules(t *testing.T) {
	ba := py.NewByteArray([]byte("ab"))
	for _, c := range []struct {
		f     Format
		v     py.Value
		data  string
		flags uint32
	}{
		{PyMemcache{}, py.Bytes([]byte("raw")), "raw", 0},
		{PyMemcache{}, py.Str("zé"), "zé", FlagText},
		{PyMemcache{}, py.Int(-5), "-5", FlagInteger},
		{PyMemcache{}, py.Bool(true), "\x80\x05\x88.", FlagPickle},
		{PyLibMC{}, py.Bool(true), "1", FlagInteger},
		{PyLibMC{}, py.Bool(false), "0", FlagInteger},
		{PyLibMC{}, py.Int(-5), "-5", FlagLong},
		{PyLibMC{}, py.Str("zé"), "zé", FlagText},
		{PyLibMC{}, py.None, "\x80\x05N.", FlagPickle},
		{PyLibMC{MinCompressLen: 100}, py.Str("short"), "short", FlagText},
	} {
		data, flags, err := c.f.Encode(c.v)
		if err != nil || string(data) != c.data || flags != c.flags {
			t.Errorf("%T.Encode(%s) = %q, %d, %v; want %q, %d", c.f, c.v.Repr(), data, flags, err, c.data, c.flags)
		}
	}
	data, flags, err := PyMemcache{}.Encode(ba)
	if err != nil || flags != FlagPickle || !bytes.HasPrefix(data, []byte{0x80, 5}) {
		t.Errorf("bytearray: %x %d %v", data, flags, err)
	}
	// Compression only when it saves space (pylibmc's _PylibMC_Deflate).
	long := py.Str(strings.Repeat("a", 1000))
	data, flags, err = PyLibMC{MinCompressLen: 10}.Encode(long)
	if err != nil || flags != FlagText|FlagZlib || len(data) >= 1000 {
		t.Errorf("compressed: %d bytes, flags %d, %v", len(data), flags, err)
	}
	if v, err := (PyLibMC{}).Decode(data, flags); err != nil || !v.Equal(long) {
		t.Errorf("compressed round trip: %v", err)
	}
	if _, err := (PyLibMC{}).Decode([]byte("1"), FlagPickle|FlagText); !errors.Is(err, ErrFlags) {
		t.Errorf("two type flags: %v", err)
	}
	if _, err := (PyLibMC{MaxSize: 100}).Decode(data, flags); !errors.Is(err, ErrTooLarge) {
		t.Errorf("inflated past MaxSize: %v", err)
	}
}
