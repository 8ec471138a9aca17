package codec

import (
	"encoding/base64"
	"encoding/hex"
	"testing"

	"github.com/djsession/djsession/pickle/py"
)

// fuzzFormats are the formats FuzzDecode drives, each with a 1 MiB limit.
func fuzzFormats() []Format {
	const limit = 1 << 20
	var fs []Format
	for _, s := range []Serializer{PickleSerializer{}, JSONSerializer{}, MsgpackSerializer{}} {
		for _, c := range allCompressors {
			fs = append(fs, DjangoRedis{Serializer: s, Compressor: c, MaxSize: limit})
		}
	}
	return append(fs, DjangoRedisCache{MaxSize: limit}, PyMemcache{MaxSize: limit}, PyLibMC{MaxSize: limit}, DjangoPickle{MaxSize: limit})
}

// formatIndex is the index in fuzzFormats of DjangoRedis{s, c}.
func formatIndex(s, c int) uint8 { return uint8(s*len(allCompressors) + c) }

// FuzzDecode feeds arbitrary bytes and flags to every format: Decode must
// never panic, must stay within its size limit, and whatever it returns
// must be writable by NormalJSON and by the format again.
func FuzzDecode(f *testing.F) {
	for _, v := range loadCacheVectors(f) {
		data, _ := base64.StdEncoding.DecodeString(v.Expected.ValueB64)
		for i := range fuzzFormats() {
			f.Add(uint8(i), uint32(0), data)
		}
	}
	sample := dictOf("_auth_user_id", py.Str("1"), "n", py.NewList(py.Int(1), py.Float(2.5), py.None), "blob", py.Str("lorem ipsum dolor sit amet, lorem ipsum"))
	for si, s := range []Serializer{PickleSerializer{}, JSONSerializer{}, MsgpackSerializer{}} {
		raw, err := s.Dumps(sample)
		if err != nil {
			f.Fatal(err)
		}
		for ci, c := range allCompressors {
			data, err := c.Compress(raw)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(formatIndex(si, ci), uint32(0), data)
		}
	}
	// django-redis HerdClient values (spec §7.5, §9.8): Decode refuses the
	// Marker (FuzzDecodeHerd reads them).
	herd, _ := hex.DecodeString(herdVector)
	for ci, c := range allCompressors {
		data, err := DjangoRedis{Compressor: c}.EncodeHerd(sample, 1700000060)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(formatIndex(0, ci), uint32(0), data)
		f.Add(formatIndex(0, ci), uint32(0), herd)
	}
	n := uint8(len(fuzzFormats()))
	for _, fl := range []uint32{0, FlagPickle, FlagInteger, FlagLong, FlagText, FlagZlib | FlagPickle, FlagZlib | FlagText} {
		f.Add(n-1, fl, []byte("x\x9c\x33\x34\x02\x00\x00\x96\x00\x64"))
		f.Add(n-2, fl, []byte("\x80\x05N."))
	}
	f.Add(uint8(0), uint32(0), []byte(" 1_2 "))
	formats := fuzzFormats()
	f.Fuzz(func(t *testing.T, which uint8, flags uint32, data []byte) {
		format := formats[int(which)%len(formats)]
		v, err := format.Decode(data, flags)
		if err != nil {
			return
		}
		if _, err := py.NormalJSON(v); err != nil {
			t.Fatalf("NormalJSON of a decoded value: %v", err)
		}
		// Re-encoding may fail (a value this format cannot write, such as
		// a bytes value read by pylibmc written back with pymemcache), but
		// must not panic.
		_, _, _ = format.Encode(v)
	})
}
