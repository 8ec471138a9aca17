package pickle

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/djsession/djsession/pickle/py"
)

// ---------------------------------------------------------------------------
// Allow-list. Spec §8.4 gives the pickled shapes; the comments say which
// CPython writes which global. Nothing named by a pickle is ever imported
// or run: an allowed global is one of the values below, and calling it runs
// our own constructor for the argument shapes CPython writes.
// ---------------------------------------------------------------------------

type globalKind uint8

const (
	gSet              globalKind = iota + 1 // set at protocol ≤3: set(list)
	gFrozenSet                              // frozenset(list) at protocol ≤3
	gByteArray                              // bytearray(bytes) at protocol ≤4
	gBytes                                  // bytes() for b'' at protocol ≤2
	gObject                                 // object, for copyreg._reconstructor
	gReconstructor                          // copyreg._reconstructor (uuid.UUID at protocol ≤1)
	gGetattr                                // getattr(ZoneInfo, '_unpickle') only
	gCodecsEncode                           // _codecs.encode(str, 'latin1'): bytes at protocol ≤2
	gOrderedDict                            // collections.OrderedDict
	gDateTime                               // datetime.datetime(state[, tz])
	gDate                                   // datetime.date(state)
	gTime                                   // datetime.time(state[, tz])
	gTimeDelta                              // datetime.timedelta(d, s, us)
	gTimezone                               // datetime.timezone(td[, name])
	gDecimal                                // decimal.Decimal(str)
	gUUID                                   // uuid.UUID: NEWOBJ + BUILD({'int': n})
	gPytzUTC                                // pytz._UTC(): what pytz.utc pickles as
	gPytzP                                  // pytz._p(key[, utcoffset, dst, tzname]): pytz's other zones
	gZoneInfo                               // zoneinfo.ZoneInfo, as getattr's target
	gZoneInfoUnpickle                       // ZoneInfo._unpickle(key, from_cache)
	gHerdMarker                             // django_redis.client.herd.Marker: LoadsHerd only (reader_herd.go)
	numGlobalKinds
)

// global is an allowed class or function. The values are immutable
// singletons, as is obj, the object that holds one in call arguments.
type global struct {
	kind   globalKind
	module string
	name   string
	obj    *object
}

func (g *global) qual() string { return g.module + "." + g.name }

// isType reports the globals that are classes (NEWOBJ's first argument
// must be one) rather than functions.
func (g *global) isType() bool {
	switch g.kind {
	case gGetattr, gCodecsEncode, gReconstructor, gZoneInfoUnpickle, gPytzP:
		return false
	}
	return true
}

var (
	globals [numGlobalKinds]*global
	// allow maps module, then name, to its global.
	allow = map[string]map[string]*global{}
)

func init() {
	def := func(k globalKind, module, name string) {
		if globals[k] == nil {
			g := &global{kind: k, module: module, name: name}
			g.obj = &object{kind: objGlobal, g: g}
			globals[k] = g
		}
		if allow[module] == nil {
			allow[module] = map[string]*global{}
		}
		allow[module][name] = globals[k]
	}
	// Protocols ≤2 write Python 2 names (__builtin__, copy_reg), which
	// CPython maps to Python 3's (fix_imports).
	for _, m := range []string{"builtins", "__builtin__"} {
		def(gSet, m, "set")
		def(gFrozenSet, m, "frozenset")
		def(gByteArray, m, "bytearray")
		def(gBytes, m, "bytes")
		def(gObject, m, "object")
		def(gGetattr, m, "getattr")
	}
	def(gReconstructor, "copyreg", "_reconstructor")
	def(gReconstructor, "copy_reg", "_reconstructor")
	def(gCodecsEncode, "_codecs", "encode")
	def(gOrderedDict, "collections", "OrderedDict")
	def(gDateTime, "datetime", "datetime")
	def(gDate, "datetime", "date")
	def(gTime, "datetime", "time")
	def(gTimeDelta, "datetime", "timedelta")
	def(gTimezone, "datetime", "timezone")
	def(gDecimal, "decimal", "Decimal")
	def(gUUID, "uuid", "UUID")
	def(gPytzUTC, "pytz", "_UTC")
	def(gPytzP, "pytz", "_p")
	def(gZoneInfo, "zoneinfo", "ZoneInfo")
	// Protocol ≥4 STACK_GLOBAL may name the nested function directly.
	def(gZoneInfoUnpickle, "zoneinfo", "ZoneInfo._unpickle")
}

func quoteGlobal(module, name string) string {
	const max = 100
	q := module + "." + name
	if len(q) > max {
		q = q[:max] + "..."
	}
	return strconv.Quote(q)
}

// lookupGlobal resolves GLOBAL, INST and STACK_GLOBAL names.
func lookupGlobal(module, name string) (*global, error) {
	if g, ok := allow[module][name]; ok {
		return g, nil
	}
	return nil, fmt.Errorf("%w: %s", ErrDisallowedGlobal, quoteGlobal(module, name))
}

// Shared tzinfo objects: the UTC singletons are immutable.
var (
	utcObj     = &object{kind: objTZ, tz: py.UTC}
	pytzUTCObj = &object{kind: objTZ, tz: py.PytzUTC}
)

// zoneKeys caches the zoneinfo keys the Go runtime loaded, so that a pickle
// naming one zone many times reads the zone database once. It only grows
// with valid keys (at most the zone database), and is capped anyway.
var zoneKeys struct {
	sync.RWMutex
	ok map[string]bool
}

const maxZoneKeys = 4096

func zoneInfo(key string) (*py.TZInfo, error) {
	zoneKeys.RLock()
	ok := zoneKeys.ok[key]
	zoneKeys.RUnlock()
	if ok {
		return &py.TZInfo{Kind: py.TZZoneInfo, Key: key}, nil
	}
	tz, err := py.ZoneInfo(key)
	if err != nil {
		return nil, err
	}
	zoneKeys.Lock()
	if zoneKeys.ok == nil {
		zoneKeys.ok = map[string]bool{}
	}
	if len(zoneKeys.ok) < maxZoneKeys {
		zoneKeys.ok[key] = true
	}
	zoneKeys.Unlock()
	return tz, nil
}

// pytzStatic caches the pytz StaticTzInfo zones (keys with a single offset
// in the Go runtime's zone database), as zoneKeys does for zoneinfo keys.
var pytzStatic struct {
	sync.RWMutex
	tz map[string]py.TZInfo
}

func pytzStaticZone(key string) (*py.TZInfo, error) {
	pytzStatic.RLock()
	tz, ok := pytzStatic.tz[key]
	pytzStatic.RUnlock()
	if ok {
		return &tz, nil
	}
	z, err := py.PytzStaticZone(key)
	if err != nil {
		return nil, err
	}
	pytzStatic.Lock()
	if pytzStatic.tz == nil {
		pytzStatic.tz = map[string]py.TZInfo{}
	}
	if len(pytzStatic.tz) < maxZoneKeys {
		pytzStatic.tz[key] = *z
	}
	pytzStatic.Unlock()
	return z, nil
}

// pytzSeconds returns the int argument of pytz._p holding an offset in
// seconds, when it is one strictly within ±24h.
func pytzSeconds(a arg) (time.Duration, bool) {
	if a.o != nil || a.v.Kind() != py.IntKind {
		return 0, false
	}
	s, ok := a.v.Int()
	if !ok || s <= -86400 || s >= 86400 {
		return 0, false
	}
	return time.Duration(s) * time.Second, true
}

// callPytz is pytz._p, pytz's unpickler for its zones, in the two shapes
// pytz writes: (key,) for a StaticTzInfo and (key, utcoffset, dst, tzname)
// for a DstTzInfo instance (offsets in whole seconds). pytz itself looks
// the key up in its zone database (a file path): the key must have the
// shape of a zone key (py.ValidPytzKey), and a static one must be a
// single-offset zone the Go runtime knows. Nothing else is accepted.
func (r *reader) callPytz(g *global, args []arg) (arg, error) {
	bad := func(kind error, why string) (arg, error) {
		return arg{}, fmt.Errorf("%w: %s(%d args): %s", kind, g.qual(), len(args), why)
	}
	if len(args) != 1 && len(args) != 4 {
		return bad(ErrMalformed, "need (key,) or (key, utcoffset, dst, tzname)")
	}
	key, ok := text(args[0])
	if !ok {
		return bad(ErrMalformed, "the zone key is a "+describe(args[0]))
	}
	if err := r.charge(len(key)); err != nil {
		return arg{}, err
	}
	if !py.ValidPytzKey(key) {
		return bad(ErrMalformed, fmt.Sprintf("invalid zone key %q", clip(key)))
	}
	if len(args) == 1 {
		tz, err := pytzStaticZone(key)
		if err != nil {
			return bad(ErrUnsupported, fmt.Sprintf("zone %q is not a single-offset zone the Go runtime knows", clip(key)))
		}
		return arg{o: &object{kind: objTZ, tz: tz}}, nil
	}
	off, ok1 := pytzSeconds(args[1])
	dst, ok2 := pytzSeconds(args[2])
	if !ok1 || !ok2 {
		return bad(ErrMalformed, "utcoffset and dst must be ints of seconds within ±86399")
	}
	name, ok := text(args[3])
	if !ok {
		return bad(ErrMalformed, "the tzname is a "+describe(args[3]))
	}
	if err := r.charge(len(name)); err != nil {
		return arg{}, err
	}
	tz, err := py.PytzZone(key, off, dst, name)
	if err != nil {
		return bad(ErrMalformed, fmt.Sprintf("invalid tzname %q", clip(name)))
	}
	return arg{o: &object{kind: objTZ, tz: tz}}, nil
}

// charge counts n bytes made by a call (bytes(), bytearray(),
// _codecs.encode, Decimal(), ...): a pickle may call them many times on one
// shared argument, so their total output is bounded by MaxInput.
func (r *reader) charge(n int) error {
	r.copied += n
	if r.copied > r.lim.MaxInput {
		return fail(ErrLimit, "bytes built by calls exceed MaxInput (%d)", r.lim.MaxInput)
	}
	return nil
}

// text returns the str an argument holds.
func text(a arg) (string, bool) {
	if a.o != nil {
		return "", false
	}
	return a.v.Str()
}

// call applies an allowed global to arguments (REDUCE, and INST/OBJ with
// arguments), in the shapes CPython writes (spec §8.4).
func (r *reader) call(g *global, args []arg) (arg, error) {
	bad := func(kind error, why string) (arg, error) {
		return arg{}, fmt.Errorf("%w: %s(%d args): %s", kind, g.qual(), len(args), why)
	}
	val := func(v py.Value) (arg, error) { return arg{v: v}, nil }
	switch g.kind {
	case gSet, gFrozenSet:
		return r.callSet(g, args)
	case gOrderedDict:
		if len(args) != 0 {
			return bad(ErrUnsupported, "only OrderedDict() (items follow as SETITEMS)")
		}
		return arg{v: py.DictOf(&py.Dict{Ordered: true}), h: 1}, nil
	case gBytes, gByteArray:
		var b []byte
		switch len(args) {
		case 0:
			b = []byte{}
		case 1:
			a := args[0]
			if a.o != nil || a.v.Kind() != py.BytesKind {
				return bad(ErrUnsupported, "argument "+describe(a))
			}
			if err := r.charge(a.v.Len()); err != nil {
				return arg{}, err
			}
			if g.kind == gBytes {
				return arg{v: a.v}, nil // bytes(b) == b, and bytes are immutable
			}
			b, _ = a.v.Bytes() // a copy: the bytearray's own buffer
		case 2:
			// bytearray(str, 'latin-1'): how Python 2 and early Python 3
			// pickled bytearray at protocol ≤2.
			s, ok1 := text(args[0])
			enc, ok2 := text(args[1])
			if !ok1 || !ok2 || (enc != "latin-1" && enc != "latin1") {
				return bad(ErrUnsupported, "only (str, 'latin-1')")
			}
			if err := r.charge(len(s)); err != nil {
				return arg{}, err
			}
			var err error
			if b, err = latin1(s); err != nil {
				return bad(ErrMalformed, err.Error())
			}
		default:
			return bad(ErrMalformed, "too many arguments")
		}
		if g.kind == gBytes {
			return val(py.Bytes(b))
		}
		return val(py.NewByteArray(b))
	case gCodecsEncode:
		// Protocol ≤2 writes bytes as _codecs.encode(str, 'latin1'); spec §8.4.
		s, ok1 := "", false
		enc, ok2 := "", false
		if len(args) == 2 {
			s, ok1 = text(args[0])
			enc, ok2 = text(args[1])
		}
		if !ok1 || !ok2 || enc != "latin1" {
			return bad(ErrUnsupported, "only (str, 'latin1')")
		}
		if err := r.charge(len(s)); err != nil {
			return arg{}, err
		}
		b, err := latin1(s)
		if err != nil {
			return bad(ErrMalformed, err.Error())
		}
		return val(py.Bytes(b))
	case gGetattr:
		// CPython pickles ZoneInfo._unpickle, a nested name, as
		// getattr(zoneinfo.ZoneInfo, '_unpickle') at every protocol.
		if len(args) != 2 {
			return bad(ErrMalformed, "need (object, name)")
		}
		name, _ := text(args[1])
		t := args[0].o
		if t == nil || t.kind != objGlobal || t.g.kind == gObject {
			return arg{}, fmt.Errorf("%w: %s", ErrDisallowedGlobal, quoteGlobal("builtins", "getattr"))
		}
		if t.g.kind == gZoneInfo && name == "_unpickle" {
			return arg{o: globals[gZoneInfoUnpickle].obj}, nil
		}
		return arg{}, fmt.Errorf("%w: %s", ErrDisallowedGlobal, quoteGlobal(t.g.module, t.g.name+"."+name))
	case gZoneInfoUnpickle:
		if len(args) != 2 {
			return bad(ErrMalformed, "need (key, from_cache)")
		}
		key, ok := text(args[0])
		if !ok || args[1].o != nil || args[1].v.Kind() != py.IntKind {
			return bad(ErrMalformed, "need (str, int)")
		}
		if err := r.charge(len(key)); err != nil {
			return arg{}, err
		}
		// from_cache (ZoneInfo vs ZoneInfo.no_cache) is not modelled.
		tz, err := zoneInfo(key)
		if err != nil {
			return bad(ErrUnsupported, fmt.Sprintf("zone %q unknown to the Go runtime", clip(key)))
		}
		return arg{o: &object{kind: objTZ, tz: tz}}, nil
	case gPytzUTC:
		if len(args) != 0 {
			return bad(ErrMalformed, "takes no arguments")
		}
		return arg{o: pytzUTCObj}, nil
	case gPytzP:
		return r.callPytz(g, args)
	case gDecimal:
		s, ok := "", false
		if len(args) == 1 {
			s, ok = text(args[0])
		}
		if !ok {
			return bad(ErrUnsupported, "only Decimal(str)")
		}
		if err := r.charge(len(s)); err != nil {
			return arg{}, err
		}
		v, err := py.ParseDecimal(s)
		if err != nil {
			return bad(ErrMalformed, "invalid decimal text")
		}
		return val(v)
	case gTimeDelta:
		if len(args) != 3 {
			return bad(ErrUnsupported, "only timedelta(days, seconds, microseconds)")
		}
		var n [3]int64
		for i, a := range args {
			x, ok := a.v.Int()
			if a.o != nil || !ok {
				return bad(ErrUnsupported, "argument "+describe(a))
			}
			n[i] = x
		}
		if n[1] < -1<<40 || n[1] > 1<<40 || n[2] < -1<<50 || n[2] > 1<<50 {
			return bad(ErrMalformed, "out of range")
		}
		v, err := py.NewTimeDelta(n[0], n[1], n[2])
		if err != nil {
			return bad(ErrMalformed, err.Error())
		}
		return val(v)
	case gTimezone:
		if len(args) != 1 && len(args) != 2 {
			return bad(ErrMalformed, "need (timedelta[, name])")
		}
		td, ok := args[0].v.TimeDelta()
		if args[0].o != nil || !ok {
			return bad(ErrMalformed, "offset is not a timedelta")
		}
		name := ""
		if len(args) == 2 {
			if name, ok = text(args[1]); !ok {
				return bad(ErrMalformed, "name is not a str")
			}
		}
		us := (td.Days*86400+td.Seconds)*1_000_000 + td.Microseconds
		if us <= -86400e6 || us >= 86400e6 {
			return bad(ErrMalformed, "offset out of range")
		}
		if us == 0 && len(args) == 1 {
			return arg{o: utcObj}, nil // timezone(timedelta(0)) is timezone.utc
		}
		tz, err := py.FixedZone(time.Duration(us)*time.Microsecond, name)
		if err != nil {
			return bad(ErrMalformed, err.Error())
		}
		return arg{o: &object{kind: objTZ, tz: tz}}, nil
	case gDateTime, gDate, gTime:
		return dateCall(g, args)
	case gReconstructor:
		// copyreg._reconstructor(cls, object, state) is object.__new__(cls),
		// state unused: how protocols 0 and 1 pickle a uuid.UUID, whose
		// state a BUILD then sets.
		if len(args) != 3 {
			return bad(ErrMalformed, "need (cls, base, state)")
		}
		cls, base := args[0].o, args[1].o
		if cls == nil || cls.kind != objGlobal || base == nil || base.kind != objGlobal {
			return bad(ErrMalformed, "cls and base must be classes")
		}
		if cls.g.kind == gHerdMarker && base.g.kind == gObject {
			// Marker() at protocols 0 and 1: its state is None (an
			// instance without attributes).
			if args[2].o != nil || !args[2].v.IsNone() {
				return bad(ErrUnsupported, "a Marker with state")
			}
			return arg{o: herdMarkerObj}, nil
		}
		if cls.g.kind != gUUID || base.g.kind != gObject {
			return bad(ErrUnsupported, "only uuid.UUID on object")
		}
		return arg{o: &object{kind: objUUID}}, nil
	}
	return bad(ErrUnsupported, "not callable")
}

// callSet builds set(x) and frozenset(x) for a list or tuple x, as
// protocols ≤3 pickle sets. The elements are copied, so they are counted
// against MaxTotalItems: a pickle may call set() many times on one shared
// list.
func (r *reader) callSet(g *global, args []arg) (arg, error) {
	var items []py.Value
	var h int32 = 1
	switch len(args) {
	case 0:
	case 1:
		a := args[0]
		if k := a.v.Kind(); a.o != nil || (k != py.ListKind && k != py.TupleKind) {
			return arg{}, fmt.Errorf("%w: %s(%s): only a list or tuple argument", ErrUnsupported, g.qual(), describe(a))
		}
		items = a.v.Items()
		h = max(h, a.h)
	default:
		return arg{}, fmt.Errorf("%w: %s(%d args): too many arguments", ErrMalformed, g.qual(), len(args))
	}
	if err := r.count(len(items)); err != nil {
		return arg{}, err
	}
	v, err := r.newSet(g.kind == gFrozenSet, items)
	if err != nil {
		return arg{}, err
	}
	return arg{v: v, h: h}, nil
}

// latin1 encodes text whose code points are all below 256.
func latin1(s string) ([]byte, error) {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xFF {
			return nil, errors.New("code point above U+00FF")
		}
		out = append(out, byte(r))
	}
	return out, nil
}

// dateCall builds datetime, date and time values from their pickled state
// (spec §8.4): datetime(state10[, tz]), date(state4), time(state6[, tz]).
// The state is bytes (protocol ≥3, or _codecs.encode at ≤2) or a str of
// Latin-1 code points (Python 2 pickles, which CPython also accepts).
// Protocol ≥4 sets bit 7 of the month (datetime) or hour (time) byte for
// fold=1.
func dateCall(g *global, args []arg) (arg, error) {
	bad := func(kind error, why string) (arg, error) {
		return arg{}, fmt.Errorf("%w: %s: %s", kind, g.qual(), why)
	}
	want, maxArgs := 10, 2
	switch g.kind {
	case gDate:
		want, maxArgs = 4, 1
	case gTime:
		want = 6
	}
	if len(args) < 1 || len(args) > maxArgs || args[0].o != nil {
		return bad(ErrUnsupported, "only the pickled (state[, tzinfo]) form")
	}
	var b []byte
	switch st := args[0].v; st.Kind() {
	case py.BytesKind:
		if st.Len() != want {
			return bad(ErrUnsupported, fmt.Sprintf("state of %d bytes", st.Len()))
		}
		b, _ = st.Bytes()
	case py.StrKind:
		s, _ := st.Str()
		if len(s) > 2*want { // UTF-8 of want Latin-1 code points
			return bad(ErrUnsupported, "state of the wrong size")
		}
		var err error
		if b, err = latin1(s); err != nil {
			return bad(ErrMalformed, err.Error())
		}
	default:
		return bad(ErrUnsupported, "only the pickled (state[, tzinfo]) form")
	}
	if len(b) != want {
		return bad(ErrUnsupported, fmt.Sprintf("state of %d bytes", len(b)))
	}
	var tz *py.TZInfo
	if len(args) == 2 {
		switch a := args[1]; {
		case a.o == nil && a.v.IsNone():
		case a.o != nil && a.o.kind == objTZ:
			tz = a.o.tz
		default:
			return bad(ErrMalformed, "tzinfo is a "+describe(a))
		}
	}
	var (
		v   py.Value
		err error
	)
	us := int(b[want-3])<<16 | int(b[want-2])<<8 | int(b[want-1])
	switch g.kind {
	case gDateTime:
		v, err = py.NewDateTime(py.DateTime{
			Year: int(b[0])<<8 | int(b[1]), Month: int(b[2] & 0x7F), Day: int(b[3]),
			Hour: int(b[4]), Minute: int(b[5]), Second: int(b[6]), Microsecond: us,
			Fold: int(b[2] >> 7), TZ: tz,
		})
	case gDate:
		v, err = py.NewDate(py.Date{Year: int(b[0])<<8 | int(b[1]), Month: int(b[2]), Day: int(b[3])})
	case gTime:
		v, err = py.NewTime(py.Time{
			Hour: int(b[0] & 0x7F), Minute: int(b[1]), Second: int(b[2]), Microsecond: us,
			Fold: int(b[0] >> 7), TZ: tz,
		})
	}
	if err != nil {
		return bad(ErrMalformed, err.Error())
	}
	return arg{v: v}, nil
}
