package dbcache

import (
	"encoding/base64"
	"fmt"

	"github.com/djsession/djsession/backends/cache/codec"
	"github.com/djsession/djsession/pickle/py"
)

// ValueFormat is what DatabaseCache keeps in its value column as a
// codec.Format (spec §6.3): the standard base64, with padding, of the
// value's pickle (codec.DjangoPickle). It is for a tool that holds the
// column's text rather than a Client (djsession's decode and encode); the
// expires column is not part of it. Flags are ignored.
type ValueFormat struct {
	// MaxSize bounds the pickle read; 0 is codec.DefaultMaxSize.
	MaxSize int
}

// Encode returns the column text Django writes for v.
func (f ValueFormat) Encode(v py.Value) ([]byte, uint32, error) {
	b, _, err := (codec.DjangoPickle{}).Encode(v)
	if err != nil {
		return nil, 0, err
	}
	return []byte(base64.StdEncoding.EncodeToString(b)), 0, nil
}

// Decode reads the column text, decoded as strictly as Client reads it: a
// text that is not padded standard base64 is codec.ErrMalformed.
func (f ValueFormat) Decode(data []byte, _ uint32) (py.Value, error) {
	limit := f.MaxSize
	if limit <= 0 {
		limit = codec.DefaultMaxSize
	}
	if int64(len(data)) > encodedLimit(limit) {
		return py.None, fmt.Errorf("%w (over %d bytes)", codec.ErrTooLarge, limit)
	}
	b, ok := decodeValue(string(data))
	if !ok {
		return py.None, fmt.Errorf("%w: not the base64 text DatabaseCache writes", codec.ErrMalformed)
	}
	return codec.DjangoPickle{MaxSize: limit}.Decode(b, 0)
}
