package pickle

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/djsession/djsession/pickle/py"
)

// Limits bounds the resources a single load may use. Cache values and
// session data are attacker-reachable, so every dimension a pickle can grow
// in has a bound. A zero field means "use the DefaultLimits value"; there is
// no "unlimited" setting, use a large number instead.
type Limits struct {
	// MaxInput is the largest pickle accepted, in bytes. Default 8 MiB,
	// the bound the rest of djsession puts on a session value
	// (signing.DefaultMaxDecompressedSize, the cache backend's
	// DefaultMaxValueSize), so that every pickled session Django could store
	// and the other bounds let through is read, not taken for "no session".
	// Sessions are typically well under 10 KB; the input size alone does not
	// bound the work, the other limits do: MaxTotalItems bounds the values
	// and memory, MaxDepth the nesting, and the hashing of keys is bounded
	// in proportion to MaxInput and MaxTotalItems. MaxInput also bounds the
	// bytes that calls in the pickle (bytes(), bytearray(), _codecs.encode,
	// Decimal(), ...) may build in total, so a load holds at most about
	// twice MaxInput of string data (the input, which strings share, and
	// what calls build) plus what MaxTotalItems allows.
	MaxInput int
	// MaxDepth bounds both the number of simultaneously open MARKs and the
	// nesting depth of containers in the result. Default 200: real session
	// data nests a handful of levels; CPython itself cannot pickle much past
	// its recursion limit of 1000.
	MaxDepth int
	// MaxContainerLen bounds the length of any one list, tuple, dict, set or
	// the items between one MARK and the opcode consuming them.
	// Default 100 000.
	MaxContainerLen int
	// MaxTotalItems bounds the number of values (and MARKs, and memo slots)
	// the pickle creates in total, counting the elements set() and
	// frozenset() calls copy, and also the size of the result counted as a
	// tree (a container reached through n references counts n times). It is
	// what bounds memory and the cost of walking the result: each item
	// costs the reader about a hundred bytes for a scalar and up to about
	// five hundred for an empty dict or set, so the default of 100 000 keeps
	// the worst case to some tens of megabytes on top of the input (an
	// 8 MiB pickle of empty dicts is refused after allocating about 57 MB,
	// one of small ints after about 21 MB). Ordinary session data needs a
	// small fraction of it; a pickle of more than 100 000 values (an 8 MiB
	// list of small ints, say) is refused with ErrLimit whatever its size
	// in bytes, so a caller that must read such values raises this limit
	// along with MaxInput.
	MaxTotalItems int
	// MaxIntDigits bounds integers: a text INT/LONG argument may have at
	// most this many digits and a binary LONG4 at most MaxIntDigits/2 bytes.
	// Default 4300, CPython's own sys.int_info.default_max_str_digits
	// (converting bigger ints to and from decimal is quadratic).
	MaxIntDigits int
}

// DefaultLimits are the limits Loads applies. See Limits for the reasoning
// behind each value.
var DefaultLimits = Limits{
	MaxInput:        8 << 20,
	MaxDepth:        200,
	MaxContainerLen: 100_000,
	MaxTotalItems:   100_000,
	MaxIntDigits:    4300,
}

func (l Limits) withDefaults() Limits {
	if l.MaxInput <= 0 {
		l.MaxInput = DefaultLimits.MaxInput
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultLimits.MaxDepth
	}
	if l.MaxContainerLen <= 0 {
		l.MaxContainerLen = DefaultLimits.MaxContainerLen
	}
	if l.MaxTotalItems <= 0 {
		l.MaxTotalItems = DefaultLimits.MaxTotalItems
	}
	if l.MaxIntDigits <= 0 {
		l.MaxIntDigits = DefaultLimits.MaxIntDigits
	}
	return l
}

// Loads decodes one pickle (any protocol 0–5) with DefaultLimits. Only the
// value types of package py are produced; globals outside the allow-list
// (see the package documentation) fail with ErrDisallowedGlobal. Bytes
// after the STOP opcode are ignored, as pickle.loads ignores them. Every
// error wraps ErrMalformed, ErrDisallowedGlobal, ErrLimit or ErrUnsupported;
// Loads never panics.
//
// Strings and bytes in the result share the memory of one copy of data:
// data itself is not retained and may be reused by the caller.
func Loads(data []byte) (py.Value, error) { return LoadsWith(data, DefaultLimits) }

// LoadsWith is Loads with explicit limits (zero fields take the default).
func LoadsWith(data []byte, lim Limits) (py.Value, error) {
	v, _, _, _, err := loads(data, lim, false)
	return v, err
}

// LoadPrefix reads the pickle at the start of data as Python's
// pickle.load reads one pickle from a file opened with open(path, "rb"),
// and returns it with n, the number of bytes it took: up to and including
// STOP, even when STOP's frame declares more (CPython's unpickler then
// leaves the file just after STOP; from an io.BytesIO it would skip the
// rest of the frame, which CPython never writes). The bytes after n are
// the rest of the file; Django's FileBasedCache stores the pickle of the
// expiry time followed by a zlib stream this way (spec §6.3). Errors and
// limits are those of LoadsWith.
func LoadPrefix(data []byte, lim Limits) (v py.Value, n int, err error) {
	v, _, _, n, err = loads(data, lim, false)
	if err != nil {
		return py.None, 0, err
	}
	return v, n, nil
}

// LoadsHerd is LoadsWith for what django-redis's HerdClient stores (spec
// §7.5): a value set with a timeout is the pickle of the 3-tuple
// (Marker(), value, herd_deadline), where Marker is the empty class
// django_redis.client.herd.Marker. When data is such a tuple, LoadsHerd
// returns its value and deadline (as stored: an int when django-redis
// wrote it) with herd true; any other pickle loads as LoadsWith loads it,
// with herd false, as HerdClient reads values it did not wrap.
//
// The Marker global is accepted only here, and only in the shapes CPython
// writes for Marker(): NEWOBJ(Marker, ()) at protocol ≥ 2, or
// copyreg._reconstructor(Marker, object, None) at protocols 0 and 1, with
// no BUILD (a Marker with state is ErrUnsupported, with arguments
// ErrMalformed), as the first item of a top-level tuple of three whose
// other items are values. A Marker anywhere else (inside the value, as the
// deadline, in a tuple of another length or in a list) is ErrUnsupported:
// the Marker is never a py.Value. Loads and LoadsWith keep refusing it
// (ErrDisallowedGlobal).
func LoadsHerd(data []byte, lim Limits) (v, deadline py.Value, herd bool, err error) {
	v, deadline, herd, _, err = loads(data, lim, true)
	return v, deadline, herd, err
}

func loads(data []byte, lim Limits, herd bool) (v, deadline py.Value, isHerd bool, n int, err error) {
	lim = lim.withDefaults()
	if len(data) > lim.MaxInput {
		return py.None, py.None, false, 0, fmt.Errorf("%w: input of %d bytes exceeds MaxInput %d", ErrLimit, len(data), lim.MaxInput)
	}
	r := readerPool.Get().(*reader)
	defer func() {
		// The reader checks everything it indexes; a panic would be a bug
		// in it. It is still turned into an error rather than crash a
		// server on hostile input, and the reader is not reused.
		if p := recover(); p != nil {
			v, deadline, isHerd = py.None, py.None, false
			err = fmt.Errorf("%w: internal error in the pickle reader: %v", ErrMalformed, p)
			return
		}
		r.release()
	}()
	r.reset(data, lim)
	r.herd = herd
	v, err = r.load()
	n = r.stopEnd
	if err != nil || !r.herdFound {
		return v, py.None, false, n, err
	}
	return v, r.herdDeadline, true, n, nil
}

// Opcodes (names as in CPython's pickletools).
const (
	opMark           = '('
	opStop           = '.'
	opPop            = '0'
	opPopMark        = '1'
	opDup            = '2'
	opFloat          = 'F'
	opInt            = 'I'
	opBinInt         = 'J'
	opBinInt1        = 'K'
	opLong           = 'L'
	opBinInt2        = 'M'
	opNone           = 'N'
	opPersID         = 'P'
	opBinPersID      = 'Q'
	opReduce         = 'R'
	opString         = 'S'
	opBinString      = 'T'
	opShortBinString = 'U'
	opUnicode        = 'V'
	opBinUnicode     = 'X'
	opAppend         = 'a'
	opBuild          = 'b'
	opGlobal         = 'c'
	opDict           = 'd'
	opEmptyDict      = '}'
	opAppends        = 'e'
	opGet            = 'g'
	opBinGet         = 'h'
	opInst           = 'i'
	opLongBinGet     = 'j'
	opList           = 'l'
	opEmptyList      = ']'
	opObj            = 'o'
	opPut            = 'p'
	opBinPut         = 'q'
	opLongBinPut     = 'r'
	opSetItem        = 's'
	opTuple          = 't'
	opEmptyTuple     = ')'
	opSetItems       = 'u'
	opBinFloat       = 'G'
	opProto          = 0x80
	opNewObj         = 0x81
	opExt1           = 0x82
	opExt2           = 0x83
	opExt4           = 0x84
	opTuple1         = 0x85
	opTuple2         = 0x86
	opTuple3         = 0x87
	opNewTrue        = 0x88
	opNewFalse       = 0x89
	opLong1          = 0x8a
	opLong4          = 0x8b
	opBinBytes       = 'B'
	opShortBinBytes  = 'C'
	opShortBinUni    = 0x8c
	opBinUnicode8    = 0x8d
	opBinBytes8      = 0x8e
	opEmptySet       = 0x8f
	opAddItems       = 0x90
	opFrozenSet      = 0x91
	opNewObjEx       = 0x92
	opStackGlobal    = 0x93
	opMemoize        = 0x94
	opFrame          = 0x95
	opByteArray8     = 0x96
	opNextBuffer     = 0x97
	opReadOnlyBuffer = 0x98
)

// highestProtocol is pickle.HIGHEST_PROTOCOL of CPython 3.8+.
const highestProtocol = 5

// item is one entry of the value stack or the memo. It holds no pointers:
// writing pointers while the garbage collector runs costs write barriers,
// which made copying items the most expensive part of a load. Scalars are
// stored inline, str and bytes as a place in r.s, allowed globals by kind,
// and everything else (containers, decoded strings, big ints, objects) as
// an index into r.refs, which is how the memo and DUP share containers.
//
// It has four fields, so that the compiler copies it in registers, field
// by field (copying it through memory right after writing it stalls the
// CPU's store forwarding).
type item struct {
	tag uint8 // tagEmpty only for an unused memo slot
	// h is the nesting height of containers: 0 for scalars, 1 + the
	// largest h of its elements for a container. It is exact unless a
	// container was reached twice (r.shared), when the final check walks
	// the result instead.
	h   int32
	n   uint64 // tagBool 0/1, tagInt and tagFloat bits, tagStr/tagBytes length, tagGlobal kind, tagRef index
	off int    // tagStr, tagBytes: offset in r.s
}

// Item tags.
const (
	tagEmpty uint8 = iota
	tagNone
	tagBool
	tagInt
	tagFloat
	tagStr
	tagBytes
	tagGlobal
	tagRef
)

// ref is what a tagRef item refers to: a py value, or (o non-nil) an object
// that is not one.
type ref struct {
	v py.Value
	o *object
}

// arg is an item resolved for a call: a py value or an object, with its
// height.
type arg struct {
	v py.Value
	o *object
	h int32
}

// objKind tells what an object is.
type objKind uint8

const (
	objGlobal     objKind = iota + 1 // an allowed class or function (g)
	objTZ                            // a tzinfo (tz)
	objUUID                          // uuid.UUID between NEWOBJ and BUILD (uuid, uuidSet)
	objArgs                          // a tuple holding objects (args)
	objHerdMarker                    // django_redis.client.herd.Marker() (LoadsHerd only)
)

// object is what an item holds when it is not a py value: an allowed
// global, a tzinfo, a UUID waiting for its BUILD, or a tuple holding such
// objects (call arguments). Globals are immutable singletons; a UUID is
// mutable until it is first used as a value (frozen), after which BUILD on
// it is refused.
type object struct {
	kind    objKind
	g       *global
	tz      *py.TZInfo
	args    []arg
	uuid    [16]byte
	uuidSet bool
	frozen  bool
}

// reader is the state of one load. Readers are pooled: the slices keep
// their capacity from one load to the next.
type reader struct {
	lim      Limits
	maxDepth int32

	s       string // the input, converted once; strings are substrings of it
	pos     int
	end     int // end of the current frame, or len(s)
	inFrame bool
	stopEnd int // at STOP: the bytes the load took (see LoadPrefix)

	stack   []item
	marks   []int
	memo    []item
	memoMap map[uint64]item // memo indices far beyond the dense ones
	memoLen int             // memo slots in use (MEMOIZE's index)
	refs    []ref

	items      int  // values, MARKs and memo slots created (MaxTotalItems)
	copied     int  // bytes built by calls (MaxInput)
	hashWork   int  // work spent hashing keys and set elements
	hashBudget int  // bound on hashWork
	shared     bool // a container was pushed a second time (GET or DUP)

	vals []py.Value // scratch for set elements
	args []arg      // scratch for call arguments

	// herd is LoadsHerd: the Marker global resolves, and a top-level
	// (Marker(), value, deadline) is unwrapped (herdFound, herdDeadline).
	herd         bool
	herdFound    bool
	herdDeadline py.Value
}

var readerPool = sync.Pool{New: func() any {
	return &reader{stack: make([]item, 0, 32), marks: make([]int, 0, 8), memo: make([]item, 0, 32),
		refs: make([]ref, 0, 8)}
}}

// poolCap is the largest slice capacity a pooled reader keeps.
const poolCap = 4096

func (r *reader) reset(data []byte, lim Limits) {
	r.lim = lim
	r.maxDepth = int32(min(lim.MaxDepth, math.MaxInt32))
	r.s = string(data)
	r.pos, r.end, r.inFrame = 0, len(data), false
	r.stack, r.marks, r.memo, r.refs = r.stack[:0], r.marks[:0], r.memo[:0], r.refs[:0]
	r.memoMap, r.memoLen = nil, 0
	r.items, r.copied, r.hashWork, r.shared = 0, 0, 0, false
	r.hashBudget = hashBudget(len(data), lim)
	r.vals, r.args = r.vals[:0], r.args[:0]
	r.herd, r.herdFound, r.herdDeadline = false, false, py.None
}

// release drops every reference the reader holds (the stack and the memo
// hold none) and returns it to the pool, unless a hostile input made it
// large.
func (r *reader) release() {
	if cap(r.stack) > poolCap || cap(r.memo) > poolCap || cap(r.marks) > poolCap ||
		cap(r.refs) > poolCap || cap(r.vals) > poolCap || cap(r.args) > poolCap {
		return
	}
	clear(r.refs)
	clear(r.vals[:cap(r.vals)])
	clear(r.args[:cap(r.args)])
	r.s, r.memoMap, r.herdDeadline = "", nil, py.None
	readerPool.Put(r)
}

// fail wraps one of the sentinels.
func fail(kind error, format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{kind}, args...)...)
}

func (r *reader) limitItems() error {
	return fail(ErrLimit, "more than MaxTotalItems (%d) values", r.lim.MaxTotalItems)
}

func (r *reader) limitDepth() error {
	return fail(ErrLimit, "nesting deeper than MaxDepth (%d)", r.lim.MaxDepth)
}

func (r *reader) limitLen(n int) error {
	return fail(ErrLimit, "container of %d items exceeds MaxContainerLen (%d)", n, r.lim.MaxContainerLen)
}

// count charges n new values against MaxTotalItems.
func (r *reader) count(n int) error {
	if n > r.lim.MaxTotalItems-r.items {
		return r.limitItems()
	}
	r.items += n
	return nil
}

func (r *reader) push(it item) error {
	if r.items >= r.lim.MaxTotalItems {
		return r.limitItems()
	}
	r.items++
	r.stack = append(r.stack, it)
	return nil
}

// pushRef pushes a value or object kept in r.refs, of height h.
func (r *reader) pushRef(v py.Value, o *object, h int32) error {
	if h > r.maxDepth {
		return r.limitDepth()
	}
	if r.items >= r.lim.MaxTotalItems {
		return r.limitItems()
	}
	r.refs = append(r.refs, ref{v: v, o: o})
	return r.push(item{tag: tagRef, n: uint64(len(r.refs) - 1), h: h})
}

// pushValue pushes a scalar inline, anything else as a ref.
func (r *reader) pushValue(v py.Value) error {
	switch v.Kind() {
	case py.NoneKind:
		return r.push(item{tag: tagNone})
	case py.BoolKind:
		b, _ := v.Bool()
		return r.pushBool(b)
	case py.IntKind:
		if x, ok := v.Int(); ok {
			return r.push(item{tag: tagInt, n: uint64(x)})
		}
	case py.FloatKind:
		f, _ := v.Float()
		return r.push(item{tag: tagFloat, n: math.Float64bits(f)})
	}
	return r.pushRef(v, nil, 0)
}

func (r *reader) pushBool(b bool) error {
	it := item{tag: tagBool}
	if b {
		it.n = 1
	}
	return r.push(it)
}

// pushArg pushes the result of a call.
func (r *reader) pushArg(a arg) error {
	if a.o != nil && a.o.kind == objGlobal {
		return r.push(item{tag: tagGlobal, n: uint64(a.o.g.kind)})
	}
	if a.o == nil && a.h == 0 {
		return r.pushValue(a.v)
	}
	return r.pushRef(a.v, a.o, a.h)
}

// value returns the py value of an item about to become part of another
// value. A UUID is frozen from then on; other objects are not values.
func (r *reader) value(it *item) (py.Value, error) {
	switch it.tag {
	case tagStr:
		return py.Str(r.s[it.off : it.off+int(it.n)]), nil
	case tagRef:
		rf := &r.refs[it.n]
		if rf.o != nil {
			return objectValue(rf.o)
		}
		return rf.v, nil
	case tagInt:
		return py.Int(int64(it.n)), nil
	case tagBytes:
		return py.BytesString(r.s[it.off : it.off+int(it.n)]), nil
	case tagNone:
		return py.None, nil
	case tagBool:
		return py.Bool(it.n == 1), nil
	case tagFloat:
		return py.Float(math.Float64frombits(it.n)), nil
	}
	return objectValue(globals[it.n].obj)
}

// arg resolves an item for a call.
func (r *reader) arg(it *item) arg {
	switch it.tag {
	case tagRef:
		rf := &r.refs[it.n]
		return arg{v: rf.v, o: rf.o, h: it.h}
	case tagGlobal:
		return arg{o: globals[it.n].obj}
	}
	v, _ := r.value(it)
	return arg{v: v}
}

// refOf returns the py value of a tagRef item that is not an object.
func (r *reader) refOf(it *item) (py.Value, bool) {
	if it.tag != tagRef || r.refs[it.n].o != nil {
		return py.None, false
	}
	return r.refs[it.n].v, true
}

// str returns the text of a str item.
func (r *reader) str(it *item) (string, bool) {
	if it.tag == tagStr {
		return r.s[it.off : it.off+int(it.n)], true
	}
	if v, ok := r.refOf(it); ok {
		return v.Str()
	}
	return "", false
}

// base is the stack position of the topmost MARK: items below it belong to
// an enclosing MARK and are out of reach, as in pickle.py's metastack.
func (r *reader) base() int {
	if len(r.marks) == 0 {
		return 0
	}
	return r.marks[len(r.marks)-1]
}

func underflow(at int) error {
	return fail(ErrMalformed, "stack underflow at offset %d", at)
}

// need checks that n items are on the stack above the topmost MARK.
func (r *reader) need(n, at int) error {
	if len(r.stack)-r.base() < n {
		return underflow(at)
	}
	return nil
}

// popMark removes the topmost MARK and returns the stack position of the
// first item above it; the caller consumes r.stack[m:] and truncates.
func (r *reader) popMark(at int) (int, error) {
	if len(r.marks) == 0 {
		return 0, fail(ErrMalformed, "no MARK for the opcode at offset %d", at)
	}
	m := r.marks[len(r.marks)-1]
	r.marks = r.marks[:len(r.marks)-1]
	if n := len(r.stack) - m; n > r.lim.MaxContainerLen {
		return 0, fail(ErrLimit, "%d items after one MARK exceed MaxContainerLen %d", n, r.lim.MaxContainerLen)
	}
	return m, nil
}

// popMarkOnto is popMark for the opcodes that add the items above the mark
// to the object just below it (APPENDS, SETITEMS, ADDITEMS): that object
// must be there.
func (r *reader) popMarkOnto(at int) (int, error) {
	m, err := r.popMark(at)
	if err == nil && m <= r.base() {
		return 0, underflow(at)
	}
	return m, err
}

// truncated reports an argument of n bytes that does not fit: it either
// runs past the input or past the end of the current frame.
func (r *reader) truncated(n int) error {
	if r.inFrame && n <= len(r.s)-r.pos {
		return fail(ErrMalformed, "argument at offset %d crosses the end of its frame", r.pos)
	}
	return fail(ErrMalformed, "truncated at offset %d", r.pos)
}

// take returns the next n bytes of the current opcode's argument; they must
// lie inside the current frame (or the input).
func (r *reader) take(n int) (string, error) {
	if n > r.end-r.pos {
		return "", r.truncated(n)
	}
	b := r.s[r.pos : r.pos+n]
	r.pos += n
	return b, nil
}

// line returns a newline-terminated argument without its newline.
func (r *reader) line() (string, error) {
	i := strings.IndexByte(r.s[r.pos:r.end], '\n')
	if i < 0 {
		return "", fail(ErrMalformed, "unterminated line argument at offset %d", r.pos)
	}
	b := r.s[r.pos : r.pos+i]
	r.pos += i + 1
	return b, nil
}

// counted reads a little-endian length of n bytes (1, 4 or 8), then that
// many bytes, checking the length against the rest of the frame before
// anything is made of it.
func (r *reader) counted(n int) (string, error) {
	if n > r.end-r.pos {
		return "", r.truncated(n)
	}
	var l uint64
	switch n {
	case 1:
		l = uint64(r.s[r.pos])
	case 4:
		l = uint64(binary.LittleEndian.Uint32([]byte(r.s[r.pos : r.pos+4])))
	default:
		l = binary.LittleEndian.Uint64([]byte(r.s[r.pos : r.pos+8]))
	}
	r.pos += n
	if l > uint64(r.end-r.pos) {
		return "", fail(ErrMalformed, "declared length %d at offset %d exceeds the remaining input", l, r.pos-n)
	}
	b := r.s[r.pos : r.pos+int(l)]
	r.pos += int(l)
	return b, nil
}

// load runs the opcodes up to STOP: one pass that checks and builds.
func (r *reader) load() (py.Value, error) {
	s := r.s
	for {
		if r.pos >= r.end {
			if r.inFrame {
				r.inFrame = false
				r.end = len(s)
				continue
			}
			return py.None, fail(ErrMalformed, "truncated: no STOP opcode")
		}
		at := r.pos
		op := s[at]
		r.pos++
		var err error
		switch op {
		case opShortBinUni, opBinUnicode, opBinUnicode8:
			var b string
			if p := r.pos + 1; op == opShortBinUni && p <= r.end && int(s[r.pos]) <= r.end-p {
				// The common case, inline: SHORT_BINUNICODE within bounds.
				b = s[p : p+int(s[r.pos])]
				r.pos = p + len(b)
			} else {
				n := 1
				if op == opBinUnicode {
					n = 4
				} else if op == opBinUnicode8 {
					n = 8
				}
				if b, err = r.counted(n); err != nil {
					return py.None, err
				}
			}
			if !utf8.ValidString(b) && !validWTF8(b) {
				return py.None, fail(ErrMalformed, "invalid UTF-8 in string at offset %d", at)
			}
			err = r.push(item{tag: tagStr, off: r.pos - len(b), n: uint64(len(b))})
		case opMemoize:
			if idx := r.memoLen; idx == len(r.memo) && r.memoMap == nil && len(r.stack) > r.base() &&
				r.items < r.lim.MaxTotalItems {
				// The common case: the next dense slot.
				r.items++
				r.memoLen++
				r.memo = append(r.memo, r.stack[len(r.stack)-1])
				break
			}
			err = r.memoPut(uint64(r.memoLen), at)
		case opBinPut:
			if r.pos >= r.end {
				return py.None, r.truncated(1)
			}
			r.pos++
			err = r.memoPut(uint64(s[r.pos-1]), at)
		case opMark:
			if len(r.marks) >= r.lim.MaxDepth {
				return py.None, fail(ErrLimit, "more than MaxDepth (%d) open MARKs", r.lim.MaxDepth)
			}
			if err = r.count(1); err == nil {
				r.marks = append(r.marks, len(r.stack))
			}
		case opBinInt1:
			if r.pos >= r.end {
				return py.None, r.truncated(1)
			}
			r.pos++
			err = r.push(item{tag: tagInt, n: uint64(s[r.pos-1])})
		case opBinInt2:
			var b string
			if b, err = r.take(2); err == nil {
				err = r.push(item{tag: tagInt, n: uint64(b[0]) | uint64(b[1])<<8})
			}
		case opBinInt:
			var b string
			if b, err = r.take(4); err == nil {
				err = r.push(item{tag: tagInt, n: uint64(int64(int32(binary.LittleEndian.Uint32([]byte(b)))))})
			}
		case opEmptyDict:
			err = r.pushRef(py.DictOf(&py.Dict{}), nil, 1)
		case opEmptyList:
			err = r.pushRef(py.ListOf(&py.List{}), nil, 1)
		case opEmptyTuple:
			err = r.pushRef(py.NewTuple(), nil, 1)
		case opEmptySet:
			v, _ := py.NewSet()
			err = r.pushRef(v, nil, 1)
		case opSetItems:
			err = r.setItems(at)
		case opAppends:
			err = r.appends(at)
		case opAppend:
			err = r.appendOne(at)
		case opSetItem:
			err = r.setItem(at)
		case opStop:
			if err = r.need(1, at); err != nil {
				return py.None, err
			}
			r.stopEnd = r.pos
			if r.herd {
				return r.herdResult(&r.stack[len(r.stack)-1])
			}
			return r.result(&r.stack[len(r.stack)-1])
		case opProto:
			var b string
			if b, err = r.take(1); err == nil && b[0] > highestProtocol {
				return py.None, fail(ErrUnsupported, "pickle protocol %d", b[0])
			}
		case opFrame:
			if r.inFrame {
				return py.None, fail(ErrMalformed, "FRAME at offset %d inside an unfinished frame", at)
			}
			var b string
			if b, err = r.take(8); err != nil {
				return py.None, err
			}
			l := binary.LittleEndian.Uint64([]byte(b))
			if l > uint64(r.end-r.pos) {
				return py.None, fail(ErrMalformed, "declared length %d at offset %d exceeds the remaining input", l, at+1)
			}
			r.inFrame = true
			r.end = r.pos + int(l)
		case opNone:
			err = r.push(item{tag: tagNone})
		case opNewTrue:
			err = r.pushBool(true)
		case opNewFalse:
			err = r.pushBool(false)
		case opBinFloat:
			var b string
			if b, err = r.take(8); err == nil {
				err = r.push(item{tag: tagFloat, n: binary.BigEndian.Uint64([]byte(b))})
			}
		case opLong1, opLong4:
			n := 1
			if op == opLong4 {
				n = 4
			}
			var b string
			if b, err = r.counted(n); err != nil {
				return py.None, err
			}
			if len(b) > r.lim.MaxIntDigits/2 {
				return py.None, fail(ErrLimit, "%d-byte LONG at offset %d exceeds MaxIntDigits", len(b), at)
			}
			err = r.pushValue(decodeLong(b))
		case opShortBinBytes, opBinBytes, opBinBytes8:
			n := 1
			if op == opBinBytes {
				n = 4
			} else if op == opBinBytes8 {
				n = 8
			}
			var b string
			if b, err = r.counted(n); err == nil {
				err = r.push(item{tag: tagBytes, off: r.pos - len(b), n: uint64(len(b))})
			}
		case opByteArray8:
			var b string
			if b, err = r.counted(8); err == nil {
				err = r.pushRef(py.NewByteArray([]byte(b)), nil, 0)
			}
		case opShortBinString, opBinString:
			n := 1
			if op == opBinString {
				n = 4
			}
			var b string
			if b, err = r.counted(n); err != nil {
				return py.None, err
			}
			if !isASCII(b) {
				// Python 3 decodes Python 2 str as ASCII by default.
				return py.None, fail(ErrUnsupported, "non-ASCII Python 2 str at offset %d", at)
			}
			err = r.push(item{tag: tagStr, off: r.pos - len(b), n: uint64(len(b))})
		case opString:
			var l string
			if l, err = r.line(); err != nil {
				return py.None, err
			}
			var str string
			if str, err = textString(l, at); err == nil {
				err = r.pushRef(py.Str(str), nil, 0)
			}
		case opUnicode:
			var l string
			if l, err = r.line(); err != nil {
				return py.None, err
			}
			var str string
			if str, err = decodeRawUnicodeEscape(l); err != nil {
				return py.None, fail(ErrMalformed, "UNICODE at offset %d: %v", at, err)
			}
			err = r.pushRef(py.Str(str), nil, 0)
		case opInt, opLong, opFloat:
			var l string
			if l, err = r.line(); err != nil {
				return py.None, err
			}
			var v py.Value
			switch op {
			case opInt:
				v, err = textINT(l, at, r.lim.MaxIntDigits)
			case opLong:
				v, err = textLONG(l, at, r.lim.MaxIntDigits)
			default:
				v, err = textFLOAT(l, at)
			}
			if err == nil {
				err = r.pushValue(v)
			}
		case opBinGet:
			if r.pos >= r.end {
				return py.None, r.truncated(1)
			}
			r.pos++
			err = r.memoGet(uint64(s[r.pos-1]), at)
		case opLongBinGet:
			var b string
			if b, err = r.take(4); err == nil {
				err = r.memoGet(uint64(binary.LittleEndian.Uint32([]byte(b))), at)
			}
		case opGet, opPut:
			var l string
			if l, err = r.line(); err != nil {
				return py.None, err
			}
			idx, ok := textMemoIndex(l)
			if op == opGet {
				if !ok {
					return py.None, fail(ErrMalformed, "memo reference %q at offset %d was never stored", clip(l), at)
				}
				err = r.memoGet(idx, at)
			} else {
				if !ok {
					return py.None, fail(ErrMalformed, "bad memo index at offset %d", at)
				}
				err = r.memoPut(idx, at)
			}
		case opLongBinPut:
			var b string
			if b, err = r.take(4); err == nil {
				err = r.memoPut(uint64(binary.LittleEndian.Uint32([]byte(b))), at)
			}
		case opDup:
			if err = r.need(1, at); err == nil {
				err = r.pushAgain(&r.stack[len(r.stack)-1])
			}
		case opPop:
			if len(r.stack) > r.base() {
				r.stack = r.stack[:len(r.stack)-1]
			} else {
				// pickle.py: an empty stack above a MARK pops the MARK.
				var m int
				if m, err = r.popMark(at); err == nil {
					r.stack = r.stack[:m]
				}
			}
		case opPopMark:
			var m int
			if m, err = r.popMark(at); err == nil {
				r.stack = r.stack[:m]
			}
		case opTuple1, opTuple2, opTuple3:
			n := int(op-opTuple1) + 1
			if err = r.need(n, at); err == nil {
				err = r.tuple(len(r.stack) - n)
			}
		case opTuple:
			var m int
			if m, err = r.popMark(at); err == nil {
				err = r.tuple(m)
			}
		case opList:
			var m int
			if m, err = r.popMark(at); err == nil {
				err = r.list(m)
			}
		case opDict:
			var m int
			if m, err = r.popMark(at); err == nil {
				err = r.dict(m, at)
			}
		case opFrozenSet:
			var m int
			if m, err = r.popMark(at); err == nil {
				err = r.frozenSet(m)
			}
		case opAddItems:
			err = r.addItems(at)
		case opGlobal, opInst:
			var mod, name string
			if mod, err = r.line(); err != nil {
				return py.None, err
			}
			if name, err = r.line(); err != nil {
				return py.None, err
			}
			var g *global
			if g, err = r.lookupGlobal(mod, name); err != nil {
				return py.None, err
			}
			if op == opGlobal {
				err = r.push(item{tag: tagGlobal, n: uint64(g.kind)})
				break
			}
			var m int
			if m, err = r.popMark(at); err == nil {
				err = r.instantiate(g, m, at)
			}
		case opStackGlobal:
			if err = r.need(2, at); err != nil {
				return py.None, err
			}
			ms, ok1 := r.str(&r.stack[len(r.stack)-2])
			ns, ok2 := r.str(&r.stack[len(r.stack)-1])
			if !ok1 || !ok2 {
				return py.None, fail(ErrMalformed, "STACK_GLOBAL at offset %d needs two strings", at)
			}
			var g *global
			if g, err = r.lookupGlobal(ms, ns); err != nil {
				return py.None, err
			}
			r.stack = r.stack[:len(r.stack)-2]
			err = r.push(item{tag: tagGlobal, n: uint64(g.kind)})
		case opReduce:
			err = r.reduce(at)
		case opNewObj:
			err = r.newObj(at)
		case opNewObjEx:
			if err = r.need(3, at); err == nil {
				err = fail(ErrUnsupported, "NEWOBJ_EX at offset %d (keyword arguments to __new__)", at)
			}
		case opObj:
			var m int
			if m, err = r.popMark(at); err != nil {
				return py.None, err
			}
			if m == len(r.stack) {
				return py.None, fail(ErrMalformed, "OBJ without a class at offset %d", at)
			}
			cls := &r.stack[m]
			if cls.tag != tagGlobal {
				return py.None, fail(ErrMalformed, "OBJ at offset %d: %s is not a class", at, r.describe(cls))
			}
			err = r.instantiate(globals[cls.n], m+1, at)
			if err == nil {
				// instantiate pushed the result over the class; move it down.
				r.stack[m] = r.stack[len(r.stack)-1]
				r.stack = r.stack[:m+1]
			}
		case opBuild:
			err = r.build(at)
		case opPersID, opBinPersID:
			return py.None, fail(ErrUnsupported, "persistent ID opcode at offset %d", at)
		case opExt1, opExt2, opExt4:
			return py.None, fail(ErrUnsupported, "extension registry opcode at offset %d", at)
		case opNextBuffer, opReadOnlyBuffer:
			return py.None, fail(ErrUnsupported, "out-of-band buffer opcode at offset %d", at)
		default:
			return py.None, fail(ErrMalformed, "unknown opcode 0x%02x at offset %d", op, at)
		}
		if err != nil {
			return py.None, err
		}
	}
}

// clip shortens a piece of input quoted in an error.
func clip(s string) string {
	if len(s) > 20 {
		return s[:20] + "..."
	}
	return s
}

// decodeLong decodes LONG1/LONG4's little-endian two's complement; the
// empty string is 0 (spec: pickletools.decode_long).
func decodeLong(b string) py.Value {
	if len(b) <= 8 {
		var u uint64
		for i := len(b) - 1; i >= 0; i-- {
			u = u<<8 | uint64(b[i])
		}
		if n := uint(len(b)) * 8; n > 0 && n < 64 && b[len(b)-1]&0x80 != 0 {
			u |= ^uint64(0) << n // sign-extend
		}
		return py.Int(int64(u))
	}
	be := make([]byte, len(b))
	for i := range be {
		be[i] = b[len(b)-1-i]
	}
	n := new(big.Int).SetBytes(be)
	if be[0]&0x80 != 0 {
		n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(len(b))*8))
	}
	return py.BigInt(n)
}

// isContainer reports the kinds that hold other values.
func isContainer(k py.Kind) bool {
	switch k {
	case py.ListKind, py.TupleKind, py.DictKind, py.SetKind, py.FrozenSetKind:
		return true
	}
	return false
}

// pushAgain pushes an item a second time (DUP, GET). A container pushed
// twice may end up in the result twice, or inside itself: the result is
// then walked once more before it is returned (see checkShared).
func (r *reader) pushAgain(it *item) error {
	if it.tag == tagRef {
		if rf := &r.refs[it.n]; rf.o != nil || isContainer(rf.v.Kind()) {
			r.shared = true
		}
	}
	return r.push(*it)
}

// denseSlack is how far beyond twice the number of memo slots in use an
// index may lie and still be kept in the memo slice (CPython numbers them
// densely); farther indices, which only hand-made pickles use, go to a map,
// so the slice never outgrows the items the pickle paid for.
const denseSlack = 64

func (r *reader) memoPut(idx uint64, at int) error {
	if err := r.need(1, at); err != nil {
		return err
	}
	it := r.stack[len(r.stack)-1]
	if r.memoMap != nil {
		if _, ok := r.memoMap[idx]; ok {
			r.memoMap[idx] = it
			return nil
		}
	}
	switch {
	case idx < uint64(len(r.memo)):
		if r.memo[idx].tag == tagEmpty {
			if err := r.count(1); err != nil {
				return err
			}
			r.memoLen++
		}
		r.memo[idx] = it
		return nil
	case idx < uint64(2*r.memoLen+denseSlack):
		if err := r.count(1); err != nil {
			return err
		}
		for uint64(len(r.memo)) < idx {
			r.memo = append(r.memo, item{})
		}
		r.memo = append(r.memo, it)
		r.memoLen++
		return nil
	}
	if err := r.count(1); err != nil {
		return err
	}
	if r.memoMap == nil {
		r.memoMap = make(map[uint64]item)
	}
	r.memoMap[idx] = it
	r.memoLen++
	return nil
}

func (r *reader) memoGet(idx uint64, at int) error {
	if idx < uint64(len(r.memo)) && r.memo[idx].tag != tagEmpty {
		return r.pushAgain(&r.memo[idx])
	}
	if it, ok := r.memoMap[idx]; ok {
		return r.pushAgain(&it)
	}
	return fail(ErrMalformed, "memo reference %d at offset %d was never stored", idx, at)
}

func objectValue(o *object) (py.Value, error) {
	switch o.kind {
	case objUUID:
		if !o.uuidSet {
			return py.None, fail(ErrMalformed, "uuid.UUID without state")
		}
		o.frozen = true
		return py.UUID(o.uuid), nil
	case objTZ:
		return py.None, fail(ErrUnsupported, "a tzinfo object as a value")
	case objGlobal:
		return py.None, fail(ErrUnsupported, "the object %s as a value", o.g.qual())
	case objHerdMarker:
		return py.None, fail(ErrUnsupported, "a %s object outside HerdClient's (Marker(), value, deadline)", globals[gHerdMarker].qual())
	}
	for i := range o.args {
		if o.args[i].o != nil {
			if _, err := objectValue(o.args[i].o); err != nil {
				return py.None, err
			}
		}
	}
	return py.None, fail(ErrUnsupported, "a tuple holding objects as a value")
}

// describe names what an argument holds, for errors.
func describe(a arg) string {
	if a.o == nil {
		return a.v.TypeName()
	}
	switch a.o.kind {
	case objGlobal:
		return a.o.g.qual()
	case objTZ:
		return "tzinfo"
	case objUUID:
		return "UUID"
	case objHerdMarker:
		return globals[gHerdMarker].qual() + " object"
	}
	return "tuple"
}

func (r *reader) describe(it *item) string { return describe(r.arg(it)) }

// result finishes the load with the value STOP found.
func (r *reader) result(it *item) (py.Value, error) {
	v, err := r.value(it)
	if err != nil {
		return py.None, err
	}
	if r.shared {
		if err := r.checkShared(v); err != nil {
			return py.None, err
		}
	}
	return v, nil
}

// maxH returns the height of a container holding an item of height h.
func maxH(cur, h int32) int32 {
	if h+1 > cur {
		return h + 1
	}
	return cur
}

// isObject reports an item that is an object other than a UUID: a tuple
// holding one is kept as call arguments.
func (r *reader) isObject(it *item) bool {
	if it.tag == tagGlobal {
		return true
	}
	if it.tag == tagRef {
		o := r.refs[it.n].o
		return o != nil && o.kind != objUUID
	}
	return false
}

// tuple replaces r.stack[m:] by a tuple of them (TUPLE, TUPLE1-3). A
// tuple holding objects (a tzinfo, a global) is kept as call arguments.
func (r *reader) tuple(m int) error {
	n := len(r.stack) - m
	var h int32 = 1
	objs := false
	for i := m; i < len(r.stack); i++ {
		it := &r.stack[i]
		objs = objs || r.isObject(it)
		h = maxH(h, it.h)
	}
	if h > r.maxDepth {
		return r.limitDepth()
	}
	if objs {
		args := make([]arg, n)
		for i := range args {
			it := &r.stack[m+i]
			if it.tag == tagRef && r.refs[it.n].o != nil && r.refs[it.n].o.kind == objUUID {
				v, err := r.value(it)
				if err != nil {
					return err
				}
				args[i] = arg{v: v}
				continue
			}
			args[i] = r.arg(it)
		}
		r.stack = r.stack[:m]
		return r.pushRef(py.None, &object{kind: objArgs, args: args}, h)
	}
	vals := make([]py.Value, n)
	for i := range vals {
		v, err := r.value(&r.stack[m+i])
		if err != nil {
			return err
		}
		vals[i] = v
	}
	r.stack = r.stack[:m]
	return r.pushRef(py.NewTuple(vals...), nil, h)
}

// list replaces r.stack[m:] by a list of them (LIST).
func (r *reader) list(m int) error {
	vals := make([]py.Value, len(r.stack)-m)
	var h int32 = 1
	for i := range vals {
		it := &r.stack[m+i]
		v, err := r.value(it)
		if err != nil {
			return err
		}
		vals[i] = v
		h = maxH(h, it.h)
	}
	r.stack = r.stack[:m]
	return r.pushRef(py.NewList(vals...), nil, h)
}

// badTarget is the error for APPEND(S) and SETITEM(S) on something that
// is not a list or dict. CPython also appends to a bytearray and assigns
// list and bytearray items, which it never pickles and this reader does not
// model.
func (r *reader) badTarget(op string, t *item, at int) error {
	if v, ok := r.refOf(t); ok {
		switch v.Kind() {
		case py.ByteArrayKind, py.ListKind:
			return fail(ErrUnsupported, "%s on a %s at offset %d", op, v.TypeName(), at)
		}
	}
	return fail(ErrMalformed, "%s on a %s at offset %d", op, r.describe(t), at)
}

// extend appends r.stack[m:] to the list t and truncates the stack to m.
func (r *reader) extend(t *item, m, at int, op string) error {
	tv, _ := r.refOf(t)
	l, ok := tv.List()
	if !ok {
		return r.badTarget(op, t, at)
	}
	n := len(r.stack) - m
	if len(l.Items)+n > r.lim.MaxContainerLen {
		return r.limitLen(len(l.Items) + n)
	}
	if cap(l.Items)-len(l.Items) < n {
		if len(l.Items) == 0 {
			l.Items = make([]py.Value, 0, n) // CPython's batch: the whole list, up to 1000 items
		} else {
			l.Items = append(make([]py.Value, 0, 2*len(l.Items)+n), l.Items...)
		}
	}
	h := t.h
	for i := m; i < len(r.stack); i++ {
		it := &r.stack[i]
		v, err := r.value(it)
		if err != nil {
			return err
		}
		l.Items = append(l.Items, v)
		h = maxH(h, it.h)
	}
	if h > r.maxDepth {
		return r.limitDepth()
	}
	t.h = h
	r.stack = r.stack[:m]
	return nil
}

func (r *reader) appends(at int) error {
	m, err := r.popMarkOnto(at)
	if err != nil {
		return err
	}
	return r.extend(&r.stack[m-1], m, at, "APPENDS")
}

func (r *reader) appendOne(at int) error {
	if err := r.need(2, at); err != nil {
		return err
	}
	m := len(r.stack) - 1
	return r.extend(&r.stack[m-1], m, at, "APPEND")
}

// dictTarget returns the dict an item holds, for SETITEM(S).
func (r *reader) dictTarget(t *item, op string, at int) (*py.Dict, error) {
	v, _ := r.refOf(t)
	d, ok := v.Dict()
	if !ok {
		return nil, r.badTarget(op, t, at)
	}
	return d, nil
}

// setPairs stores the pairs r.stack[m:] into d, whose stack item is t (nil
// for DICT), and truncates the stack to m. It returns d's height.
func (r *reader) setPairs(d *py.Dict, t *item, m int) (int32, error) {
	var h int32 = 1
	if t != nil {
		h = t.h
	}
	for i := m; i+1 < len(r.stack); i += 2 {
		ki, vi := &r.stack[i], &r.stack[i+1]
		k, err := r.value(ki)
		if err != nil {
			return 0, err
		}
		v, err := r.value(vi)
		if err != nil {
			return 0, err
		}
		if ki.tag != tagStr || ki.n > 256 || d.Len() >= pyIndexThreshold {
			// Short str keys in a small dict cost a few compares:
			// bounded by the items they take, not worth counting.
			if err := r.chargeDictSet(d, k); err != nil {
				return 0, err
			}
		}
		if err := d.Set(k, v); err != nil {
			return 0, unhashable(err)
		}
		h = maxH(maxH(h, ki.h), vi.h)
	}
	if d.Len() > r.lim.MaxContainerLen {
		return 0, r.limitLen(d.Len())
	}
	if h > r.maxDepth {
		return 0, r.limitDepth()
	}
	r.stack = r.stack[:m]
	return h, nil
}

func unhashable(err error) error {
	return fmt.Errorf("%w: %v", ErrMalformed, err)
}

func (r *reader) setItems(at int) error {
	m, err := r.popMarkOnto(at)
	if err != nil {
		return err
	}
	t := &r.stack[m-1]
	d, err := r.dictTarget(t, "SETITEMS", at)
	if err != nil {
		return err
	}
	n := len(r.stack) - m
	if n%2 != 0 {
		return fail(ErrMalformed, "SETITEMS with an odd number of items at offset %d", at)
	}
	if d.Len() == 0 && n > 0 {
		// Size the dict for its batch (CPython writes the whole dict, up
		// to 1000 pairs, in one SETITEMS). The *Dict is kept: the memo
		// may share it.
		ordered := d.Ordered
		*d = *py.NewDict(n / 2)
		d.Ordered = ordered
	}
	h, err := r.setPairs(d, t, m)
	if err == nil {
		t.h = h
	}
	return err
}

func (r *reader) setItem(at int) error {
	if err := r.need(3, at); err != nil {
		return err
	}
	m := len(r.stack) - 2
	t := &r.stack[m-1]
	d, err := r.dictTarget(t, "SETITEM", at)
	if err != nil {
		return err
	}
	h, err := r.setPairs(d, t, m)
	if err == nil {
		t.h = h
	}
	return err
}

func (r *reader) dict(m, at int) error {
	n := len(r.stack) - m
	if n%2 != 0 {
		return fail(ErrMalformed, "DICT with an odd number of items at offset %d", at)
	}
	d := py.NewDict(n / 2)
	h, err := r.setPairs(d, nil, m)
	if err != nil {
		return err
	}
	return r.pushRef(py.DictOf(d), nil, h)
}

// setValues collects the values of r.stack[m:] in r.vals.
func (r *reader) setValues(m int) (int32, error) {
	r.vals = r.vals[:0]
	var h int32 = 1
	for i := m; i < len(r.stack); i++ {
		it := &r.stack[i]
		v, err := r.value(it)
		if err != nil {
			return 0, err
		}
		r.vals = append(r.vals, v)
		h = maxH(h, it.h)
	}
	if h > r.maxDepth {
		return 0, r.limitDepth()
	}
	return h, nil
}

func (r *reader) frozenSet(m int) error {
	h, err := r.setValues(m)
	if err != nil {
		return err
	}
	v, err := r.newSet(true, r.vals)
	if err != nil {
		return err
	}
	r.stack = r.stack[:m]
	return r.pushRef(v, nil, h)
}

func (r *reader) addItems(at int) error {
	m, err := r.popMarkOnto(at)
	if err != nil {
		return err
	}
	t := &r.stack[m-1]
	tv, _ := r.refOf(t)
	set, ok := tv.Set()
	if !ok || tv.Kind() != py.SetKind {
		// Python calls .add, which only a set has.
		return fail(ErrMalformed, "ADDITEMS on a %s at offset %d", r.describe(t), at)
	}
	h, err := r.setValues(m)
	if err != nil {
		return err
	}
	if err := r.addAll(set, r.vals); err != nil {
		return err
	}
	t.h = max(t.h, h)
	r.stack = r.stack[:m]
	return nil
}

// callArgs returns the arguments an argument tuple holds (REDUCE, NEWOBJ).
func (r *reader) callArgs(t *item) ([]arg, bool) {
	if t.tag != tagRef {
		return nil, false
	}
	rf := &r.refs[t.n]
	if rf.o != nil {
		if rf.o.kind == objArgs {
			return rf.o.args, true
		}
		return nil, false
	}
	tu, ok := rf.v.Tuple()
	if !ok {
		return nil, false
	}
	r.args = r.args[:0]
	for _, v := range tu.Items {
		r.args = append(r.args, arg{v: v})
	}
	return r.args, true
}

// reduce: REDUCE applies the callable under the top to the tuple on top.
func (r *reader) reduce(at int) error {
	if err := r.need(2, at); err != nil {
		return err
	}
	fn, argt := &r.stack[len(r.stack)-2], &r.stack[len(r.stack)-1]
	if fn.tag != tagGlobal {
		return fail(ErrMalformed, "REDUCE at offset %d: %s is not callable", at, r.describe(fn))
	}
	args, ok := r.callArgs(argt)
	if !ok {
		return fail(ErrMalformed, "REDUCE at offset %d: arguments are a %s, not a tuple", at, r.describe(argt))
	}
	res, err := r.call(globals[fn.n], args)
	if err != nil {
		return err
	}
	r.stack = r.stack[:len(r.stack)-2]
	return r.pushArg(res)
}

// newObj: NEWOBJ calls cls.__new__(cls, *args). Only uuid.UUID() is
// modelled, which is how CPython pickles a UUID at protocol ≥2.
func (r *reader) newObj(at int) error {
	if err := r.need(2, at); err != nil {
		return err
	}
	cls, argt := &r.stack[len(r.stack)-2], &r.stack[len(r.stack)-1]
	if cls.tag != tagGlobal || !globals[cls.n].isType() {
		return fail(ErrMalformed, "NEWOBJ at offset %d: %s is not a class", at, r.describe(cls))
	}
	args, ok := r.callArgs(argt)
	if !ok {
		return fail(ErrMalformed, "NEWOBJ at offset %d: arguments are a %s, not a tuple", at, r.describe(argt))
	}
	res, err := newObject(globals[cls.n], len(args), at)
	if err != nil {
		return err
	}
	r.stack = r.stack[:len(r.stack)-2]
	return r.pushArg(res)
}

// newObject is cls.__new__(cls, *args) for NEWOBJ with nargs arguments.
func newObject(g *global, nargs, at int) (arg, error) {
	switch {
	case g.kind == gUUID && nargs == 0:
		return arg{o: &object{kind: objUUID}}, nil
	case g.kind == gHerdMarker:
		if nargs != 0 {
			// object.__new__ raises TypeError: Marker() takes no arguments.
			return arg{}, fail(ErrMalformed, "NEWOBJ at offset %d: %s() takes no arguments", at, g.qual())
		}
		return arg{o: herdMarkerObj}, nil
	case g.kind == gObject:
		return arg{}, fail(ErrMalformed, "NEWOBJ at offset %d: object.__new__(object) is not a value", at)
	}
	return arg{}, fail(ErrUnsupported, "%s.__new__ with %d arguments", g.qual(), nargs)
}

// instantiate: INST and OBJ call cls(*args) with args = r.stack[m:], or,
// without arguments, cls.__new__(cls) (pickle.py's _instantiate), which
// for uuid.UUID is the empty UUID a BUILD then fills.
func (r *reader) instantiate(g *global, m, at int) error {
	var res arg
	if g.kind == gUUID && m == len(r.stack) {
		res = arg{o: &object{kind: objUUID}}
	} else {
		r.args = r.args[:0]
		for i := m; i < len(r.stack); i++ {
			r.args = append(r.args, r.arg(&r.stack[i]))
		}
		var err error
		if res, err = r.call(g, r.args); err != nil {
			return err
		}
	}
	r.stack = r.stack[:m]
	return r.pushArg(res)
}

// build: BUILD sets the state of the object under the top. Only a UUID
// takes state: {'int': n[, 'is_safe': 0 | -1 | None]}, as
// UUID.__getstate__ writes it (SafeUUID is stored by value, so
// uuid.SafeUUID never appears as a global). is_safe is checked and dropped:
// py.Value does not model it.
func (r *reader) build(at int) error {
	if err := r.need(2, at); err != nil {
		return err
	}
	inst, state := &r.stack[len(r.stack)-2], &r.stack[len(r.stack)-1]
	var u *object
	if inst.tag == tagRef {
		u = r.refs[inst.n].o
	}
	if u == nil || u.kind != objUUID {
		return fail(ErrUnsupported, "BUILD on a %s at offset %d", r.describe(inst), at)
	}
	if err := buildUUID(u, r.arg(state), at); err != nil {
		return err
	}
	r.stack = r.stack[:len(r.stack)-1]
	return nil
}

// buildUUID sets the state of a UUID made by NEWOBJ or _reconstructor.
func buildUUID(u *object, state arg, at int) error {
	if u.frozen {
		return fail(ErrUnsupported, "BUILD at offset %d on a UUID already used as a value", at)
	}
	d, ok := state.v.Dict()
	if state.o != nil || !ok {
		return fail(ErrMalformed, "uuid.UUID state is a %s, not a dict", describe(state))
	}
	found := false
	for _, e := range d.Entries() {
		k, _ := e.Key.Str()
		switch k {
		case "int":
			n, ok := e.Value.BigInt()
			if !ok {
				return fail(ErrMalformed, "uuid.UUID int is a %s", e.Value.TypeName())
			}
			if n.Sign() < 0 || n.BitLen() > 128 {
				return fail(ErrMalformed, "uuid.UUID int out of range")
			}
			u.uuid = [16]byte{}
			n.FillBytes(u.uuid[:])
			found = true
		case "is_safe":
			switch e.Value.Kind() {
			case py.NoneKind:
			case py.IntKind:
				if x, ok := e.Value.Int(); !ok || (x != 0 && x != -1) {
					return fail(ErrMalformed, "uuid.UUID is_safe %s", e.Value.Repr())
				}
			default:
				return fail(ErrMalformed, "uuid.UUID is_safe is a %s", e.Value.TypeName())
			}
		}
	}
	if !found {
		return fail(ErrMalformed, "uuid.UUID state without 'int'")
	}
	u.uuidSet = true
	return nil
}
