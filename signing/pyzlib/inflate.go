package pyzlib

import (
	"encoding/binary"
	"fmt"
	"math"
	"sync"
)

// Decoding tables. An entry is a uint16: bits 0..3 hold the code length,
// bits 4..12 the symbol. Two flags make the symbol out of range for every
// alphabet, so one range check catches both:
const (
	entryBad  = 0x4000 // no code has these bits (incomplete code)
	entryLong = 0x8000 // code longer than the table: decode canonically

	// The decoding tables always have these sizes: a code shorter than
	// the table repeats, so the lookup masks are constants.
	litTableBits  = 10
	distTableBits = 8
)

// huffman is a decoder for one canonical prefix code (RFC 1951 §3.2.2).
type huffman struct {
	table []uint16            // indexed by the next input bits; full size (litTableBits, ...)
	bits  uint                // longest code the table resolves; longer ones are entryLong
	count [maxBits + 1]uint16 // codes per length
	syms  []uint16            // symbols in canonical order
}

// dynTables holds the decoders of one dynamic block; pooled.
type dynTables struct {
	lit, dist, cl huffman
	litTable      [1 << litTableBits]uint16
	distTable     [1 << distTableBits]uint16
	clTable       [1 << maxBLBits]uint16
	litSyms       [288]uint16
	distSyms      [32]uint16
	clSyms        [blCodes]uint16
	nz            [512]uint16 // non-zero code lengths: index<<4 | length (lCodes+dCodes used)
}

var dynPool = sync.Pool{New: func() any {
	t := new(dynTables)
	t.lit = huffman{table: t.litTable[:], syms: t.litSyms[:]}
	t.dist = huffman{table: t.distTable[:], syms: t.distSyms[:]}
	t.cl = huffman{table: t.clTable[:], syms: t.clSyms[:]}
	return t
}}

// The fixed codes of RFC 1951 §3.2.6, built at init, and the length and
// distance bases: lenInfo[sym-257] and distInfo[sym] are base<<4 | extra
// bits.
var (
	fixedLit, fixedDist huffman
	fixedLitTab         [1 << litTableBits]uint16
	fixedDistTab        [1 << distTableBits]uint16
	fixedLitSyms        [288]uint16
	fixedDistSyms       [32]uint16
	lenInfo             [lengthCodes]uint32
	distInfo            [dCodes]uint32
)

func initFixedDecoder() {
	for c := range lengthCodes {
		base := uint32(baseLength[c]) + minMatch
		if c == lengthCodes-1 {
			base = maxMatch
		}
		lenInfo[c] = base<<4 | uint32(extraLBits[c])
	}
	for c := range dCodes {
		distInfo[c] = (uint32(baseDist[c])+1)<<4 | uint32(extraDBits[c])
	}
	var nz [288]uint16
	var count [maxBits + 1]uint16
	for i := range nz {
		l := uint16(8)
		switch {
		case i < 144:
		case i < 256:
			l = 9
		case i < 280:
			l = 7
		}
		nz[i] = uint16(i)<<4 | l
		count[l]++
	}
	fixedLit = huffman{table: fixedLitTab[:], syms: fixedLitSyms[:]}
	fixedDist = huffman{table: fixedDistTab[:], syms: fixedDistSyms[:]}
	var dnz [32]uint16
	for i := range dnz {
		dnz[i] = uint16(i)<<4 | 5
	}
	if !fixedLit.build(nz[:], 0, &count, litTableBits, false) ||
		!fixedDist.build(dnz[:], 0, &[maxBits + 1]uint16{5: 32}, distTableBits, false) {
		panic("pyzlib: fixed tables")
	}
}

// build makes the decoder for a code given its non-zero lengths, listed
// in increasing symbol order as (symbol+base)<<4 | length, and the count
// of codes of each length. The table has at most maxTable bits. It
// reports false for lengths zlib refuses: over-subscribed, or incomplete
// unless a single code of length 1 (never incomplete when complete is
// set, as for the code-length code). No codes at all gives a decoder on
// which every code is invalid.
func (h *huffman) build(nz []uint16, base int, count *[maxBits + 1]uint16, maxTable uint, complete bool) bool {
	h.count = *count
	h.count[0] = 0
	t := h.table
	var next [maxBits + 1]uint16 // first canonical code of each length
	left, code, maxLen := 1, 0, uint(0)
	for l := 1; l <= maxBits; l++ {
		c := int(h.count[l])
		left = left<<1 - c
		code <<= 1
		next[l] = uint16(code)
		code += c
		if c != 0 {
			maxLen = uint(l)
		}
	}
	if left < 0 {
		// Over-subscribed: left went negative at some length and, since
		// it only doubles afterwards, stays negative.
		return false
	}
	if maxLen == 0 {
		if complete {
			return false
		}
		h.bits = 1
		for i := range t {
			t[i] = entryBad
		}
		return true
	}
	if left > 0 && (complete || maxLen != 1) {
		return false
	}

	tb := min(maxLen, maxTable)
	h.bits = tb
	size := 1 << tb
	if left > 0 {
		// The one incomplete code zlib allows: a single code of length 1.
		t[0], t[1] = entryBad, entryBad
	}
	if maxLen > tb {
		// Codes longer than the table are decoded canonically from the
		// symbols sorted by length (decodeLong).
		var offs [maxBits + 1]uint16
		sum := uint16(0)
		for l := 1; l <= maxBits; l++ {
			offs[l] = sum
			sum += h.count[l]
		}
		for _, e := range nz {
			l := e & 15
			h.syms[offs[l]] = e>>4 - uint16(base)
			offs[l]++
		}
	}
	// Canonical codes in symbol order; a code of length l fills every
	// table slot whose low l bits are its bit-reversed code.
	for _, e := range nz {
		l := uint(e & 15)
		c := next[l]
		next[l]++
		if l <= tb {
			ent := (e>>4-uint16(base))<<4 | uint16(l)
			for i := int(reverseBits(c, l)); i < size; i += 1 << l {
				t[i] = ent
			}
		} else {
			t[reverseBits(c>>(l-tb), tb)] = entryLong
		}
	}
	// Repeat the table up to its full size.
	for ; size < len(t); size <<= 1 {
		copy(t[size:2*size], t[:size])
	}
	return true
}

// decodeLong decodes a code longer than the table from the next bits b
// (at least 15 valid), returning symbol<<4 | length, or entryBad.
func (h *huffman) decodeLong(b uint64) uint16 {
	code, first, index := 0, 0, 0
	for l := 1; l <= maxBits; l++ {
		code |= int(b & 1)
		b >>= 1
		count := int(h.count[l])
		if code-first < count {
			return h.syms[index+code-first]<<4 | uint16(l)
		}
		index += count
		first = (first + count) << 1
		code <<= 1
	}
	return entryBad
}

// inflater is the state of one decompression.
type inflater struct {
	src    []byte
	pos    int    // next byte of src to load into b
	b      uint64 // bit buffer, next bit in bit 0
	nb     uint   // bits in b
	pad    int    // zero bytes loaded past the end of src
	out    []byte // output buffer; out[:w] is dst plus what was decoded
	w      int
	start  int // len(dst): where the decompressed data begins
	maxOut int // out may not grow past this length
	dyn    *dynTables
}

// refill tops the bit buffer up to at least 56 bits, loading zero bytes
// past the end of the input; it fails once bits past the end have been
// consumed, i.e. the stream is truncated.
func (f *inflater) refill() error {
	if f.pos+8 <= len(f.src) {
		f.b |= binary.LittleEndian.Uint64(f.src[f.pos:]) << f.nb
		f.pos += int(63-f.nb) >> 3
		f.nb |= 56
		return nil
	}
	return f.refillSlow()
}

// refillSlow is refill near the end of the input.
func (f *inflater) refillSlow() error {
	if f.pad*8 > int(f.nb) {
		return ErrTruncated
	}
	for f.nb <= 56 {
		if f.pos < len(f.src) {
			f.b |= uint64(f.src[f.pos]) << f.nb
			f.pos++
		} else {
			f.pad++
		}
		f.nb += 8
	}
	return nil
}

// bits returns the next n bits (n ≤ 32, after a refill).
func (f *inflater) bits(n uint) uint32 {
	v := uint32(f.b & (1<<n - 1))
	f.b >>= n
	f.nb -= n
	return v
}

// byteAlign drops the bits up to the next byte boundary and empties the
// bit buffer back into src, leaving pos at the next unread byte.
func (f *inflater) byteAlign() error {
	f.b >>= f.nb & 7
	f.nb &^= 7
	if f.pad*8 > int(f.nb) {
		return ErrTruncated
	}
	f.pos -= int(f.nb)/8 - f.pad
	f.b, f.nb, f.pad = 0, 0, 0
	return nil
}

// grow makes room for need more bytes at w, or reports ErrTooLarge when
// that would pass maxOut.
func (f *inflater) grow(need int) error {
	want := f.w + need
	if want > f.maxOut || want < 0 {
		return ErrTooLarge
	}
	n := max(2*len(f.out), want, f.start+512)
	if n > f.maxOut {
		n = f.maxOut
	}
	nb := make([]byte, n)
	copy(nb, f.out[:f.w])
	f.out = nb
	return nil
}

// Decompress appends to dst the data of the zlib stream (RFC 1950) at the
// start of src, as CPython's zlib.decompress(src) does, and returns the
// extended slice. Bytes after the stream's Adler-32 trailer are ignored,
// as zlib.decompress ignores them.
//
// At most limit bytes are appended; a stream that holds more fails with
// ErrTooLarge, and nothing is written past len(dst)+limit (in dst's spare
// capacity or a new buffer). A negative limit means no limit.
//
// Errors wrap one of ErrHeader, ErrDictionary, ErrCorrupt, ErrTruncated,
// ErrChecksum or ErrTooLarge; on error the returned slice is dst with its
// original length (its spare capacity may have been written). Decompress
// never panics, and is safe for concurrent use.
func Decompress(dst, src []byte, limit int) ([]byte, error) {
	if len(src) < 2 {
		return dst, fmt.Errorf("pyzlib: zlib header: %w", ErrTruncated)
	}
	cmf, flg := src[0], src[1]
	switch {
	case (uint(cmf)<<8|uint(flg))%31 != 0:
		return dst, fmt.Errorf("pyzlib: incorrect header check: %w", ErrHeader)
	case cmf&0x0f != 8:
		return dst, fmt.Errorf("pyzlib: unknown compression method: %w", ErrHeader)
	case cmf>>4 > 7:
		return dst, fmt.Errorf("pyzlib: invalid window size: %w", ErrHeader)
	case flg&0x20 != 0:
		return dst, fmt.Errorf("pyzlib: %w", ErrDictionary)
	}
	out, n, err := inflate(dst, src[2:], limit)
	if err != nil {
		return dst, err
	}
	tail := src[2+n:]
	if len(tail) < 4 {
		return dst, fmt.Errorf("pyzlib: Adler-32 trailer: %w", ErrTruncated)
	}
	if binary.BigEndian.Uint32(tail) != adlerSum(1, out[len(dst):]) {
		return dst, fmt.Errorf("pyzlib: %w", ErrChecksum)
	}
	return out, nil
}

// Inflate appends to dst the data of the raw DEFLATE stream (RFC 1951) at
// the start of src and returns the extended slice and the number of bytes
// of src the stream occupies (its last byte padded). Limit and errors are
// as for Decompress (there is no header or checksum to check).
func Inflate(dst, src []byte, limit int) ([]byte, int, error) {
	out, n, err := inflate(dst, src, limit)
	if err != nil {
		return dst, 0, err
	}
	return out, n, nil
}

func inflate(dst, src []byte, limit int) ([]byte, int, error) {
	f := inflater{src: src, start: len(dst), maxOut: math.MaxInt}
	if limit >= 0 && limit <= math.MaxInt-len(dst) {
		f.maxOut = len(dst) + limit
	}
	f.out = dst[:min(cap(dst), f.maxOut)]
	f.w = len(dst)
	if len(f.out)-f.w < 64 {
		// A first guess at the size: deflate rarely does better than 4:1
		// on session-sized data.
		want := min(f.start+4*len(src)+64, f.maxOut)
		if want > len(f.out) {
			nb := make([]byte, want)
			copy(nb, dst)
			f.out = nb
		}
	}
	err := f.run()
	if f.dyn != nil {
		dynPool.Put(f.dyn)
		f.dyn = nil
	}
	if err != nil {
		return nil, 0, err
	}
	return f.out[:f.w], f.pos, nil
}

// run decodes blocks up to and including the final one, leaving pos at
// the first byte after the stream.
func (f *inflater) run() error {
	for {
		if err := f.refill(); err != nil {
			return err
		}
		hdr := f.bits(3)
		var err error
		switch hdr >> 1 {
		case 0:
			err = f.stored()
		case 1:
			err = f.codes(&fixedLit, &fixedDist)
		case 2:
			err = f.dynamic()
		default:
			err = fmt.Errorf("pyzlib: invalid block type: %w", ErrCorrupt)
		}
		if err != nil {
			return err
		}
		if hdr&1 != 0 {
			return f.byteAlign()
		}
	}
}

// stored copies a stored block (RFC 1951 §3.2.4).
func (f *inflater) stored() error {
	if err := f.byteAlign(); err != nil {
		return err
	}
	if len(f.src)-f.pos < 4 {
		return fmt.Errorf("pyzlib: stored block: %w", ErrTruncated)
	}
	n := int(binary.LittleEndian.Uint16(f.src[f.pos:]))
	if uint16(n) != ^binary.LittleEndian.Uint16(f.src[f.pos+2:]) {
		return fmt.Errorf("pyzlib: invalid stored block lengths: %w", ErrCorrupt)
	}
	f.pos += 4
	if len(f.src)-f.pos < n {
		return fmt.Errorf("pyzlib: stored block: %w", ErrTruncated)
	}
	if f.w+n > len(f.out) {
		if err := f.grow(n); err != nil {
			return err
		}
	}
	copy(f.out[f.w:], f.src[f.pos:f.pos+n])
	f.w += n
	f.pos += n
	return nil
}

// dynamic reads a dynamic block's code lengths (RFC 1951 §3.2.7) and
// decodes the block.
func (f *inflater) dynamic() error {
	if err := f.refill(); err != nil {
		return err
	}
	nlen := int(f.bits(5)) + 257
	ndist := int(f.bits(5)) + 1
	ncode := int(f.bits(4)) + 4
	if nlen > lCodes || ndist > dCodes {
		return fmt.Errorf("pyzlib: too many length or distance symbols: %w", ErrCorrupt)
	}
	if f.dyn == nil {
		f.dyn = dynPool.Get().(*dynTables)
	}
	t := f.dyn
	var clnz [blCodes]uint16
	var clCount [maxBits + 1]uint16
	var cl [blCodes]uint8
	for i := 0; i < ncode; i++ {
		if f.nb < 3 {
			if err := f.refill(); err != nil {
				return err
			}
		}
		cl[blOrder[i]] = uint8(f.bits(3))
	}
	ncl := 0
	for s, l := range cl {
		if l != 0 {
			clnz[ncl] = uint16(s)<<4 | uint16(l)
			ncl++
			clCount[l]++
		}
	}
	if !t.cl.build(clnz[:ncl], 0, &clCount, maxBLBits, true) {
		return fmt.Errorf("pyzlib: invalid code lengths set: %w", ErrCorrupt)
	}

	// Read the code lengths, keeping only the non-zero ones with their
	// counts per length.
	var litCount, distCount [maxBits + 1]uint16
	nnz, nlitNZ, eob, err := f.readLengths((*[1 << maxBLBits]uint16)(t.cl.table), &t.nz, nlen, nlen+ndist, &litCount, &distCount)
	if err != nil {
		return err
	}
	nz := t.nz[:nnz]
	if !eob {
		return fmt.Errorf("pyzlib: invalid code -- missing end-of-block: %w", ErrCorrupt)
	}
	if !t.lit.build(nz[:nlitNZ], 0, &litCount, litTableBits, false) {
		return fmt.Errorf("pyzlib: invalid literal/lengths set: %w", ErrCorrupt)
	}
	if !t.dist.build(nz[nlitNZ:], nlen, &distCount, distTableBits, false) {
		return fmt.Errorf("pyzlib: invalid distances set: %w", ErrCorrupt)
	}
	return f.codes(&t.lit, &t.dist)
}

// codes decodes the symbols of a Huffman-coded block up to its end: a
// fast loop while nothing unusual happens, one careful step otherwise.
func (f *inflater) codes(lit, dist *huffman) error {
	lt := (*[1 << litTableBits]uint16)(lit.table)
	dt := (*[1 << distTableBits]uint16)(dist.table)
	for {
		var st int
		var w int
		f.pos, f.b, f.nb, w, st = fastCodes(lt, dt, f.src, f.pos, f.b, f.nb, f.out[f.start:], f.w-f.start)
		f.w = f.start + w
		if st == fastEOB {
			return nil
		}
		done, err := f.slowSymbol(lit, dist)
		if done || err != nil {
			return err
		}
	}
}

const (
	fastStop = iota // the next symbol needs slowSymbol
	fastEOB         // end of block reached and consumed
)

// fastCodes decodes symbols into out[w:] (out holds this stream's output
// only) while the input has 8 bytes to load, the output has room, and
// codes fit the tables; it returns at the first symbol that needs more
// care (left unconsumed) or after end-of-block. It makes no calls, so its
// state can stay in registers.
func fastCodes(lt *[1 << litTableBits]uint16, dt *[1 << distTableBits]uint16,
	src []byte, pos int, b uint64, nb uint, out []byte, w int) (int, uint64, uint, int, int) {
	for {
		if nb < 48 {
			if pos+8 > len(src) {
				return pos, b, nb, w, fastStop
			}
			b |= binary.LittleEndian.Uint64(src[pos:]) << nb
			pos += int(63-nb) >> 3
			nb |= 56
		}
		e := lt[b&(1<<litTableBits-1)]
		if e < 256<<4 { // a literal
			if w >= len(out) {
				return pos, b, nb, w, fastStop
			}
			b >>= e & 15
			nb -= uint(e & 15)
			out[w] = byte(e >> 4)
			w++
			continue
		}
		sym := int(e >> 4) // long or invalid entries give sym >= 1024
		if sym == endBlock {
			return pos, b >> (e & 15), nb - uint(e&15), w, fastEOB
		}
		if sym >= lCodes {
			return pos, b, nb, w, fastStop
		}
		bb := b >> (e & 15)
		used := uint(e & 15)
		info := lenInfo[(sym-literals-1)&31]
		x := info & 15
		length := int(info>>4) + int(bb&(1<<x-1))
		bb >>= x
		used += uint(x)

		e = dt[bb&(1<<distTableBits-1)]
		dsym := int(e >> 4)
		if dsym >= dCodes {
			return pos, b, nb, w, fastStop
		}
		bb >>= e & 15
		used += uint(e & 15)
		info = distInfo[dsym&31]
		x = info & 15
		d := int(info>>4) + int(bb&(1<<x-1))
		used += uint(x)

		if d > w || w+length > len(out) {
			return pos, b, nb, w, fastStop
		}
		b >>= used
		nb -= used
		if d >= 8 && w+length+8 <= len(out) {
			for i := 0; i < length; i += 8 {
				binary.LittleEndian.PutUint64(out[w+i:], binary.LittleEndian.Uint64(out[w-d+i:]))
			}
		} else {
			o := out[w-d : w+length]
			for i := range length {
				o[d+i] = o[i]
			}
		}
		w += length
	}
}

// readLengths reads the total code lengths of a dynamic block with the
// code-length code clt (RFC 1951 §3.2.7) and lists the non-zero ones in
// nz as index<<4 | length, counting them per length for the nlen
// literal/length codes and the distance codes. It returns how many it
// listed, how many of those are literal/length codes, and whether
// end-of-block has a code. Written without calls so that its state stays
// in registers.
func (f *inflater) readLengths(clt *[1 << maxBLBits]uint16, nz *[512]uint16, nlen, total int,
	litCount, distCount *[maxBits + 1]uint16) (int, int, bool, error) {
	src := f.src
	b, nb, pos, pad := f.b, f.nb, f.pos, f.pad
	k, nlit := 0, 0
	prev := uint16(0)
	eob := false
	for i := 0; i < total; {
		if nb < 16 {
			if pos+8 <= len(src) {
				b |= binary.LittleEndian.Uint64(src[pos:]) << nb
				pos += int(63-nb) >> 3
				nb |= 56
			} else {
				if pad*8 > int(nb) {
					return 0, 0, false, ErrTruncated
				}
				for ; nb <= 56; nb += 8 {
					if pos < len(src) {
						b |= uint64(src[pos]) << nb
						pos++
					} else {
						pad++
					}
				}
			}
		}
		e := clt[b&(1<<maxBLBits-1)]
		b >>= e & 15
		nb -= uint(e & 15)
		sym := e >> 4
		rep := 1
		switch {
		case sym < 16:
			prev = sym
		case sym == rep3to6:
			if i == 0 {
				return 0, 0, false, errBadRepeat
			}
			rep = 3 + int(b&3)
			b >>= 2
			nb -= 2
		case sym == repz3to10:
			prev = 0
			rep = 3 + int(b&7)
			b >>= 3
			nb -= 3
		default:
			prev = 0
			rep = 11 + int(b&0x7f)
			b >>= 7
			nb -= 7
		}
		if i+rep > total {
			return 0, 0, false, errBadRepeat
		}
		if prev == 0 {
			i += rep
			continue
		}
		for ; rep > 0; rep-- {
			nz[k&511] = uint16(i)<<4 | prev
			k++
			if i < nlen {
				litCount[prev&15]++
				nlit++
				eob = eob || i == endBlock
			} else {
				distCount[prev&15]++
			}
			i++
		}
	}
	f.b, f.nb, f.pos, f.pad = b, nb, pos, pad
	return k, nlit, eob, nil
}

var (
	errBadRepeat = fmt.Errorf("pyzlib: invalid bit length repeat: %w", ErrCorrupt)
	errBadLit    = fmt.Errorf("pyzlib: invalid literal/length code: %w", ErrCorrupt)
	errBadDist   = fmt.Errorf("pyzlib: invalid distance code: %w", ErrCorrupt)
	errFar       = fmt.Errorf("pyzlib: invalid distance too far back: %w", ErrCorrupt)
)

// slowSymbol decodes one symbol with every check: refilling past the end
// of the input, growing the output, long codes, invalid codes. It reports
// true at end of block.
func (f *inflater) slowSymbol(lit, dist *huffman) (bool, error) {
	if f.nb < 48 {
		if err := f.refill(); err != nil {
			return false, err
		}
	}
	e := lit.table[f.b&(1<<litTableBits-1)]
	if e&entryLong != 0 {
		e = lit.decodeLong(f.b)
	}
	f.b >>= e & 15
	f.nb -= uint(e & 15)
	sym := int(e >> 4)
	switch {
	case sym < 256:
		if f.w >= len(f.out) {
			if err := f.grow(1); err != nil {
				return false, err
			}
		}
		f.out[f.w] = byte(sym)
		f.w++
		return false, nil
	case sym == endBlock:
		return true, nil
	case sym >= lCodes:
		return false, errBadLit
	}
	info := lenInfo[sym-literals-1]
	length := int(info>>4) + int(f.bits(uint(info&15)))

	e = dist.table[f.b&(1<<distTableBits-1)]
	if e&entryLong != 0 {
		e = dist.decodeLong(f.b)
	}
	f.b >>= e & 15
	f.nb -= uint(e & 15)
	dsym := int(e >> 4)
	if dsym >= dCodes {
		return false, errBadDist
	}
	info = distInfo[dsym]
	d := int(info>>4) + int(f.bits(uint(info&15)))
	if d > f.w-f.start {
		return false, errFar
	}
	if f.w+length > len(f.out) {
		if err := f.grow(length); err != nil {
			return false, err
		}
	}
	o := f.out[f.w-d : f.w+length]
	for i := range length {
		o[d+i] = o[i]
	}
	f.w += length
	return false, nil
}
