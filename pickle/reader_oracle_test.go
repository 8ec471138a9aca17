package pickle

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/big"
	"sort"
	"strings"
	"testing"

	gopickle "github.com/nlpodyssey/gopickle/pickle"
	"github.com/nlpodyssey/gopickle/types"

	"github.com/djsession/djsession/pickle/py"
)

// A differential oracle: github.com/nlpodyssey/gopickle (spec §8), the
// unpickler the reader used to be built on, runs the same bytes with its
// own stack machine, memo, marks and frames; only calls of allowed globals
// are delegated to this package's constructors (gopickle has none of its
// own). When both accept a pickle their values must be equal, except for
// gopickle's documented defects (spec §8.3, §8.5), which oracleSkip and
// rdSameValue account for:
//
//   - protocol-0 UNICODE and STRING are not unescaped: pickles with a
//     backslash or a non-ASCII byte in such a line are not compared;
//   - text INT is strconv.Atoi, not CPython's strtol(s, 0): "I010" is 10
//     for gopickle, 8 for CPython; "I+1" is 1, CPython's True: such
//     arguments are not compared;
//   - sets live in Go maps: elements are compared without order, and an
//     element equal to another of a different type (1, 1.0, True) may be
//     kept in either form.
//
// gopickle is only run on bytes the reader accepted, which bounds its
// allocations (it allocates declared lengths before reading them).

// oracle is the gopickle side; r supplies the constructors and their
// limits.
type oracle struct {
	r *reader
}

// oracleGlobal is an allowed global as gopickle sees it.
type oracleGlobal struct {
	o *oracle
	g *global
}

// oracleBox carries a reader item (a call's result) through gopickle.
type oracleBox struct{ it arg }

func oracleLoads(data []byte) (v py.Value, err error) {
	defer func() {
		if p := recover(); p != nil {
			v, err = py.None, fmt.Errorf("gopickle panicked: %v", p)
		}
	}()
	r := &reader{}
	r.reset(data, DefaultLimits)
	o := &oracle{r: r}
	u := gopickle.NewUnpickler(bytes.NewReader(data))
	u.FindClass = o.findClass
	res, err := u.Load()
	if err != nil {
		return py.None, err
	}
	return o.convert(res, map[any]py.Value{}, 0)
}

func (o *oracle) findClass(module, name string) (any, error) {
	g, err := lookupGlobal(module, name)
	if err != nil {
		return nil, err
	}
	return &oracleGlobal{o: o, g: g}, nil
}

// Call implements gopickle's types.Callable (REDUCE, INST, OBJ).
func (og *oracleGlobal) Call(args ...any) (any, error) {
	items, err := og.o.items(args)
	if err != nil {
		return nil, err
	}
	res, err := og.o.r.call(og.g, items)
	if err != nil {
		return nil, err
	}
	return &oracleBox{res}, nil
}

// PyNew implements types.PyNewable (NEWOBJ; object.__new__(cls) for
// copy_reg._reconstructor).
func (og *oracleGlobal) PyNew(args ...any) (any, error) {
	if og.g.kind == gObject && len(args) == 1 {
		if cls, ok := args[0].(*oracleGlobal); ok {
			return cls.PyNew()
		}
	}
	if !og.g.isType() {
		return nil, errors.New("NEWOBJ on a function")
	}
	res, err := newObject(og.g, len(args), 0)
	if err != nil {
		return nil, err
	}
	return &oracleBox{res}, nil
}

// PySetState implements BUILD on a UUID.
func (b *oracleBox) PySetState(state any) error {
	if b.it.o == nil || b.it.o.kind != objUUID {
		return errors.New("BUILD on a non-UUID")
	}
	st, err := (&oracle{r: &reader{lim: DefaultLimits}}).item(state)
	if err != nil {
		return err
	}
	return buildUUID(b.it.o, st, 0)
}

// items converts call arguments. Containers are converted afresh at each
// call: gopickle may still mutate them afterwards.
func (o *oracle) items(args []any) ([]arg, error) {
	out := make([]arg, len(args))
	for i, a := range args {
		it, err := o.item(a)
		if err != nil {
			return nil, err
		}
		out[i] = it
	}
	return out, nil
}

func (o *oracle) item(x any) (arg, error) {
	switch t := x.(type) {
	case *oracleBox:
		return t.it, nil
	case *oracleGlobal:
		return arg{o: t.g.obj}, nil
	case *types.ObjectClass:
		return arg{o: globals[gObject].obj}, nil
	case *types.Reconstructor:
		return arg{o: globals[gReconstructor].obj}, nil
	case *types.OrderedDictClass:
		return arg{o: globals[gOrderedDict].obj}, nil
	case *types.Tuple:
		// A tuple holding objects stays call arguments, as in the reader.
		its, err := o.items(*t)
		if err != nil {
			return arg{}, err
		}
		for _, it := range its {
			if it.o != nil && it.o.kind != objUUID {
				return arg{o: &object{kind: objArgs, args: its}}, nil
			}
		}
	}
	v, err := o.convert(x, map[any]py.Value{}, 0)
	return arg{v: v}, err
}

// convert turns gopickle's tree into py values, keeping shared objects
// shared (seen, by identity).
func (o *oracle) convert(x any, seen map[any]py.Value, depth int) (py.Value, error) {
	if depth > 1000 {
		return py.None, errors.New("too deep")
	}
	switch t := x.(type) {
	case nil:
		return py.None, nil
	case bool:
		return py.Bool(t), nil
	case int:
		return py.Int(int64(t)), nil
	case *big.Int:
		return py.BigInt(t), nil
	case float64:
		return py.Float(t), nil
	case string:
		return py.Str(t), nil
	case []byte:
		return py.Bytes(t), nil
	case *oracleBox:
		return objectValueOf(t.it)
	case *oracleGlobal, *types.ObjectClass, *types.Reconstructor, *types.OrderedDictClass:
		return py.None, errors.New("a class as a value")
	}
	if v, ok := seen[x]; ok {
		return v, nil
	}
	conv := func(items []any) ([]py.Value, error) {
		out := make([]py.Value, len(items))
		for i, it := range items {
			v, err := o.convert(it, seen, depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	}
	var v py.Value
	switch t := x.(type) {
	case *types.ByteArray:
		v = py.NewByteArray(append([]byte{}, *t...))
	case *types.List:
		items, err := conv(*t)
		if err != nil {
			return py.None, err
		}
		v = py.NewList(items...)
	case *types.Tuple:
		items, err := conv(*t)
		if err != nil {
			return py.None, err
		}
		v = py.NewTuple(items...)
	case *types.Dict:
		d := py.NewDict(len(*t))
		for _, e := range *t {
			if err := o.setItem(d, e.Key, e.Value, seen, depth); err != nil {
				return py.None, err
			}
		}
		v = py.DictOf(d)
	case *types.OrderedDict:
		if len(t.PyDict) != 0 {
			return py.None, errors.New("OrderedDict with attributes")
		}
		d := py.NewDict(t.List.Len())
		d.Ordered = true
		for el := t.List.Front(); el != nil; el = el.Next() {
			e := el.Value.(*types.OrderedDictEntry)
			if err := o.setItem(d, e.Key, e.Value, seen, depth); err != nil {
				return py.None, err
			}
		}
		v = py.DictOf(d)
	case *types.Set, *types.FrozenSet:
		var keys []any
		if s, ok := t.(*types.Set); ok {
			for k := range *s {
				keys = append(keys, k)
			}
		} else {
			for k := range *t.(*types.FrozenSet) {
				keys = append(keys, k)
			}
		}
		items, err := conv(keys)
		if err != nil {
			return py.None, err
		}
		if _, ok := t.(*types.Set); ok {
			v, err = py.NewSet(items...)
		} else {
			v, err = py.NewFrozenSet(items...)
		}
		if err != nil {
			return py.None, err
		}
	default:
		return py.None, fmt.Errorf("unexpected %T", x)
	}
	seen[x] = v
	return v, nil
}

func (o *oracle) setItem(d *py.Dict, k, v any, seen map[any]py.Value, depth int) error {
	kv, err := o.convert(k, seen, depth+1)
	if err != nil {
		return err
	}
	vv, err := o.convert(v, seen, depth+1)
	if err != nil {
		return err
	}
	return d.Set(kv, vv)
}

func objectValueOf(it arg) (py.Value, error) {
	if it.o == nil {
		return it.v, nil
	}
	return objectValue(it.o)
}

// rdTextArgs returns the text arguments of the opcodes in data up to STOP
// (pickletools' genops, cut down): op byte and line.
func rdTextArgs(data []byte) (ops []byte, args []string) {
	fixed := map[byte]int{'J': 4, 'K': 1, 'M': 2, 'G': 8, 'h': 1, 'j': 4, 'q': 1, 'r': 4,
		0x80: 1, 0x82: 1, 0x83: 2, 0x84: 4, 0x95: 8}
	counted := map[byte]int{'T': 4, 'U': 1, 'X': 4, 'B': 4, 'C': 1, 0x8a: 1, 0x8b: 4,
		0x8c: 1, 0x8d: 8, 0x8e: 8, 0x96: 8}
	lines := map[byte]int{'F': 1, 'I': 1, 'L': 1, 'S': 1, 'V': 1, 'g': 1, 'p': 1, 'P': 1, 'c': 2, 'i': 2}
	for i := 0; i < len(data); {
		op := data[i]
		i++
		if op == '.' {
			break
		}
		switch {
		case fixed[op] > 0:
			i += fixed[op]
		case counted[op] > 0:
			n := counted[op]
			if i+n > len(data) {
				return
			}
			var l uint64
			for k := n - 1; k >= 0; k-- {
				l = l<<8 | uint64(data[i+k])
			}
			if l > uint64(len(data)) {
				return
			}
			i += n + int(l)
		case lines[op] > 0:
			for k := 0; k < lines[op]; k++ {
				j := bytes.IndexByte(data[i:], '\n')
				if j < 0 {
					return
				}
				ops = append(ops, op)
				args = append(args, string(data[i:i+j]))
				i += j + 1
			}
		}
	}
	return
}

// oracleSkip says why a pickle the reader accepted is not compared with
// gopickle's result ("" to compare).
func oracleSkip(data []byte) string {
	ops, args := rdTextArgs(data)
	for k, op := range ops {
		a := args[k]
		switch op {
		case 'V', 'S':
			if strings.IndexByte(a, '\\') >= 0 || !isASCII(a) {
				return "escaped protocol-0 string"
			}
		case 'I':
			t := strings.TrimLeft(a, "+-")
			if a == "00" || a == "01" {
				break
			}
			if (len(t) > 1 && t[0] == '0') || (len(a) == 2 && len(t) == 1 && (t == "0" || t == "1")) {
				return "INT argument gopickle parses in base 10"
			}
		}
	}
	return ""
}

// rdSameValue compares two values strictly (kinds, order, float bits, NaN
// equal to NaN), except that set elements are compared without order by
// hash key.
func rdSameValue(a, b py.Value, depth int) bool {
	if depth > 300 {
		return false
	}
	if a.Kind() != b.Kind() || a.TypeName() != b.TypeName() {
		return false
	}
	switch a.Kind() {
	case py.NoneKind:
		return true
	case py.BoolKind, py.StrKind, py.BytesKind, py.ByteArrayKind, py.DecimalKind, py.UUIDKind,
		py.DateTimeKind, py.DateKind, py.TimeKind, py.TimeDeltaKind:
		return a.Repr() == b.Repr() && a.Equal(b)
	case py.IntKind:
		x, _ := a.BigInt()
		y, _ := b.BigInt()
		return x.Cmp(y) == 0
	case py.FloatKind:
		x, _ := a.Float()
		y, _ := b.Float()
		return math.Float64bits(x) == math.Float64bits(y) || (math.IsNaN(x) && math.IsNaN(y))
	case py.ListKind, py.TupleKind:
		x, y := a.Items(), b.Items()
		if len(x) != len(y) {
			return false
		}
		for i := range x {
			if !rdSameValue(x[i], y[i], depth+1) {
				return false
			}
		}
		return true
	case py.DictKind:
		x, _ := a.Dict()
		y, _ := b.Dict()
		if x.Len() != y.Len() {
			return false
		}
		for i, e := range x.Entries() {
			f := y.Entries()[i]
			if !rdSameValue(e.Key, f.Key, depth+1) || !rdSameValue(e.Value, f.Value, depth+1) {
				return false
			}
		}
		return true
	case py.SetKind, py.FrozenSetKind:
		keys := func(v py.Value) []string {
			var ks []string
			for _, it := range v.Items() {
				k, _ := py.HashKey(it)
				ks = append(ks, k)
			}
			sort.Strings(ks)
			return ks
		}
		return fmt.Sprint(keys(a)) == fmt.Sprint(keys(b))
	}
	return false
}

// rdDifferential loads data with both readers and reports a difference.
func rdDifferential(t *testing.T, data []byte) (compared bool) {
	t.Helper()
	v, err := Loads(data)
	if err != nil {
		return false
	}
	if why := oracleSkip(data); why != "" {
		return false
	}
	w, err := oracleLoads(data)
	if err != nil {
		return false
	}
	if !rdSameValue(v, w, 0) {
		t.Fatalf("reader and gopickle differ on %q:\nreader:   %.300s\ngopickle: %.300s", rdShort(data), v.Repr(), w.Repr())
	}
	return true
}

// Every corpus pickle and fuzz seed: where gopickle also loads it, the
// values agree.
func TestLoadsMatchesGopickle(t *testing.T) {
	n, total := 0, 0
	for _, c := range rdCommittedCorpus(t) {
		total++
		if rdDifferential(t, c.data(t)) {
			n++
		}
	}
	for _, s := range rdFuzzSeeds {
		total++
		if rdDifferential(t, []byte(s)) {
			n++
		}
	}
	t.Logf("%d of %d pickles compared with gopickle", n, total)
	if n < total/2 {
		t.Errorf("only %d of %d pickles compared", n, total)
	}
}

// FuzzLoadsGopickle is the differential fuzz target: see the top of this
// file.
func FuzzLoadsGopickle(f *testing.F) {
	for _, c := range rdCommittedCorpus(f) {
		f.Add(c.data(f))
	}
	for _, s := range rdFuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rdDifferential(t, data)
	})
}

// BenchmarkLoadsSessionGopickle is the baseline the reader replaced:
// gopickle alone (no allow-list, no conversion to py values) on the
// protocol-5 session pickle.
func BenchmarkLoadsSessionGopickle(b *testing.B) {
	data := rdSession(b, 5)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		u := gopickle.NewUnpickler(bytes.NewReader(data))
		if _, err := u.Load(); err != nil {
			b.Fatal(err)
		}
	}
}
