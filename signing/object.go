package signing

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/djsession/djsession/pickle/py"
	"github.com/djsession/djsession/signing/pyzlib"
	"math"
)

// Serializer converts Python values to bytes and back for SignObject and
// UnsignObject, like the serializer classes Django passes to dumps/loads
// (JSONSerializer; the session PickleSerializer lives elsewhere).
//
// Loads must not keep data after it returns: the buffer is reused. Both
// methods must be safe for concurrent use.
type Serializer interface {
	Dumps(v py.Value) ([]byte, error)
	Loads(data []byte) (py.Value, error)
}

// JSONSerializer is Django's signing.JSONSerializer, which is also the
// session JSONSerializer (spec §2.6): compact json.dumps with ASCII-only
// output, and json.loads of the bytes decoded as Latin-1.
type JSONSerializer struct{}

// Dumps returns json.dumps(v, separators=(",", ":")) byte for byte.
func (JSONSerializer) Dumps(v py.Value) ([]byte, error) { return py.EncodeJSON(v) }

// Loads returns json.loads(data.decode("latin-1")).
func (JSONSerializer) Loads(data []byte) (py.Value, error) { return py.DecodeJSON(data) }

// SignObject serializes v, optionally compresses it, and signs the result:
// Django's Signer.sign_object(obj, compress=compress) (spec §2.6). With
// compress, zlib is used only when it saves at least 2 bytes, and a "."
// then marks the payload. The zlib stream is CPython's zlib.compress at
// level 6 byte for byte (package pyzlib), so compressed tokens equal
// Django's too.
// The only errors are the serializer's.
func (s *Signer) SignObject(v py.Value, compress bool) (string, error) {
	return s.c.signObject(v, compress, false)
}

// UnsignObject verifies a value made by SignObject and returns the object
// (Django's Signer.unsign_object). A bad signature returns an error
// wrapping ErrBadSignature; a verified payload that does not decode
// (base64, zlib, size limit, serializer) an error wrapping ErrBadPayload.
func (s *Signer) UnsignObject(signed string) (py.Value, error) {
	payload, err := s.c.unsign(signed)
	if err != nil {
		return py.None, err
	}
	return s.c.loadPayload(payload)
}

// SignObject is Signer.SignObject with a timestamp:
// TimestampSigner.sign_object, and so signing.dumps.
func (s *TimestampSigner) SignObject(v py.Value, compress bool) (string, error) {
	return s.c.signObject(v, compress, true)
}

// UnsignObject is Signer.UnsignObject for timestamped values, without an age
// check (signing.loads(max_age=None)).
func (s *TimestampSigner) UnsignObject(signed string) (py.Value, error) {
	return s.unsignObject(signed, noMaxAge)
}

// UnsignObjectMaxAge is UnsignObject with the age check of UnsignMaxAge
// (signing.loads(max_age=maxAge)). The age is checked before the payload
// is decoded.
func (s *TimestampSigner) UnsignObjectMaxAge(signed string, maxAge time.Duration) (py.Value, error) {
	if maxAge == noMaxAge {
		maxAge++
	}
	return s.unsignObject(signed, maxAge)
}

func (s *TimestampSigner) unsignObject(signed string, maxAge time.Duration) (py.Value, error) {
	payload, err := s.c.unsignTimestamped(signed, maxAge)
	if err != nil {
		return py.None, err
	}
	return s.c.loadPayload(payload)
}

// Dumps is django.core.signing.dumps(obj, key, salt, compress=compress)
// (spec §2.6): TimestampSigner.SignObject with the salt DumpsSalt unless
// opts.Salt says otherwise. (Django's dumps(salt="") falls through to
// TimestampSignerSalt; pass that explicitly to get it.) It fails as
// NewTimestampSigner and SignObject do. It derives the keys on every call;
// for repeated use build a TimestampSigner once.
func Dumps(v py.Value, key []byte, compress bool, opts *Options) (string, error) {
	s, err := NewTimestampSigner(key, dumpsOptions(opts))
	if err != nil {
		return "", err
	}
	return s.SignObject(v, compress)
}

// Loads is django.core.signing.loads(s, key, salt, max_age=None): the
// reverse of Dumps, with the same salt rule. See NewTimestampSigner and
// UnsignObject for the errors.
func Loads(token string, key []byte, opts *Options) (py.Value, error) {
	s, err := NewTimestampSigner(key, dumpsOptions(opts))
	if err != nil {
		return py.None, err
	}
	return s.UnsignObject(token)
}

// LoadsMaxAge is Loads with signing.loads(max_age=maxAge).
func LoadsMaxAge(token string, key []byte, maxAge time.Duration, opts *Options) (py.Value, error) {
	s, err := NewTimestampSigner(key, dumpsOptions(opts))
	if err != nil {
		return py.None, err
	}
	return s.UnsignObjectMaxAge(token, maxAge)
}

func dumpsOptions(opts *Options) *Options {
	o := Options{}
	if opts != nil {
		o = *opts
	}
	if o.Salt == "" {
		o.Salt = DumpsSalt
	}
	return &o
}

// Buffers reused across calls. Buffers that grew past maxPooledBuffer are
// dropped rather than kept alive by the pool.
const maxPooledBuffer = 64 << 10

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) > maxPooledBuffer {
		return
	}
	*b = (*b)[:0]
	bufPool.Put(b)
}

// serialize returns the serializer's bytes, in *buf for the JSON fast path.
func (c *core) serialize(v py.Value, buf *[]byte) ([]byte, error) {
	if c.jsonFast {
		out, err := py.AppendJSON((*buf)[:0], v)
		if err != nil {
			return nil, err
		}
		*buf = out
		return out, nil
	}
	return c.serializer.Dumps(v)
}

// signObject implements sign_object (spec §2.6): data, optional zlib when
// it saves ≥ 2 bytes, "." flag, b64url, then sign; the result is built in
// one allocation.
func (c *core) signObject(v py.Value, compress, timestamped bool) (string, error) {
	jb := getBuf()
	defer putBuf(jb)
	data, err := c.serialize(v, jb)
	if err != nil {
		return "", fmt.Errorf("signing: serialize: %w", err)
	}
	flag := ""
	if compress {
		zb := getBuf()
		defer putBuf(zb)
		z, err := deflate((*zb)[:0], data)
		if err == nil {
			*zb = z
			if len(z) < len(data)-1 {
				data, flag = z, "."
			}
		}
	}

	var tsBuf [12]byte
	var ts []byte
	if timestamped {
		ts = appendB62(tsBuf[:0], unixSeconds(c.now()))
	}
	k := c.keys[0]
	n := len(flag) + base64.RawURLEncoding.EncodedLen(len(data)) + len(c.sep) + k.b64len
	if timestamped {
		n += len(ts) + len(c.sep)
	}
	out := make([]byte, 0, n)
	out = append(out, flag...)
	out = base64.RawURLEncoding.AppendEncode(out, data)
	if timestamped {
		out = append(out, c.sep...)
		out = append(out, ts...)
	}
	var mac [maxB64MAC]byte
	m := k.b64mac(unsafeString(out), &mac)
	out = append(out, c.sep...)
	out = append(out, m...)
	return unsafeString(out), nil
}

// loadPayload is the decoding half of unsign_object (spec §2.6): strip the
// "." flag, b64-decode, inflate if flagged, deserialize.
func (c *core) loadPayload(payload string) (py.Value, error) {
	compressed := strings.HasPrefix(payload, ".")
	if compressed {
		payload = payload[1:]
	} else if c.jsonFast {
		// Decode into a buffer of its own that the JSON strings then
		// share: one allocation, no copy.
		data, err := appendB64Decode(nil, payload)
		if err != nil {
			return py.None, errPayloadBase64
		}
		v, err := py.DecodeJSONString(unsafeString(data))
		if err != nil {
			return py.None, fmt.Errorf("%w: %w", ErrBadPayload, err)
		}
		return v, nil
	}
	bb := getBuf()
	defer putBuf(bb)
	data, err := appendB64Decode((*bb)[:0], payload)
	if err != nil {
		return py.None, errPayloadBase64
	}
	*bb = data
	if compressed {
		zb := getBuf()
		defer putBuf(zb)
		data, err = inflate((*zb)[:0], data, c.maxInflate)
		*zb = data
		if err != nil {
			return py.None, err
		}
	}
	v, err := c.serializer.Loads(data)
	if err != nil {
		return py.None, fmt.Errorf("%w: %w", ErrBadPayload, err)
	}
	return v, nil
}

var (
	errPayloadBase64 = &detailError{"signing: bad payload: invalid base64", ErrBadPayload}
	errPayloadLarge  = &detailError{"signing: bad payload: decompressed size exceeds the limit", ErrBadPayload}
)

// deflate appends zlib.compress(data) at CPython's default level (6),
// byte for byte as CPython's zlib writes it (package pyzlib), so compressed
// tokens equal Django's and the "saves at least 2 bytes" decision is
// Django's (spec §2.6).
func deflate(dst, data []byte) ([]byte, error) {
	return pyzlib.Compress(dst, data, 6)
}

// inflate appends zlib.decompress(data) to dst, reading at most limit bytes
// (limit < 0: unbounded). Like CPython, bytes after the end of the zlib
// stream are ignored and the Adler-32 checksum is verified.
func inflate(dst, data []byte, limit int64) ([]byte, error) {
	lim := -1
	if limit >= 0 {
		lim = int(min(limit, int64(math.MaxInt32)))
	}
	out, err := pyzlib.Decompress(dst, data, lim)
	if err != nil {
		if errors.Is(err, pyzlib.ErrTooLarge) {
			return dst, errPayloadLarge
		}
		return dst, zlibError(err)
	}
	return out, nil
}

func zlibError(err error) error {
	return fmt.Errorf("%w: %w", ErrBadPayload, err)
}
