package pyzlib

import (
	"encoding/binary"
	"math/bits"
)

// This file decides how each block is coded and writes it, making the same
// choices as zlib's trees.c so that the bits come out identical: Huffman
// trees built with a heap whose ties are broken by subtree depth, lengths
// over the limit repaired by moving leaves down, canonical codes, the
// stored / fixed / dynamic choice from the computed bit counts, and the
// code-length run-length coding of RFC 1951 §3.2.7.

// ctData is one node of a Huffman tree.
type ctData struct {
	freq uint16 // frequency (leaf or internal node)
	code uint16 // code, bit-reversed so it can be sent LSB first
	dad  uint16 // parent node, while building
	len  uint16 // code length
}

// treeDesc describes one dynamic tree and its static counterpart.
type treeDesc struct {
	tree      []ctData
	maxCode   int      // largest code with a non-zero frequency
	stree     []ctData // the fixed-code tree, nil for the code-length tree
	extra     []uint8  // extra bits per code, from code number base
	base      int
	elems     int                 // number of leaves
	maxLength int                 // longest code allowed
	blCount   [maxBits + 1]uint16 // codes per length, from genBitlen
	used      []uint64            // bitmap of the leaves with a non-zero frequency
}

// initTrees wires the tree descriptors to the state's arrays.
func (d *deflater) initTrees() {
	d.lDesc = treeDesc{tree: d.dynLTree[:], stree: staticLTree[:], extra: extraLBits[:], base: literals + 1, elems: lCodes, maxLength: maxBits, used: d.lUsed[:]}
	d.dDesc = treeDesc{tree: d.dynDTree[:], stree: staticDTree[:], extra: extraDBits[:], base: 0, elems: dCodes, maxLength: maxBits, used: d.dUsed[:]}
	d.blDesc = treeDesc{tree: d.blTree[:], extra: extraBLBits[:], base: 0, elems: blCodes, maxLength: maxBLBits, used: d.blUsed[:]}
	d.lDesc.maxCode, d.dDesc.maxCode = -1, -1
	d.initBlock()
}

// initBlock clears the frequencies for a new block. Between blocks every
// leaf not in a used bitmap has frequency 0 and length 0, so only the used
// ones are cleared.
func (d *deflater) initBlock() {
	for _, desc := range [...]*treeDesc{&d.lDesc, &d.dDesc, &d.blDesc} {
		tree := desc.tree
		for i, m := range desc.used {
			for m != 0 {
				n := i<<6 | bits.TrailingZeros64(m)
				m &= m - 1
				tree[n].freq = 0
				tree[n].len = 0
			}
			desc.used[i] = 0
		}
	}
	d.dynLTree[endBlock].freq = 1
	d.lUsed[endBlock>>6] |= 1 << (endBlock & 63)
	d.optLen, d.staticLen = 0, 0
	d.symNext = 0
}

// Heap entries pack a node's sort key above its number: key = freq<<8 |
// depth, so key order is zlib's smaller(): lower frequency first, equal
// frequencies by depth, and equal keys count as "smaller" (<=), which
// decides ties exactly as zlib's heap does.
const (
	heapNodeBits = 16
	heapMask     = 1023 // the heap array is padded to 1024 entries
)

func heapKey(e uint64) uint64 { return e >> heapNodeBits }
func heapNode(e uint64) int   { return int(e & (1<<heapNodeBits - 1)) }

// siftDown restores the heap property of heap[1..n] from position k
// downwards (zlib's pqdownheap). heap[n+1] must hold heapSentinel, so a
// node with one child needs no bounds test.
//
// heapKey(a) <= heapKey(b) is computed as a <= b|nodeMask.
func siftDown(heap *[heapMask + 1]uint64, k, n int) {
	const nodeMask = 1<<heapNodeBits - 1
	v := heap[k&heapMask]
	for j := k << 1; j <= n; j <<= 1 {
		hj := heap[j&heapMask]
		if hr := heap[(j+1)&heapMask]; hr <= hj|nodeMask {
			j++
			hj = hr
		}
		if v <= hj|nodeMask {
			break
		}
		heap[k&heapMask] = hj
		k = j
	}
	heap[k&heapMask] = v
}

// heapSentinel sorts after every node.
const heapSentinel = ^uint64(0)

// buildTree builds the Huffman tree of desc, sets the code lengths and
// adds the block's cost in bits to optLen and staticLen. Codes are made
// later, by genCodes, only if the block is sent with dynamic trees.
func (d *deflater) buildTree(desc *treeDesc) {
	tree := desc.tree
	stree := desc.stree
	elems := desc.elems
	maxCode := -1
	heap := &d.heap

	// Leaves in increasing order (unused ones have length 0 already).
	hl := 0
	for i, m := range desc.used {
		for m != 0 {
			n := i<<6 | bits.TrailingZeros64(m)
			m &= m - 1
			hl++
			heap[hl&heapMask] = uint64(tree[n].freq)<<(8+heapNodeBits) | uint64(n)
			maxCode = n
		}
	}

	// At least two codes of non-zero frequency, so that every tree has
	// at least one bit per code.
	for hl < 2 {
		node := 0
		if maxCode < 2 {
			maxCode++
			node = maxCode
		}
		hl++
		heap[hl] = 1<<(8+heapNodeBits) | uint64(node)
		tree[node].freq = 1
		desc.used[node>>6] |= 1 << (node & 63)
		d.optLen--
		if stree != nil {
			d.staticLen -= int(stree[node].len)
		}
	}
	desc.maxCode = maxCode

	heap[(hl+1)&heapMask] = heapSentinel
	for n := hl / 2; n >= 1; n-- {
		siftDown(heap, n, hl)
	}

	// The sorted nodes go to heap[heapMax:], which stays above the
	// sentinel: hl+1 < heapMax throughout.
	node := elems
	heapMax := heapSize
	for {
		// n = least frequent node, m = the next.
		n := heap[1]
		heap[1] = heap[hl&heapMask]
		heap[hl&heapMask] = heapSentinel
		hl--
		siftDown(heap, 1, hl)
		m := heap[1]

		heapMax -= 2
		heap[(heapMax+1)&heapMask] = n
		heap[heapMax&heapMask] = m

		kn, km := heapKey(n), heapKey(m)
		freq := kn>>8 + km>>8
		depth := max(kn&0xff, km&0xff) + 1
		tree[node].freq = uint16(freq)
		tree[heapNode(n)].dad = uint16(node)
		tree[heapNode(m)].dad = uint16(node)
		heap[1] = (freq<<8|depth&0xff)<<heapNodeBits | uint64(node)
		node++
		siftDown(heap, 1, hl)
		if hl < 2 {
			break
		}
	}
	heapMax--
	heap[heapMax&heapMask] = heap[1]
	d.heapMax = heapMax

	d.genBitlen(desc)
}

// genBitlen computes code lengths from the tree in heap[heapMax:],
// limiting them to desc.maxLength, and counts the block's cost.
func (d *deflater) genBitlen(desc *treeDesc) {
	tree := desc.tree
	maxCode := desc.maxCode
	stree := desc.stree
	extra := desc.extra
	base := desc.base
	maxLength := desc.maxLength
	overflow := 0

	blCount := &desc.blCount
	*blCount = [maxBits + 1]uint16{}

	heap := &d.heap
	tree[heapNode(heap[d.heapMax&heapMask])].len = 0 // the root
	h := d.heapMax + 1
	for ; h < heapSize; h++ {
		n := heapNode(heap[h&heapMask])
		bits := int(tree[tree[n].dad].len) + 1
		if bits > maxLength {
			bits = maxLength
			overflow++
		}
		tree[n].len = uint16(bits)
		if n > maxCode {
			continue // internal node
		}
		blCount[bits]++
		xbits := 0
		if n >= base {
			xbits = int(extra[n-base])
		}
		f := int(tree[n].freq)
		d.optLen += f * (bits + xbits)
		if stree != nil {
			d.staticLen += f * (int(stree[n].len) + xbits)
		}
	}
	if overflow == 0 {
		return
	}

	// Move leaves down until the counts describe a valid code.
	for {
		bits := maxLength - 1
		for blCount[bits] == 0 {
			bits--
		}
		blCount[bits]--
		blCount[bits+1] += 2
		blCount[maxLength]--
		overflow -= 2
		if overflow <= 0 {
			break
		}
	}

	// Reassign lengths in increasing frequency order.
	for bits := maxLength; bits != 0; bits-- {
		n := int(blCount[bits])
		for n != 0 {
			h--
			m := heapNode(heap[h&heapMask])
			if m > maxCode {
				continue
			}
			if int(tree[m].len) != bits {
				d.optLen += (bits - int(tree[m].len)) * int(tree[m].freq)
				tree[m].len = uint16(bits)
			}
			n--
		}
	}
}

// genCodes assigns canonical codes (RFC 1951 §3.2.2) to tree[0..maxCode]
// from their lengths and the per-length counts.
func genCodes(tree []ctData, maxCode int, blCount *[maxBits + 1]uint16) {
	var next [maxBits + 1]uint16
	code := uint16(0)
	for bits := 1; bits <= maxBits; bits++ {
		code = (code + blCount[bits-1]) << 1
		next[bits] = code
	}
	for n := 0; n <= maxCode; n++ {
		l := tree[n].len
		if l == 0 {
			continue
		}
		tree[n].code = reverseBits(next[l], uint(l))
		next[l]++
	}
}

// genCodes is genCodes for the used leaves of a dynamic tree (the only
// ones with a non-zero length).
func (desc *treeDesc) genCodes() {
	var next [maxBits + 1]uint16
	code := uint16(0)
	for bits := 1; bits <= maxBits; bits++ {
		code = (code + desc.blCount[bits-1]) << 1
		next[bits] = code
	}
	tree := desc.tree
	for i, m := range desc.used {
		for m != 0 {
			n := i<<6 | bits.TrailingZeros64(m)
			m &= m - 1
			l := tree[n].len & 15
			tree[n].code = reverseBits(next[l], uint(l))
			next[l]++
		}
	}
}

// The code lengths of the literal/length and distance trees are sent
// run-length coded (RFC 1951 §3.2.7). zlib's scan_tree/send_tree walk
// every length; runs of equal lengths come out as fixed chunks, so here
// the lengths are first cut into maximal runs (from the used-leaf bitmap:
// unused leaves have length 0) and each run is coded as zlib codes it:
//
//   - zeros: chunks of up to 138; a chunk of 1–2 is sent as that many 0
//     codes, 3–10 as code 17, 11–138 as code 18;
//   - a length v != 0: a first chunk of up to 7, sent as v repeated when
//     under 4, else v once and code 16 for the rest; then chunks of up to
//     6, sent as v repeated when under 3, else code 16.
//
// A run is packed as value<<16 | count.

// makeRuns cuts tree's lengths [0, maxCode] into maximal runs, stored in
// d.runs from index at; it returns the index after the last run.
func (d *deflater) makeRuns(desc *treeDesc, at int) int {
	tree := desc.tree
	runs := d.runs[:]
	pos := 0
	k := at - 1
	last := uint32(0xffff) // value of runs[k] when it ends at pos-1
	for i, m := range desc.used {
		for m != 0 {
			n := i<<6 | bits.TrailingZeros64(m)
			m &= m - 1
			if n > pos {
				k++
				runs[k] = uint32(n - pos)
				last = 0
			}
			v := uint32(tree[n].len)
			if v == last {
				runs[k]++
			} else {
				k++
				runs[k] = v<<16 | 1
				last = v
			}
			pos = n + 1
		}
	}
	return k + 1
}

// scanRuns counts the code-length symbols the runs will be sent with.
func (d *deflater) scanRuns(runs []uint32) {
	bl := &d.blTree
	used := d.blUsed[0]
	for _, r := range runs {
		v, n := int(r>>16), int(r&0xffff)
		if v == 0 {
			for ; n > 0; n -= 138 {
				switch c := min(n, 138); {
				case c < 3:
					bl[0].freq += uint16(c)
					used |= 1
				case c <= 10:
					bl[repz3to10].freq++
					used |= 1 << repz3to10
				default:
					bl[repz11to38].freq++
					used |= 1 << repz11to38
				}
			}
			continue
		}
		c := min(n, 7)
		if c < 4 {
			bl[v].freq += uint16(c)
		} else {
			bl[v].freq++
			bl[rep3to6].freq++
			used |= 1 << rep3to6
		}
		used |= 1 << v
		for n -= c; n > 0; n -= c {
			c = min(n, 6)
			if c < 3 {
				bl[v].freq += uint16(c)
			} else {
				bl[rep3to6].freq++
				used |= 1 << rep3to6
			}
		}
	}
	d.blUsed[0] = used
}

// sendRuns writes the runs with the code-length code.
func (d *deflater) sendRuns(runs []uint32) {
	bl := d.blTree[:blCodes]
	w := d.bw
	rep := bl[rep3to6]
	for _, r := range runs {
		v, n := int(r>>16), int(r&0xffff)
		if v == 0 {
			for ; n > 0; n -= 138 {
				switch c := min(n, 138); {
				case c < 3:
					z := bl[0]
					for ; c > 0; c-- {
						w.put(uint64(z.code), uint(z.len))
					}
				case c <= 10:
					z := bl[repz3to10]
					w.put(uint64(z.code), uint(z.len))
					w.put(uint64(c-3), 3)
				default:
					z := bl[repz11to38]
					w.put(uint64(z.code), uint(z.len))
					w.put(uint64(c-11), 7)
				}
				w.flush()
			}
			continue
		}
		code := bl[v&15]
		c := min(n, 7)
		if c < 4 {
			for i := c; i > 0; i-- {
				w.put(uint64(code.code), uint(code.len))
			}
		} else {
			w.put(uint64(code.code), uint(code.len))
			w.put(uint64(rep.code), uint(rep.len))
			w.put(uint64(c-4), 2)
		}
		w.flush()
		for n -= c; n > 0; n -= c {
			c = min(n, 6)
			if c < 3 {
				for i := c; i > 0; i-- {
					w.put(uint64(code.code), uint(code.len))
				}
			} else {
				w.put(uint64(rep.code), uint(rep.len))
				w.put(uint64(c-3), 2)
			}
			w.flush()
		}
	}
	d.bw = w
}

// buildBLTree builds the code-length tree and returns the index in
// blOrder of the last code-length code to send.
func (d *deflater) buildBLTree() int {
	d.lRuns = d.makeRuns(&d.lDesc, 0)
	d.dRuns = d.makeRuns(&d.dDesc, d.lRuns)
	d.scanRuns(d.runs[:d.lRuns])
	d.scanRuns(d.runs[d.lRuns:d.dRuns])
	d.buildTree(&d.blDesc)
	maxBLIndex := blCodes - 1
	for ; maxBLIndex >= 3; maxBLIndex-- {
		if d.blTree[blOrder[maxBLIndex]].len != 0 {
			break
		}
	}
	d.optLen += 3*(maxBLIndex+1) + 5 + 5 + 4
	return maxBLIndex
}

// sendAllTrees writes the dynamic block header (RFC 1951 §3.2.7).
func (d *deflater) sendAllTrees(lcodes, dcodes, blcodes int) {
	w := &d.bw
	w.put(uint64(lcodes-257), 5)
	w.put(uint64(dcodes-1), 5)
	w.put(uint64(blcodes-4), 4)
	w.flush()
	for rank := 0; rank < blcodes; rank++ {
		w.put(uint64(d.blTree[blOrder[rank]].len), 3)
		w.flush()
	}
	d.sendRuns(d.runs[:d.lRuns])
	d.sendRuns(d.runs[d.lRuns:d.dRuns])
}

// compressBlock writes the block's symbols with the given trees, then the
// end-of-block code.
func (d *deflater) compressBlock(ltree, dtree []ctData) {
	ltree = ltree[:lCodes+2]
	dtree = dtree[:dCodes]
	w := d.bw
	syms := d.symNext
	symDist := d.symDist[:syms]
	symLC := d.symLC[:syms]
	for i, dist := range symDist {
		lc := int(symLC[i])
		if dist == 0 {
			c := ltree[lc]
			w.put(uint64(c.code), uint(c.len))
			w.flush()
			continue
		}
		code := lengthCode[lc]
		c := ltree[int(code)+literals+1]
		w.put(uint64(c.code), uint(c.len))
		if e := uint(extraLBits[code]); e != 0 { // none for length 258
			w.put(uint64(lc-int(baseLength[code])), e)
		}
		dd := int(dist) - 1
		dc := dCode(dd)
		c = dtree[dc]
		w.put(uint64(c.code), uint(c.len))
		w.put(uint64(dd-int(baseDist[dc])), uint(extraDBits[dc]))
		w.flush()
	}
	c := ltree[endBlock]
	w.put(uint64(c.code), uint(c.len))
	w.flush()
	d.bw = w
}

// flushBlock ends the current block: builds the trees, picks the cheapest
// of stored, fixed and dynamic coding as zlib does, and writes the block.
// buf holds the block's input bytes, or is nil when they are no longer in
// the window (a stored block is then impossible).
func (d *deflater) flushBlock(buf []byte, last bool) {
	d.buildTree(&d.lDesc)
	d.buildTree(&d.dDesc)
	maxBLIndex := d.buildBLTree()

	optLenb := (d.optLen + 3 + 7) >> 3
	staticLenb := (d.staticLen + 3 + 7) >> 3
	if staticLenb <= optLenb {
		optLenb = staticLenb
	}
	w := &d.bw
	lastBit := uint64(b2i(last))

	switch {
	case buf != nil && len(buf)+4 <= optLenb:
		// Stored block (RFC 1951 §3.2.4).
		w.ensure(len(buf) + 16)
		w.put(lastBit, 3) // BTYPE 00
		w.windup()
		n := uint16(len(buf))
		binary.LittleEndian.PutUint16(w.buf[w.n:], n)
		binary.LittleEndian.PutUint16(w.buf[w.n+2:], ^n)
		w.n += 4
		w.n += copy(w.buf[w.n:], buf)
	case staticLenb == optLenb:
		w.ensure(staticLenb + 16)
		w.put(1<<1|lastBit, 3)
		d.compressBlock(staticLTree[:], staticDTree[:])
	default:
		w.ensure(optLenb + 64)
		d.lDesc.genCodes()
		d.dDesc.genCodes()
		d.blDesc.genCodes()
		w.put(2<<1|lastBit, 3)
		d.sendAllTrees(d.lDesc.maxCode+1, d.dDesc.maxCode+1, maxBLIndex+1)
		d.compressBlock(d.dynLTree[:], d.dynDTree[:])
	}
	d.initBlock()
	if last {
		w.windup()
	}
}

// bitWriter writes bits LSB first into buf[:n]. Values are collected in
// acc and stored 8 bytes at a time, so buf keeps 8 spare bytes (ensure).
type bitWriter struct {
	buf  []byte // the whole capacity; buf[:n] is written
	n    int
	acc  uint64
	nacc uint // bits in acc, at most 7 after flush
}

// put adds the low nb bits of v (no higher bits set); at most 57 bits may
// be put between flushes.
func (w *bitWriter) put(v uint64, nb uint) {
	w.acc |= v << w.nacc
	w.nacc += nb
}

// flush stores the whole bytes of acc.
func (w *bitWriter) flush() {
	binary.LittleEndian.PutUint64(w.buf[w.n:], w.acc)
	w.n += int(w.nacc >> 3)
	w.acc >>= w.nacc &^ 7
	w.nacc &= 7
}

// windup flushes everything, padding the last byte with zero bits.
func (w *bitWriter) windup() {
	w.flush()
	if w.nacc > 0 {
		w.n++
	}
	w.acc, w.nacc = 0, 0
}

// ensure makes room for extra more bytes plus the 8 spare ones.
func (w *bitWriter) ensure(extra int) {
	if len(w.buf)-w.n < extra+8 {
		nb := make([]byte, 2*len(w.buf)+extra+8)
		copy(nb, w.buf[:w.n])
		w.buf = nb
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
