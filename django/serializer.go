package django

import (
	"github.com/djsession/djsession/pickle"
	"github.com/djsession/djsession/pickle/py"
)

// Serializer is SESSION_SERIALIZER: how the session dict becomes the bytes
// that are signed into session_data (spec §3.7). It has the same method set
// as signing.Serializer, so any Serializer is also a signing serializer.
type Serializer interface {
	Dumps(v py.Value) ([]byte, error)
	Loads(data []byte) (py.Value, error)
}

// JSONSerializer is django.contrib.sessions.serializers.JSONSerializer (the
// default): compact JSON, ASCII-only, as Python's json module writes it, read
// as Latin-1 (spec §2.6).
type JSONSerializer struct{}

// Dumps encodes v as Django's JSONSerializer does.
func (JSONSerializer) Dumps(v py.Value) ([]byte, error) { return py.EncodeJSON(v) }

// Loads decodes data as Django's JSONSerializer does.
func (JSONSerializer) Loads(data []byte) (py.Value, error) { return py.DecodeJSON(data) }

// PickleSerializer is django.contrib.sessions.serializers.PickleSerializer
// (Django ≤4.2): pickle.dumps at the interpreter's HIGHEST_PROTOCOL, read with
// our allow-listed unpickler, so a forged pickle cannot run code here. It is
// still unsafe to let Django read pickled sessions an attacker can forge.
type PickleSerializer struct {
	// Protocol is the pickle protocol written; 0 means 5, Python 3.8+'s
	// HIGHEST_PROTOCOL (Python 3.4–3.7 wrote 4, Python 2 wrote 2).
	Protocol int
}

// Dumps pickles v.
func (p PickleSerializer) Dumps(v py.Value) ([]byte, error) {
	proto := p.Protocol
	if proto == 0 {
		proto = pickle.HighestProtocol
	}
	return pickle.Dumps(v, proto)
}

// Loads unpickles data with the default limits.
func (PickleSerializer) Loads(data []byte) (py.Value, error) { return pickle.Loads(data) }
