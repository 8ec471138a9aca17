package pyzlib

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"hash/adler32"
	"io"
	"math/rand/v2"
	"testing"
)

// testBits builds hand-made DEFLATE streams for tests, LSB first.
type testBits struct {
	out  []byte
	acc  uint64
	nacc uint
}

func (w *testBits) bits(v uint64, n uint) *testBits {
	w.acc |= v << w.nacc
	w.nacc += n
	for w.nacc >= 8 {
		w.out = append(w.out, byte(w.acc))
		w.acc >>= 8
		w.nacc -= 8
	}
	return w
}

// code writes a Huffman code given MSB first, as RFC 1951 §3.1.1 packs it.
func (w *testBits) code(c uint64, n uint) *testBits {
	return w.bits(uint64(reverseBits(uint16(c), n)), n)
}

func (w *testBits) bytes() []byte {
	if w.nacc > 0 {
		w.out = append(w.out, byte(w.acc))
		w.acc, w.nacc = 0, 0
	}
	return w.out
}

// zlibWrap adds a 78 9C header and the Adler-32 trailer of data.
func zlibWrap(body, data []byte) []byte {
	z := append([]byte{0x78, 0x9c}, body...)
	return binary.BigEndian.AppendUint32(z, adler32.Checksum(data))
}

// Fixed-code symbols (RFC 1951 §3.2.6), MSB-first codes.
func fixedLitCode(w *testBits, sym int) {
	switch {
	case sym < 144:
		w.code(uint64(0x30+sym), 8)
	case sym < 256:
		w.code(uint64(0x190+sym-144), 9)
	case sym < 280:
		w.code(uint64(sym-256), 7)
	default:
		w.code(uint64(0xc0+sym-280), 8)
	}
}

// handStreams are streams built by hand from RFC 1950/1951, with the
// result each must give.
func handStreams() []struct {
	name string
	z    []byte
	want []byte
	err  error
} {
	type tc = struct {
		name string
		z    []byte
		want []byte
		err  error
	}
	var cases []tc

	// Empty input, fixed block holding only end-of-block: what
	// zlib.compress(b"") returns, derived from RFC 1951 §3.2.6: bits
	// 1 (final), 01 (fixed), 0000000 (256) = 03 00; Adler-32 of "" is 1.
	cases = append(cases, tc{"empty", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01}, []byte{}, nil})

	// "a" then a match of length 10 at distance 1 in a fixed block.
	w := new(testBits).bits(1, 1).bits(1, 2)
	fixedLitCode(w, 'a')
	fixedLitCode(w, 264) // length 10, no extra bits
	w.code(0, 5)         // distance code 0 = 1
	fixedLitCode(w, 256)
	want := bytes.Repeat([]byte("a"), 11)
	cases = append(cases, tc{"fixed-rle", zlibWrap(w.bytes(), want), want, nil})

	// Length 258 (symbol 285) and the same via 284 + 31 extra bits: zlib
	// accepts both codings.
	w = new(testBits).bits(1, 1).bits(1, 2)
	fixedLitCode(w, 'b')
	fixedLitCode(w, 285)
	w.code(0, 5)
	fixedLitCode(w, 284)
	w.bits(30, 5) // 227 + 30 = 257
	w.code(0, 5)
	fixedLitCode(w, 256)
	want = bytes.Repeat([]byte("b"), 1+258+257)
	cases = append(cases, tc{"len258", zlibWrap(w.bytes(), want), want, nil})

	// A match before any output: "invalid distance too far back".
	w = new(testBits).bits(1, 1).bits(1, 2)
	fixedLitCode(w, 257)
	w.code(0, 5)
	fixedLitCode(w, 256)
	cases = append(cases, tc{"too-far", zlibWrap(w.bytes(), nil), nil, ErrCorrupt})

	// Distance 2 after one byte.
	w = new(testBits).bits(1, 1).bits(1, 2)
	fixedLitCode(w, 'x')
	fixedLitCode(w, 257)
	w.code(1, 5)
	fixedLitCode(w, 256)
	cases = append(cases, tc{"too-far-2", zlibWrap(w.bytes(), nil), nil, ErrCorrupt})

	// Literal/length symbol 286 and distance code 30 are reserved.
	w = new(testBits).bits(1, 1).bits(1, 2)
	fixedLitCode(w, 286)
	cases = append(cases, tc{"sym286", zlibWrap(w.bytes(), nil), nil, ErrCorrupt})
	w = new(testBits).bits(1, 1).bits(1, 2)
	fixedLitCode(w, 'x')
	fixedLitCode(w, 257)
	w.code(30, 5)
	cases = append(cases, tc{"dist30", zlibWrap(w.bytes(), nil), nil, ErrCorrupt})

	// Block type 3 is reserved.
	cases = append(cases, tc{"btype3", zlibWrap([]byte{0x07, 0, 0, 0}, nil), nil, ErrCorrupt})

	// Stored blocks: a non-final empty one then a final "hi".
	body := []byte{0x00, 0x00, 0x00, 0xff, 0xff, 0x01, 0x02, 0x00, 0xfd, 0xff, 'h', 'i'}
	cases = append(cases, tc{"stored", zlibWrap(body, []byte("hi")), []byte("hi"), nil})
	// LEN and NLEN disagree.
	cases = append(cases, tc{"stored-nlen", zlibWrap([]byte{0x01, 0x02, 0x00, 0xfc, 0xff, 'h', 'i'}, []byte("hi")), nil, ErrCorrupt})
	// Stored data cut short.
	cases = append(cases, tc{"stored-short", []byte{0x78, 0x9c, 0x01, 0x05, 0x00, 0xfa, 0xff, 'h', 'i'}, nil, ErrTruncated})

	// Dynamic block whose code-length code is incomplete (a single code
	// of length 1): zlib refuses it ("invalid code lengths set").
	w = new(testBits).bits(1, 1).bits(2, 2).bits(0, 5).bits(0, 5).bits(0, 4)
	w.bits(0, 3).bits(0, 3).bits(0, 3).bits(1, 3) // symbol 0 has length 1
	cases = append(cases, tc{"cl-incomplete", zlibWrap(w.bytes(), nil), nil, ErrCorrupt})

	// Dynamic block: only end-of-block (length 1, incomplete but allowed
	// as zlib allows a single code of length 1) and one distance code.
	w = new(testBits).bits(1, 1).bits(2, 2).bits(0, 5).bits(0, 5).bits(14, 4) // HCLEN 18
	// Code-length code: symbols 0 and 1 and 18 with lengths 2,2,1:
	// order 16 17 18 0 8 7 9 6 10 5 11 4 12 3 13 2 14 1
	for _, sym := range blOrder[:18] {
		switch sym {
		case 18:
			w.bits(1, 3)
		case 0, 1:
			w.bits(2, 3)
		default:
			w.bits(0, 3)
		}
	}
	// Canonical codes: 18 -> 0, 0 -> 10, 1 -> 11.
	w.code(0, 1).bits(138-11, 7) // 138 zeros
	w.code(0, 1).bits(118-11, 7) // 118 zeros: symbols 0..255
	w.code(3, 2)                 // symbol 256: length 1
	w.code(3, 2)                 // distance 0: length 1
	w.code(0, 1)                 // EOB
	cases = append(cases, tc{"dyn-eob-only", zlibWrap(w.bytes(), []byte{}), []byte{}, nil})

	// The same with no length for end-of-block.
	w = new(testBits).bits(1, 1).bits(2, 2).bits(0, 5).bits(0, 5).bits(14, 4)
	for _, sym := range blOrder[:18] {
		switch sym {
		case 18:
			w.bits(1, 3)
		case 0, 1:
			w.bits(2, 3)
		default:
			w.bits(0, 3)
		}
	}
	w.code(0, 1).bits(97-11, 7)                            // 0..96 unused
	w.code(3, 2)                                           // 'a': length 1
	w.code(0, 1).bits(138-11, 7).code(0, 1).bits(21-11, 7) // 98..256 unused
	w.code(3, 2)                                           // distance 0: length 1
	w.code(0, 1)                                           // 'a'
	cases = append(cases, tc{"dyn-no-eob", zlibWrap(w.bytes(), nil), nil, ErrCorrupt})

	// Header errors.
	cases = append(cases,
		tc{"fcheck", []byte{0x78, 0x9d, 0x03, 0x00, 0, 0, 0, 1}, nil, ErrHeader},
		tc{"method7", []byte{0x77, 0x85, 0x03, 0x00, 0, 0, 0, 1}, nil, ErrHeader},
		tc{"window64k", []byte{0x88, 0x98, 0x03, 0x00, 0, 0, 0, 1}, nil, ErrHeader},
		tc{"fdict", []byte{0x78, 0xbb, 0, 0, 0, 1, 0x03, 0x00, 0, 0, 0, 1}, nil, ErrDictionary},
		tc{"short-header", []byte{0x78}, nil, ErrTruncated},
		tc{"no-input", nil, nil, ErrTruncated},
		tc{"no-trailer", []byte{0x78, 0x9c, 0x03, 0x00, 0, 0, 0}, nil, ErrTruncated},
		tc{"bad-adler", []byte{0x78, 0x9c, 0x03, 0x00, 0, 0, 0, 2}, nil, ErrChecksum},
		tc{"cut-in-block", []byte{0x78, 0x9c, 0x4b}, nil, ErrTruncated},
		// Smallest window (CINFO 0) is accepted, as zlib does.
		tc{"window256", []byte{0x08, 0x1d, 0x03, 0x00, 0, 0, 0, 1}, []byte{}, nil},
		// Trailing bytes after the stream are ignored.
		tc{"trailing", []byte{0x78, 0x9c, 0x03, 0x00, 0, 0, 0, 1, 0xde, 0xad}, []byte{}, nil},
	)
	return cases
}

func TestDecompressHandStreams(t *testing.T) {
	for _, c := range handStreams() {
		got, err := Decompress([]byte("pre"), c.z, 1<<16)
		if c.err != nil {
			if !errors.Is(err, c.err) {
				t.Errorf("%s: err = %v, want %v", c.name, err, c.err)
			}
			if string(got) != "pre" {
				t.Errorf("%s: on error got %q, want dst unchanged", c.name, got)
			}
			continue
		}
		if err != nil || !bytes.Equal(got, append([]byte("pre"), c.want...)) {
			t.Errorf("%s: got %q, %v; want %q", c.name, got, err, c.want)
		}
	}
}

// TestDecompressHandStreamsCPython confirms each hand-made stream's
// outcome (data or error) with CPython's zlib.decompress and Go's
// compress/zlib.
func TestDecompressHandStreamsCPython(t *testing.T) {
	py := startPython(t)
	for _, c := range handStreams() {
		back, err := py.call('D', 0, c.z)
		if err != nil && !errors.Is(err, errPython) {
			t.Fatal(err)
		}
		if (err == nil) != (c.err == nil) || (err == nil && !bytes.Equal(back, c.want)) {
			t.Errorf("%s: CPython gives %q, %v; table says %q, %v", c.name, back, err, c.want, c.err)
		}
		if c.name == "fdict" {
			continue // Go accepts a dictionary id of 1 (adler32 of no dictionary)
		}
		gback, gerr := goInflate(c.z)
		if (gerr == nil) != (c.err == nil) || (gerr == nil && !bytes.Equal(gback, c.want)) {
			t.Errorf("%s: compress/zlib gives %q, %v; table says %q, %v", c.name, gback, gerr, c.want, c.err)
		}
	}
}

// TestDecompressLimit checks the output bound: exactly limit bytes pass,
// one fewer fails with ErrTooLarge, and nothing is written past
// len(dst)+limit even when dst has spare capacity.
func TestDecompressLimit(t *testing.T) {
	data := textCorpus(70000)
	for _, level := range []int{0, 1, 6, 9} {
		z, _ := Compress(nil, data, level)
		for _, limit := range []int{0, 1, 100, 1000, 32768, len(data) - 1, len(data)} {
			buf := make([]byte, 5, 5+len(data)+100)
			for i := range buf[:cap(buf)] {
				buf[:cap(buf)][i] = 0xee
			}
			copy(buf, "hello")
			got, err := Decompress(buf, z, limit)
			if limit < len(data) {
				if !errors.Is(err, ErrTooLarge) {
					t.Errorf("level %d limit %d: err = %v, want ErrTooLarge", level, limit, err)
				}
				if string(got) != "hello" {
					t.Errorf("level %d limit %d: dst changed on error", level, limit)
				}
				for i, b := range buf[5+limit : cap(buf)] {
					if b != 0xee {
						t.Fatalf("level %d limit %d: byte %d past the limit written", level, limit, 5+limit+i)
					}
				}
				continue
			}
			if err != nil || !bytes.Equal(got[5:], data) || string(got[:5]) != "hello" {
				t.Errorf("level %d limit %d: err %v", level, limit, err)
			}
		}
	}
}

// TestDecompressAllocs: with room in dst, decoding allocates nothing.
func TestDecompressAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	for _, in := range benchInputs(t) {
		z, _ := Compress(nil, in.data, 6)
		dst := make([]byte, 0, len(in.data))
		n := testing.AllocsPerRun(50, func() {
			var err error
			if dst, err = Decompress(dst[:0], z, -1); err != nil {
				t.Fatal(err)
			}
		})
		if n != 0 {
			t.Errorf("%s: %v allocations per Decompress", in.name, n)
		}
	}
}

func TestCompressAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	for _, in := range benchInputs(t) {
		dst := make([]byte, 0, len(in.data)+1024)
		n := testing.AllocsPerRun(20, func() { dst, _ = Compress(dst[:0], in.data, 6) })
		if n != 0 {
			t.Errorf("%s: %v allocations per Compress", in.name, n)
		}
		// Without room: the output buffer only. (sync.Pool may miss now and
		// then, when the goroutine moves to another P; the average over 50
		// runs hides that.)
		for _, level := range []int{0, 1, 6, 9} {
			n = testing.AllocsPerRun(50, func() { Compress(nil, in.data, level) })
			if n > 1 {
				t.Errorf("%s level %d: %v allocations per Compress(nil, ...)", in.name, level, n)
			}
		}
	}
}

func TestCompressLevels(t *testing.T) {
	for _, l := range []int{-2, 10, 100} {
		if _, err := Compress(nil, nil, l); !errors.Is(err, ErrLevel) {
			t.Errorf("level %d: err = %v", l, err)
		}
		if _, err := Deflate(nil, nil, l); !errors.Is(err, ErrLevel) {
			t.Errorf("Deflate level %d: err = %v", l, err)
		}
	}
	// -1 is zlib's Z_DEFAULT_COMPRESSION, i.e. 6.
	a, _ := Compress(nil, []byte(sessionJSON), -1)
	b, _ := Compress(nil, []byte(sessionJSON), 6)
	if !bytes.Equal(a, b) {
		t.Error("level -1 differs from 6")
	}
	// Headers by level, from zlib's rule (RFC 1950 FLEVEL) as CPython
	// shows: 78 01, 78 5e, 78 9c, 78 da.
	for level, want := range map[int]string{0: "\x78\x01", 1: "\x78\x01", 2: "\x78\x5e", 5: "\x78\x5e", 6: "\x78\x9c", 7: "\x78\xda", 9: "\x78\xda"} {
		z, _ := Compress([]byte("x"), nil, level)
		if string(z[1:3]) != want || z[0] != 'x' {
			t.Errorf("level %d header %x, want %x", level, z[1:3], want)
		}
	}
	// Deflate is Compress without header and trailer.
	data := textCorpus(5000)
	for level := 0; level <= 9; level++ {
		z, _ := Compress(nil, data, level)
		r, _ := Deflate(nil, data, level)
		if !bytes.Equal(z[2:len(z)-4], r) {
			t.Errorf("level %d: Deflate differs from Compress's body", level)
		}
	}
}

func TestAdler32(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	for _, n := range []int{0, 1, 7, 8, 9, 100, 5551, 5552, 5553, 20000, 100000} {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		if n > 50000 {
			for i := range b {
				b[i] = 0xff // largest sums
			}
		}
		if got, want := adlerSum(1, b), adler32.Checksum(b); got != want {
			t.Errorf("n=%d: %08x, want %08x", n, got, want)
		}
	}
}

// mutate returns a damaged copy of a valid stream: flipped bits, changed
// or inserted bytes, or a truncation.
func mutate(r *rand.Rand, z []byte) []byte {
	m := bytes.Clone(z)
	switch r.IntN(5) {
	case 0:
		for k := 1 + r.IntN(3); k > 0 && len(m) > 0; k-- {
			i := r.IntN(len(m))
			m[i] ^= 1 << r.IntN(8)
		}
	case 1:
		if len(m) > 0 {
			m[r.IntN(len(m))] = byte(r.Uint32())
		}
	case 2:
		if len(m) > 0 {
			m = m[:r.IntN(len(m))]
		}
	case 3:
		i := r.IntN(len(m) + 1)
		m = append(m[:i:i], append([]byte{byte(r.Uint32())}, m[i:]...)...)
	default:
		// Keep the header, randomise the body.
		for i := 2; i < len(m); i++ {
			m[i] = byte(r.Uint32())
		}
	}
	return m
}

// sameOutcome compares our Decompress with compress/zlib on one input:
// both fail, or both give the same bytes. Go accepts a preset-dictionary
// flag whose id is adler32 of an empty dictionary; zlib (and we) refuse
// every dictionary stream.
func sameOutcome(t *testing.T, z []byte, limit int) {
	t.Helper()
	got, err := Decompress(nil, z, limit)
	if len(z) >= 2 && z[1]&0x20 != 0 && (uint(z[0])<<8|uint(z[1]))%31 == 0 && z[0]&0x0f == 8 && z[0]>>4 <= 7 {
		if !errors.Is(err, ErrDictionary) {
			t.Fatalf("%x: dictionary stream gave %v", z, err)
		}
		return
	}
	zr, gerr := zlib.NewReader(bytes.NewReader(z))
	var gback []byte
	if gerr == nil {
		gback, gerr = io.ReadAll(io.LimitReader(zr, int64(limit)+1))
		if gerr == nil && len(gback) > limit {
			gerr = ErrTooLarge
		}
	}
	if (err == nil) != (gerr == nil) {
		t.Fatalf("%x: Decompress err %v, compress/zlib err %v", z, err, gerr)
	}
	if err == nil && !bytes.Equal(got, gback) {
		t.Fatalf("%x: outputs differ", z)
	}
}

// TestDecompressDifferential damages valid streams of every block type
// and compares Decompress with compress/zlib on each.
func TestDecompressDifferential(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	var streams [][]byte
	for _, it := range byteCorpus(9, true) {
		if len(it.data) > 20000 {
			continue
		}
		for _, level := range []int{0, 1, 6, 9} {
			z, _ := Compress(nil, it.data, level)
			streams = append(streams, z)
		}
	}
	for _, c := range handStreams() {
		streams = append(streams, c.z)
	}
	n := 30000
	if raceEnabled || testing.Short() {
		n = 3000
	}
	for i := 0; i < n; i++ {
		z := streams[r.IntN(len(streams))]
		sameOutcome(t, mutate(r, z), 1<<20)
	}
	for _, z := range streams {
		sameOutcome(t, z, 1<<20)
	}
}

// TestDecompressDifferentialCPython checks damaged streams against
// CPython's zlib.decompress itself: same data, or both fail.
func TestDecompressDifferentialCPython(t *testing.T) {
	py := startPython(t)
	r := rand.New(rand.NewPCG(6, 6))
	var streams [][]byte
	for _, it := range sessionCorpus(t, py, 40, 2) {
		for _, level := range []int{1, 6, 9} {
			streams = append(streams, py.mustCall(t, 'C', level, it.data))
		}
	}
	for _, c := range handStreams() {
		streams = append(streams, c.z)
	}
	n := 5000
	if raceEnabled || testing.Short() {
		n = 1000
	}
	ok := 0
	for i := 0; i < n; i++ {
		z := mutate(r, streams[r.IntN(len(streams))])
		want, perr := py.call('D', 0, z)
		if perr != nil && !errors.Is(perr, errPython) {
			t.Fatal(perr)
		}
		got, err := Decompress(nil, z, -1)
		if (err == nil) != (perr == nil) || (err == nil && !bytes.Equal(got, want)) {
			t.Errorf("%x: Decompress %v, CPython %v", z, err, perr)
		}
		if err == nil {
			ok++
		}
	}
	t.Logf("%d damaged streams, %d still valid, all agree with CPython", n, ok)
}
