package pyzlib

import "math/bits"

// Constants and static tables of the DEFLATE format (RFC 1951 §3.2.5–3.2.7)
// and of zlib's compressor (window 15 bits, memLevel 8), built once at
// package initialisation.

const (
	// DEFLATE alphabet sizes (RFC 1951 §3.2.5).
	literals    = 256
	endBlock    = 256
	lengthCodes = 29
	lCodes      = literals + 1 + lengthCodes // 286 literal/length codes
	dCodes      = 30                         // distance codes
	blCodes     = 19                         // code-length codes
	heapSize    = 2*lCodes + 1               // zlib's shared heap size (573)
	maxBits     = 15                         // longest literal/length or distance code
	maxBLBits   = 7                          // longest code-length code

	// Code-length alphabet repeat symbols (RFC 1951 §3.2.7).
	rep3to6    = 16
	repz3to10  = 17
	repz11to38 = 18

	minMatch = 3
	maxMatch = 258
)

var (
	// extraLBits / extraDBits / extraBLBits: extra bits per length,
	// distance and code-length code (RFC 1951 §3.2.5, §3.2.7).
	extraLBits  = [lengthCodes]uint8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	extraDBits  = [dCodes]uint8{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
	extraBLBits = [blCodes]uint8{16: 2, 17: 3, 18: 7}

	// blOrder is the order in which code-length code lengths are sent
	// (RFC 1951 §3.2.7).
	blOrder = [blCodes]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

	// baseLength[c] is match length − 3 for the first length of length
	// code c (0-based, i.e. symbol 257+c); baseDist[c] is distance − 1 for
	// the first distance of distance code c.
	baseLength [lengthCodes]uint16
	baseDist   [dCodes]uint16

	// lengthCode maps match length − 3 (0..255) to its length code
	// (0..28). Length 258 uses code 28 (symbol 285) rather than code 27
	// with 31 extra bits, as every encoder must (RFC 1951 §3.2.5).
	lengthCode [256]uint8

	// distCode maps distance − 1 to its distance code: entries 0..255 are
	// indexed by the distance − 1 itself, entries 256..511 by
	// 256 + (distance − 1) >> 7.
	distCode [512]uint8

	// staticLTree / staticDTree: the fixed Huffman codes of RFC 1951
	// §3.2.6, with codes stored bit-reversed ready to send LSB first.
	staticLTree [lCodes + 2]ctData
	staticDTree [dCodes]ctData
)

func init() {
	length := 0
	code := 0
	for code = 0; code < lengthCodes-1; code++ {
		baseLength[code] = uint16(length)
		for n := 0; n < 1<<extraLBits[code]; n++ {
			lengthCode[length] = uint8(code)
			length++
		}
	}
	// length == 256 here; match length 258 gets its own code.
	lengthCode[length-1] = uint8(code)

	dist := 0
	for code = 0; code < 16; code++ {
		baseDist[code] = uint16(dist)
		for n := 0; n < 1<<extraDBits[code]; n++ {
			distCode[dist] = uint8(code)
			dist++
		}
	}
	dist >>= 7
	for ; code < dCodes; code++ {
		baseDist[code] = uint16(dist << 7)
		for n := 0; n < 1<<(extraDBits[code]-7); n++ {
			distCode[256+dist] = uint8(code)
			dist++
		}
	}

	var blCount [maxBits + 1]uint16
	n := 0
	for ; n <= 143; n++ {
		staticLTree[n].len = 8
	}
	for ; n <= 255; n++ {
		staticLTree[n].len = 9
	}
	for ; n <= 279; n++ {
		staticLTree[n].len = 7
	}
	for ; n <= 287; n++ {
		staticLTree[n].len = 8
	}
	for i := range staticLTree {
		blCount[staticLTree[i].len]++
	}
	genCodes(staticLTree[:], lCodes+1, &blCount)
	for i := range staticDTree {
		staticDTree[i].len = 5
		staticDTree[i].code = reverseBits(uint16(i), 5)
	}

	initFixedDecoder()
}

// dCode returns the distance code of a match distance minus one.
func dCode(dist int) uint8 {
	if dist < 256 {
		return distCode[dist]
	}
	return distCode[256+(dist>>7)]
}

// reverseBits returns the low n bits of v in reverse order.
func reverseBits(v uint16, n uint) uint16 {
	return bits.Reverse16(v) >> (16 - n)
}
