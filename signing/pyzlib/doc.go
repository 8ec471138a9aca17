// Package pyzlib is zlib as CPython's zlib module does it: Compress
// returns the very bytes zlib.compress(data, level) returns (the system
// zlib that CPython links, windowBits 15, memLevel 8, default strategy),
// and Decompress reads any zlib stream as zlib.decompress does, with a
// bound on the output size.
//
// Django's signing.dumps(..., compress=True) and its session encoder
// compress with zlib level 6 and keep the result only when it is at least
// 2 bytes shorter (spec §2.6). With this package our tokens are
// byte-identical to Django's, and tests can compare them exactly.
//
// Both directions are tuned for session-sized data (100 B – 4 KB): state
// is pooled and never cleared wholesale per call, and fixed-Huffman
// streams decode without building tables.
//
// The compressor is our own code following the algorithm of zlib's
// deflate.c and trees.c (hash chains, lazy matching, block splitting,
// tree construction and block type choice); the decompressor follows
// RFC 1950 and RFC 1951 with zlib's validity rules.
package pyzlib

import "errors"

// Errors. Test them with errors.Is: returned errors wrap them with detail.
var (
	// ErrHeader: the two-byte zlib header is invalid (check bits, method
	// other than deflate, or a window larger than 32 KB).
	ErrHeader = errors.New("pyzlib: invalid zlib header")

	// ErrDictionary: the stream needs a preset dictionary, which
	// zlib.decompress does not support either.
	ErrDictionary = errors.New("pyzlib: stream needs a preset dictionary")

	// ErrCorrupt: the DEFLATE data is invalid.
	ErrCorrupt = errors.New("pyzlib: invalid compressed data")

	// ErrTruncated: the input ends before the stream and its trailer do.
	ErrTruncated = errors.New("pyzlib: incomplete or truncated stream")

	// ErrChecksum: the Adler-32 trailer does not match the data.
	ErrChecksum = errors.New("pyzlib: incorrect data check")

	// ErrTooLarge: the decompressed data is larger than the caller's limit.
	ErrTooLarge = errors.New("pyzlib: decompressed data exceeds the limit")

	// ErrLevel: the compression level is not -1 or 0..9.
	ErrLevel = errors.New("pyzlib: invalid compression level")
)
