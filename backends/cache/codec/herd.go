package codec

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/djsession/djsession/pickle"
	"github.com/djsession/djsession/pickle/py"
)

// django-redis's HerdClient (CLIENT_CLASS "django_redis.client.HerdClient",
// spec §7.5) is DefaultClient with thundering-herd protection. A value set
// with a positive timeout T is wrapped as the tuple (Marker(), value,
// herd_deadline), herd_deadline = int(time.time()) + T, and the tuple goes
// through the same SERIALIZER and COMPRESSOR as any value (DefaultClient's
// encode), stored with a TTL of T + CACHE_HERD_TIMEOUT. A read past the
// deadline is a miss, always or at random (HerdMiss), so that one client
// refreshes the value while the others still get the stale one. A value
// that is not wrapped (set with no timeout, or by another client) reads as
// DefaultClient reads it.
//
// Only the pickle serializer can write the Marker: django-redis's JSON and
// msgpack serializers raise TypeError on it, so with them HerdClient fails
// every set with a timeout, and reads only unwrapped values.

// DefaultHerdTimeout is django-redis's default CACHE_HERD_TIMEOUT, in
// seconds.
const DefaultHerdTimeout = 60

// EncodeHerd returns what HerdClient stores for v set with a timeout: the
// pickle of (Marker(), v, deadline) at the serializer's protocol, then
// compressed, byte for byte what django-redis writes (spec §9.8) under the
// conditions of pickle.Dumps. deadline is int(time.time()) + timeout; the
// caller stores the result with a TTL of timeout + CACHE_HERD_TIMEOUT.
// With a serializer other than PickleSerializer it fails with
// ErrUnsupported, as django-redis fails with TypeError.
func (f DjangoRedis) EncodeHerd(v py.Value, deadline int64) ([]byte, error) {
	ser, ok := f.pickleSerializer()
	if !ok {
		return nil, fmt.Errorf("%w: the %s serializer cannot write HerdClient's Marker (django-redis raises TypeError)", ErrUnsupported, f.serializer().Name())
	}
	b, err := pickle.DumpsHerd(v, deadline, ser.protocol())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnsupported, err)
	}
	return f.compressor().Compress(b)
}

// DecodeHerd reads stored bytes as HerdClient.get does before its
// staleness check: Decode, except that a pickle of (Marker(), value,
// deadline) is unwrapped, herd true. Any other value is returned as
// Decode returns it, herd false. The Marker is read only in the shapes
// CPython writes for it (see pickle.LoadsHerd); every other pickle naming
// it fails, as Decode fails on it.
//
// The deadline must be an int (what django-redis writes); an int beyond
// int64 is clamped, which changes no comparison with a Unix time. Any
// other deadline is ErrMalformed, where Python would compare a float (and
// treat a bool as 0 or 1).
func (f DjangoRedis) DecodeHerd(data []byte) (v py.Value, deadline int64, herd bool, err error) {
	if v, ok := ParseInt(data); ok {
		return v, 0, false, nil
	}
	raw, err := f.raw(data)
	if err != nil {
		return py.None, 0, false, err
	}
	ser, ok := f.pickleSerializer()
	if !ok {
		v, err := f.serializer().Loads(raw)
		return v, 0, false, err
	}
	v, d, herd, err := pickle.LoadsHerd(raw, ser.Limits)
	if err != nil {
		return py.None, 0, false, pickleError(err)
	}
	if !herd {
		return v, 0, false, nil
	}
	if d.Kind() != py.IntKind {
		return py.None, 0, false, fmt.Errorf("%w: HerdClient's deadline is a %s, not an int", ErrMalformed, d.TypeName())
	}
	if n, ok := d.Int(); ok {
		return v, n, true, nil
	}
	if b, _ := d.BigInt(); b.Sign() < 0 {
		return v, math.MinInt64, true, nil
	}
	return v, math.MaxInt64, true, nil
}

// HerdMiss reports whether HerdClient.get returns a miss (its default,
// None) for a value wrapped with deadline, read at now (int(time.time()),
// Unix seconds) with CACHE_HERD_TIMEOUT herdTimeout: when deadline < now,
// x = now − deadline, and the read is a miss if x ≥ herdTimeout or x +
// randint(1, herdTimeout) ≥ herdTimeout (spec §7.5). So, one second past
// the deadline, a read is a miss with probability 2/herdTimeout, and the
// value is gone for every reader herdTimeout seconds past it.
//
// randIntN(n) returns a uniform int in [0, n) (randint(1, n) is
// randIntN(n) + 1); nil is math/rand/v2's IntN.
func HerdMiss(now, deadline int64, herdTimeout int, randIntN func(n int) int) bool {
	if deadline >= now {
		return false
	}
	h := int64(herdTimeout)
	if h <= 0 || deadline <= now-h { // x ≥ herdTimeout, without overflowing x
		return true
	}
	// Here 1 ≤ x < herdTimeout, so herdTimeout ≥ 2.
	x := now - deadline
	if randIntN == nil {
		randIntN = rand.IntN
	}
	return x+int64(randIntN(herdTimeout))+1 >= h
}

// pickleSerializer returns the serializer when it is pickle's.
func (f DjangoRedis) pickleSerializer() (PickleSerializer, bool) {
	switch s := f.serializer().(type) {
	case PickleSerializer:
		return s, true
	case *PickleSerializer:
		if s != nil {
			return *s, true
		}
	}
	return PickleSerializer{}, false
}
