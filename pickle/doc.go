// Package pickle reads and writes the Python pickles Django keeps sessions
// in: cache backends (Django's RedisCache, LocMem, FileBased, database
// cache, django-redis, pymemcache) and the PickleSerializer of
// session_data. Values are modelled by package py; Dumps (writer.go) is the
// writer.
//
// # Reading
//
// Loads and LoadsWith decode protocols 0–5 safely: nothing named by the
// pickle is imported, executed or instantiated. They are built on
// github.com/nlpodyssey/gopickle (spec §8) in three steps:
//
//  1. A pre-pass walks the opcode stream the way pickletools does and
//     refuses, before gopickle sees a byte: unknown opcodes (gopickle
//     panics on 0xFF), lengths beyond the input (gopickle allocates a
//     declared length before reading it), truncation, unbalanced MARKs,
//     stack underflow, memo references never stored, DICT/SETITEMS with an
//     odd item count (a gopickle panic), frames that overlap, persistent
//     IDs, extension codes and out-of-band buffers, every global not on the
//     allow-list (for STACK_GLOBAL the pre-pass tracks which strings are on
//     the stack and in the memo), and inputs over the Limits.
//  2. gopickle unpickles, with a FindClass hook that returns our own
//     constructors for the allow-list only; a panic is recovered.
//  3. The result tree is converted to py values. Any Go type not produced
//     by a known opcode or an allowed constructor is refused, so gopickle's
//     GenericObject and its built-in class table (builtins.list,
//     builtins.dict, array._array_reconstructor, consulted before the hook)
//     can never leak through.
//
// The allow-list, with the shapes CPython writes (spec §8.4):
//
//	builtins / __builtin__ set, frozenset   set(list): sets at protocol ≤3
//	builtins / __builtin__ bytearray        bytearray(bytes) at protocol ≤4,
//	                                        bytearray(str, 'latin-1') (Python 2)
//	builtins / __builtin__ bytes            bytes(): b'' at protocol ≤2
//	_codecs.encode                          (str, 'latin1') only: bytes at protocol ≤2
//	builtins / __builtin__ getattr          (zoneinfo.ZoneInfo, '_unpickle') only
//	zoneinfo.ZoneInfo, ZoneInfo._unpickle   ZoneInfo(key) → py.ZoneInfo
//	copyreg / copy_reg._reconstructor,
//	builtins / __builtin__ object           uuid.UUID at protocol ≤1
//	uuid.UUID                               NEWOBJ + BUILD({'int': n[, 'is_safe': …]})
//	collections.OrderedDict                 OrderedDict() + SETITEMS
//	datetime.datetime, date, time           (state bytes[, tzinfo]); protocol ≤2
//	                                        states come through _codecs.encode;
//	                                        bit 7 of month/hour is fold (protocol ≥4)
//	datetime.timedelta                      (days, seconds, microseconds)
//	datetime.timezone                       (timedelta[, name]) → py.FixedZone;
//	                                        timedelta(0) without a name → py.UTC
//	decimal.Decimal                         (str)
//	pytz._UTC                               pytz.utc → py.PytzUTC
//
// Every other global, in any form (GLOBAL, STACK_GLOBAL, INST, or through
// getattr), fails with ErrDisallowedGlobal naming "module.name". Allowed
// globals called in shapes CPython does not write fail with
// ErrUnsupported.
//
// Strings: BINUNICODE strings must be UTF-8 (lone surrogates, which CPython
// writes with "surrogatepass", are kept as 3-byte sequences, as package py
// keeps them). gopickle hands protocol-0 text strings over undecoded (spec
// §8.5); the reader decodes them itself: UNICODE with CPython's
// raw-unicode-escape rules, Python 2 STRING with Python's escape rules.
// Python 2 str (STRING, BINSTRING, SHORT_BINSTRING) must be ASCII, as
// Python 3's pickle.loads requires by default. Because gopickle returns
// only the raw text, a pickle in which one raw text would need two
// decodings (an escaped UNICODE and a BINUNICODE with the same bytes, which
// CPython never writes) fails with ErrUnsupported.
//
// Shared references keep their sharing (the same list twice is one
// *py.List); a container inside itself fails with ErrUnsupported. Bytes
// after STOP are ignored, as pickle.loads ignores them.
//
// # Known limitations of the gopickle base
//
//   - Protocol ≥4 sets and frozensets (EMPTY_SET/ADDITEMS, FROZENSET) come
//     out of a Go map, so the pickle's element order is lost; the reader
//     sorts the elements (numbers by value, the rest by hash key) so the
//     result is deterministic. Protocol ≤3 sets keep the pickle's order.
//   - bytes as an element of a protocol ≥4 set or frozenset, or as an
//     OrderedDict key (any protocol), fails with ErrUnsupported (gopickle
//     panics hashing a Go []byte).
//   - A zero-length LONG1/LONG4 (the int 0, never written by CPython) and a
//     protocol-0 INT beyond 64 bits fail with ErrUnsupported.
//   - uuid.UUID's is_safe and ZoneInfo's from_cache flag are accepted and
//     dropped: package py does not model them.
package pickle
