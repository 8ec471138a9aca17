//go:build zlibfloor && cgo

package zlibfloor

/*
#cgo LDFLAGS: -lz -ldeflate
#include <string.h>
#include <zlib.h>
#include <libdeflate.h>

// Each function repeats its operation n times on one state (reset between
// runs, as a long-lived caller would), so that a benchmark measures the
// library and not the cost of crossing from Go to C. They return the
// output length of the last run, or a negative number on failure.

static long zf_zlib_inflate(const unsigned char *src, size_t srclen, unsigned char *dst, size_t dstcap, long n) {
	z_stream s;
	long out = -1;
	memset(&s, 0, sizeof s);
	if (inflateInit(&s) != Z_OK) return -1;
	for (long i = 0; i < n; i++) {
		if (inflateReset(&s) != Z_OK) { out = -2; break; }
		s.next_in = (unsigned char *)src; s.avail_in = (uInt)srclen;
		s.next_out = dst; s.avail_out = (uInt)dstcap;
		if (inflate(&s, Z_FINISH) != Z_STREAM_END) { out = -3; break; }
		out = (long)(dstcap - s.avail_out);
	}
	inflateEnd(&s);
	return out;
}

static long zf_zlib_deflate(const unsigned char *src, size_t srclen, unsigned char *dst, size_t dstcap, int level, long n) {
	z_stream s;
	long out = -1;
	memset(&s, 0, sizeof s);
	if (deflateInit(&s, level) != Z_OK) return -1;
	for (long i = 0; i < n; i++) {
		if (deflateReset(&s) != Z_OK) { out = -2; break; }
		s.next_in = (unsigned char *)src; s.avail_in = (uInt)srclen;
		s.next_out = dst; s.avail_out = (uInt)dstcap;
		if (deflate(&s, Z_FINISH) != Z_STREAM_END) { out = -3; break; }
		out = (long)(dstcap - s.avail_out);
	}
	deflateEnd(&s);
	return out;
}

static long zf_libdeflate_inflate(const void *src, size_t srclen, void *dst, size_t dstcap, long n) {
	struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
	long out = -1;
	if (d == NULL) return -1;
	for (long i = 0; i < n; i++) {
		size_t got;
		if (libdeflate_zlib_decompress(d, src, srclen, dst, dstcap, &got) != LIBDEFLATE_SUCCESS) { out = -3; break; }
		out = (long)got;
	}
	libdeflate_free_decompressor(d);
	return out;
}

static long zf_libdeflate_deflate(const void *src, size_t srclen, void *dst, size_t dstcap, int level, long n) {
	struct libdeflate_compressor *c = libdeflate_alloc_compressor(level);
	long out = -1;
	if (c == NULL) return -1;
	for (long i = 0; i < n; i++) {
		size_t got = libdeflate_zlib_compress(c, src, srclen, dst, dstcap);
		if (got == 0) { out = -3; break; }
		out = (long)got;
	}
	libdeflate_free_compressor(c);
	return out;
}
*/
import "C"

import (
	"errors"
	"fmt"
	"unsafe"
)

// ErrFailed is returned (wrapped) when a C library reports a failure or
// the output does not fit in dst.
var ErrFailed = errors.New("zlibfloor: C library call failed")

type cfunc func(src, dst unsafe.Pointer, srclen, dstcap C.size_t, n C.long) C.long

func run(name string, src, dst []byte, n int, f cfunc) ([]byte, error) {
	if len(src) == 0 || cap(dst) == 0 || n < 1 {
		return nil, fmt.Errorf("%w: %s: empty input or output, or n < 1", ErrFailed, name)
	}
	dst = dst[:cap(dst)]
	got := f(unsafe.Pointer(&src[0]), unsafe.Pointer(&dst[0]), C.size_t(len(src)), C.size_t(len(dst)), C.long(n))
	if got < 0 {
		return nil, fmt.Errorf("%w: %s: status %d", ErrFailed, name, int(got))
	}
	return dst[:got], nil
}

// ZlibInflate decompresses the zlib stream src into dst's capacity n times
// with the C zlib (inflateReset between runs) and returns the output.
func ZlibInflate(src, dst []byte, n int) ([]byte, error) {
	return run("zlib inflate", src, dst, n, func(s, d unsafe.Pointer, sl, dc C.size_t, n C.long) C.long {
		return C.zf_zlib_inflate((*C.uchar)(s), sl, (*C.uchar)(d), dc, n)
	})
}

// ZlibDeflate compresses src into a zlib stream at level n times with the
// C zlib's defaults as CPython's zlib.compress uses them (deflateInit:
// windowBits 15, memLevel 8, default strategy; deflateReset between runs)
// and returns the stream.
func ZlibDeflate(src, dst []byte, level, n int) ([]byte, error) {
	return run("zlib deflate", src, dst, n, func(s, d unsafe.Pointer, sl, dc C.size_t, n C.long) C.long {
		return C.zf_zlib_deflate((*C.uchar)(s), sl, (*C.uchar)(d), dc, C.int(level), n)
	})
}

// LibdeflateInflate is ZlibInflate with libdeflate.
func LibdeflateInflate(src, dst []byte, n int) ([]byte, error) {
	return run("libdeflate inflate", src, dst, n, func(s, d unsafe.Pointer, sl, dc C.size_t, n C.long) C.long {
		return C.zf_libdeflate_inflate(s, sl, d, dc, n)
	})
}

// LibdeflateDeflate is ZlibDeflate with libdeflate, whose streams are
// valid zlib but not the bytes zlib writes.
func LibdeflateDeflate(src, dst []byte, level, n int) ([]byte, error) {
	return run("libdeflate deflate", src, dst, n, func(s, d unsafe.Pointer, sl, dc C.size_t, n C.long) C.long {
		return C.zf_libdeflate_deflate(s, sl, d, dc, C.int(level), n)
	})
}
