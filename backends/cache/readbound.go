package cache

import (
	"github.com/djsession/djsession/backends/cache/codec"
	"github.com/djsession/djsession/pickle"
)

// unlimitedReadBound is the size bound a store without a value limit
// (WithMaxValueSize(-1), ?max_value_size=-1) gives its value format's
// decoding: 512 MiB, the largest string Redis stores by default
// (proto-max-bulk-len). The decoders need some bound (pickle.Limits has no
// "unlimited"), and no stored session is larger.
const unlimitedReadBound = 512 << 20

// readBoundFormat returns f with the size bounds its decoding applies
// after the read raised to the store's value limit maxValue (0: no limit),
// so that every value the store reads is also decoded: the pickle reader's
// MaxInput (pickle.DefaultLimits.MaxInput, 8 MiB, by default) and the
// format's MaxSize on serialized, decompressed bytes (codec.DefaultMaxSize,
// 16 MiB). Only the formats of package codec are changed, only fields left
// zero (a bound set on the format is kept), and bounds are only raised: a
// limit below the defaults leaves them as they are, since a compressed
// value within the limit may decompress to more. The other pickle limits
// (MaxTotalItems, MaxDepth, ...) stay at their defaults: they bound the
// memory and work of a load whatever its size.
func readBoundFormat(f codec.Format, maxValue int) codec.Format {
	bound := maxValue
	if bound <= 0 {
		bound = unlimitedReadBound
	}
	pickleMax := 0 // the MaxInput to set, or 0 to keep the default
	if bound > pickle.DefaultLimits.MaxInput {
		pickleMax = bound
	}
	sizeMax := 0 // the MaxSize to set, or 0 to keep the default
	if bound > codec.DefaultMaxSize {
		sizeMax = bound
	}
	if pickleMax == 0 && sizeMax == 0 {
		return f
	}
	limits := func(l pickle.Limits) pickle.Limits {
		if l.MaxInput == 0 {
			l.MaxInput = pickleMax
		}
		return l
	}
	size := func(n int) int {
		if n == 0 {
			return sizeMax
		}
		return n
	}
	djangoRedis := func(x codec.DjangoRedis) codec.DjangoRedis {
		x.MaxSize = size(x.MaxSize)
		switch ser := x.Serializer.(type) {
		case nil:
			x.Serializer = codec.PickleSerializer{Limits: limits(pickle.Limits{})}
		case codec.PickleSerializer:
			ser.Limits = limits(ser.Limits)
			x.Serializer = ser
		case *codec.PickleSerializer:
			if ser != nil {
				c := *ser
				c.Limits = limits(c.Limits)
				x.Serializer = &c
			}
		}
		return x
	}
	if g, ok := rebound(f, djangoRedis); ok {
		return g
	}
	if g, ok := rebound(f, func(x codec.DjangoRedisCache) codec.DjangoRedisCache {
		x.Limits, x.MaxSize = limits(x.Limits), size(x.MaxSize)
		return x
	}); ok {
		return g
	}
	if g, ok := rebound(f, func(x codec.DjangoPickle) codec.DjangoPickle {
		x.Limits, x.MaxSize = limits(x.Limits), size(x.MaxSize)
		return x
	}); ok {
		return g
	}
	if g, ok := rebound(f, func(x codec.PyMemcache) codec.PyMemcache {
		x.Limits, x.MaxSize = limits(x.Limits), size(x.MaxSize)
		return x
	}); ok {
		return g
	}
	if g, ok := rebound(f, func(x codec.PyLibMC) codec.PyLibMC {
		x.Limits, x.MaxSize = limits(x.Limits), size(x.MaxSize)
		return x
	}); ok {
		return g
	}
	return f
}

// rebound applies fix to f when f is a T, or a copy of the T a non-nil *T
// points at (the caller's format is never changed); ok is false when f is
// neither. A nil *T is returned as it is.
func rebound[T codec.Format](f codec.Format, fix func(T) T) (g codec.Format, ok bool) {
	switch x := any(f).(type) {
	case T:
		return fix(x), true
	case *T:
		if x == nil {
			return f, true
		}
		c := fix(*x)
		return any(&c).(codec.Format), true
	}
	return nil, false
}
