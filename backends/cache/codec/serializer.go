package codec

import (
	"errors"
	"fmt"
	"strings"

	"github.com/djsession/djsession/pickle"
	"github.com/djsession/djsession/pickle/py"
)

// Serializer is a django-redis SERIALIZER (spec §7.3): Dumps turns a value
// into bytes, Loads reads them back. Loads errors wrap ErrMalformed (or
// ErrTooLarge, ErrUnsupported); Dumps errors wrap ErrUnsupported.
type Serializer interface {
	// Name returns the short name ("pickle", "json", "msgpack").
	Name() string
	// Dumps returns the serialized form of v.
	Dumps(v py.Value) ([]byte, error)
	// Loads reads a value from data.
	Loads(data []byte) (py.Value, error)
}

// Pickle protocols of the Python clients (spec §6.2, §7.3).
const (
	// DjangoRedisPickleProtocol is the protocol django-redis ≥ 5.1.0 writes
	// by default: pickle.DEFAULT_PROTOCOL, 4 on Python 3.8–3.13 (5 on
	// Python 3.14+).
	DjangoRedisPickleProtocol = pickle.DefaultProtocol
	// DjangoRedisLegacyPickleProtocol is the protocol django-redis ≤ 5.0.0
	// writes by default (PICKLE_VERSION -1 = HIGHEST_PROTOCOL, 5 on Python
	// 3.8+); Django's own RedisCache, LocMem and pymemcache and pylibmc also
	// write HIGHEST_PROTOCOL.
	DjangoRedisLegacyPickleProtocol = pickle.HighestProtocol
)

// PickleSerializer is django-redis's PickleSerializer: pickle.dumps(v,
// protocol) and pickle.loads (with this module's allow-listed reader).
type PickleSerializer struct {
	// Protocol is OPTIONS["PICKLE_VERSION"]: 2 to 5; a negative value is
	// HIGHEST_PROTOCOL (5), as in Python; 0 means the django-redis ≥ 5.1.0
	// default, DjangoRedisPickleProtocol (4). Use
	// DjangoRedisLegacyPickleProtocol to write what django-redis ≤ 5.0.0
	// writes. Protocols 0 and 1 cannot be written; every protocol reads.
	Protocol int
	// Limits bound Loads; zero fields take pickle.DefaultLimits.
	Limits pickle.Limits
}

// Name returns "pickle".
func (PickleSerializer) Name() string { return "pickle" }

func (s PickleSerializer) protocol() int {
	switch {
	case s.Protocol == 0:
		return DjangoRedisPickleProtocol
	case s.Protocol < 0:
		return pickle.HighestProtocol
	}
	return s.Protocol
}

// Dumps returns pickle.dumps(v, protocol).
func (s PickleSerializer) Dumps(v py.Value) ([]byte, error) {
	return pickleDumps(v, s.protocol())
}

// Loads returns pickle.loads(data).
func (s PickleSerializer) Loads(data []byte) (py.Value, error) {
	return pickleLoads(data, s.Limits)
}

func pickleDumps(v py.Value, protocol int) ([]byte, error) {
	b, err := pickle.Dumps(v, protocol)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnsupported, err)
	}
	return b, nil
}

// pickleLoads reads a pickle; errors wrap both this package's sentinel and
// the pickle package's (pickle.ErrDisallowedGlobal, ...).
func pickleLoads(data []byte, lim pickle.Limits) (py.Value, error) {
	v, err := pickle.LoadsWith(data, lim)
	if err != nil {
		return py.None, pickleError(err)
	}
	return v, nil
}

// pickleError wraps a pickle reader error in this package's sentinel.
func pickleError(err error) error {
	switch {
	case errors.Is(err, pickle.ErrLimit):
		return fmt.Errorf("%w: %w", ErrTooLarge, err)
	case errors.Is(err, pickle.ErrUnsupported):
		return fmt.Errorf("%w: %w", ErrUnsupported, err)
	}
	return fmt.Errorf("%w: %w", ErrMalformed, err)
}

// SerializerByName returns the serializer for a short name ("pickle",
// "json", "msgpack") or a django-redis class path such as
// "django_redis.serializers.json.JSONSerializer". The empty name is pickle
// at DjangoRedisPickleProtocol, django-redis's default.
func SerializerByName(name string) (Serializer, error) {
	switch strings.ToLower(name) {
	case "", "pickle", "django_redis.serializers.pickle.pickleserializer":
		return PickleSerializer{}, nil
	case "json", "django_redis.serializers.json.jsonserializer":
		return JSONSerializer{}, nil
	case "msgpack", "django_redis.serializers.msgpack.msgpackserializer":
		return MsgpackSerializer{}, nil
	}
	return nil, fmt.Errorf("%w: unknown serializer %q", ErrUnsupported, name)
}
