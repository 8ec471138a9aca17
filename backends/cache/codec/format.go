package codec

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/djsession/djsession/pickle"
	"github.com/djsession/djsession/pickle/py"
)

// Format is how one cache client stores a value: the bytes, plus the item
// flags for Memcached (always 0 for Redis, whose formats ignore flags).
// Decode errors wrap this package's sentinels; any error means Django would
// not have read a value either (or, noted per format, would have read
// something this package cannot represent).
type Format interface {
	// Encode returns what the client stores for v.
	Encode(v py.Value) (data []byte, flags uint32, err error)
	// Decode returns what the client reads from a stored item.
	Decode(data []byte, flags uint32) (py.Value, error)
}

// DjangoRedis is django-redis's DefaultClient (spec §7.2), also used by its
// Sentinel and Shard clients.
//
// Encode: an int (not a bool) is stored as its decimal digits; anything
// else is Serializer.Dumps then Compressor.Compress.
//
// Decode: bytes that Python's int() accepts are that int (so a raw number
// written by any client reads as an int); otherwise the bytes are
// decompressed, kept as they are when not in the compressor's format
// (ErrNotCompressed: values under the compression threshold), and passed to
// Serializer.Loads.
type DjangoRedis struct {
	// Serializer is OPTIONS["SERIALIZER"]; nil is PickleSerializer{}
	// (pickle at DjangoRedisPickleProtocol).
	Serializer Serializer
	// Compressor is OPTIONS["COMPRESSOR"]; nil is IdentityCompressor{}.
	Compressor Compressor
	// MaxSize bounds the serialized (decompressed) size of a value read;
	// 0 is DefaultMaxSize.
	MaxSize int
}

func (f DjangoRedis) serializer() Serializer {
	if f.Serializer == nil {
		return PickleSerializer{}
	}
	return f.Serializer
}

func (f DjangoRedis) compressor() Compressor {
	if f.Compressor == nil {
		return IdentityCompressor{}
	}
	return f.Compressor
}

// Encode returns the stored bytes of v; flags is 0.
func (f DjangoRedis) Encode(v py.Value) ([]byte, uint32, error) {
	if v.Kind() == py.IntKind {
		b, err := formatInt(v)
		return b, 0, err
	}
	b, err := f.serializer().Dumps(v)
	if err != nil {
		return nil, 0, err
	}
	b, err = f.compressor().Compress(b)
	if err != nil {
		return nil, 0, err
	}
	return b, 0, nil
}

// Decode reads stored bytes; flags are ignored.
func (f DjangoRedis) Decode(data []byte, _ uint32) (py.Value, error) {
	if v, ok := ParseInt(data); ok {
		return v, nil
	}
	raw, err := f.raw(data)
	if err != nil {
		return py.None, err
	}
	return f.serializer().Loads(raw)
}

// raw returns the serialized bytes of a stored value that is not an int:
// decompressed, or as they are when not in the compressor's format.
func (f DjangoRedis) raw(data []byte) ([]byte, error) {
	limit := limitOrDefault(f.MaxSize)
	raw, err := f.compressor().Decompress(data, limit)
	if err != nil {
		if !errors.Is(err, ErrNotCompressed) {
			return nil, err
		}
		if len(data) > limit {
			return nil, fmt.Errorf("%w (%d bytes)", ErrTooLarge, len(data))
		}
		raw = data
	}
	return raw, nil
}

// DjangoRedisCache is Django's own Redis backend,
// django.core.cache.backends.redis.RedisCache (4.0+, spec §6.2): a value
// whose type is exactly int is stored as its decimal digits; everything else
// (bool included, from 4.0.1) is pickle.dumps(v, HIGHEST_PROTOCOL), protocol
// 5. Reading tries int() first, then pickle.loads.
type DjangoRedisCache struct {
	// Limits bound pickle loads; zero fields take pickle.DefaultLimits.
	Limits pickle.Limits
	// MaxSize bounds the size of a value read; 0 is DefaultMaxSize.
	MaxSize int
}

// Encode returns the stored bytes of v; flags is 0.
func (f DjangoRedisCache) Encode(v py.Value) ([]byte, uint32, error) {
	if v.Kind() == py.IntKind {
		b, err := formatInt(v)
		return b, 0, err
	}
	b, err := pickleDumps(v, pickle.HighestProtocol)
	return b, 0, err
}

// Decode reads stored bytes; flags are ignored.
func (f DjangoRedisCache) Decode(data []byte, _ uint32) (py.Value, error) {
	if v, ok := ParseInt(data); ok {
		return v, nil
	}
	if len(data) > limitOrDefault(f.MaxSize) {
		return py.None, fmt.Errorf("%w (%d bytes)", ErrTooLarge, len(data))
	}
	return pickleLoads(data, f.Limits)
}

// DjangoPickle is the value format of Django's LocMemCache, FileBasedCache
// and DatabaseCache (spec §6.3): every value, ints included, is
// pickle.dumps(v, HIGHEST_PROTOCOL), protocol 5, and is read with
// pickle.loads. The framing around the pickle (FileBasedCache's expiry and
// zlib stream, DatabaseCache's base64) belongs to the client that stores
// it (FileClient, package dbcache), so Encode and Decode see the bare
// pickle.
type DjangoPickle struct {
	// Limits bound pickle loads; zero fields take pickle.DefaultLimits.
	Limits pickle.Limits
	// MaxSize bounds the size of a value read; 0 is DefaultMaxSize.
	MaxSize int
}

// Encode returns the pickle of v; flags is 0.
func (f DjangoPickle) Encode(v py.Value) ([]byte, uint32, error) {
	b, err := pickleDumps(v, pickle.HighestProtocol)
	return b, 0, err
}

// Decode unpickles data; flags are ignored.
func (f DjangoPickle) Decode(data []byte, _ uint32) (py.Value, error) {
	if len(data) > limitOrDefault(f.MaxSize) {
		return py.None, fmt.Errorf("%w (%d bytes)", ErrTooLarge, len(data))
	}
	return pickleLoads(data, f.Limits)
}

// Memcached item flags of the Python clients. pymemcache (serde.py) and
// pylibmc (_pylibmcmodule.h) agree on these bits; bit 3 is pylibmc's zlib
// marker (pymemcache reserves it, "FLAG_COMPRESSED", and ignores it).
const (
	FlagPickle  uint32 = 1 << 0 // value is a pickle
	FlagInteger uint32 = 1 << 1 // int as decimal text (pymemcache); bool "0"/"1" (pylibmc)
	FlagLong    uint32 = 1 << 2 // int as decimal text (pylibmc; Python 2 long in pymemcache)
	FlagZlib    uint32 = 1 << 3 // pylibmc: value is zlib-compressed
	FlagText    uint32 = 1 << 4 // str as UTF-8
)

// pylibmcTypeMask is PYLIBMC_FLAG_TYPES: the bits that select the type.
const pylibmcTypeMask = FlagPickle | FlagInteger | FlagLong | FlagText

// PyMemcache is Django's PyMemcacheCache (3.2+): pymemcache's pickle_serde
// (spec §6.3). Encode by exact type: bytes → flags 0, as is; str → FlagText,
// UTF-8; int → FlagInteger, decimal text; anything else (bool, float,
// bytearray, dict, ...) → FlagPickle, pickle at HIGHEST_PROTOCOL (5).
//
// Decode by flags, first match wins: 0 → bytes; FlagText → str (strict
// UTF-8); FlagInteger or FlagLong → int() of the text; FlagPickle → pickle;
// any other flags → the bytes as they are. pymemcache logs a pickle it
// cannot load and returns None, which Django reads as a miss; Decode
// returns the error instead.
type PyMemcache struct {
	// PickleProtocol is pickle_serde's protocol; 0 is HIGHEST_PROTOCOL (5).
	PickleProtocol int
	// Limits bound pickle loads; zero fields take pickle.DefaultLimits.
	Limits pickle.Limits
	// MaxSize bounds the size of a value read; 0 is DefaultMaxSize.
	MaxSize int
}

// Encode returns the stored bytes of v and their flags.
func (f PyMemcache) Encode(v py.Value) ([]byte, uint32, error) {
	switch v.Kind() {
	case py.BytesKind:
		b, _ := v.Bytes()
		return b, 0, nil
	case py.StrKind:
		s, _ := v.Str()
		if !utf8.ValidString(s) {
			return nil, 0, fmt.Errorf("%w: 'utf-8' codec can't encode surrogates", ErrUnsupported)
		}
		return []byte(s), FlagText, nil
	case py.IntKind:
		b, err := formatInt(v)
		return b, FlagInteger, err
	}
	p := f.PickleProtocol
	if p == 0 {
		p = pickle.HighestProtocol
	}
	b, err := pickleDumps(v, p)
	return b, FlagPickle, err
}

// Decode reads a stored item.
func (f PyMemcache) Decode(data []byte, flags uint32) (py.Value, error) {
	if len(data) > limitOrDefault(f.MaxSize) {
		return py.None, fmt.Errorf("%w (%d bytes)", ErrTooLarge, len(data))
	}
	switch {
	case flags == 0:
		return py.Bytes(data), nil
	case flags&FlagText != 0:
		return decodeUTF8(data)
	case flags&(FlagInteger|FlagLong) != 0:
		if v, ok := ParseInt(data); ok {
			return v, nil
		}
		return py.None, fmt.Errorf("%w: invalid literal for int() with base 10", ErrMalformed)
	case flags&FlagPickle != 0:
		return pickleLoads(data, f.Limits)
	}
	return py.Bytes(data), nil
}

func decodeUTF8(data []byte) (py.Value, error) {
	if !utf8.Valid(data) {
		return py.None, fmt.Errorf("%w: 'utf-8' codec can't decode the value", ErrMalformed)
	}
	return py.Str(string(data)), nil
}

// PyLibMC is Django's PyLibMCCache: pylibmc's native serialization
// (spec §6.3, pylibmc 1.6). Encode: bytes → flags 0; str → FlagText, UTF-8;
// bool → FlagInteger, "1" or "0"; int → FlagLong, decimal text; anything
// else → FlagPickle, pickle at the pickle_protocol behavior (default
// HIGHEST_PROTOCOL, 5). When MinCompressLen > 0 (pylibmc's
// min_compress_len, which Django never passes) values of at least that many
// bytes are zlib-compressed and FlagZlib is set, but only if that makes them
// shorter.
//
// Decode: FlagZlib → inflate first (a failure is an error); then by the type
// bits (FlagPickle|FlagInteger|FlagLong|FlagText): none → bytes; FlagPickle
// → pickle; FlagInteger or FlagLong → int (the text up to the first NUL
// byte, as C's PyLong_FromString sees it), so a bool stored by pylibmc reads
// back as 0 or 1; FlagText → str; several type bits → ErrFlags.
type PyLibMC struct {
	// PickleProtocol is the pickle_protocol behavior; 0 is HIGHEST (5).
	PickleProtocol int
	// MinCompressLen is set()'s min_compress_len; 0 disables compression.
	MinCompressLen int
	// CompressLevel is set()'s compress_level, 1–9; 0 is zlib's default (6).
	CompressLevel int
	// Limits bound pickle loads; zero fields take pickle.DefaultLimits.
	Limits pickle.Limits
	// MaxSize bounds the (decompressed) size of a value read; 0 is
	// DefaultMaxSize.
	MaxSize int
}

// Encode returns the stored bytes of v and their flags.
func (f PyLibMC) Encode(v py.Value) ([]byte, uint32, error) {
	var data []byte
	var flags uint32
	switch v.Kind() {
	case py.BytesKind:
		data, _ = v.Bytes()
	case py.StrKind:
		s, _ := v.Str()
		if !utf8.ValidString(s) {
			return nil, 0, fmt.Errorf("%w: 'utf-8' codec can't encode surrogates", ErrUnsupported)
		}
		data, flags = []byte(s), FlagText
	case py.BoolKind:
		b, _ := v.Bool()
		data, flags = []byte{'0'}, FlagInteger
		if b {
			data[0] = '1'
		}
	case py.IntKind:
		var err error
		if data, err = formatInt(v); err != nil {
			return nil, 0, err
		}
		flags = FlagLong
	default:
		p := f.PickleProtocol
		if p == 0 {
			p = pickle.HighestProtocol
		}
		var err error
		if data, err = pickleDumps(v, p); err != nil {
			return nil, 0, err
		}
		flags = FlagPickle
	}
	if f.MinCompressLen > 0 && len(data) >= f.MinCompressLen {
		level := f.CompressLevel
		if level == 0 {
			level = 6
		}
		if z, err := zlibCompress(data, level); err == nil && len(z) < len(data) {
			data, flags = z, flags|FlagZlib
		}
	}
	return data, flags, nil
}

// Decode reads a stored item.
func (f PyLibMC) Decode(data []byte, flags uint32) (py.Value, error) {
	limit := limitOrDefault(f.MaxSize)
	if len(data) > limit {
		return py.None, fmt.Errorf("%w (%d bytes)", ErrTooLarge, len(data))
	}
	if flags&FlagZlib != 0 {
		var err error
		if data, err = zlibDecompress(data, limit); err != nil {
			if errors.Is(err, ErrTooLarge) {
				return py.None, err
			}
			return py.None, fmt.Errorf("%w: pylibmc: failed to decompress value", ErrMalformed)
		}
	}
	switch flags & pylibmcTypeMask {
	case 0:
		return py.Bytes(data), nil
	case FlagPickle:
		return pickleLoads(data, f.Limits)
	case FlagInteger, FlagLong:
		for i, c := range data {
			if c == 0 {
				data = data[:i]
				break
			}
		}
		if v, ok := ParseInt(data); ok {
			return v, nil
		}
		return py.None, fmt.Errorf("%w: invalid literal for int() with base 10", ErrMalformed)
	case FlagText:
		return decodeUTF8(data)
	}
	return py.None, fmt.Errorf("%w: %d", ErrFlags, flags&pylibmcTypeMask)
}
