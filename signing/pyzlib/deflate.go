package pyzlib

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"sync"
)

// The compressor reproduces zlib's deflate (the library CPython's zlib
// module links) for windowBits 15, memLevel 8 and the default strategy:
// the same window management, hash chains, lazy matching and block
// boundaries, so that with trees.go the output is byte-identical to
// zlib.compress(data, level). Only the one-shot case is needed: all input
// is present from the start and the stream is finished at once
// (deflate(Z_FINISH)), which is what zlib.compress and
// compressobj().compress()+flush() do.

const (
	wBits        = 15
	wSize        = 1 << wBits
	wMask        = wSize - 1
	windowSize   = 2 * wSize
	hashBits     = 15 // memLevel 8 + 7
	hashSize     = 1 << hashBits
	hashMask     = hashSize - 1
	hashShift    = (hashBits + minMatch - 1) / minMatch // 5
	minLookahead = maxMatch + minMatch + 1              // 262
	maxDist      = wSize - minLookahead                 // farthest match
	tooFar       = 4096                                 // length-3 matches farther than this are dropped
	litBufSize   = 1 << (8 + 6)                         // memLevel 8
	symEnd       = litBufSize - 1                       // symbols per block
	winInit      = maxMatch                             // bytes zeroed past the data
	touchedSize  = 4096                                 // hash heads remembered for release
	winMask      = 2*windowSize - 1                     // see deflater.window
)

// config is one row of zlib's level table.
type config struct {
	good, lazy, nice, chain int
	slow                    bool // lazy matching (deflate_slow) or not (deflate_fast)
}

// configs is zlib's configuration table for levels 1..9. For the fast
// levels "lazy" is the longest match whose strings are all inserted in
// the hash table.
var configs = [10]config{
	1: {4, 4, 8, 4, false},
	2: {4, 5, 16, 8, false},
	3: {4, 6, 32, 32, false},
	4: {4, 4, 16, 16, true},
	5: {8, 16, 32, 32, true},
	6: {8, 16, 128, 128, true},
	7: {8, 32, 128, 256, true},
	8: {32, 128, 258, 1024, true},
	9: {32, 258, 258, 4096, true},
}

// deflater is the whole compressor state. It is large (about 250 KB) and
// kept in a pool; between uses its hash heads are all zero and its
// frequencies cleared.
type deflater struct {
	// window holds input: up to 64 KB, sliding by 32 KB. It is padded to
	// twice that so that indexes masked with winMask need no bounds checks
	// (and words can be loaded past the data).
	window [2 * windowSize]byte
	prev   [wSize]uint16    // previous position with the same hash, by position & wMask
	head   [hashSize]uint16 // most recent position per hash; 0 = none

	in  []byte // input not yet copied into the window
	cfg config

	strstart, blockStart, lookahead int
	matchStart, matchLength         int
	matchAvailable                  bool
	highWater                       int
	slid                            bool // the window has slid (hash heads must all be cleared)
	filled                          bool // fillWindow ran with all input read

	// touched records the hash heads set, modulo its size, for release.
	touched  [touchedSize]uint16
	nTouched int

	symDist [litBufSize]uint16 // 0 for a literal, else the match distance
	symLC   [litBufSize]uint8  // literal, or match length − 3
	symNext int

	dynLTree  [heapSize]ctData
	dynDTree  [2*dCodes + 1]ctData
	blTree    [2*blCodes + 1]ctData
	lDesc     treeDesc
	dDesc     treeDesc
	blDesc    treeDesc
	heap      [heapMask + 1]uint64 // see heapKey; 2*lCodes+1 used
	lUsed     [(lCodes + 63) / 64]uint64
	dUsed     [1]uint64
	blUsed    [1]uint64
	runs      [2*(lCodes+dCodes) + 2]uint32 // code-length runs, see makeRuns
	lRuns     int                           // runs[:lRuns]: literal/length tree
	dRuns     int                           // runs[lRuns:dRuns]: distance tree
	heapMax   int
	optLen    int
	staticLen int

	bw bitWriter // the output: dst, then what is written
}

var deflaterPool = sync.Pool{New: func() any {
	d := new(deflater)
	d.initTrees()
	return d
}}

// Compress appends to dst the zlib stream (RFC 1950) that CPython's
// zlib.compress(src, level) returns with the system zlib 1.2.x/1.3.x
// (windowBits 15, memLevel 8, default strategy), and returns the extended
// slice. Level is -1 (meaning 6, Z_DEFAULT_COMPRESSION) or 0..9; Django's
// signing.dumps(compress=True) uses 6 (spec §2.6).
//
// For levels 1..9 the output is byte-identical to CPython's for every
// input. Level 0 writes stored blocks split as CPython's are for inputs up
// to 300 KB (beyond, CPython's split depends on how its output buffer
// grows); it is always a valid stream.
//
// The only error is ErrLevel. Compress is safe for concurrent use.
func Compress(dst, src []byte, level int) ([]byte, error) {
	if level == -1 {
		level = 6
	}
	if level < 0 || level > 9 {
		return dst, fmt.Errorf("pyzlib: level %d: %w", level, ErrLevel)
	}
	var flags uint16
	switch {
	case level < 2:
		flags = 0
	case level < 6:
		flags = 1
	case level == 6:
		flags = 2
	default:
		flags = 3
	}
	hdr := uint16(8+(wBits-8)<<4)<<8 | flags<<6
	hdr += 31 - hdr%31
	dst = growFor(dst, len(src)+6) // with header and trailer
	dst = binary.BigEndian.AppendUint16(dst, hdr)
	dst = deflateTo(dst, src, level)
	return binary.BigEndian.AppendUint32(dst, adlerSum(1, src)), nil
}

// Deflate appends to dst the raw DEFLATE data (RFC 1951, no zlib header
// or trailer) that zlib produces at level with windowBits 15, memLevel 8:
// the body of Compress's output. For levels 1..9 it is also what CPython
// writes in raw or gzip form (zlib.compressobj(level, DEFLATED, -15)
// .compress(src)+flush(), the body of gzip.compress); at level 0 the
// stored-block split is Compress's, which a raw CPython stream may not
// share. Level is -1 (6) or 0..9; the only error is ErrLevel.
func Deflate(dst, src []byte, level int) ([]byte, error) {
	if level == -1 {
		level = 6
	}
	if level < 0 || level > 9 {
		return dst, fmt.Errorf("pyzlib: level %d: %w", level, ErrLevel)
	}
	return deflateTo(dst, src, level), nil
}

// deflateTo appends the DEFLATE body for src.
func deflateTo(dst, src []byte, level int) []byte {
	if level == 0 {
		return deflateStored(dst, src)
	}
	dst = growFor(dst, len(src))
	d := deflaterPool.Get().(*deflater)
	d.reset(dst, src, level)
	if d.cfg.slow {
		d.deflateSlow()
	} else {
		d.deflateFast()
	}
	out := d.bw.buf[:d.bw.n]
	d.release()
	deflaterPool.Put(d)
	return out
}

// growFor gives dst room for the compressed form of n bytes in the usual
// case (the output is at most a little larger than the input: stored
// blocks), with header, trailer and the bit writer's spare bytes, so that
// one allocation at most is made.
func growFor(dst []byte, n int) []byte {
	if need := n + n>>8 + 64; cap(dst)-len(dst) < need {
		nd := make([]byte, len(dst), len(dst)+need)
		copy(nd, dst)
		dst = nd
	}
	return dst
}

// deflateStored writes src as stored blocks (level 0), the last one
// final, split where zlib.compress(src, 0) splits them: zlib's
// deflate_stored first fills its 64 KB pending buffer (a 65531-byte
// block), and how much it writes next depends on the output space CPython
// gives it, which comes out as 32773 bytes, then 65535 per block. The
// split matches CPython's up to 294909+65507 bytes at least (tested to
// 300 KB); past that CPython's buffer growth changes it. Any split is a
// valid stream.
func deflateStored(dst, src []byte) []byte {
	for i := 0; ; i++ {
		limit := 65535
		switch i {
		case 0:
			limit = 65531
		case 1:
			limit = 32773
		}
		n := len(src)
		last := true
		if n > limit {
			n, last = limit, false
		}
		dst = append(dst, byte(b2i(last)))
		dst = binary.LittleEndian.AppendUint16(dst, uint16(n))
		dst = binary.LittleEndian.AppendUint16(dst, ^uint16(n))
		dst = append(dst, src[:n]...)
		src = src[n:]
		if last {
			return dst
		}
	}
}

// reset prepares a pooled state for one stream (zlib's lm_init).
func (d *deflater) reset(out, in []byte, level int) {
	d.bw = bitWriter{buf: out[:cap(out)], n: len(out)}
	d.in = in
	d.cfg = configs[level]
	d.strstart, d.blockStart, d.lookahead = 0, 0, 0
	d.matchStart = 0
	d.matchLength = minMatch - 1 // and prev_length, a local of the loops
	d.matchAvailable = false
	d.highWater = 0
	d.slid = false
	d.filled = false
	d.nTouched = 0
}

// release returns the state to its clean between-uses form: every hash
// head zero. After short inputs only the heads recorded in touched are
// cleared.
func (d *deflater) release() {
	if d.slid || d.nTouched > touchedSize {
		clear(d.head[:])
	} else {
		for _, h := range d.touched[:d.nTouched] {
			d.head[h&hashMask] = 0
		}
	}
	d.in = nil
	d.bw = bitWriter{}
}

// hash3 is zlib's rolling hash after three updates: it depends on exactly
// the three bytes at p (5-bit shift, 15-bit mask).
func hash3(w []byte, p int) int {
	_ = w[p+2]
	return (int(w[p])<<(2*hashShift) ^ int(w[p+1])<<hashShift ^ int(w[p+2])) & hashMask
}

// insert adds position p to its hash chain and returns the previous head
// of that chain (zlib's INSERT_STRING). The hash is that of the three
// bytes at p (see hash3), computed from one 4-byte load.
func (d *deflater) insert(p int) int {
	v := binary.LittleEndian.Uint32(d.window[p&(windowSize-1):])
	h := (v<<(2*hashShift) ^ (v>>8&0xff)<<hashShift ^ v>>16&0xff) & hashMask
	head := d.head[h]
	d.prev[p&wMask] = head
	d.head[h] = uint16(p)
	d.touched[d.nTouched&(touchedSize-1)] = uint16(h)
	d.nTouched++
	return int(head)
}

// fillWindow reads input into the window when lookahead is short, sliding
// the window down by 32 KB when the current position is in its top part
// (zlib's fill_window, including its zeroing of the bytes past the data).
func (d *deflater) fillWindow() {
	for {
		more := windowSize - d.lookahead - d.strstart
		if d.strstart >= wSize+maxDist {
			copy(d.window[:wSize-more], d.window[wSize:2*wSize-more])
			d.matchStart -= wSize
			d.strstart -= wSize
			d.blockStart -= wSize
			d.slideHash()
			more += wSize
		}
		if len(d.in) == 0 {
			break
		}
		pos := d.strstart + d.lookahead
		n := copy(d.window[pos:pos+more], d.in)
		d.in = d.in[n:]
		d.lookahead += n
		if d.lookahead >= minLookahead || len(d.in) == 0 {
			break
		}
	}

	d.filled = len(d.in) == 0
	if d.highWater < windowSize {
		curr := d.strstart + d.lookahead
		if d.highWater < curr {
			init := min(windowSize-curr, winInit)
			clear(d.window[curr : curr+init])
			d.highWater = curr + init
		} else if d.highWater < curr+winInit {
			init := min(curr+winInit-d.highWater, windowSize-d.highWater)
			clear(d.window[d.highWater : d.highWater+init])
			d.highWater += init
		}
	}
}

// fillNeeded reports whether fillWindow would change anything. Once the
// input is all in the window, a call only slides (when strstart is high)
// or zeroes past the data end, which its previous call already did for
// the same end (strstart+lookahead stays put while no input is added).
func (d *deflater) fillNeeded() bool {
	return len(d.in) != 0 || !d.filled || d.strstart >= wSize+maxDist
}

// slideHash moves every stored position down by wSize; positions that
// leave the window become "none".
func (d *deflater) slideHash() {
	d.slid = true
	for i, m := range d.head {
		if m >= wSize {
			d.head[i] = m - wSize
		} else {
			d.head[i] = 0
		}
	}
	for i, m := range d.prev {
		if m >= wSize {
			d.prev[i] = m - wSize
		} else {
			d.prev[i] = 0
		}
	}
}

// longestMatch follows the hash chain from cur and returns the length of
// the longest match with the string at s, counting only matches longer
// than prevLength, and where it starts (start is returned unchanged when
// no longer match is found). It is zlib's longest_match, with its chain,
// good and nice limits and its reading of the bytes past the data.
func (d *deflater) longestMatch(cur, s, prevLength, lookahead, start int) (int, int) {
	chain := d.cfg.chain
	best := prevLength
	nice := d.cfg.nice
	limit := 0
	if s > maxDist {
		limit = s - maxDist
	}
	if prevLength >= d.cfg.good {
		chain >>= 2
	}
	if nice > lookahead {
		nice = lookahead
	}
	w := &d.window
	prev := &d.prev
	// zlib compares match[best], match[best-1], match[0], match[1]
	// before the full comparison: the same tests, two bytes at a time.
	scanEnd := binary.LittleEndian.Uint16(w[(s+best-1)&winMask:])
	scan01 := binary.LittleEndian.Uint16(w[s&winMask:])
	for {
		if binary.LittleEndian.Uint16(w[(cur+best-1)&winMask:]) == scanEnd &&
			binary.LittleEndian.Uint16(w[cur&winMask:]) == scan01 {
			l := matchLen(w, s, cur)
			if l > best {
				start = cur
				best = l
				if l >= nice {
					break
				}
				scanEnd = binary.LittleEndian.Uint16(w[(s+best-1)&winMask:])
			}
		}
		cur = int(prev[cur&wMask])
		if cur <= limit {
			break
		}
		chain--
		if chain == 0 {
			break
		}
	}
	return min(best, lookahead), start
}

// matchLen returns the length of the common prefix of the strings at s
// and m, capped at maxMatch, given that their first two bytes are equal;
// byte 2 is not compared (equal hashes make it equal), as in zlib.
func matchLen(w *[2 * windowSize]byte, s, m int) int {
	x := binary.LittleEndian.Uint64(w[(s+2)&winMask:]) ^ binary.LittleEndian.Uint64(w[(m+2)&winMask:])
	x &^= 0xff
	i := 2
	for {
		if x != 0 {
			return i + trailingZeroBytes(x)
		}
		i += 8
		if i >= maxMatch {
			return maxMatch
		}
		x = binary.LittleEndian.Uint64(w[(s+i)&winMask:]) ^ binary.LittleEndian.Uint64(w[(m+i)&winMask:])
	}
}

// tallyLit records a literal; it reports whether the block is full.
func (d *deflater) tallyLit(c byte) bool {
	d.symDist[d.symNext] = 0
	d.symLC[d.symNext] = c
	d.symNext++
	d.dynLTree[c].freq++
	d.lUsed[c>>6] |= 1 << (c & 63)
	return d.symNext == symEnd
}

// tallyDist records a match of length lc+3 at distance dist; it reports
// whether the block is full.
func (d *deflater) tallyDist(dist, lc int) bool {
	d.symDist[d.symNext] = uint16(dist)
	d.symLC[d.symNext] = uint8(lc)
	d.symNext++
	ls := int(lengthCode[lc]) + literals + 1
	dc := dCode(dist - 1)
	d.dynLTree[ls].freq++
	d.dynDTree[dc].freq++
	d.lUsed[ls>>6] |= 1 << (ls & 63)
	d.dUsed[0] |= 1 << (dc & 63)
	return d.symNext == symEnd
}

// flush ends the current block at strstart.
func (d *deflater) flush(last bool) {
	var buf []byte
	if d.blockStart >= 0 {
		buf = d.window[d.blockStart:d.strstart]
	}
	d.flushBlock(buf, last)
	d.blockStart = d.strstart
}

// deflateSlow is zlib's deflate_slow (levels 4..9): a match is emitted
// only if the match starting at the next byte is not longer.
func (d *deflater) deflateSlow() {
	strstart, lookahead := d.strstart, d.lookahead
	matchLength, matchStart := d.matchLength, d.matchStart
	matchAvailable := d.matchAvailable
	lazy := d.cfg.lazy
	w := &d.window
	for {
		if lookahead < minLookahead {
			if len(d.in) != 0 || !d.filled || strstart >= wSize+maxDist {
				d.strstart, d.lookahead, d.matchStart = strstart, lookahead, matchStart
				d.fillWindow()
				strstart, lookahead, matchStart = d.strstart, d.lookahead, d.matchStart
			}
			if lookahead == 0 {
				break
			}
		}
		hashHead := 0
		if lookahead >= minMatch {
			hashHead = d.insert(strstart)
		}
		prevLength, prevMatch := matchLength, matchStart
		matchLength = minMatch - 1

		if hashHead != 0 && prevLength < lazy && strstart-hashHead <= maxDist {
			matchLength, matchStart = d.longestMatch(hashHead, strstart, prevLength, lookahead, matchStart)
			if matchLength == minMatch && strstart-matchStart > tooFar {
				matchLength = minMatch - 1
			}
		}

		if prevLength >= minMatch && matchLength <= prevLength {
			maxInsert := strstart + lookahead - minMatch
			bflush := d.tallyDist(strstart-1-prevMatch, prevLength-minMatch)
			lookahead -= prevLength - 1
			for n := prevLength - 2; n > 0; n-- {
				strstart++
				if strstart <= maxInsert {
					d.insert(strstart)
				}
			}
			matchAvailable = false
			matchLength = minMatch - 1
			strstart++
			if bflush {
				d.strstart = strstart
				d.flush(false)
			}
		} else if matchAvailable {
			if d.tallyLit(w[(strstart-1)&(windowSize-1)]) {
				d.strstart = strstart
				d.flush(false)
			}
			strstart++
			lookahead--
		} else {
			matchAvailable = true
			strstart++
			lookahead--
		}
	}
	if matchAvailable {
		d.tallyLit(w[(strstart-1)&(windowSize-1)])
	}
	d.strstart, d.lookahead = strstart, lookahead
	d.matchLength, d.matchStart, d.matchAvailable = matchLength, matchStart, false
	d.flush(true)
}

// deflateFast is zlib's deflate_fast (levels 1..3): greedy matching, and
// the strings inside long matches are not inserted.
func (d *deflater) deflateFast() {
	strstart, lookahead := d.strstart, d.lookahead
	matchLength, matchStart := d.matchLength, d.matchStart
	maxInsertLength := d.cfg.lazy
	w := &d.window
	for {
		if lookahead < minLookahead {
			if len(d.in) != 0 || !d.filled || strstart >= wSize+maxDist {
				d.strstart, d.lookahead, d.matchStart = strstart, lookahead, matchStart
				d.fillWindow()
				strstart, lookahead, matchStart = d.strstart, d.lookahead, d.matchStart
			}
			if lookahead == 0 {
				break
			}
		}
		hashHead := 0
		if lookahead >= minMatch {
			hashHead = d.insert(strstart)
		}
		if hashHead != 0 && strstart-hashHead <= maxDist {
			// prev_length stays MIN_MATCH-1 at these levels.
			matchLength, matchStart = d.longestMatch(hashHead, strstart, minMatch-1, lookahead, matchStart)
		}
		var bflush bool
		if matchLength >= minMatch {
			bflush = d.tallyDist(strstart-matchStart, matchLength-minMatch)
			lookahead -= matchLength
			if matchLength <= maxInsertLength && lookahead >= minMatch {
				for n := matchLength - 1; n > 0; n-- {
					strstart++
					d.insert(strstart)
				}
				strstart++
			} else {
				strstart += matchLength
			}
			matchLength = 0
		} else {
			bflush = d.tallyLit(w[strstart&(windowSize-1)])
			lookahead--
			strstart++
		}
		if bflush {
			d.strstart = strstart
			d.flush(false)
		}
	}
	d.strstart, d.lookahead = strstart, lookahead
	d.matchLength, d.matchStart = matchLength, matchStart
	d.flush(true)
}

// trailingZeroBytes returns the index of the lowest non-zero byte of x.
func trailingZeroBytes(x uint64) int { return bits.TrailingZeros64(x) >> 3 }
