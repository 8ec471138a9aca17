package pickle

// The pickle writer: a Go port of the rules CPython's C pickler (_pickle.c,
// Python 3.11) follows when it writes the values of package py, so that for
// JSON-like values the bytes equal CPython's pickle.dumps(v, protocol) at
// protocols 2 to 5 (spec §6.2, §6.3, §7.3, §9.8), and every other value
// loads in CPython to an equal value of the same type.
//
// The rules this file reproduces, found by comparing with CPython's output:
//
//   - Protocol ≥ 2 starts with PROTO n. Protocol ≥ 4 wraps the body in FRAME
//     opcodes: a frame is opened after PROTO; at the start of saving any
//     object, an open frame holding ≥ 64 KiB is closed and a new one opened;
//     a str/bytes/bytearray payload of ≥ 64 KiB is written outside any frame
//     (the open frame is closed first); when a frame is closed with fewer
//     than 4 bytes in it, its 9-byte header is dropped.
//   - Every str, bytes, bytearray, list, dict, set, frozenset, non-empty
//     tuple, class and REDUCE result is memoized (MEMOIZE at protocol ≥ 4,
//     BINPUT/LONG_BINPUT below); a repeated object is written as
//     BINGET/LONG_BINGET. Ints, floats, bools and None are not memoized.
//   - CPython memoizes by object identity. The Go model has identity only
//     for *py.List, *py.Dict, *py.Set, *py.Tuple, the datetime values and
//     fixed-offset *py.TZInfo (the same pointer is the same object); the
//     singletons are one object by value, as in CPython: '' and every
//     one-character str below U+0100, b'' and every one-byte bytes,
//     datetime.timezone.utc, pytz.utc, one zoneinfo.ZoneInfo per key, one
//     pytz zone instance per (key, utcoffset, dst, tzname) with the strs
//     pytz shares between them (see savePytz), and the classes and module
//     names a pickle refers to.
//   - Dict keys are shared by value: within one Dumps, every str used as a
//     key of a dict or OrderedDict that is not one of the singletons above
//     (so every key of two or more characters, and a one-character key at
//     U+0100 or above) is memoized when first written as a key, and each
//     later key equal to it is a BINGET/LONG_BINGET of that entry. This is
//     what CPython writes for the values json.loads returns (it gives every
//     equal object key of one document the same str object, with or
//     without object_pairs_hook) and for dicts built from literal keys in
//     Python source (identifier-like literals are interned, and equal
//     literals of one module are one constant). Only keys share with
//     keys: a str value is never a BINGET of a key or of another value, and
//     a key is never a BINGET of an earlier equal value; other str, bytes,
//     Decimal and UUID values have no identity, so each is written afresh.
//   - So the bytes differ from CPython's only where CPython's sharing of str
//     objects differs from that rule: a dict key built at run time (say
//     'user_%d' % n) and repeated in a value CPython did not get from one
//     json.loads call is a separate object each time, which CPython writes
//     again where we write BINGET; and an interned str shared across roles
//     (a literal key 'decimal' that is also the module name of a Decimal in
//     the same pickle, or a literal str value equal to a literal key) is a
//     BINGET in CPython where we write the text again. Either way the
//     pickle loads to an equal value.
//   - Lists are written in APPENDS batches of 1000 (one item: APPEND); dicts
//     and sets in SETITEMS/ADDITEMS batches of 1000 (a dict of one item:
//     SETITEM), with the trailing empty batch CPython writes when the size is
//     a multiple of 1000.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/djsession/djsession/pickle/py"
)

// DefaultProtocol is the protocol pickle.DEFAULT_PROTOCOL names in Python
// 3.8 to 3.13, which django-redis 5.1+ uses by default (spec §7.3).
const DefaultProtocol = 4

// HighestProtocol is pickle.HIGHEST_PROTOCOL (Python 3.8+), which Django's
// own cache backends use (spec §6.2, §6.3).
const HighestProtocol = 5

// ErrUnpicklable is returned (wrapped) by Dumps when a value cannot be
// written as a pickle CPython would load: a str that is not UTF-8 (lone
// surrogates as CPython's surrogatepass writes them are accepted), a datetime
// field or timezone out of Python's range, nesting deeper than
// MaxDumpDepth, or a str/bytes too long for the protocol.
var ErrUnpicklable = errors.New("pickle: value cannot be pickled")

// ErrDumpProtocol is returned (wrapped) by Dumps for a protocol other than
// 2, 3, 4 or 5.
var ErrDumpProtocol = errors.New("pickle: unsupported protocol for writing")

// MaxDumpDepth bounds how deeply containers and other non-atomic values may
// nest in a value given to Dumps, as CPython's recursion limit bounds
// pickle.dumps (which raises RecursionError near 1000 levels). It also ends
// the endless recursion of a tuple or frozenset that contains itself with no
// list, dict or set in between (a cycle CPython cannot pickle either); a
// cycle through a list, dict or set is written with the memo, as CPython
// writes it.
const MaxDumpDepth = 1000

// Opcodes written (names as in CPython's pickletools).
const (
	wMARK            = '('
	wSTOP            = '.'
	wPOP             = '0'
	wPOP_MARK        = '1'
	wBININT          = 'J'
	wBININT1         = 'K'
	wBININT2         = 'M'
	wNONE            = 'N'
	wREDUCE          = 'R'
	wBINUNICODE      = 'X'
	wAPPEND          = 'a'
	wBUILD           = 'b'
	wGLOBAL          = 'c'
	wAPPENDS         = 'e'
	wBINGET          = 'h'
	wLONG_BINGET     = 'j'
	wEMPTY_LIST      = ']'
	wBINPUT          = 'q'
	wLONG_BINPUT     = 'r'
	wSETITEM         = 's'
	wTUPLE           = 't'
	wSETITEMS        = 'u'
	wEMPTY_DICT      = '}'
	wEMPTY_TUPLE     = ')'
	wBINFLOAT        = 'G'
	wBINBYTES        = 'B'
	wSHORT_BINBYTES  = 'C'
	wPROTO           = 0x80
	wNEWOBJ          = 0x81
	wTUPLE1          = 0x85
	wTUPLE2          = 0x86
	wTUPLE3          = 0x87
	wNEWTRUE         = 0x88
	wNEWFALSE        = 0x89
	wLONG1           = 0x8a
	wLONG4           = 0x8b
	wSHORT_BINUNI    = 0x8c
	wBINUNICODE8     = 0x8d
	wBINBYTES8       = 0x8e
	wEMPTY_SET       = 0x8f
	wADDITEMS        = 0x90
	wFROZENSET       = 0x91
	wSTACK_GLOBAL    = 0x93
	wMEMOIZE         = 0x94
	wFRAME           = 0x95
	wBYTEARRAY8      = 0x96
	dumpBatchSize    = 1000     // BATCHSIZE in _pickle.c
	frameSizeTarget  = 64 << 10 // FRAME_SIZE_TARGET
	frameSizeMin     = 4        // FRAME_SIZE_MIN
	frameHeaderSize  = 9        // FRAME + 8-byte length
	dumpInitialAlloc = 256
)

// Objects CPython writes by identity that are the same object everywhere in
// one pickle (classes, interned strings, singletons), so they are memoized
// once per pickle. The module-name strings are interned in CPython: the
// classes of one module share one (visible as BINGET at protocol ≥ 4), while
// builtins' name reached through a type and through a builtin function are
// two different objects.
const (
	// classes and functions (globals)
	cBytes = iota
	cCodecsEncode
	cByteArray
	cSet
	cFrozenSet
	cGetattr
	cOrderedDict
	cDateTime
	cDate
	cTime
	cTimeDelta
	cTimezone
	cDecimal
	cUUID
	cPytzUTCClass
	cPytzP // pytz._p, pytz's unpickler for its other zones
	cZoneInfo
	cHerdMarker // django_redis.client.herd.Marker (DumpsHerd)
	nGlobals
)

// constant ids after the globals
const (
	cModBuiltinsT = nGlobals + iota
	cModBuiltinsF
	cModCodecs
	cModCollections
	cModDatetime
	cModDecimal
	cModUUID
	cModPytz
	cModZoneinfo
	cModHerd
	cStrLatin1 // 'latin1', the codec name for bytes at protocol 2
	cStrInt    // 'int', the key of uuid.UUID's state dict
	cUTC       // datetime.timezone.utc (a singleton)
	cPytzUTC   // pytz.utc (a singleton)
	nConsts
)

type dumpGlobal struct {
	mod, name string
	py2mod    string // module name at protocol ≤ 2 (fix_imports), when it differs
	modID     int
}

var dumpGlobals = [nGlobals]dumpGlobal{
	cBytes:        {"builtins", "bytes", "__builtin__", cModBuiltinsT},
	cCodecsEncode: {"_codecs", "encode", "", cModCodecs},
	cByteArray:    {"builtins", "bytearray", "__builtin__", cModBuiltinsT},
	cSet:          {"builtins", "set", "__builtin__", cModBuiltinsT},
	cFrozenSet:    {"builtins", "frozenset", "__builtin__", cModBuiltinsT},
	cGetattr:      {"builtins", "getattr", "__builtin__", cModBuiltinsF},
	cOrderedDict:  {"collections", "OrderedDict", "", cModCollections},
	cDateTime:     {"datetime", "datetime", "", cModDatetime},
	cDate:         {"datetime", "date", "", cModDatetime},
	cTime:         {"datetime", "time", "", cModDatetime},
	cTimeDelta:    {"datetime", "timedelta", "", cModDatetime},
	cTimezone:     {"datetime", "timezone", "", cModDatetime},
	cDecimal:      {"decimal", "Decimal", "", cModDecimal},
	cUUID:         {"uuid", "UUID", "", cModUUID},
	cPytzUTCClass: {"pytz", "_UTC", "", cModPytz},
	cPytzP:        {"pytz", "_p", "", cModPytz},
	cZoneInfo:     {"zoneinfo", "ZoneInfo", "", cModZoneinfo},
	cHerdMarker:   {herdModule, herdClass, "", cModHerd},
}

// idKey is the identity of a Go-side object: its pointer, and the kind it
// is seen as (a *py.Set is a set or a frozenset).
type idKey struct {
	p unsafe.Pointer
	k py.Kind
}

type idEntry struct {
	key idKey
	idx uint32
}

type zoneEntry struct {
	key string
	idx uint32
}

// pytzStrKey names a tzname str of a pytz instance in dumper.pytzNames:
// by zone key and name, or (key empty) by (utcoffset, dst, name).
type pytzStrKey struct {
	key      string
	off, dst time.Duration
	name     string
}

const inlineIDs = 16

// dumper is the state of one Dumps call. It lives on the caller's stack; the
// output buffer is the only allocation for values with at most inlineIDs
// containers.
type dumper struct {
	buf        []byte
	proto      int
	framing    bool
	frameStart int // offset of the open frame's 9 reserved header bytes, or -1
	memoLen    uint32
	depth      int
	consts     [nConsts]uint32 // memo index + 1 of each constant object
	nIDs       int
	ids        [inlineIDs]idEntry
	idMap      map[idKey]uint32
	zones      []zoneEntry
	strs       singleMemo // '' and the 1-char strs below U+0100 (CPython singletons)
	bytess     singleMemo // b'' and the 1-byte bytes (CPython singletons)
	keys       keyMemo    // dict keys that are not singletons, by value

	// Memo indices of the pytz objects written (see savePytz), made on
	// the first pytz zone: the instances by value, their key strs by key,
	// their tzname strs by pytzStrKey.
	pytz      map[py.TZInfo]uint32
	pytzKeys  map[string]uint32
	pytzNames map[pytzStrKey]uint32
}

const inlineKeys = 16

// keyMemo records where each str written as a dict key (other than the
// singletons, which strs holds) went in the memo, by value: a later dict key
// equal to it is a BINGET of that entry, as CPython writes the one shared
// key object json.loads or a literal key in Python source gives it.
type keyMemo struct {
	n    int
	keys [inlineKeys]string
	idx  [inlineKeys]uint32
	more map[string]uint32
}

func (m *keyMemo) get(k string) (uint32, bool) {
	if m.more != nil {
		idx, ok := m.more[k]
		return idx, ok
	}
	for i := 0; i < m.n; i++ {
		if m.keys[i] == k {
			return m.idx[i], true
		}
	}
	return 0, false
}

func (m *keyMemo) put(k string, idx uint32) {
	if m.more == nil && m.n < inlineKeys {
		m.keys[m.n], m.idx[m.n] = k, idx
		m.n++
		return
	}
	if m.more == nil {
		m.more = make(map[string]uint32, 2*inlineKeys)
		for i := 0; i < m.n; i++ {
			m.more[m.keys[i]] = m.idx[i]
		}
	}
	m.more[k] = idx
}

// singleMemo records where the CPython singletons among str and bytes (the
// empty one, and the one-character ones below 256) went in the memo: every
// such value is the same object in CPython, so a repeat is a BINGET.
type singleMemo struct {
	n    int
	keys [8]uint16
	idx  [8]uint32
	more map[uint16]uint32
}

func (m *singleMemo) get(k uint16) (uint32, bool) {
	for i := 0; i < m.n; i++ {
		if m.keys[i] == k {
			return m.idx[i], true
		}
	}
	if m.more != nil {
		idx, ok := m.more[k]
		return idx, ok
	}
	return 0, false
}

func (m *singleMemo) put(k uint16, idx uint32) {
	if m.n < len(m.keys) {
		m.keys[m.n], m.idx[m.n] = k, idx
		m.n++
		return
	}
	if m.more == nil {
		m.more = make(map[uint16]uint32)
	}
	m.more[k] = idx
}

// singleStr reports whether s is a str CPython keeps as a singleton, and its
// key: 256 for the empty str, the code point for one character below U+0100.
func singleStr(s string) (uint16, bool) {
	switch len(s) {
	case 0:
		return 256, true
	case 1:
		if s[0] < utf8.RuneSelf {
			return uint16(s[0]), true
		}
	case 2:
		if (s[0] == 0xc2 || s[0] == 0xc3) && s[1]&0xc0 == 0x80 {
			return uint16(s[0]&0x1f)<<6 | uint16(s[1]&0x3f), true
		}
	}
	return 0, false
}

// singleBytes is singleStr for bytes.
func singleBytes(b string) (uint16, bool) {
	switch len(b) {
	case 0:
		return 256, true
	case 1:
		return uint16(b[0]), true
	}
	return 0, false
}

// Dumps returns the pickle of v at the given protocol (2 to 5).
//
// The bytes are CPython 3.11's pickle.dumps(v, protocol) for every value in
// which CPython shares str objects as Dumps assumes: equal dict keys are one
// object, and no other str or bytes object that is not a CPython singleton
// is shared (the case for json.loads(doc), and so for JSON session data;
// see the notes at the top of writer.go), and for sets when Python iterates
// them in the order the py.Set holds. In every case CPython loads the
// pickle to an equal value of the same types: a tuple stays a tuple, a set
// a set, an OrderedDict an OrderedDict, a datetime keeps its fold
// (protocol ≥ 4) and its tzinfo class, and a list or dict that holds itself
// is written through the memo.
// Dumps fails with ErrDumpProtocol or ErrUnpicklable, and never panics.
func Dumps(v py.Value, protocol int) ([]byte, error) {
	out, err := AppendDumps(make([]byte, 0, dumpInitialAlloc), v, protocol)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// AppendDumps appends the pickle of v (as Dumps writes it) to dst and
// returns the extended slice. On error it returns dst with its original
// length (bytes past that length may have been overwritten).
func AppendDumps(dst []byte, v py.Value, protocol int) ([]byte, error) {
	return appendDumps(dst, v, protocol, false, 0)
}

// DumpsHerd returns what django-redis's HerdClient pickles for v set with a
// timeout (spec §7.5, §9.8): the pickle of the 3-tuple (Marker(), v,
// deadline), Marker being django_redis.client.herd.Marker, at the given
// protocol (2 to 5). The bytes are CPython's under the same conditions as
// Dumps's; the Marker is written as CPython writes an instance without
// state (the class, an empty argument tuple, NEWOBJ). LoadsHerd reads it.
func DumpsHerd(v py.Value, deadline int64, protocol int) ([]byte, error) {
	out, err := AppendDumpsHerd(make([]byte, 0, dumpInitialAlloc), v, deadline, protocol)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// AppendDumpsHerd appends DumpsHerd's pickle to dst, as AppendDumps does.
func AppendDumpsHerd(dst []byte, v py.Value, deadline int64, protocol int) ([]byte, error) {
	return appendDumps(dst, v, protocol, true, deadline)
}

func appendDumps(dst []byte, v py.Value, protocol int, herd bool, deadline int64) ([]byte, error) {
	if protocol < 2 || protocol > HighestProtocol {
		return dst, fmt.Errorf("%w: %d (want 2 to %d)", ErrDumpProtocol, protocol, HighestProtocol)
	}
	d := dumper{buf: dst, proto: protocol, frameStart: -1}
	d.buf = append(d.buf, wPROTO, byte(protocol))
	if protocol >= 4 {
		d.framing = true
		d.openFrame()
	}
	var err error
	if herd {
		err = d.saveHerd(v, deadline)
	} else {
		err = d.save(v)
	}
	if err != nil {
		return dst, err
	}
	d.buf = append(d.buf, wSTOP)
	d.commitFrame()
	return d.buf, nil
}

// saveHerd is save() of the tuple (Marker(), v, deadline), the objects
// written as CPython's save_tuple and save_reduce write them.
func (d *dumper) saveHerd(v py.Value, deadline int64) error {
	d.boundary() // the tuple
	d.depth++
	// Marker(): Marker.__reduce_ex__ is (copyreg.__newobj__, (Marker,),
	// None): save(cls), save(()), NEWOBJ, memoize the instance.
	d.boundary()
	d.saveGlobal(cHerdMarker)
	d.boundary()
	d.buf = append(d.buf, wEMPTY_TUPLE, wNEWOBJ)
	d.memoPut()
	if err := d.save(v); err != nil {
		return err
	}
	d.depth--
	d.boundary()
	d.saveInt64(deadline)
	d.buf = append(d.buf, wTUPLE3)
	d.memoPut()
	return nil
}

// --- framing (as CPython's _Pickler_CommitFrame and _Pickler_write_bytes)

func (d *dumper) openFrame() {
	d.frameStart = len(d.buf)
	d.buf = append(d.buf, wFRAME, 0, 0, 0, 0, 0, 0, 0, 0)
}

func (d *dumper) commitFrame() {
	if d.frameStart < 0 {
		return
	}
	n := len(d.buf) - d.frameStart - frameHeaderSize
	if n >= frameSizeMin {
		binary.LittleEndian.PutUint64(d.buf[d.frameStart+1:], uint64(n))
	} else {
		copy(d.buf[d.frameStart:], d.buf[d.frameStart+frameHeaderSize:])
		d.buf = d.buf[:len(d.buf)-frameHeaderSize]
	}
	d.frameStart = -1
}

// boundary runs where CPython's save() starts: a full frame is closed there.
func (d *dumper) boundary() {
	if d.framing && len(d.buf)-d.frameStart-frameHeaderSize >= frameSizeTarget {
		d.commitFrame()
		d.openFrame()
	}
}

// payload writes an opcode header and its data; data of 64 KiB or more goes
// outside any frame, as CPython's _Pickler_write_bytes does.
func (d *dumper) payload(header []byte, data string) {
	if d.framing && len(data) >= frameSizeTarget {
		d.commitFrame()
		d.buf = append(d.buf, header...)
		d.buf = append(d.buf, data...)
		d.openFrame()
		return
	}
	d.buf = append(d.buf, header...)
	d.buf = append(d.buf, data...)
}

// --- memo

func (d *dumper) memoPut() {
	switch {
	case d.proto >= 4:
		d.buf = append(d.buf, wMEMOIZE)
	case d.memoLen < 256:
		d.buf = append(d.buf, wBINPUT, byte(d.memoLen))
	default:
		d.buf = binary.LittleEndian.AppendUint32(append(d.buf, wLONG_BINPUT), d.memoLen)
	}
	d.memoLen++
}

func (d *dumper) memoGet(idx uint32) {
	if idx < 256 {
		d.buf = append(d.buf, wBINGET, byte(idx))
	} else {
		d.buf = binary.LittleEndian.AppendUint32(append(d.buf, wLONG_BINGET), idx)
	}
}

// getID writes a BINGET and reports true when the object was memoized.
func (d *dumper) getID(k idKey) bool {
	if d.idMap != nil {
		if idx, ok := d.idMap[k]; ok {
			d.memoGet(idx)
			return true
		}
		return false
	}
	for i := 0; i < d.nIDs; i++ {
		if d.ids[i].key == k {
			d.memoGet(d.ids[i].idx)
			return true
		}
	}
	return false
}

func (d *dumper) hasID(k idKey) bool {
	if d.idMap != nil {
		_, ok := d.idMap[k]
		return ok
	}
	for i := 0; i < d.nIDs; i++ {
		if d.ids[i].key == k {
			return true
		}
	}
	return false
}

// putID memoizes the object just written under its identity.
func (d *dumper) putID(k idKey) {
	idx := d.memoLen
	d.memoPut()
	if d.idMap == nil && d.nIDs < inlineIDs {
		d.ids[d.nIDs] = idEntry{k, idx}
		d.nIDs++
		return
	}
	if d.idMap == nil {
		d.idMap = make(map[idKey]uint32, 2*inlineIDs)
		for _, e := range d.ids[:d.nIDs] {
			d.idMap[e.key] = e.idx
		}
	}
	d.idMap[k] = idx
}

// getConst writes a BINGET for a constant object already in the memo.
func (d *dumper) getConst(c int) bool {
	if i := d.consts[c]; i != 0 {
		d.memoGet(i - 1)
		return true
	}
	return false
}

func (d *dumper) putConst(c int) {
	d.consts[c] = d.memoLen + 1
	d.memoPut()
}

// --- atoms

func (d *dumper) saveInt64(i int64) {
	switch {
	case i >= 0 && i <= 0xff:
		d.buf = append(d.buf, wBININT1, byte(i))
	case i >= 0 && i <= 0xffff:
		d.buf = append(d.buf, wBININT2, byte(i), byte(i>>8))
	case i >= math.MinInt32 && i <= math.MaxInt32:
		d.buf = binary.LittleEndian.AppendUint32(append(d.buf, wBININT), uint32(i))
	default:
		var mag [8]byte
		u := uint64(i)
		if i < 0 {
			u = -u
		}
		binary.BigEndian.PutUint64(mag[:], u)
		d.saveLong(mag[:], i < 0)
	}
}

// saveLong writes LONG1/LONG4 for the int whose magnitude is the big-endian
// mag, in CPython's encoding: little-endian two's complement of
// bit_length/8+1 bytes, one fewer when a negative value's top byte is
// redundant sign.
func (d *dumper) saveLong(mag []byte, neg bool) {
	for len(mag) > 0 && mag[0] == 0 {
		mag = mag[1:]
	}
	if len(mag) == 0 {
		d.buf = append(d.buf, wBININT1, 0)
		return
	}
	nbits := (len(mag)-1)*8 + bits.Len8(mag[0])
	n := nbits/8 + 1
	// The encoding: reserve the largest header, fill, then fix up.
	start := len(d.buf)
	if n < 256 {
		d.buf = append(d.buf, wLONG1, 0)
	} else {
		d.buf = append(d.buf, wLONG4, 0, 0, 0, 0)
	}
	hdr := len(d.buf)
	for i := 0; i < n; i++ {
		var b byte
		if i < len(mag) {
			b = mag[len(mag)-1-i]
		}
		d.buf = append(d.buf, b)
	}
	out := d.buf[hdr:]
	if neg {
		carry := true
		for i := range out {
			out[i] = ^out[i]
			if carry {
				out[i]++
				carry = out[i] == 0
			}
		}
		if n > 1 && out[n-1] == 0xff && out[n-2]&0x80 != 0 {
			n--
			d.buf = d.buf[:len(d.buf)-1]
		}
	}
	if n < 256 {
		if d.buf[start] == wLONG4 { // shrank from 256 to 255 bytes
			copy(d.buf[start+2:], d.buf[hdr:])
			d.buf = d.buf[:len(d.buf)-3]
		}
		d.buf[start] = wLONG1
		d.buf[start+1] = byte(n)
	} else {
		binary.LittleEndian.PutUint32(d.buf[start+1:], uint32(n))
	}
}

func (d *dumper) saveFloat(f uint64) {
	d.buf = binary.BigEndian.AppendUint64(append(d.buf, wBINFLOAT), f)
}

// validStr reports whether s is UTF-8, allowing the 3-byte encodings of
// surrogates (U+D800..U+DFFF) that CPython's surrogatepass writes for the
// lone surrogates a Python str may hold.
func validStr(s string) bool {
	if utf8.ValidString(s) {
		return true
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			if c == 0xed && i+2 < len(s) && s[i+1] >= 0xa0 && s[i+1] <= 0xbf && s[i+2] >= 0x80 && s[i+2] <= 0xbf {
				i += 3
				continue
			}
			return false
		}
		i += size
	}
	return true
}

// writeStr writes a str opcode (no memo), choosing the opcode as CPython's
// write_unicode_binary does.
func (d *dumper) writeStr(s string) error {
	n := len(s)
	if n <= 0xff && d.proto >= 4 { // the common case, inside the frame
		d.buf = append(append(d.buf, wSHORT_BINUNI, byte(n)), s...)
		return nil
	}
	var hdr [9]byte
	switch {
	case n <= 0xff && d.proto >= 4:
		hdr[0], hdr[1] = wSHORT_BINUNI, byte(n)
		d.payload(hdr[:2], s)
	case uint64(n) <= 0xffffffff:
		hdr[0] = wBINUNICODE
		binary.LittleEndian.PutUint32(hdr[1:], uint32(n))
		d.payload(hdr[:5], s)
	case d.proto >= 4:
		hdr[0] = wBINUNICODE8
		binary.LittleEndian.PutUint64(hdr[1:], uint64(n))
		d.payload(hdr[:9], s)
	default:
		return fmt.Errorf("%w: str larger than 4 GiB at protocol %d", ErrUnpicklable, d.proto)
	}
	return nil
}

// saveStr is save() of a str object with no identity: written and memoized.
func (d *dumper) saveStr(s string) error {
	d.boundary()
	return d.saveStrNoBoundary(s)
}

// saveFreshStr writes a str that is a new object in CPython (never a
// singleton) and memoizes it.
func (d *dumper) saveFreshStr(s string) error {
	if !validStr(s) {
		return fmt.Errorf("%w: str is not valid UTF-8", ErrUnpicklable)
	}
	if err := d.writeStr(s); err != nil {
		return err
	}
	d.memoPut()
	return nil
}

// saveConstStr is save() of an interned str CPython shares across the pickle.
func (d *dumper) saveConstStr(c int, s string) {
	d.boundary()
	if d.getConst(c) {
		return
	}
	_ = d.writeStr(s) // short constant: cannot fail
	d.putConst(c)
}

// saveBytes is save() of a bytes object with no identity (but see
// singleBytes).
func (d *dumper) saveBytes(b string) error {
	d.boundary()
	single, isSingle := singleBytes(b)
	if isSingle {
		if idx, ok := d.bytess.get(single); ok {
			d.memoGet(idx)
			return nil
		}
	}
	if err := d.writeBytes(b); err != nil {
		return err
	}
	if isSingle {
		d.bytess.put(single, d.memoLen-1) // the memo entry written last
	}
	return nil
}

// writeBytes writes a bytes object and memoizes it.
func (d *dumper) writeBytes(b string) error {
	if d.proto < 3 {
		// Protocol 2 has no bytes opcode: CPython writes
		// _codecs.encode(b.decode('latin1'), 'latin1'), or bytes() when empty.
		if len(b) == 0 {
			d.saveGlobal(cBytes)
			d.boundary()
			d.buf = append(d.buf, wEMPTY_TUPLE)
		} else {
			d.saveGlobal(cCodecsEncode)
			d.boundary() // the argument tuple
			if err := d.saveLatin1(b); err != nil {
				return err
			}
			d.saveConstStr(cStrLatin1, "latin1")
			d.buf = append(d.buf, wTUPLE2)
			d.memoPut()
		}
		d.buf = append(d.buf, wREDUCE)
		d.memoPut()
		return nil
	}
	n := len(b)
	var hdr [9]byte
	switch {
	case n <= 0xff:
		hdr[0], hdr[1] = wSHORT_BINBYTES, byte(n)
		d.payload(hdr[:2], b)
	case uint64(n) <= 0xffffffff:
		hdr[0] = wBINBYTES
		binary.LittleEndian.PutUint32(hdr[1:], uint32(n))
		d.payload(hdr[:5], b)
	case d.proto >= 4:
		hdr[0] = wBINBYTES8
		binary.LittleEndian.PutUint64(hdr[1:], uint64(n))
		d.payload(hdr[:9], b)
	default:
		return fmt.Errorf("%w: bytes larger than 4 GiB at protocol %d", ErrUnpicklable, d.proto)
	}
	d.memoPut()
	return nil
}

// saveLatin1 saves the str whose code points are the bytes of b (protocol 2
// only, so BINUNICODE).
func (d *dumper) saveLatin1(b string) error {
	d.boundary()
	if len(b) == 1 { // a one-character str: a singleton
		k := uint16(b[0])
		if idx, ok := d.strs.get(k); ok {
			d.memoGet(idx)
			return nil
		}
		d.strs.put(k, d.memoLen)
	}
	n := len(b)
	for i := 0; i < len(b); i++ {
		if b[i] >= 0x80 {
			n++
		}
	}
	if uint64(n) > 0xffffffff {
		return fmt.Errorf("%w: bytes larger than 2 GiB at protocol 2", ErrUnpicklable)
	}
	d.buf = binary.LittleEndian.AppendUint32(append(d.buf, wBINUNICODE), uint32(n))
	for i := 0; i < len(b); i++ {
		if c := b[i]; c < 0x80 {
			d.buf = append(d.buf, c)
		} else {
			d.buf = append(d.buf, 0xc0|c>>6, 0x80|c&0x3f)
		}
	}
	d.memoPut()
	return nil
}

// saveGlobal is save() of a class or function: GLOBAL (protocol < 4) or two
// strs and STACK_GLOBAL, memoized once per pickle.
func (d *dumper) saveGlobal(g int) {
	d.boundary()
	if d.getConst(g) {
		return
	}
	gl := &dumpGlobals[g]
	if d.proto >= 4 {
		d.saveConstStr(gl.modID, gl.mod)
		d.boundary()
		_ = d.writeStr(gl.name) // a fresh qualname str object in CPython
		d.memoPut()
		d.buf = append(d.buf, wSTACK_GLOBAL)
	} else {
		mod := gl.mod
		if d.proto < 3 && gl.py2mod != "" {
			mod = gl.py2mod
		}
		d.buf = append(d.buf, wGLOBAL)
		d.buf = append(d.buf, mod...)
		d.buf = append(d.buf, '\n')
		d.buf = append(d.buf, gl.name...)
		d.buf = append(d.buf, '\n')
	}
	d.putConst(g)
}

// --- the dispatcher

func (d *dumper) save(v py.Value) error {
	d.boundary()
	switch v.Kind() {
	case py.NoneKind:
		d.buf = append(d.buf, wNONE)
		return nil
	case py.BoolKind:
		if b, _ := v.Bool(); b {
			d.buf = append(d.buf, wNEWTRUE)
		} else {
			d.buf = append(d.buf, wNEWFALSE)
		}
		return nil
	case py.IntKind:
		if i, ok := v.Int(); ok {
			d.saveInt64(i)
			return nil
		}
		b, _ := v.BigInt()
		if b == nil {
			return fmt.Errorf("%w: malformed int", ErrUnpicklable)
		}
		d.saveLong(b.Bytes(), b.Sign() < 0)
		return nil
	case py.FloatKind:
		f, _ := v.Float()
		d.saveFloat(math.Float64bits(f))
		return nil
	case py.StrKind:
		s, _ := v.Str()
		return d.saveStrNoBoundary(s)
	case py.BytesKind:
		b, _ := v.Bytes()
		return d.saveBytes(unsafeString(b))
	}
	if d.depth >= MaxDumpDepth {
		return fmt.Errorf("%w: nesting deeper than %d", ErrUnpicklable, MaxDumpDepth)
	}
	d.depth++
	err := d.saveComplex(v)
	d.depth--
	return err
}

// saveStrNoBoundary is saveStr when save() already ran the boundary check.
func (d *dumper) saveStrNoBoundary(s string) error {
	if k, ok := singleStr(s); ok {
		if idx, ok := d.strs.get(k); ok {
			d.memoGet(idx)
			return nil
		}
		_ = d.writeStr(s)
		d.strs.put(k, d.memoLen)
		d.memoPut()
		return nil
	}
	return d.saveFreshStr(s)
}

func (d *dumper) saveComplex(v py.Value) error {
	switch v.Kind() {
	case py.ByteArrayKind:
		b, _ := v.Bytes()
		return d.saveByteArray(b)
	case py.ListKind:
		l, _ := v.List()
		return d.saveList(l)
	case py.TupleKind:
		t, _ := v.Tuple()
		return d.saveTuple(t)
	case py.DictKind:
		dc, _ := v.Dict()
		return d.saveDict(dc)
	case py.SetKind, py.FrozenSetKind:
		s, _ := v.Set()
		return d.saveSet(s, v.Kind())
	case py.DateTimeKind:
		dt, _ := v.DateTime()
		return d.saveDateTime(dt)
	case py.DateKind:
		dt, _ := v.Date()
		return d.saveDate(dt)
	case py.TimeKind:
		t, _ := v.Time()
		return d.saveTime(t)
	case py.TimeDeltaKind:
		td, _ := v.TimeDelta()
		return d.saveTimeDelta(td)
	case py.DecimalKind:
		s, _ := v.Decimal()
		return d.saveDecimal(s)
	case py.UUIDKind:
		u, _ := v.UUID()
		d.saveUUID(u)
		return nil
	}
	return fmt.Errorf("%w: unknown kind %v", ErrUnpicklable, v.Kind())
}

func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// --- containers

func (d *dumper) saveByteArray(b []byte) error {
	if d.proto >= 5 {
		var hdr [9]byte
		hdr[0] = wBYTEARRAY8
		binary.LittleEndian.PutUint64(hdr[1:], uint64(len(b)))
		d.payload(hdr[:], unsafeString(b))
		d.memoPut()
		return nil
	}
	// bytearray.__reduce_ex__: (bytearray, (bytes(self),)) or (bytearray, ()).
	d.saveGlobal(cByteArray)
	d.boundary()
	if len(b) == 0 {
		d.buf = append(d.buf, wEMPTY_TUPLE)
	} else {
		// bytes(self) is a new object even for one byte (not the singleton).
		d.boundary()
		if err := d.writeBytes(unsafeString(b)); err != nil {
			return err
		}
		d.buf = append(d.buf, wTUPLE1)
		d.memoPut()
	}
	d.buf = append(d.buf, wREDUCE)
	d.memoPut()
	return nil
}

func (d *dumper) saveList(l *py.List) error {
	var items []py.Value
	if l != nil {
		k := idKey{unsafe.Pointer(l), py.ListKind}
		if d.getID(k) {
			return nil
		}
		d.buf = append(d.buf, wEMPTY_LIST)
		d.putID(k)
		items = l.Items
	} else {
		d.buf = append(d.buf, wEMPTY_LIST)
		d.memoPut()
	}
	return d.appendItems(items)
}

// appendItems is batch_list_exact.
func (d *dumper) appendItems(items []py.Value) error {
	switch len(items) {
	case 0:
		return nil
	case 1:
		if err := d.save(items[0]); err != nil {
			return err
		}
		d.buf = append(d.buf, wAPPEND)
		return nil
	}
	for i := 0; i < len(items); {
		d.buf = append(d.buf, wMARK)
		for c := 0; c < dumpBatchSize && i < len(items); c++ {
			if err := d.save(items[i]); err != nil {
				return err
			}
			i++
		}
		d.buf = append(d.buf, wAPPENDS)
	}
	return nil
}

func (d *dumper) saveTuple(t *py.Tuple) error {
	var items []py.Value
	if t != nil {
		items = t.Items
	}
	n := len(items)
	if n == 0 {
		d.buf = append(d.buf, wEMPTY_TUPLE)
		return nil
	}
	k := idKey{unsafe.Pointer(t), py.TupleKind}
	if d.getID(k) {
		return nil
	}
	if n > 3 {
		d.buf = append(d.buf, wMARK)
	}
	for _, it := range items {
		if err := d.save(it); err != nil {
			return err
		}
	}
	if d.hasID(k) {
		// The tuple was reached again through a mutable container while its
		// items were written: drop the items and fetch it from the memo.
		if n > 3 {
			d.buf = append(d.buf, wPOP_MARK)
		} else {
			for i := 0; i < n; i++ {
				d.buf = append(d.buf, wPOP)
			}
		}
		d.getID(k)
		return nil
	}
	if n > 3 {
		d.buf = append(d.buf, wTUPLE)
	} else {
		d.buf = append(d.buf, wTUPLE1+byte(n-1))
	}
	d.putID(k)
	return nil
}

func (d *dumper) saveDict(dc *py.Dict) error {
	if dc == nil {
		dc = &py.Dict{}
	}
	k := idKey{unsafe.Pointer(dc), py.DictKind}
	if d.getID(k) {
		return nil
	}
	entries := dc.Entries()
	if dc.Ordered {
		// OrderedDict.__reduce__: (OrderedDict, (), None, None, iter(items)),
		// the items written by batch_dict.
		d.saveGlobal(cOrderedDict)
		d.boundary()
		d.buf = append(d.buf, wEMPTY_TUPLE, wREDUCE)
		d.putID(k)
		for i, n := 0, len(entries); i < n; {
			if n-i == 1 {
				if err := d.saveEntry(&entries[i]); err != nil {
					return err
				}
				d.buf = append(d.buf, wSETITEM)
				break
			}
			d.buf = append(d.buf, wMARK)
			c := 0
			for ; c < dumpBatchSize && i < n; c++ {
				if err := d.saveEntry(&entries[i]); err != nil {
					return err
				}
				i++
			}
			d.buf = append(d.buf, wSETITEMS)
			if c != dumpBatchSize {
				break
			}
		}
		return nil
	}
	d.buf = append(d.buf, wEMPTY_DICT)
	d.putID(k)
	return d.setItems(entries)
}

// setItems is batch_dict_exact.
func (d *dumper) setItems(entries []py.DictEntry) error {
	n := len(entries)
	switch n {
	case 0:
		return nil
	case 1:
		if err := d.saveEntry(&entries[0]); err != nil {
			return err
		}
		d.buf = append(d.buf, wSETITEM)
		return nil
	}
	for i := 0; ; {
		d.buf = append(d.buf, wMARK)
		c := 0
		for ; c < dumpBatchSize && i < n; c++ {
			if err := d.saveEntry(&entries[i]); err != nil {
				return err
			}
			i++
		}
		d.buf = append(d.buf, wSETITEMS)
		if c != dumpBatchSize {
			return nil
		}
	}
}

func (d *dumper) saveEntry(e *py.DictEntry) error {
	if e.Key.Kind() == py.StrKind {
		if err := d.saveKeyStr(e.Key); err != nil {
			return err
		}
	} else if err := d.save(e.Key); err != nil {
		return err
	}
	return d.save(e.Value)
}

// saveKeyStr is save() of a str dict key: the singletons as everywhere,
// any other key shared by value with the equal keys written before it.
func (d *dumper) saveKeyStr(k py.Value) error {
	d.boundary()
	s, _ := k.Str()
	if _, ok := singleStr(s); ok {
		return d.saveStrNoBoundary(s)
	}
	if idx, ok := d.keys.get(s); ok {
		d.memoGet(idx)
		return nil
	}
	if err := d.saveFreshStr(s); err != nil {
		return err
	}
	d.keys.put(s, d.memoLen-1) // the memo entry written last
	return nil
}

func (d *dumper) saveSet(s *py.Set, kind py.Kind) error {
	var items []py.Value
	var k idKey
	if s != nil {
		items = s.Items()
		k = idKey{unsafe.Pointer(s), kind}
		if d.getID(k) {
			return nil
		}
	}
	if d.proto < 4 {
		// set.__reduce__ / frozenset: (set, (list(self),)), via save_reduce.
		if kind == py.FrozenSetKind {
			d.saveGlobal(cFrozenSet)
		} else {
			d.saveGlobal(cSet)
		}
		d.boundary() // the argument tuple
		d.boundary() // the list
		d.buf = append(d.buf, wEMPTY_LIST)
		d.memoPut()
		if err := d.appendItems(items); err != nil {
			return err
		}
		d.buf = append(d.buf, wTUPLE1)
		d.memoPut()
		d.buf = append(d.buf, wREDUCE)
		if s != nil && d.getIDAfterPop(k) {
			return nil
		}
		d.putSetID(s, k)
		return nil
	}
	if kind == py.FrozenSetKind {
		d.buf = append(d.buf, wMARK)
		for _, it := range items {
			if err := d.save(it); err != nil {
				return err
			}
		}
		if s != nil && d.hasID(k) {
			d.buf = append(d.buf, wPOP_MARK)
			d.getID(k)
			return nil
		}
		d.buf = append(d.buf, wFROZENSET)
		d.putSetID(s, k)
		return nil
	}
	d.buf = append(d.buf, wEMPTY_SET)
	d.putSetID(s, k)
	n := len(items)
	if n == 0 {
		return nil
	}
	for i := 0; ; {
		d.buf = append(d.buf, wMARK)
		c := 0
		for ; c < dumpBatchSize && i < n; c++ {
			if err := d.save(items[i]); err != nil {
				return err
			}
			i++
		}
		d.buf = append(d.buf, wADDITEMS)
		if c != dumpBatchSize {
			return nil
		}
	}
}

func (d *dumper) putSetID(s *py.Set, k idKey) {
	if s != nil {
		d.putID(k)
	} else {
		d.memoPut()
	}
}

// getIDAfterPop is save_reduce's check for an object that became memoized
// while its arguments were written (a recursive structure): POP the REDUCE
// result and fetch the memoized one.
func (d *dumper) getIDAfterPop(k idKey) bool {
	if !d.hasID(k) {
		return false
	}
	d.buf = append(d.buf, wPOP)
	d.getID(k)
	return true
}

// --- datetime, Decimal, UUID (their __reduce__ results, spec §8.4)

func checkClock(h, m, s, us, fold int) bool {
	return h >= 0 && h <= 23 && m >= 0 && m <= 59 && s >= 0 && s <= 59 &&
		us >= 0 && us <= 999999 && (fold == 0 || fold == 1)
}

func checkDate(y, m, d int) bool {
	if y < 1 || y > 9999 || m < 1 || m > 12 || d < 1 {
		return false
	}
	days := 31
	switch m {
	case 2:
		days = 28
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			days = 29
		}
	case 4, 6, 9, 11:
		days = 30
	}
	return d <= days
}

var errDumpDateRange = fmt.Errorf("%w: date or time field out of range", ErrUnpicklable)

func (d *dumper) saveDateTime(dt *py.DateTime) error {
	if dt == nil || !checkDate(dt.Year, dt.Month, dt.Day) ||
		!checkClock(dt.Hour, dt.Minute, dt.Second, dt.Microsecond, dt.Fold) {
		return errDumpDateRange
	}
	k := idKey{unsafe.Pointer(dt), py.DateTimeKind}
	if d.getID(k) {
		return nil
	}
	month := byte(dt.Month)
	if dt.Fold == 1 && d.proto > 3 {
		month |= 0x80
	}
	us := dt.Microsecond
	state := [10]byte{byte(dt.Year >> 8), byte(dt.Year), month, byte(dt.Day),
		byte(dt.Hour), byte(dt.Minute), byte(dt.Second), byte(us >> 16), byte(us >> 8), byte(us)}
	if err := d.saveStateReduce(cDateTime, state[:], dt.TZ); err != nil {
		return err
	}
	d.putID(k)
	return nil
}

func (d *dumper) saveDate(dt *py.Date) error {
	if dt == nil || !checkDate(dt.Year, dt.Month, dt.Day) {
		return errDumpDateRange
	}
	k := idKey{unsafe.Pointer(dt), py.DateKind}
	if d.getID(k) {
		return nil
	}
	state := [4]byte{byte(dt.Year >> 8), byte(dt.Year), byte(dt.Month), byte(dt.Day)}
	if err := d.saveStateReduce(cDate, state[:], nil); err != nil {
		return err
	}
	d.putID(k)
	return nil
}

func (d *dumper) saveTime(t *py.Time) error {
	if t == nil || !checkClock(t.Hour, t.Minute, t.Second, t.Microsecond, t.Fold) {
		return errDumpDateRange
	}
	k := idKey{unsafe.Pointer(t), py.TimeKind}
	if d.getID(k) {
		return nil
	}
	hour := byte(t.Hour)
	if t.Fold == 1 && d.proto > 3 {
		hour |= 0x80
	}
	us := t.Microsecond
	state := [6]byte{hour, byte(t.Minute), byte(t.Second), byte(us >> 16), byte(us >> 8), byte(us)}
	if err := d.saveStateReduce(cTime, state[:], t.TZ); err != nil {
		return err
	}
	d.putID(k)
	return nil
}

// saveStateReduce writes cls, (state_bytes[, tz]), REDUCE (unmemoized).
func (d *dumper) saveStateReduce(cls int, state []byte, tz *py.TZInfo) error {
	d.saveGlobal(cls)
	d.boundary() // the argument tuple
	if err := d.saveBytes(unsafeString(state)); err != nil {
		return err
	}
	op := byte(wTUPLE1)
	if tz != nil {
		if err := d.saveTZ(tz); err != nil {
			return err
		}
		op = wTUPLE2
	}
	d.buf = append(d.buf, op)
	d.memoPut()
	d.buf = append(d.buf, wREDUCE)
	return nil
}

func (d *dumper) saveTimeDelta(td *py.TimeDelta) error {
	if td == nil || td.Days < -999999999 || td.Days > 999999999 || td.Seconds < 0 ||
		td.Seconds >= 86400 || td.Microseconds < 0 || td.Microseconds >= 1000000 {
		return fmt.Errorf("%w: timedelta out of range", ErrUnpicklable)
	}
	k := idKey{unsafe.Pointer(td), py.TimeDeltaKind}
	if d.getID(k) {
		return nil
	}
	d.writeTimeDelta(td.Days, td.Seconds, td.Microseconds)
	d.putID(k)
	return nil
}

// writeTimeDelta writes timedelta(days, seconds, us) up to REDUCE (unmemoized).
func (d *dumper) writeTimeDelta(days, secs, us int64) {
	d.saveGlobal(cTimeDelta)
	d.boundary() // the argument tuple
	d.boundary()
	d.saveInt64(days)
	d.boundary()
	d.saveInt64(secs)
	d.boundary()
	d.saveInt64(us)
	d.buf = append(d.buf, wTUPLE3)
	d.memoPut()
	d.buf = append(d.buf, wREDUCE)
}

// saveTZ is save() of a tzinfo: datetime.timezone (utc is a singleton),
// pytz.utc (a singleton, reduced to pytz._UTC()), zoneinfo.ZoneInfo (one
// cached object per key, reduced to ZoneInfo._unpickle(key, 1)) or another
// pytz zone (savePytz).
func (d *dumper) saveTZ(tz *py.TZInfo) error {
	d.boundary()
	switch tz.Kind {
	case py.TZFixed:
		us := int64(tz.Offset / 1000)
		if tz.Offset%1000 != 0 || us <= -86400e6 || us >= 86400e6 {
			return fmt.Errorf("%w: timezone offset out of range", ErrUnpicklable)
		}
		if us == 0 && tz.Name == "" {
			if d.getConst(cUTC) {
				return nil
			}
			d.saveTimezone(0, "")
			d.putConst(cUTC)
			return nil
		}
		if tz.Name != "" && !validStr(tz.Name) {
			return fmt.Errorf("%w: timezone name is not valid UTF-8", ErrUnpicklable)
		}
		k := idKey{unsafe.Pointer(tz), py.NoneKind}
		if d.getID(k) {
			return nil
		}
		d.saveTimezone(us, tz.Name)
		d.putID(k)
	case py.TZPytzUTC:
		if d.getConst(cPytzUTC) {
			return nil
		}
		d.saveGlobal(cPytzUTCClass)
		d.boundary()
		d.buf = append(d.buf, wEMPTY_TUPLE, wREDUCE)
		d.putConst(cPytzUTC)
	case py.TZPytz, py.TZPytzStatic:
		return d.savePytz(tz)
	case py.TZZoneInfo:
		if tz.Key == "" || !validStr(tz.Key) {
			return fmt.Errorf("%w: empty or invalid zoneinfo key", ErrUnpicklable)
		}
		for _, z := range d.zones {
			if z.key == tz.Key {
				d.memoGet(z.idx)
				return nil
			}
		}
		// callable: the bound method ZoneInfo._unpickle, itself reduced to
		// getattr(ZoneInfo, '_unpickle').
		d.boundary()
		d.saveGlobal(cGetattr)
		d.boundary()
		d.saveGlobal(cZoneInfo)
		d.boundary()
		_ = d.writeStr("_unpickle") // a new str on each __reduce__
		d.memoPut()
		d.buf = append(d.buf, wTUPLE2)
		d.memoPut()
		d.buf = append(d.buf, wREDUCE)
		d.memoPut()
		// arguments: (key, 1)
		d.boundary()
		if err := d.saveStr(tz.Key); err != nil {
			return err
		}
		d.boundary()
		d.saveInt64(1)
		d.buf = append(d.buf, wTUPLE2)
		d.memoPut()
		d.buf = append(d.buf, wREDUCE)
		d.zones = append(d.zones, zoneEntry{tz.Key, d.memoLen})
		d.memoPut()
	default:
		return fmt.Errorf("%w: unknown tzinfo kind %d", ErrUnpicklable, tz.Kind)
	}
	return nil
}

// savePytz writes a pytz zone instance as its __reduce__ gives it:
// pytz._p(key) for a StaticTzInfo, pytz._p(key, utcoffset seconds, dst
// seconds, tzname) for a DstTzInfo instance, the REDUCE memoized.
//
// CPython memoizes by identity, and pytz shares its objects so: one
// instance per (key, utcoffset, dst, tzname) (pytz.timezone and its
// unpickler return cached instances, so equal ones are one object: a
// repeat is a BINGET); one key str per zone, shared by all the instances
// of the zone (a class attribute); and tzname strs shared between the
// instances of one zone with the same name (read once per zone file) and
// between zones with the same (utcoffset, dst, tzname) (pytz caches those
// triples across zones). A tzname is therefore a BINGET of an earlier
// equal one when it belongs to the same key or to the same triple. (Which
// of two zones' equal triples pytz loaded first can make two names of
// different triples in different zones one object in CPython and two
// here, or the reverse; the pickle loads to an equal value either way.)
func (d *dumper) savePytz(tz *py.TZInfo) error {
	static := tz.Kind == py.TZPytzStatic
	if static {
		if !py.ValidPytzKey(tz.Key) {
			return fmt.Errorf("%w: invalid pytz zone key", ErrUnpicklable)
		}
	} else if _, err := py.PytzZone(tz.Key, tz.Offset, tz.DST, tz.Name); err != nil {
		return fmt.Errorf("%w: %v", ErrUnpicklable, err)
	}
	v := py.TZInfo{Kind: tz.Kind, Key: tz.Key}
	if !static {
		v.Offset, v.DST, v.Name = tz.Offset, tz.DST, tz.Name
	}
	if idx, ok := d.pytz[v]; ok {
		d.memoGet(idx)
		return nil
	}
	if d.pytz == nil {
		d.pytz = map[py.TZInfo]uint32{}
		d.pytzKeys = map[string]uint32{}
		d.pytzNames = map[pytzStrKey]uint32{}
	}
	d.saveGlobal(cPytzP)
	d.boundary() // the argument tuple
	if !static {
		d.buf = append(d.buf, wMARK)
	}
	d.boundary()
	if idx, ok := d.pytzKeys[tz.Key]; ok {
		d.memoGet(idx)
	} else {
		d.pytzKeys[tz.Key] = d.savePytzStr(tz.Key)
	}
	if static {
		d.buf = append(d.buf, wTUPLE1)
	} else {
		d.boundary()
		d.saveInt64(int64(tz.Offset / time.Second))
		d.boundary()
		d.saveInt64(int64(tz.DST / time.Second))
		d.boundary()
		byKey := pytzStrKey{key: tz.Key, name: tz.Name}
		byTriple := pytzStrKey{off: tz.Offset, dst: tz.DST, name: tz.Name}
		i1, ok1 := d.pytzNames[byKey]
		i2, ok2 := d.pytzNames[byTriple]
		switch {
		case ok1 && (!ok2 || i1 < i2):
			d.memoGet(i1)
		case ok2:
			d.memoGet(i2)
		default:
			idx := d.savePytzStr(tz.Name)
			d.pytzNames[byKey] = idx
			d.pytzNames[byTriple] = idx
		}
		d.buf = append(d.buf, wTUPLE)
	}
	d.memoPut()
	d.buf = append(d.buf, wREDUCE)
	d.pytz[v] = d.memoLen
	d.memoPut()
	return nil
}

// savePytzStr writes and memoizes a (validated, ASCII) str of a pytz
// instance's arguments and returns its memo index; a CPython singleton
// (one character) goes through the singletons' memo.
func (d *dumper) savePytzStr(s string) uint32 {
	if k, single := singleStr(s); single {
		_ = d.saveStrNoBoundary(s)
		idx, _ := d.strs.get(k)
		return idx
	}
	idx := d.memoLen
	_ = d.saveFreshStr(s) // at most MaxPytzKey bytes
	return idx
}

// saveTimezone writes timezone(timedelta(us), [name]) up to REDUCE.
func (d *dumper) saveTimezone(us int64, name string) {
	d.saveGlobal(cTimezone)
	d.boundary() // the argument tuple
	days := us / 86400e6
	rem := us % 86400e6
	if rem < 0 {
		days--
		rem += 86400e6
	}
	d.boundary() // the timedelta
	d.writeTimeDelta(days, rem/1e6, rem%1e6)
	d.memoPut()
	op := byte(wTUPLE1)
	if name != "" {
		_ = d.saveStr(name) // validated by the caller
		op = wTUPLE2
	}
	d.buf = append(d.buf, op)
	d.memoPut()
	d.buf = append(d.buf, wREDUCE)
}

func (d *dumper) saveDecimal(s string) error {
	if s == "" {
		return fmt.Errorf("%w: empty Decimal", ErrUnpicklable)
	}
	d.saveGlobal(cDecimal)
	d.boundary()
	// str(self) is a new str object, even for one character.
	d.boundary()
	if err := d.saveFreshStr(s); err != nil {
		return err
	}
	d.buf = append(d.buf, wTUPLE1)
	d.memoPut()
	d.buf = append(d.buf, wREDUCE)
	d.memoPut()
	return nil
}

// saveUUID writes what object.__reduce_ex__ gives for uuid.UUID at protocol
// ≥ 2: NEWOBJ of the class with no arguments, then BUILD with {'int': n}.
func (d *dumper) saveUUID(u [16]byte) {
	d.saveGlobal(cUUID)
	d.boundary()
	d.buf = append(d.buf, wEMPTY_TUPLE, wNEWOBJ)
	d.memoPut()
	d.boundary() // the state dict
	d.buf = append(d.buf, wEMPTY_DICT)
	d.memoPut()
	d.saveConstStr(cStrInt, "int")
	d.boundary()
	hi := binary.BigEndian.Uint64(u[:8])
	lo := binary.BigEndian.Uint64(u[8:])
	if hi == 0 && lo <= math.MaxInt64 {
		d.saveInt64(int64(lo))
	} else {
		d.saveLong(u[:], false)
	}
	d.buf = append(d.buf, wSETITEM, wBUILD)
}
