package pickle

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	gopickle "github.com/nlpodyssey/gopickle/pickle"
	"github.com/nlpodyssey/gopickle/types"

	"github.com/djsession/djsession/pickle/py"
)

// Limits bounds the resources a single load may use. Cache values and
// session data are attacker-reachable, so every dimension a pickle can grow
// in has a bound. A zero field means "use the DefaultLimits value"; there is
// no "unlimited" setting, use a large number instead.
type Limits struct {
	// MaxInput is the largest pickle accepted, in bytes. Default 1 MiB: a
	// Django session is typically well under 10 KB (a signed cookie is
	// capped near 4 KB by browsers), so 1 MiB leaves two orders of magnitude
	// of headroom while keeping the worst-case work per value small.
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
	// the pickle creates in total. It is what bounds memory: each item costs
	// the underlying unpickler up to a few hundred bytes, so the default of
	// 100 000 keeps the worst case around tens of megabytes, which a 1 MiB
	// pickle of ordinary data never comes close to needing.
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
	MaxInput:        1 << 20,
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
func Loads(data []byte) (py.Value, error) { return LoadsWith(data, DefaultLimits) }

// LoadsWith is Loads with explicit limits (zero fields take the default).
func LoadsWith(data []byte, lim Limits) (v py.Value, err error) {
	lim = lim.withDefaults()
	if len(data) > lim.MaxInput {
		return py.None, fmt.Errorf("%w: input of %d bytes exceeds MaxInput %d", ErrLimit, len(data), lim.MaxInput)
	}
	st := &loadState{lim: lim}
	if err := st.scan(data); err != nil {
		return py.None, err
	}
	// gopickle panics on a few inputs the scan does not rule out (an
	// unhashable Go value as a set element or OrderedDict key); spec §8.5.
	defer func() {
		if r := recover(); r != nil {
			v = py.None
			err = panicError(r)
		}
	}()
	u := gopickle.NewUnpickler(bytes.NewReader(data))
	u.FindClass = st.findClass
	res, err := u.Load()
	if err != nil {
		return py.None, wrapLoadError(err)
	}
	v, _, err = st.convert(res, 0)
	return v, err
}

func panicError(r any) error {
	if re, ok := r.(runtime.Error); ok && strings.Contains(re.Error(), "unhashable type") &&
		strings.Contains(re.Error(), "[]uint8") {
		// bytes as a set element or OrderedDict key: Python allows it, but
		// gopickle keeps sets and OrderedDicts in Go maps (spec §8.5).
		return fmt.Errorf("%w: bytes as a set element or OrderedDict key", ErrUnsupported)
	}
	return fmt.Errorf("%w: unpickler failed: %v", ErrMalformed, r)
}

func wrapLoadError(err error) error {
	for _, s := range []error{ErrMalformed, ErrDisallowedGlobal, ErrLimit, ErrUnsupported} {
		if errors.Is(err, s) {
			return err
		}
	}
	return fmt.Errorf("%w: %v", ErrMalformed, err)
}

// loadState is the per-call state shared by the scan, the FindClass hook
// and the conversion to py values.
type loadState struct {
	lim Limits

	// decode maps the raw text of protocol-0 strings (UNICODE,
	// raw-unicode-escape; STRING, Python escapes) to their decoded UTF-8,
	// for the strings whose raw form differs from the decoded one. gopickle
	// hands these over undecoded (spec §8.5); nil when there are none.
	decode   map[string]string
	conflict bool // one raw text decodes two ways (STRING vs UNICODE)
	// shared: the pickle has GET or DUP, so one object may be reached
	// twice (or be part of a cycle); conversion then keys on identity.
	shared bool
	done   map[any]convEntry
	// textFloat: the pickle has protocol-0 FLOAT, which gopickle parses
	// with strconv.ParseFloat: "nan" then gives Go's NaN, not CPython's.
	textFloat bool
	copied    int // bytes made by calls, see charge
}

type convEntry struct {
	v    py.Value
	size int  // tree size (see convert)
	busy bool // being converted: reaching it again is a cycle
}

// ---------------------------------------------------------------------------
// Pre-pass: validates the opcode stream the way pickletools.dis walks it,
// before gopickle sees a byte. gopickle allocates declared lengths before
// reading them, indexes a 255-entry table with the opcode byte, and panics on
// an odd DICT (spec §8.5); after the scan every length fits in the input,
// every opcode is known, every MARK is balanced, every memo reference exists,
// every global is on the allow-list, and the size limits hold. The scan keeps
// a model of gopickle's stack (a flat slice plus mark positions, which is the
// same thing as gopickle's stack and meta-stack) holding just enough to know
// the strings STACK_GLOBAL will name.
// ---------------------------------------------------------------------------

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

// slot is the scan's view of one stack entry: a string (with the place of
// its raw text, as gopickle will see it, in the input) or anything else.
type slot struct {
	off, n int32
	isStr  bool
}

func strSlot(data, raw []byte) slot {
	off := 0
	if len(raw) > 0 {
		off = cap(data) - cap(raw)
	}
	return slot{off: int32(off), n: int32(len(raw)), isStr: true}
}

type memoSlot struct {
	slot
	ok bool
}

// denseMemo is the memo index below which the scan keeps memo slots in a
// slice; larger indices (only hand-made pickles use them) go to a map.
const denseMemo = 1024

type scanner struct {
	st      *loadState
	data    []byte
	pos     int
	end     int // end of the current frame, or len(data)
	inFrame bool
	stack   []slot
	marks   []int
	memo    []memoSlot
	memoMap map[uint64]slot
	memoLen int
	items   int
	// literal: saw a string taken as is (binary strings, or text strings
	// whose escapes change nothing) whose raw text holds a backslash or a
	// non-ASCII byte, so it could share its raw text with an escaped one.
	literal bool
}

func (s *scanner) fail(kind error, format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{kind}, args...)...)
}

// take returns the next n bytes of the current opcode's argument; they must
// lie inside the current frame (or the input).
func (s *scanner) take(n int) ([]byte, error) {
	if n < 0 || n > s.end-s.pos {
		if s.inFrame && n <= len(s.data)-s.pos {
			return nil, s.fail(ErrMalformed, "argument at offset %d crosses the end of its frame", s.pos)
		}
		return nil, s.fail(ErrMalformed, "truncated at offset %d", s.pos)
	}
	b := s.data[s.pos : s.pos+n]
	s.pos += n
	return b, nil
}

// line returns a newline-terminated argument without its newline.
func (s *scanner) line() ([]byte, error) {
	i := bytes.IndexByte(s.data[s.pos:s.end], '\n')
	if i < 0 {
		return nil, s.fail(ErrMalformed, "unterminated line argument at offset %d", s.pos)
	}
	b := s.data[s.pos : s.pos+i]
	s.pos += i + 1
	return b, nil
}

// declared reads a little-endian length of n bytes and checks it against
// the rest of the input before anything is allocated for it.
func (s *scanner) declared(n int) (int, error) {
	b, err := s.take(n)
	if err != nil {
		return 0, err
	}
	var l uint64
	switch n {
	case 1:
		l = uint64(b[0])
	case 4:
		l = uint64(binary.LittleEndian.Uint32(b))
	case 8:
		l = binary.LittleEndian.Uint64(b)
	}
	if l > uint64(s.end-s.pos) {
		return 0, s.fail(ErrMalformed, "declared length %d at offset %d exceeds the remaining input", l, s.pos-n)
	}
	return int(l), nil
}

func (s *scanner) push(sl slot) error {
	s.items++
	if s.items > s.st.lim.MaxTotalItems {
		return s.fail(ErrLimit, "more than MaxTotalItems (%d) values", s.st.lim.MaxTotalItems)
	}
	s.stack = append(s.stack, sl)
	return nil
}

func (s *scanner) base() int {
	if len(s.marks) == 0 {
		return 0
	}
	return s.marks[len(s.marks)-1]
}

func (s *scanner) pop(n int) error {
	if len(s.stack)-s.base() < n {
		return s.fail(ErrMalformed, "stack underflow at offset %d", s.pos-1)
	}
	s.stack = s.stack[:len(s.stack)-n]
	return nil
}

func (s *scanner) top() (slot, error) {
	if len(s.stack) == s.base() {
		return slot{}, s.fail(ErrMalformed, "stack underflow at offset %d", s.pos-1)
	}
	return s.stack[len(s.stack)-1], nil
}

// popMark removes the topmost MARK and everything above it, returning the
// number of items.
func (s *scanner) popMark() (int, error) {
	if len(s.marks) == 0 {
		return 0, s.fail(ErrMalformed, "no MARK for the opcode at offset %d", s.pos-1)
	}
	m := s.marks[len(s.marks)-1]
	s.marks = s.marks[:len(s.marks)-1]
	n := len(s.stack) - m
	s.stack = s.stack[:m]
	if n > s.st.lim.MaxContainerLen {
		return 0, s.fail(ErrLimit, "%d items after one MARK exceed MaxContainerLen %d", n, s.st.lim.MaxContainerLen)
	}
	return n, nil
}

func (s *scanner) memoGet(i uint64) (slot, error) {
	if i < uint64(len(s.memo)) && s.memo[i].ok {
		return s.memo[i].slot, nil
	}
	if sl, ok := s.memoMap[i]; ok {
		return sl, nil
	}
	return slot{}, s.fail(ErrMalformed, "memo reference %d at offset %d was never stored", i, s.pos)
}

func (s *scanner) memoPut(i uint64) error {
	sl, err := s.top()
	if err != nil {
		return err
	}
	if i < denseMemo {
		for uint64(len(s.memo)) <= i {
			s.memo = append(s.memo, memoSlot{})
		}
		if !s.memo[i].ok {
			s.memoLen++
			s.items++
		}
		s.memo[i] = memoSlot{sl, true}
	} else {
		if s.memoMap == nil {
			s.memoMap = make(map[uint64]slot)
		}
		if _, ok := s.memoMap[i]; !ok {
			s.memoLen++
			s.items++
		}
		s.memoMap[i] = sl
	}
	if s.items > s.st.lim.MaxTotalItems {
		return s.fail(ErrLimit, "more than MaxTotalItems (%d) values", s.st.lim.MaxTotalItems)
	}
	return nil
}

var scannerPool = sync.Pool{New: func() any { return new(scanner) }}

// scan validates data; see the comment above.
func (st *loadState) scan(data []byte) error {
	s := scannerPool.Get().(*scanner)
	defer s.release()
	*s = scanner{st: st, data: data, end: len(data),
		stack: s.stack[:0], marks: s.marks[:0], memo: s.memo[:0]}
	return s.run()
}

// release returns the scanner to the pool, unless it grew large.
func (s *scanner) release() {
	if cap(s.stack) > 1024 || cap(s.marks) > 1024 || cap(s.memo) > denseMemo {
		return
	}
	clear(s.memo[:cap(s.memo)])
	s.st, s.data, s.memoMap = nil, nil, nil
	scannerPool.Put(s)
}

func (s *scanner) run() error {
	st, data := s.st, s.data
	for {
		if s.inFrame && s.pos == s.end {
			s.inFrame = false
			s.end = len(data)
		}
		if s.pos >= s.end {
			return s.fail(ErrMalformed, "truncated: no STOP opcode")
		}
		at := s.pos
		op := data[s.pos]
		s.pos++
		var err error
		switch op {
		case opMark:
			if len(s.marks) >= st.lim.MaxDepth {
				return s.fail(ErrLimit, "more than MaxDepth (%d) open MARKs", st.lim.MaxDepth)
			}
			s.items++
			if s.items > st.lim.MaxTotalItems {
				return s.fail(ErrLimit, "more than MaxTotalItems (%d) values", st.lim.MaxTotalItems)
			}
			s.marks = append(s.marks, len(s.stack))
		case opStop:
			if _, err = s.top(); err != nil {
				return err
			}
			if st.conflict || (s.literal && len(st.decode) > 0) {
				// The decode table is keyed by raw text (that is all
				// gopickle hands over), which another string could share;
				// CPython never mixes escaped text strings with others.
				return s.fail(ErrUnsupported, "protocol-0 escaped strings mixed with other strings of the same raw text")
			}
			return nil
		case opPop:
			if len(s.stack) > s.base() {
				s.stack = s.stack[:len(s.stack)-1]
			} else {
				_, err = s.popMark()
			}
		case opPopMark:
			_, err = s.popMark()
		case opDup:
			var sl slot
			if sl, err = s.top(); err == nil {
				st.shared = true
				err = s.push(sl)
			}
		case opFloat:
			if _, err = s.line(); err == nil {
				st.textFloat = true
				err = s.push(slot{})
			}
		case opInt:
			var l []byte
			if l, err = s.line(); err == nil {
				err = s.checkTextInt(l, at, false)
			}
			if err == nil {
				err = s.push(slot{})
			}
		case opLong:
			var l []byte
			if l, err = s.line(); err == nil {
				err = s.checkTextInt(l, at, true)
			}
			if err == nil {
				err = s.push(slot{})
			}
		case opBinInt:
			if _, err = s.take(4); err == nil {
				err = s.push(slot{})
			}
		case opBinInt1, opProto:
			var b []byte
			if b, err = s.take(1); err == nil {
				if op == opProto {
					if b[0] > gopickle.HighestProtocol {
						return s.fail(ErrUnsupported, "pickle protocol %d", b[0])
					}
					break
				}
				err = s.push(slot{})
			}
		case opBinInt2:
			if _, err = s.take(2); err == nil {
				err = s.push(slot{})
			}
		case opBinFloat:
			if _, err = s.take(8); err == nil {
				err = s.push(slot{})
			}
		case opNone, opNewTrue, opNewFalse, opEmptyDict, opEmptyList, opEmptyTuple, opEmptySet:
			err = s.push(slot{})
		case opLong1, opLong4:
			n := 1
			if op == opLong4 {
				n = 4
			}
			var l int
			if l, err = s.declared(n); err != nil {
				return err
			}
			if l == 0 {
				// Valid (the int 0) but gopickle indexes the last byte of
				// the empty payload and panics; CPython never writes it.
				return s.fail(ErrUnsupported, "zero-length LONG at offset %d", at)
			}
			if l > st.lim.MaxIntDigits/2 {
				return s.fail(ErrLimit, "%d-byte LONG at offset %d exceeds MaxIntDigits", l, at)
			}
			s.pos += l
			err = s.push(slot{})
		case opString:
			var l []byte
			if l, err = s.line(); err == nil {
				var raw []byte
				if raw, err = s.textString(l, at); err == nil {
					err = s.push(strSlot(data, raw))
				}
			}
		case opBinString, opShortBinString:
			n := 4
			if op == opShortBinString {
				n = 1
			}
			var l int
			if l, err = s.declared(n); err == nil {
				b := data[s.pos : s.pos+l]
				s.pos += l
				if !isASCII(b) {
					// Python 3 decodes Python-2 str as ASCII by default.
					return s.fail(ErrUnsupported, "non-ASCII Python 2 str at offset %d", at)
				}
				if bytes.IndexByte(b, '\\') >= 0 {
					s.literal = true
				}
				err = s.push(strSlot(data, b))
			}
		case opUnicode:
			var l []byte
			if l, err = s.line(); err == nil {
				var dec string
				if dec, err = decodeRawUnicodeEscape(l); err != nil {
					return s.fail(ErrMalformed, "UNICODE at offset %d: %v", at, err)
				}
				if dec != string(l) {
					st.addDecode(string(l), dec)
				} else if bytes.IndexByte(l, '\\') >= 0 {
					s.literal = true
				}
				err = s.push(strSlot(data, l))
			}
		case opBinUnicode, opShortBinUni, opBinUnicode8:
			n := 4
			switch op {
			case opShortBinUni:
				n = 1
			case opBinUnicode8:
				n = 8
			}
			var l int
			if l, err = s.declared(n); err == nil {
				b := data[s.pos : s.pos+l]
				s.pos += l
				if !isASCII(b) {
					if !validWTF8(b) {
						return s.fail(ErrMalformed, "invalid UTF-8 in string at offset %d", at)
					}
					s.literal = true
				} else if bytes.IndexByte(b, '\\') >= 0 {
					s.literal = true
				}
				err = s.push(strSlot(data, b))
			}
		case opBinBytes, opShortBinBytes, opBinBytes8, opByteArray8:
			n := 4
			switch op {
			case opShortBinBytes:
				n = 1
			case opBinBytes8, opByteArray8:
				n = 8
			}
			var l int
			if l, err = s.declared(n); err == nil {
				s.pos += l
				err = s.push(slot{})
			}
		case opReduce, opNewObj:
			if err = s.pop(2); err == nil {
				err = s.push(slot{})
			}
		case opNewObjEx:
			if err = s.pop(3); err == nil {
				err = s.push(slot{})
			}
		case opAppend, opBuild:
			if err = s.pop(1); err == nil {
				_, err = s.top()
			}
		case opSetItem:
			if err = s.pop(2); err == nil {
				_, err = s.top()
			}
		case opAppends, opSetItems, opAddItems:
			var n int
			if n, err = s.popMark(); err == nil {
				if op == opSetItems && n%2 != 0 {
					return s.fail(ErrMalformed, "SETITEMS with an odd number of items at offset %d", at)
				}
				_, err = s.top()
			}
		case opDict, opList, opTuple, opFrozenSet:
			var n int
			if n, err = s.popMark(); err == nil {
				if op == opDict && n%2 != 0 {
					return s.fail(ErrMalformed, "DICT with an odd number of items at offset %d", at)
				}
				err = s.push(slot{})
			}
		case opObj:
			var n int
			if n, err = s.popMark(); err == nil {
				if n == 0 {
					return s.fail(ErrMalformed, "OBJ without a class at offset %d", at)
				}
				err = s.push(slot{})
			}
		case opTuple1, opTuple2, opTuple3:
			if err = s.pop(int(op-opTuple1) + 1); err == nil {
				err = s.push(slot{})
			}
		case opGlobal, opInst:
			var mod, name []byte
			if mod, err = s.line(); err != nil {
				return err
			}
			if name, err = s.line(); err != nil {
				return err
			}
			if err = checkGlobal(mod, name); err != nil {
				return err
			}
			if op == opInst {
				if _, err = s.popMark(); err != nil {
					return err
				}
			}
			err = s.push(slot{})
		case opStackGlobal:
			var name, mod slot
			if name, err = s.top(); err == nil {
				_ = s.pop(1)
				if mod, err = s.top(); err == nil {
					_ = s.pop(1)
				}
			}
			if err != nil {
				return err
			}
			if !mod.isStr || !name.isStr {
				return s.fail(ErrMalformed, "STACK_GLOBAL at offset %d needs two strings", at)
			}
			if err = checkGlobal(data[mod.off:mod.off+mod.n], data[name.off:name.off+name.n]); err != nil {
				return err
			}
			err = s.push(slot{})
		case opGet, opBinGet, opLongBinGet:
			var idx uint64
			if idx, err = s.memoIndex(op); err != nil {
				return err
			}
			var sl slot
			if sl, err = s.memoGet(idx); err == nil {
				st.shared = true
				err = s.push(sl)
			}
		case opPut, opBinPut, opLongBinPut:
			var idx uint64
			if idx, err = s.memoIndex(op); err == nil {
				err = s.memoPut(idx)
			}
		case opMemoize:
			err = s.memoPut(uint64(s.memoLen))
		case opFrame:
			if s.inFrame {
				return s.fail(ErrMalformed, "FRAME at offset %d inside an unfinished frame", at)
			}
			var l int
			if l, err = s.declared(8); err == nil {
				s.inFrame = true
				s.end = s.pos + l
			}
		case opPersID, opBinPersID:
			return s.fail(ErrUnsupported, "persistent ID opcode at offset %d", at)
		case opExt1, opExt2, opExt4:
			return s.fail(ErrUnsupported, "extension registry opcode at offset %d", at)
		case opNextBuffer, opReadOnlyBuffer:
			return s.fail(ErrUnsupported, "out-of-band buffer opcode at offset %d", at)
		default:
			return s.fail(ErrMalformed, "unknown opcode 0x%02x at offset %d", op, at)
		}
		if err != nil {
			return err
		}
	}
}

func (s *scanner) memoIndex(op byte) (uint64, error) {
	switch op {
	case opBinGet, opBinPut:
		b, err := s.take(1)
		if err != nil {
			return 0, err
		}
		return uint64(b[0]), nil
	case opLongBinGet, opLongBinPut:
		b, err := s.take(4)
		if err != nil {
			return 0, err
		}
		return uint64(binary.LittleEndian.Uint32(b)), nil
	}
	at := s.pos - 1
	l, err := s.line()
	if err != nil {
		return 0, err
	}
	// gopickle parses these with strconv.Atoi.
	i, err := strconv.Atoi(string(l))
	if err != nil || i < 0 {
		return 0, s.fail(ErrMalformed, "bad memo index at offset %d", at)
	}
	return uint64(i), nil
}

// checkTextInt validates a protocol-0 INT or LONG argument the way gopickle
// will parse it, so that a too-long number fails with ErrLimit and an int
// gopickle cannot represent with ErrUnsupported rather than a parse error.
func (s *scanner) checkTextInt(l []byte, at int, long bool) error {
	t := l
	if long && len(t) > 0 && t[len(t)-1] == 'L' {
		t = t[:len(t)-1]
	}
	digits := t
	if len(digits) > 0 && (digits[0] == '-' || digits[0] == '+') {
		digits = digits[1:]
	}
	if len(digits) > s.st.lim.MaxIntDigits {
		return s.fail(ErrLimit, "integer of %d digits at offset %d exceeds MaxIntDigits", len(t), at)
	}
	if long {
		if _, ok := new(big.Int).SetString(string(t), 10); !ok {
			return s.fail(ErrMalformed, "bad LONG at offset %d", at)
		}
		return nil
	}
	if string(t) == "00" || string(t) == "01" {
		return nil
	}
	if _, err := strconv.Atoi(string(t)); err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return s.fail(ErrUnsupported, "INT beyond 64 bits at offset %d", at)
		}
		return s.fail(ErrMalformed, "bad INT at offset %d", at)
	}
	return nil
}

// textString handles a protocol-0 STRING argument (a Python 2 str literal
// in quotes, Python escapes). gopickle only strips the quotes; we decode the
// escapes and, like Python 3's default encoding="ASCII", accept ASCII only.
func (s *scanner) textString(l []byte, at int) ([]byte, error) {
	if len(l) < 2 || l[0] != l[len(l)-1] || (l[0] != '\'' && l[0] != '"') {
		return nil, s.fail(ErrMalformed, "STRING at offset %d is not quoted", at)
	}
	rawb := l[1 : len(l)-1]
	raw := string(rawb)
	dec, ok := decodePyEscapes(raw)
	if !ok || !isASCII([]byte(dec)) {
		return nil, s.fail(ErrUnsupported, "non-ASCII Python 2 str at offset %d", at)
	}
	if dec != raw {
		s.st.addDecode(raw, dec)
	} else if strings.IndexByte(raw, '\\') >= 0 {
		s.literal = true
	}
	return rawb, nil
}

func (st *loadState) addDecode(raw, dec string) {
	if st.decode == nil {
		st.decode = make(map[string]string)
	}
	if old, ok := st.decode[raw]; ok && old != dec {
		st.conflict = true
	}
	st.decode[raw] = dec
}

// charge counts n bytes made by a call (bytes(), bytearray(),
// _codecs.encode): a pickle may call them many times on one shared
// argument, so their total output is bounded by MaxInput.
func (st *loadState) charge(n int) error {
	st.copied += n
	if st.copied > st.lim.MaxInput {
		return fmt.Errorf("%w: bytes built by calls exceed MaxInput (%d)", ErrLimit, st.lim.MaxInput)
	}
	return nil
}

// str returns the Python text of a string gopickle produced.
func (st *loadState) str(raw string) string {
	if st.decode != nil {
		if d, ok := st.decode[raw]; ok {
			return d
		}
	}
	return raw
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// validWTF8 reports whether b is UTF-8 in which surrogate code points
// (U+D800–U+DFFF, as CPython's "surrogatepass" writes lone surrogates) are
// also allowed.
func validWTF8(b []byte) bool {
	for len(b) > 0 {
		if b[0] < 0x80 {
			b = b[1:]
			continue
		}
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n <= 1 {
			// ED A0–BF xx encodes a surrogate, which utf8 rejects.
			if len(b) >= 3 && b[0] == 0xED && b[1] >= 0xA0 && b[1] <= 0xBF && b[2] >= 0x80 && b[2] <= 0xBF {
				b = b[3:]
				continue
			}
			return false
		}
		b = b[n:]
	}
	return true
}

// appendCodePoint appends r as UTF-8, writing surrogates as 3-byte
// sequences (CESU/WTF-8 style, the form package py keeps them in).
func appendCodePoint(out []byte, r rune) []byte {
	if r >= 0xD800 && r <= 0xDFFF {
		return append(out, byte(0xE0|r>>12), byte(0x80|(r>>6)&0x3F), byte(0x80|r&0x3F))
	}
	return utf8.AppendRune(out, r)
}

// decodeRawUnicodeEscape decodes Python's "raw-unicode-escape" codec, which
// protocol-0 UNICODE uses: every byte is a Latin-1 code point, except that
// \uXXXX and \UXXXXXXXX escapes are decoded when preceded by an odd number
// of backslashes (the rule of CPython's decoder).
func decodeRawUnicodeEscape(b []byte) (string, error) {
	if isASCII(b) && bytes.IndexByte(b, '\\') < 0 {
		return string(b), nil
	}
	out := make([]byte, 0, len(b)+8)
	for i := 0; i < len(b); {
		c := b[i]
		if c != '\\' {
			out = appendCodePoint(out, rune(c))
			i++
			continue
		}
		j := i
		for j < len(b) && b[j] == '\\' {
			j++
		}
		run := j - i
		if run%2 == 0 || j >= len(b) || (b[j] != 'u' && b[j] != 'U') {
			out = append(out, b[i:j]...)
			i = j
			continue
		}
		out = append(out, b[i:j-1]...) // all but the escaping backslash
		n := 4
		if b[j] == 'U' {
			n = 8
		}
		if j+1+n > len(b) {
			return "", errors.New("truncated \\uXXXX escape")
		}
		v, err := strconv.ParseUint(string(b[j+1:j+1+n]), 16, 32)
		if err != nil || strings.ContainsAny(string(b[j+1:j+1+n]), "+-_xX") {
			return "", errors.New("truncated \\uXXXX escape")
		}
		if v > 0x10FFFF {
			return "", errors.New("\\Uxxxxxxxx out of range")
		}
		out = appendCodePoint(out, rune(v))
		i = j + 1 + n
	}
	return string(out), nil
}

// decodePyEscapes decodes the backslash escapes of a Python 2 str literal
// (codecs.escape_decode): \\ \' \" \a \b \f \n \r \t \v \xHH \OOO and
// backslash-newline; any other escape stays as written.
func decodePyEscapes(s string) (string, bool) {
	if strings.IndexByte(s, '\\') < 0 {
		return s, true
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		if i >= len(s) {
			return "", false // trailing backslash: "Trailing \ in string"
		}
		switch c = s[i]; c {
		case '\n':
		case '\\', '\'', '"':
			out = append(out, c)
		case 'a':
			out = append(out, 7)
		case 'b':
			out = append(out, 8)
		case 'f':
			out = append(out, 12)
		case 'n':
			out = append(out, 10)
		case 'r':
			out = append(out, 13)
		case 't':
			out = append(out, 9)
		case 'v':
			out = append(out, 11)
		case 'x':
			if i+2 >= len(s) {
				return "", false // "invalid \x escape"
			}
			v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
			if err != nil || strings.ContainsAny(s[i+1:i+3], "+-_") {
				return "", false
			}
			out = append(out, byte(v))
			i += 2
		case '0', '1', '2', '3', '4', '5', '6', '7':
			v := int(c - '0')
			for k := 0; k < 2 && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '7'; k++ {
				i++
				v = v*8 + int(s[i]-'0')
			}
			out = append(out, byte(v))
		default:
			out = append(out, '\\', c)
		}
	}
	return string(out), true
}

// ---------------------------------------------------------------------------
// Allow-list. Spec §8.4 gives the pickled shapes; the comments say which
// CPython writes which global. gopickle resolves collections.OrderedDict,
// __builtin__.object and copy_reg._reconstructor itself, before calling our
// hook (spec §8.3), and also builtins.list, builtins.dict and
// array._array_reconstructor, which are not on the list: the scan rejects
// them before gopickle runs.
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
	gZoneInfo                               // zoneinfo.ZoneInfo, as getattr's target
	gZoneInfoUnpickle                       // ZoneInfo._unpickle(key, from_cache)
)

// global is an allowed class or function as the FindClass hook returns it.
// The values are immutable singletons.
type global struct {
	kind   globalKind
	module string
	name   string
}

var (
	globals = map[globalKind]*global{}
	// allow maps module, then name, to its kind.
	allow = map[string]map[string]globalKind{}
)

func init() {
	def := func(k globalKind, module, name string) {
		if allow[module] == nil {
			allow[module] = map[string]globalKind{}
		}
		allow[module][name] = k
		if globals[k] == nil {
			globals[k] = &global{kind: k, module: module, name: name}
		}
	}
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
	def(gZoneInfo, "zoneinfo", "ZoneInfo")
	def(gZoneInfoUnpickle, "zoneinfo", "ZoneInfo._unpickle")
}

func lookupGlobal(module, name string) (globalKind, bool) {
	k, ok := allow[module][name]
	return k, ok
}

func quoteGlobal(module, name string) string {
	const max = 100
	q := module + "." + name
	if len(q) > max {
		q = q[:max] + "..."
	}
	return strconv.Quote(q)
}

func checkGlobal(module, name []byte) error {
	if _, ok := allow[string(module)][string(name)]; !ok {
		return fmt.Errorf("%w: %s", ErrDisallowedGlobal, quoteGlobal(string(module), string(name)))
	}
	return nil
}

// findClass is gopickle's FindClass hook: allowed names only, never a
// gopickle GenericClass.
func (st *loadState) findClass(module, name string) (any, error) {
	k, ok := lookupGlobal(module, name)
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrDisallowedGlobal, quoteGlobal(module, name))
	}
	switch k {
	case gObject:
		return &types.ObjectClass{}, nil
	case gReconstructor:
		return &types.Reconstructor{}, nil
	case gOrderedDict:
		return &types.OrderedDictClass{}, nil
	}
	return &boundGlobal{global: globals[k], st: st}, nil
}

// boundGlobal is an allowed global as the FindClass hook returns it: the
// global plus the load it belongs to, whose protocol-0 decode table and
// copy budget its calls use.
type boundGlobal struct {
	*global
	st *loadState
}

// Call implements gopickle's types.Callable (REDUCE, INST, OBJ).
func (b *boundGlobal) Call(args ...any) (any, error) { return b.global.call(b.st, args) }

// PyNew implements types.PyNewable (NEWOBJ): only uuid.UUID, with no
// arguments, as CPython writes it.
func (b *boundGlobal) PyNew(args ...any) (any, error) { return b.global.pyNew(args) }

func (g *global) pyNew(args []any) (any, error) {
	if g.kind == gUUID && len(args) == 0 {
		return &uuidBox{}, nil
	}
	return nil, fmt.Errorf("%w: %s.__new__ with %d arguments", ErrUnsupported, g.qual(), len(args))
}

func (g *global) qual() string { return g.module + "." + g.name }

// Boxes: what our callables return inside gopickle's tree. All pointers, so
// they are hashable in gopickle's Go maps.
type (
	valueBox struct{ v py.Value }
	tzBox    struct{ tz *py.TZInfo }
	setBox   struct {
		frozen bool
		items  []any
	}
	uuidBox struct {
		set bool
		u   [16]byte
	}
)

// PySetState implements BUILD for uuid.UUID: the state is
// {'int': n[, 'is_safe': 0 | -1 | None]}, as UUID.__getstate__ writes it
// (SafeUUID is stored by value, so uuid.SafeUUID never appears as a global).
// is_safe is accepted and dropped: py.Value does not model it.
func (u *uuidBox) PySetState(state any) error {
	d, ok := state.(*types.Dict)
	if !ok {
		return fmt.Errorf("%w: uuid.UUID state is %T, not a dict", ErrMalformed, state)
	}
	found := false
	for _, e := range *d {
		k, _ := e.Key.(string)
		switch k {
		case "int":
			var n *big.Int
			switch x := e.Value.(type) {
			case int:
				n = big.NewInt(int64(x))
			case *big.Int:
				n = x
			default:
				return fmt.Errorf("%w: uuid.UUID int is %T", ErrMalformed, e.Value)
			}
			if n.Sign() < 0 || n.BitLen() > 128 {
				return fmt.Errorf("%w: uuid.UUID int out of range", ErrMalformed)
			}
			u.u = [16]byte{}
			n.FillBytes(u.u[:])
			found = true
		case "is_safe":
			switch x := e.Value.(type) {
			case nil:
			case int:
				if x != 0 && x != -1 {
					return fmt.Errorf("%w: uuid.UUID is_safe %d", ErrMalformed, x)
				}
			default:
				return fmt.Errorf("%w: uuid.UUID is_safe is %T", ErrMalformed, e.Value)
			}
		}
	}
	if !found {
		return fmt.Errorf("%w: uuid.UUID state without 'int'", ErrMalformed)
	}
	u.set = true
	return nil
}

func (g *global) call(st *loadState, args []any) (any, error) {
	bad := func(kind error, why string) (any, error) {
		return nil, fmt.Errorf("%w: %s(%d args): %s", kind, g.qual(), len(args), why)
	}
	text := func(x any) (string, bool) {
		s, ok := x.(string)
		if ok {
			s = st.str(s)
		}
		return s, ok
	}
	switch g.kind {
	case gSet, gFrozenSet:
		box := &setBox{frozen: g.kind == gFrozenSet}
		switch len(args) {
		case 0:
		case 1:
			// The items are not copied: gopickle only ever appends to a
			// list, so a slice of it is a snapshot, as set(list) takes.
			switch it := args[0].(type) {
			case *types.List:
				box.items = (*it)[:len(*it):len(*it)]
			case *types.Tuple:
				box.items = *it
			default:
				return bad(ErrUnsupported, fmt.Sprintf("argument %T", args[0]))
			}
		default:
			return bad(ErrMalformed, "too many arguments")
		}
		return box, nil
	case gBytes, gByteArray:
		var b []byte
		switch len(args) {
		case 0:
			b = []byte{}
		case 1:
			x, ok := args[0].([]byte)
			if !ok {
				return bad(ErrUnsupported, fmt.Sprintf("argument %T", args[0]))
			}
			if err := st.charge(len(x)); err != nil {
				return nil, err
			}
			b = append([]byte{}, x...)
		case 2:
			// bytearray(str, 'latin-1'): how Python 2 and early Python 3
			// pickled bytearray at protocol ≤2.
			s, ok1 := text(args[0])
			enc, ok2 := text(args[1])
			if !ok1 || !ok2 || (enc != "latin-1" && enc != "latin1") {
				return bad(ErrUnsupported, "only (str, 'latin-1')")
			}
			if err := st.charge(len(s)); err != nil {
				return nil, err
			}
			var err error
			if b, err = latin1(s); err != nil {
				return bad(ErrMalformed, err.Error())
			}
		default:
			return bad(ErrMalformed, "too many arguments")
		}
		if g.kind == gBytes {
			return b, nil
		}
		return types.NewByteArrayFromSlice(b), nil
	case gCodecsEncode:
		// Protocol ≤2 writes bytes as _codecs.encode(str, 'latin1'); spec §8.4.
		if len(args) != 2 {
			return bad(ErrUnsupported, "only (str, 'latin1')")
		}
		s, ok1 := text(args[0])
		enc, ok2 := text(args[1])
		if !ok1 || !ok2 || enc != "latin1" {
			return bad(ErrUnsupported, "only (str, 'latin1')")
		}
		if err := st.charge(len(s)); err != nil {
			return nil, err
		}
		b, err := latin1(s)
		if err != nil {
			return bad(ErrMalformed, err.Error())
		}
		return b, nil
	case gGetattr:
		// CPython pickles ZoneInfo._unpickle, a nested name, as
		// getattr(zoneinfo.ZoneInfo, '_unpickle') at every protocol.
		if len(args) != 2 {
			return bad(ErrMalformed, "need (object, name)")
		}
		name, _ := text(args[1])
		var target *global
		switch t := args[0].(type) {
		case *global:
			target = t
		case *boundGlobal:
			target = t.global
		default:
			return nil, fmt.Errorf("%w: %s", ErrDisallowedGlobal, quoteGlobal(g.module, g.name))
		}
		if target.kind == gZoneInfo && name == "_unpickle" {
			return &boundGlobal{global: globals[gZoneInfoUnpickle], st: st}, nil
		}
		return nil, fmt.Errorf("%w: %s", ErrDisallowedGlobal, quoteGlobal(target.module, target.name+"."+name))
	case gZoneInfoUnpickle:
		if len(args) != 2 {
			return bad(ErrMalformed, "need (key, from_cache)")
		}
		key, ok := text(args[0])
		if _, isInt := args[1].(int); !ok || !isInt {
			return bad(ErrMalformed, "need (str, int)")
		}
		// from_cache (ZoneInfo vs ZoneInfo.no_cache) is not modelled.
		tz, err := py.ZoneInfo(key)
		if err != nil {
			return bad(ErrUnsupported, fmt.Sprintf("zone %q unknown to the Go runtime", key))
		}
		return &tzBox{tz: tz}, nil
	case gPytzUTC:
		if len(args) != 0 {
			return bad(ErrMalformed, "takes no arguments")
		}
		return &tzBox{tz: py.PytzUTC}, nil
	case gDecimal:
		if len(args) != 1 {
			return bad(ErrUnsupported, "only Decimal(str)")
		}
		s, ok := text(args[0])
		if !ok {
			return bad(ErrUnsupported, "only Decimal(str)")
		}
		v, err := py.ParseDecimal(s)
		if err != nil {
			return bad(ErrMalformed, "invalid decimal text")
		}
		return &valueBox{v}, nil
	case gTimeDelta:
		if len(args) != 3 {
			return bad(ErrUnsupported, "only timedelta(days, seconds, microseconds)")
		}
		var n [3]int64
		for i, a := range args {
			x, ok := a.(int)
			if !ok {
				return bad(ErrUnsupported, fmt.Sprintf("argument %T", a))
			}
			n[i] = int64(x)
		}
		if n[1] < -1<<40 || n[1] > 1<<40 || n[2] < -1<<50 || n[2] > 1<<50 {
			return bad(ErrMalformed, "out of range")
		}
		v, err := py.NewTimeDelta(n[0], n[1], n[2])
		if err != nil {
			return bad(ErrMalformed, err.Error())
		}
		return &valueBox{v}, nil
	case gTimezone:
		if len(args) != 1 && len(args) != 2 {
			return bad(ErrMalformed, "need (timedelta[, name])")
		}
		vb, ok := args[0].(*valueBox)
		var td *py.TimeDelta
		if ok {
			td, ok = vb.v.TimeDelta()
		}
		if !ok {
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
			return &tzBox{tz: py.UTC}, nil // timezone(timedelta(0)) is timezone.utc
		}
		tz, err := py.FixedZone(time.Duration(us)*time.Microsecond, name)
		if err != nil {
			return bad(ErrMalformed, err.Error())
		}
		return &tzBox{tz: tz}, nil
	case gDateTime, gDate, gTime:
		return dateCall(g, text, args)
	}
	return bad(ErrUnsupported, "not callable")
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
func dateCall(g *global, text func(any) (string, bool), args []any) (any, error) {
	bad := func(kind error, why string) (any, error) {
		return nil, fmt.Errorf("%w: %s: %s", kind, g.qual(), why)
	}
	want := map[globalKind]int{gDateTime: 10, gDate: 4, gTime: 6}[g.kind]
	maxArgs := 2
	if g.kind == gDate {
		maxArgs = 1
	}
	if len(args) < 1 || len(args) > maxArgs {
		return bad(ErrUnsupported, "only the pickled (state[, tzinfo]) form")
	}
	var b []byte
	switch x := args[0].(type) {
	case []byte:
		b = x
	case string:
		s, _ := text(x)
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
		switch t := args[1].(type) {
		case nil:
		case *tzBox:
			tz = t.tz
		default:
			return bad(ErrMalformed, fmt.Sprintf("tzinfo is %T", args[1]))
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
	return &valueBox{v}, nil
}

// ---------------------------------------------------------------------------
// Conversion of gopickle's result tree to py values. Anything not produced
// by a known opcode or an allowed global is rejected.
// ---------------------------------------------------------------------------

// The bits of Go's math.NaN() (what strconv.ParseFloat("nan") returns) and
// of CPython's float("nan").
const (
	goNaN = 0x7FF8000000000001
	pyNaN = 0x7FF8000000000000
)

// convert turns gopickle's value x into a py value. It also returns the
// size of x counted as a tree (every reference to a shared object counts
// its whole subtree again), which MaxTotalItems bounds too: a few hundred
// bytes of pickle can otherwise describe a structure whose every walk
// (repr, JSON, hashing a key) takes 2^n steps.
func (st *loadState) convert(x any, depth int) (py.Value, int, error) {
	switch t := x.(type) {
	case nil:
		return py.None, 1, nil
	case bool:
		return py.Bool(t), 1, nil
	case int:
		return py.Int(int64(t)), 1, nil
	case float64:
		if st.textFloat && math.Float64bits(t) == goNaN {
			t = math.Float64frombits(pyNaN)
		}
		return py.Float(t), 1, nil
	case string:
		return py.Str(st.str(t)), 1, nil
	case *valueBox:
		return t.v, 1, nil
	case *big.Int, []byte, *types.ByteArray, *types.List, *types.Tuple, *types.Dict,
		*types.OrderedDict, *types.Set, *types.FrozenSet, *setBox, *uuidBox:
		return st.convertShared(x, depth)
	case *tzBox:
		return py.None, 0, fmt.Errorf("%w: a tzinfo object as a value", ErrUnsupported)
	case *global:
		return py.None, 0, fmt.Errorf("%w: the object %s as a value", ErrUnsupported, t.qual())
	case *boundGlobal:
		return py.None, 0, fmt.Errorf("%w: the object %s as a value", ErrUnsupported, t.qual())
	case *types.OrderedDictClass, *types.ObjectClass, *types.Reconstructor:
		return py.None, 0, fmt.Errorf("%w: a class object as a value", ErrUnsupported)
	}
	return py.None, 0, fmt.Errorf("%w: unexpected %T in the unpickled tree", ErrUnsupported, x)
}

// convertShared converts a container, bytes or big int. When the pickle
// could share objects it keys on identity: the same list twice becomes the
// same *py.List, a shared bytes or big int is copied once, and a container
// reached again while being converted (a cycle) is refused.
func (st *loadState) convertShared(x any, depth int) (py.Value, int, error) {
	if depth >= st.lim.MaxDepth {
		return py.None, 0, fmt.Errorf("%w: nesting deeper than MaxDepth (%d)", ErrLimit, st.lim.MaxDepth)
	}
	if !st.shared {
		return st.convertContainer(x, depth)
	}
	key := x
	if b, ok := x.([]byte); ok {
		if len(b) == 0 {
			return py.Bytes(nil), 1, nil
		}
		key = &b[0] // slices are not comparable; the backing array is the identity
	}
	if st.done == nil {
		st.done = make(map[any]convEntry)
	}
	if e, ok := st.done[key]; ok {
		if e.busy {
			return py.None, 0, fmt.Errorf("%w: recursive structure (a container inside itself)", ErrUnsupported)
		}
		return e.v, e.size, nil
	}
	st.done[key] = convEntry{busy: true}
	v, n, err := st.convertContainer(x, depth)
	if err != nil {
		return py.None, 0, err
	}
	st.done[key] = convEntry{v: v, size: n}
	return v, n, nil
}

// add sums tree sizes, failing past MaxTotalItems.
func (st *loadState) add(total *int, n int) error {
	*total += n
	if *total > st.lim.MaxTotalItems {
		return fmt.Errorf("%w: the value holds more than MaxTotalItems (%d) items, counting shared ones once per reference",
			ErrLimit, st.lim.MaxTotalItems)
	}
	return nil
}

func (st *loadState) checkLen(n int) error {
	if n > st.lim.MaxContainerLen {
		return fmt.Errorf("%w: container of %d items exceeds MaxContainerLen (%d)", ErrLimit, n, st.lim.MaxContainerLen)
	}
	return nil
}

// convertItems converts the items of a sequence; size starts at 1 for the
// container itself.
func (st *loadState) convertItems(items []any, depth int) ([]py.Value, int, error) {
	if err := st.checkLen(len(items)); err != nil {
		return nil, 0, err
	}
	out := make([]py.Value, len(items))
	size := 1
	for i, it := range items {
		v, n, err := st.convert(it, depth+1)
		if err != nil {
			return nil, 0, err
		}
		if err := st.add(&size, n); err != nil {
			return nil, 0, err
		}
		out[i] = v
	}
	return out, size, nil
}

func unhashable(err error) error {
	return fmt.Errorf("%w: %v", ErrMalformed, err)
}

func (st *loadState) convertContainer(x any, depth int) (py.Value, int, error) {
	switch t := x.(type) {
	case *big.Int:
		return py.BigInt(t), 1, nil
	case []byte:
		return py.Bytes(t), 1, nil
	case *types.ByteArray:
		// Our own bytearray() calls copy; BYTEARRAY8's buffer is fresh.
		return py.NewByteArray([]byte(*t)), 1, nil
	case *types.List:
		items, n, err := st.convertItems(*t, depth)
		if err != nil {
			return py.None, 0, err
		}
		return py.NewList(items...), n, nil
	case *types.Tuple:
		items, n, err := st.convertItems(*t, depth)
		if err != nil {
			return py.None, 0, err
		}
		return py.NewTuple(items...), n, nil
	case *types.Dict:
		if err := st.checkLen(len(*t)); err != nil {
			return py.None, 0, err
		}
		d := py.NewDict(len(*t))
		size := 1
		for _, e := range *t {
			if err := st.setItem(d, e.Key, e.Value, depth, &size); err != nil {
				return py.None, 0, err
			}
		}
		return py.DictOf(d), size, nil
	case *types.OrderedDict:
		if len(t.PyDict) != 0 {
			return py.None, 0, fmt.Errorf("%w: OrderedDict with instance attributes", ErrUnsupported)
		}
		if err := st.checkLen(t.List.Len()); err != nil {
			return py.None, 0, err
		}
		d := py.NewDict(t.List.Len())
		d.Ordered = true
		size := 1
		for el := t.List.Front(); el != nil; el = el.Next() {
			e := el.Value.(*types.OrderedDictEntry)
			if err := st.setItem(d, e.Key, e.Value, depth, &size); err != nil {
				return py.None, 0, err
			}
		}
		return py.DictOf(d), size, nil
	case *types.Set:
		return st.convertMapSet(mapKeys(*t), false, depth)
	case *types.FrozenSet:
		return st.convertMapSet(mapKeys(*t), true, depth)
	case *setBox:
		items, n, err := st.convertItems(t.items, depth)
		if err != nil {
			return py.None, 0, err
		}
		v, err := newSet(t.frozen, items)
		return v, n, err
	case *uuidBox:
		if !t.set {
			return py.None, 0, fmt.Errorf("%w: uuid.UUID without state", ErrMalformed)
		}
		return py.UUID(t.u), 1, nil
	}
	return py.None, 0, fmt.Errorf("%w: unexpected %T in the unpickled tree", ErrUnsupported, x)
}

func (st *loadState) setItem(d *py.Dict, k, v any, depth int, size *int) error {
	kv, n, err := st.convert(k, depth+1)
	if err != nil {
		return err
	}
	if err := st.add(size, n); err != nil {
		return err
	}
	vv, n, err := st.convert(v, depth+1)
	if err != nil {
		return err
	}
	if err := st.add(size, n); err != nil {
		return err
	}
	if err := d.Set(kv, vv); err != nil {
		return unhashable(err)
	}
	return nil
}

func newSet(frozen bool, items []py.Value) (py.Value, error) {
	var (
		v   py.Value
		err error
	)
	if frozen {
		v, err = py.NewFrozenSet(items...)
	} else {
		v, err = py.NewSet(items...)
	}
	if err != nil {
		return py.None, unhashable(err)
	}
	return v, nil
}

func mapKeys[M ~map[any]E, E any](m M) []any {
	ks := make([]any, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

// convertMapSet converts a set gopickle built (protocol ≥4 EMPTY_SET /
// ADDITEMS / FROZENSET). gopickle keeps those in a Go map, so the order of
// the pickle is lost; the elements are sorted (numbers by value, then
// everything else by its hash key) so that the result is deterministic.
func (st *loadState) convertMapSet(keys []any, frozen bool, depth int) (py.Value, int, error) {
	items, size, err := st.convertItems(keys, depth)
	if err != nil {
		return py.None, 0, err
	}
	type keyed struct {
		v  py.Value
		hk string
		n  *big.Int
	}
	ks := make([]keyed, len(items))
	for i, it := range items {
		hk, err := py.HashKey(it)
		if err != nil {
			return py.None, 0, unhashable(err)
		}
		ks[i] = keyed{v: it, hk: hk}
		if strings.HasPrefix(hk, "i") {
			ks[i].n, _ = new(big.Int).SetString(hk[1:], 10)
		}
	}
	sort.SliceStable(ks, func(i, j int) bool {
		a, b := ks[i], ks[j]
		switch {
		case a.n != nil && b.n != nil:
			if c := a.n.Cmp(b.n); c != 0 {
				return c < 0
			}
			return a.v.Kind() < b.v.Kind()
		case a.n != nil:
			return true
		case b.n != nil:
			return false
		}
		return a.hk < b.hk
	})
	for i := range ks {
		items[i] = ks[i].v
	}
	v, err := newSet(frozen, items)
	return v, size, err
}
