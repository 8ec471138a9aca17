package pickle

import "github.com/djsession/djsession/pickle/py"

// django-redis's HerdClient (spec §7.5) stores a value set with a timeout
// as the pickle of (Marker(), value, herd_deadline). LoadsHerd reads that
// one shape; the Marker is not on the allow-list and never becomes a
// py.Value: inside the reader it is an object, like a tzinfo, and the only
// place it may stand is the first item of the top-level tuple, which
// LoadsHerd unwraps.

// Module and class name of django-redis's Marker.
const (
	herdModule = "django_redis.client.herd"
	herdClass  = "Marker"
)

// herdMarkerObj is the Marker instance. Every Marker() of a pickle is this
// one immutable object: BUILD on it is refused, so it has no state.
var herdMarkerObj = &object{kind: objHerdMarker}

func init() {
	g := &global{kind: gHerdMarker, module: herdModule, name: herdClass}
	g.obj = &object{kind: objGlobal, g: g}
	globals[gHerdMarker] = g
	// Not in allow: only (*reader).lookupGlobal resolves it, for LoadsHerd.
}

// lookupGlobal is the package's lookupGlobal, plus the Marker class when
// the reader runs for LoadsHerd.
func (r *reader) lookupGlobal(module, name string) (*global, error) {
	g, err := lookupGlobal(module, name)
	if err != nil && r.herd && module == herdModule && name == herdClass {
		return globals[gHerdMarker], nil
	}
	return g, err
}

// herdResult finishes a LoadsHerd load: a top-level (Marker(), value,
// deadline) sets herdFound and herdDeadline and returns the value; any
// other result is returned as LoadsWith returns it.
func (r *reader) herdResult(it *item) (py.Value, error) {
	if it.tag != tagRef {
		return r.result(it)
	}
	o := r.refs[it.n].o
	if o == nil || o.kind != objArgs || len(o.args) != 3 || o.args[0].o != herdMarkerObj {
		return r.result(it)
	}
	v, deadline := o.args[1], o.args[2]
	for _, a := range [2]arg{v, deadline} {
		if a.o != nil {
			if _, err := objectValue(a.o); err != nil {
				return py.None, err
			}
			return py.None, fail(ErrUnsupported, "%s in HerdClient's tuple", describe(a))
		}
	}
	if r.shared {
		// The value and the deadline are walked as the tuple they came in.
		if err := r.checkShared(py.NewTuple(v.v, deadline.v)); err != nil {
			return py.None, err
		}
	}
	r.herdFound, r.herdDeadline = true, deadline.v
	return v.v, nil
}
