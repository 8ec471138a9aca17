// Package pickle reads and writes the Python pickles Django keeps sessions
// in: cache backends (Django's RedisCache, LocMem, FileBased, database
// cache, django-redis, pymemcache) and the PickleSerializer of
// session_data. Values are modelled by package py; Dumps (writer.go) is the
// writer.
//
// # Reading
//
// Loads and LoadsWith decode protocols 0–5 safely: nothing named by the
// pickle is imported, executed or instantiated. The reader is our own: one
// pass over the opcodes (reader.go) that checks each one and builds py
// values directly, with a value stack, a MARK stack and a memo (a slice;
// CPython numbers memo slots densely, far indices go to a map). Every
// opcode of CPython's pickle.py is known; strings and bytes are substrings
// of one string copy of the input; dicts and lists are sized from their
// SETITEMS/APPENDS batch. github.com/nlpodyssey/gopickle, which an earlier
// version was built on, is now a test-only dependency: a differential
// oracle (reader_oracle_test.go).
//
// The reader refuses, with an error and never a panic: unknown opcodes,
// lengths beyond the input (checked before anything is made of them),
// truncation, arguments crossing the end of their FRAME and frames that
// overlap, unbalanced MARKs, stack underflow, memo references never
// stored, DICT/SETITEMS with an odd item count, persistent IDs, extension
// codes and out-of-band buffers, every global not on the allow-list, and
// inputs over the Limits. A recover at the boundary turns a bug into
// ErrMalformed as a last resort.
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
//	uuid.UUID                               NEWOBJ (or INST/OBJ without arguments)
//	                                        + BUILD({'int': n[, 'is_safe': …]})
//	collections.OrderedDict                 OrderedDict() + SETITEMS
//	datetime.datetime, date, time           (state bytes[, tzinfo]); protocol ≤2
//	                                        states come through _codecs.encode;
//	                                        bit 7 of month/hour is fold (protocol ≥4)
//	datetime.timedelta                      (days, seconds, microseconds)
//	datetime.timezone                       (timedelta[, name]) → py.FixedZone;
//	                                        timedelta(0) without a name → py.UTC
//	decimal.Decimal                         (str)
//	pytz._UTC                               pytz.utc → py.PytzUTC
//	pytz._p                                 (key,) → py.PytzStaticZone (a single-offset
//	                                        zone Go knows); (key, utcoffset s, dst s,
//	                                        tzname) → py.PytzZone; keys [A-Za-z0-9._+-/],
//	                                        ≤64 bytes, no ".."
//
// Every other global, in any form (GLOBAL, STACK_GLOBAL with its names from
// the stack or the memo, INST, or through getattr), fails with
// ErrDisallowedGlobal naming "module.name". One more class,
// django_redis.client.herd.Marker, is read by LoadsHerd only, and only as
// the stateless Marker() first in the top-level tuple django-redis's
// HerdClient stores, (Marker(), value, deadline); it is never a py.Value
// (reader_herd.go). DumpsHerd writes that tuple. Allowed globals called
// (REDUCE, INST, OBJ, NEWOBJ) in shapes CPython does not write fail with
// ErrUnsupported, or ErrMalformed where Python itself would raise; BUILD
// applies only to a UUID.
//
// Values: sets and frozensets keep the order of their elements in the
// pickle, at every protocol (CPython lists a loaded set in hash order,
// which may differ). Bytes may be set elements and dict or OrderedDict
// keys. BINUNICODE strings must be UTF-8 (lone surrogates, which CPython
// writes with "surrogatepass", are kept as 3-byte sequences, as package py
// keeps them). Protocol-0 text is decoded as CPython's C unpickler does:
// UNICODE with raw-unicode-escape; Python 2 STRING with Python's escapes,
// and Python 2 str (STRING, BINSTRING, SHORT_BINSTRING) must be ASCII, as
// Python 3's pickle.loads requires by default (ErrUnsupported otherwise);
// INT with C's strtol(s, 0) and then int(s, 0) ("I010" is 8, "I+1" is
// True), LONG with int(s, 0), FLOAT with PyOS_string_to_double (overflow
// is an error). A zero-length LONG1/LONG4 is 0.
//
// Shared references keep their sharing (the same list twice is one
// *py.List); a container inside itself fails with ErrUnsupported. A result
// holding shared containers is walked once more, by identity, so that its
// size as a tree (a container reached n times counts n times) stays within
// MaxTotalItems and its depth within MaxDepth: a few hundred bytes of
// pickle could otherwise describe a value whose every walk (repr, JSON)
// takes 2^n steps. Hashing of dict keys and set elements is charged
// against a work bound for the same reason (a shared 500 KB key, or a
// tuple DAG as a key), as are the bytes calls build and the elements
// set() copies. Bytes after STOP are ignored, as pickle.loads ignores
// them.
//
// Not modelled (ErrUnsupported): uuid.UUID's is_safe and ZoneInfo's
// from_cache flag are checked and dropped; NEWOBJ_EX; objects other than a
// UUID under BUILD; a tzinfo, class or function as a value; appending to a
// bytearray or assigning list items (which CPython accepts but never
// writes).
//
// Memory: the input is copied once into a string, and the result's strings
// and bytes share it, so a small string of a large pickle keeps the whole
// copy alive. Readers are pooled; a pooled reader may keep the stale
// values of its last small load (a few kilobytes) until it is reused.
package pickle
