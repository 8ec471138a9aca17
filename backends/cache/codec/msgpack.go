package codec

import (
	"bytes"
	"fmt"
	"math"
	"math/big"
	"unicode/utf8"

	"github.com/djsession/djsession/pickle/py"
	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// msgpackPackDepth is msgpack-python's Packer nesting limit
// (DEFAULT_RECURSE_LIMIT): deeper values raise ValueError.
const msgpackPackDepth = 511

// msgpackUnpackDepth is the C unpacker's fixed stack depth: at most this
// many containers (empty ones included) may be open at once.
const msgpackUnpackDepth = 1024

var errMsgpackDepth = fmt.Errorf("%w: msgpack: nesting too deep (StackError)", ErrMalformed)

// MsgpackSerializer is django-redis's MSGPackSerializer (spec §7.3):
// msgpack.dumps(v) and msgpack.loads(b, raw=False) with msgpack-python ≥ 1.0
// defaults. Writing: None, bool, int (−2⁶³ … 2⁶⁴−1, smallest encoding),
// float (always float 64), str (str8/16/32, UTF-8), bytes and bytearray
// (bin, use_bin_type=True), list and tuple (array), dict (map, in order);
// anything else is ErrUnsupported (TypeError). Reading gives str, bytes,
// list and dict; map keys must be str or bytes (strict_map_key=True),
// extension types (Timestamp, ExtType) are ErrUnsupported, trailing bytes
// are ErrMalformed (ExtraData).
type MsgpackSerializer struct{}

// Name returns "msgpack".
func (MsgpackSerializer) Name() string { return "msgpack" }

// Dumps returns msgpack.dumps(v).
func (MsgpackSerializer) Dumps(v py.Value) ([]byte, error) {
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	if err := msgpackEncode(enc, &buf, v, 0); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

var (
	minInt64 = big.NewInt(math.MinInt64)
	maxUint  = new(big.Int).SetUint64(math.MaxUint64)
)

func msgpackEncode(e *msgpack.Encoder, buf *bytes.Buffer, v py.Value, depth int) error {
	if depth > msgpackPackDepth {
		return fmt.Errorf("%w: msgpack: recursion limit exceeded", ErrUnsupported)
	}
	switch v.Kind() {
	case py.NoneKind:
		return e.EncodeNil()
	case py.BoolKind:
		b, _ := v.Bool()
		return e.EncodeBool(b)
	case py.IntKind:
		if n, ok := v.Int(); ok {
			return e.EncodeInt(n)
		}
		b, _ := v.BigInt()
		if b.Cmp(minInt64) < 0 || b.Cmp(maxUint) > 0 {
			return fmt.Errorf("%w: msgpack: integer value out of range", ErrUnsupported)
		}
		return e.EncodeUint(b.Uint64())
	case py.FloatKind:
		f, _ := v.Float()
		return e.EncodeFloat64(f)
	case py.StrKind:
		s, _ := v.Str()
		if !utf8.ValidString(s) {
			return fmt.Errorf("%w: msgpack: str is not encodable as UTF-8 (surrogates not allowed)", ErrUnsupported)
		}
		if uint64(len(s)) > math.MaxUint32 {
			return fmt.Errorf("%w: msgpack: str too large", ErrUnsupported)
		}
		return e.EncodeString(s)
	case py.BytesKind, py.ByteArrayKind:
		b, _ := v.Bytes()
		if uint64(len(b)) > math.MaxUint32 {
			return fmt.Errorf("%w: msgpack: bytes too large", ErrUnsupported)
		}
		if err := e.EncodeBytesLen(len(b)); err != nil {
			return err
		}
		buf.Write(b)
		return nil
	case py.ListKind, py.TupleKind:
		items := v.Items()
		if err := e.EncodeArrayLen(len(items)); err != nil {
			return err
		}
		for _, it := range items {
			if err := msgpackEncode(e, buf, it, depth+1); err != nil {
				return err
			}
		}
		return nil
	case py.DictKind:
		d, _ := v.Dict()
		if err := e.EncodeMapLen(d.Len()); err != nil {
			return err
		}
		for _, ent := range d.Entries() {
			if err := msgpackEncode(e, buf, ent.Key, depth+1); err != nil {
				return err
			}
			if err := msgpackEncode(e, buf, ent.Value, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("%w: msgpack: can not serialize '%s' object", ErrUnsupported, v.TypeName())
}

// Loads returns msgpack.loads(data, raw=False).
func (MsgpackSerializer) Loads(data []byte) (py.Value, error) {
	r := bytes.NewReader(data)
	dec := msgpack.NewDecoder(r)
	v, err := msgpackDecode(dec, r, 0)
	if err != nil {
		return py.None, err
	}
	if r.Len() != 0 {
		return py.None, fmt.Errorf("%w: msgpack: extra data", ErrMalformed)
	}
	return v, nil
}

func msgpackErr(err error) error {
	return fmt.Errorf("%w: msgpack: %v", ErrMalformed, err)
}

func msgpackDecode(d *msgpack.Decoder, r *bytes.Reader, depth int) (py.Value, error) {
	c, err := d.PeekCode()
	if err != nil {
		return py.None, fmt.Errorf("%w: msgpack: incomplete input", ErrMalformed)
	}
	switch {
	case c == msgpcode.Nil:
		_ = d.DecodeNil()
		return py.None, nil
	case c == msgpcode.False || c == msgpcode.True:
		b, err := d.DecodeBool()
		if err != nil {
			return py.None, msgpackErr(err)
		}
		return py.Bool(b), nil
	case msgpcode.IsFixedNum(c) || (c >= msgpcode.Int8 && c <= msgpcode.Int64) ||
		(c >= msgpcode.Uint8 && c <= msgpcode.Uint32):
		n, err := d.DecodeInt64()
		if err != nil {
			return py.None, msgpackErr(err)
		}
		return py.Int(n), nil
	case c == msgpcode.Uint64:
		u, err := d.DecodeUint64()
		if err != nil {
			return py.None, msgpackErr(err)
		}
		if u <= math.MaxInt64 {
			return py.Int(int64(u)), nil
		}
		return py.BigInt(new(big.Int).SetUint64(u)), nil
	case c == msgpcode.Float:
		f, err := d.DecodeFloat32()
		if err != nil {
			return py.None, msgpackErr(err)
		}
		return py.Float(float64(f)), nil
	case c == msgpcode.Double:
		f, err := d.DecodeFloat64()
		if err != nil {
			return py.None, msgpackErr(err)
		}
		return py.Float(f), nil
	case msgpcode.IsString(c) || msgpcode.IsBin(c):
		n, err := d.DecodeBytesLen()
		if err != nil {
			return py.None, msgpackErr(err)
		}
		if n < 0 || n > r.Len() {
			return py.None, fmt.Errorf("%w: msgpack: incomplete input", ErrMalformed)
		}
		b := make([]byte, n)
		if err := d.ReadFull(b); err != nil {
			return py.None, msgpackErr(err)
		}
		if msgpcode.IsBin(c) {
			return py.Bytes(b), nil
		}
		if !utf8.Valid(b) {
			return py.None, fmt.Errorf("%w: msgpack: str is not valid UTF-8", ErrMalformed)
		}
		return py.Str(string(b)), nil
	case msgpcode.IsFixedArray(c) || c == msgpcode.Array16 || c == msgpcode.Array32:
		if depth >= msgpackUnpackDepth {
			return py.None, errMsgpackDepth
		}
		n, err := d.DecodeArrayLen()
		if err != nil {
			return py.None, msgpackErr(err)
		}
		if n < 0 || n > r.Len() {
			return py.None, fmt.Errorf("%w: msgpack: incomplete input", ErrMalformed)
		}
		items := make([]py.Value, n)
		for i := range items {
			if items[i], err = msgpackDecode(d, r, depth+1); err != nil {
				return py.None, err
			}
		}
		return py.NewList(items...), nil
	case msgpcode.IsFixedMap(c) || c == msgpcode.Map16 || c == msgpcode.Map32:
		if depth >= msgpackUnpackDepth {
			return py.None, errMsgpackDepth
		}
		n, err := d.DecodeMapLen()
		if err != nil {
			return py.None, msgpackErr(err)
		}
		if n < 0 || 2*n > r.Len() {
			return py.None, fmt.Errorf("%w: msgpack: incomplete input", ErrMalformed)
		}
		dict := py.NewDict(n)
		for i := 0; i < n; i++ {
			k, err := msgpackDecode(d, r, depth+1)
			if err != nil {
				return py.None, err
			}
			if kk := k.Kind(); kk != py.StrKind && kk != py.BytesKind {
				return py.None, fmt.Errorf("%w: msgpack: %s is not allowed for map key when strict_map_key=True", ErrMalformed, k.TypeName())
			}
			val, err := msgpackDecode(d, r, depth+1)
			if err != nil {
				return py.None, err
			}
			if err := dict.Set(k, val); err != nil {
				return py.None, msgpackErr(err)
			}
		}
		return py.DictOf(dict), nil
	case msgpcode.IsExt(c):
		return py.None, fmt.Errorf("%w: msgpack extension type (Timestamp/ExtType)", ErrUnsupported)
	}
	return py.None, fmt.Errorf("%w: msgpack: reserved code %#x", ErrMalformed, c)
}
