package pickle

import "errors"

// Errors returned by Loads and LoadsWith. Every error the reader returns wraps
// exactly one of these; test with errors.Is. The wrapping text says where and
// why, and never contains more than a short excerpt of the input (a global's
// "module.name", an opcode byte, an offset).
var (
	// ErrMalformed: the bytes are not a pickle CPython would load: truncated
	// input, unknown opcode, bad memo reference, stack underflow, a DICT or
	// SETITEMS with an odd number of items, a bad argument to an allowed
	// constructor, an unhashable dict key or set element, ...
	ErrMalformed = errors.New("pickle: malformed pickle")

	// ErrDisallowedGlobal: the pickle refers to a global (class or function)
	// outside the allow-list, in any form (GLOBAL, STACK_GLOBAL, INST, or
	// builtins.getattr). The message names it as "module.name". Nothing named
	// by the pickle is ever executed or instantiated.
	ErrDisallowedGlobal = errors.New("pickle: disallowed global")

	// ErrLimit: the pickle exceeds one of the Limits (size, nesting depth,
	// container length, total items, integer size), or the work bound they
	// imply for hashing dict keys and set elements.
	ErrLimit = errors.New("pickle: limit exceeded")

	// ErrUnsupported: a valid pickle, of allowed types, in a form this reader
	// does not model: persistent IDs, extension codes, out-of-band buffers,
	// recursive (self-containing) structures, bare tzinfo or class objects as
	// values, non-ASCII Python 2 str, and the other shapes listed in the
	// package documentation.
	ErrUnsupported = errors.New("pickle: unsupported pickle content")
)
