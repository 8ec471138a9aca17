package hashers

// Our own Argon2 (RFC 9106), written from the RFC and libargon2's documented
// behaviour, for what golang.org/x/crypto/argon2 cannot do: versions other
// than 0x13 (Django accepts old argon2-cffi strings without "v=", which
// libargon2 computes as version 0x10), argon2d, and more than 255 lanes.
// The common case (v=19, argon2i/argon2id) goes to x/crypto (see argon2.go);
// tests check this engine against x/crypto for v=19 and against argon2-cffi
// for the rest.

import (
	"encoding/binary"
	"math/bits"

	"golang.org/x/crypto/blake2b"
)

const (
	argon2TypeD  = 0
	argon2TypeI  = 1
	argon2TypeID = 2

	argon2Version10 = 0x10
	argon2Version13 = 0x13

	argon2SyncPoints = 4   // slices per pass
	argon2BlockWords = 128 // 1024-byte blocks of 64-bit words
)

type argon2Block [argon2BlockWords]uint64

// argon2Ref computes an Argon2 tag. Preconditions (checked by the caller):
// time ≥ 1, 1 ≤ lanes, memory ≥ 8·lanes (KiB), tagLen ≥ 4.
func argon2Ref(typ, version uint32, password, salt []byte, time, memory, lanes, tagLen uint32) []byte {
	h0 := argon2H0(typ, version, password, salt, time, memory, lanes, tagLen)

	// m' = 4·p·floor(m / 4p) blocks, q = m'/p per lane, 4 segments per lane.
	segment := memory / (argon2SyncPoints * lanes)
	laneLen := segment * argon2SyncPoints
	total := laneLen * lanes
	mem := make([]argon2Block, total)

	// B[l][0] = H'(H0 ‖ LE32(0) ‖ LE32(l)), B[l][1] = H'(H0 ‖ LE32(1) ‖ LE32(l)).
	var seed [blake2b.Size + 8]byte
	copy(seed[:], h0[:])
	var buf [1024]byte
	for l := uint32(0); l < lanes; l++ {
		for j := uint32(0); j < 2; j++ {
			binary.LittleEndian.PutUint32(seed[blake2b.Size:], j)
			binary.LittleEndian.PutUint32(seed[blake2b.Size+4:], l)
			argon2HPrime(buf[:], seed[:])
			blockFromBytes(&mem[l*laneLen+j], buf[:])
		}
	}

	s := argon2State{typ: typ, version: version, mem: mem, lanes: lanes, laneLen: laneLen,
		segment: segment, total: total, passes: time}
	for pass := uint32(0); pass < time; pass++ {
		for slice := uint32(0); slice < argon2SyncPoints; slice++ {
			// Lanes of one slice only read other lanes' finished
			// segments, so their order does not matter.
			for lane := uint32(0); lane < lanes; lane++ {
				s.fillSegment(pass, slice, lane)
			}
		}
	}

	var final argon2Block
	for l := uint32(0); l < lanes; l++ {
		b := &mem[l*laneLen+laneLen-1]
		for k := range final {
			final[k] ^= b[k]
		}
	}
	for k, w := range final {
		binary.LittleEndian.PutUint64(buf[8*k:], w)
	}
	tag := make([]byte, tagLen)
	argon2HPrime(tag, buf[:])
	return tag
}

// argon2H0 is the 64-byte pre-hash of every parameter and input (no secret,
// no associated data).
func argon2H0(typ, version uint32, password, salt []byte, time, memory, lanes, tagLen uint32) [blake2b.Size]byte {
	h, _ := blake2b.New512(nil)
	var w [4]byte
	le := func(v uint32) {
		binary.LittleEndian.PutUint32(w[:], v)
		h.Write(w[:])
	}
	le(lanes)
	le(tagLen)
	le(memory)
	le(time)
	le(version)
	le(typ)
	le(uint32(len(password)))
	h.Write(password)
	le(uint32(len(salt)))
	h.Write(salt)
	le(0) // secret
	le(0) // associated data
	var out [blake2b.Size]byte
	h.Sum(out[:0])
	return out
}

// argon2HPrime is the variable-length hash H' filling out from in.
func argon2HPrime(out, in []byte) {
	var prefix [4]byte
	binary.LittleEndian.PutUint32(prefix[:], uint32(len(out)))
	if len(out) <= blake2b.Size {
		h, _ := blake2b.New(len(out), nil)
		h.Write(prefix[:])
		h.Write(in)
		h.Sum(out[:0])
		return
	}
	h, _ := blake2b.New512(nil)
	h.Write(prefix[:])
	h.Write(in)
	var v [blake2b.Size]byte
	h.Sum(v[:0])
	copy(out, v[:32])
	pos := 32
	for len(out)-pos > blake2b.Size {
		v = blake2b.Sum512(v[:])
		copy(out[pos:], v[:32])
		pos += 32
	}
	last, _ := blake2b.New(len(out)-pos, nil)
	last.Write(v[:])
	last.Sum(out[pos:pos])
}

func blockFromBytes(b *argon2Block, p []byte) {
	for k := range b {
		b[k] = binary.LittleEndian.Uint64(p[8*k:])
	}
}

type argon2State struct {
	typ, version                           uint32
	mem                                    []argon2Block
	lanes, laneLen, segment, total, passes uint32
}

// fillSegment computes one segment of one lane (RFC 9106 §3.4).
func (s *argon2State) fillSegment(pass, slice, lane uint32) {
	independent := s.typ == argon2TypeI || (s.typ == argon2TypeID && pass == 0 && slice < argon2SyncPoints/2)
	var zero, input, addresses argon2Block
	if independent {
		input[0] = uint64(pass)
		input[1] = uint64(lane)
		input[2] = uint64(slice)
		input[3] = uint64(s.total)
		input[4] = uint64(s.passes)
		input[5] = uint64(s.typ)
	}
	start := uint32(0)
	if pass == 0 && slice == 0 {
		start = 2 // the first two blocks of each lane are already made
		if independent {
			argon2NextAddresses(&addresses, &input, &zero)
		}
	}
	for i := start; i < s.segment; i++ {
		cur := lane*s.laneLen + slice*s.segment + i
		prev := cur - 1
		if cur%s.laneLen == 0 {
			prev = cur + s.laneLen - 1
		}
		var pseudo uint64
		if independent {
			if i%argon2BlockWords == 0 {
				argon2NextAddresses(&addresses, &input, &zero)
			}
			pseudo = addresses[i%argon2BlockWords]
		} else {
			pseudo = s.mem[prev][0]
		}
		refLane := uint32((pseudo >> 32) % uint64(s.lanes))
		if pass == 0 && slice == 0 {
			refLane = lane
		}
		ref := s.indexAlpha(pass, slice, i, uint32(pseudo), refLane == lane)
		xor := s.version != argon2Version10 && pass != 0
		argon2FillBlock(&s.mem[prev], &s.mem[refLane*s.laneLen+ref], &s.mem[cur], xor)
	}
}

// indexAlpha maps J1 to a block of the reference lane: the reference area
// is every finished block (of the lane, or of the other lane's finished
// segments), minus the previous block; J1 is squared to favour recent
// blocks.
func (s *argon2State) indexAlpha(pass, slice, index, j1 uint32, sameLane bool) uint32 {
	var area uint32
	switch {
	case pass == 0 && slice == 0:
		area = index - 1
	case pass == 0 && sameLane:
		area = slice*s.segment + index - 1
	case pass == 0:
		area = slice * s.segment
		if index == 0 {
			area--
		}
	case sameLane:
		area = s.laneLen - s.segment + index - 1
	default:
		area = s.laneLen - s.segment
		if index == 0 {
			area--
		}
	}
	rel := uint64(j1)
	rel = rel * rel >> 32
	rel = uint64(area) - 1 - (uint64(area) * rel >> 32)
	startPos := uint64(0)
	if pass != 0 && slice != argon2SyncPoints-1 {
		startPos = uint64((slice + 1) * s.segment)
	}
	return uint32((startPos + rel) % uint64(s.laneLen))
}

// argon2NextAddresses makes the next block of data-independent addresses:
// G(0, G(0, input)) after incrementing the input counter.
func argon2NextAddresses(addresses, input, zero *argon2Block) {
	input[6]++
	argon2FillBlock(zero, input, addresses, false)
	argon2FillBlock(zero, addresses, addresses, false)
}

// argon2FillBlock sets next = G(prev, ref), or next ^= G(prev, ref) with
// xor (version 0x13 after the first pass). G(X, Y): R = X ⊕ Y, apply the
// BlaMka permutation P to the 8 rows then the 8 columns of R (as 16-byte
// registers), result ⊕ R.
func argon2FillBlock(prev, ref, next *argon2Block, xor bool) {
	var r, out argon2Block
	for k := range r {
		r[k] = prev[k] ^ ref[k]
	}
	out = r
	if xor {
		for k := range out {
			out[k] ^= next[k]
		}
	}
	var idx [16]int
	for row := 0; row < 8; row++ {
		for k := range idx {
			idx[k] = 16*row + k
		}
		argon2P(&r, &idx)
	}
	for col := 0; col < 8; col++ {
		for k := 0; k < 8; k++ {
			idx[2*k] = 2*col + 16*k
			idx[2*k+1] = 2*col + 16*k + 1
		}
		argon2P(&r, &idx)
	}
	for k := range out {
		next[k] = out[k] ^ r[k]
	}
}

// argon2P is Blake2b's round without message words, with the BlaMka
// multiplication, over the 16 words b[idx[0..15]].
func argon2P(b *argon2Block, idx *[16]int) {
	var v [16]uint64
	for k, i := range idx {
		v[k] = b[i]
	}
	argon2GB(&v, 0, 4, 8, 12)
	argon2GB(&v, 1, 5, 9, 13)
	argon2GB(&v, 2, 6, 10, 14)
	argon2GB(&v, 3, 7, 11, 15)
	argon2GB(&v, 0, 5, 10, 15)
	argon2GB(&v, 1, 6, 11, 12)
	argon2GB(&v, 2, 7, 8, 13)
	argon2GB(&v, 3, 4, 9, 14)
	for k, i := range idx {
		b[i] = v[k]
	}
}

func blamka(x, y uint64) uint64 {
	return x + y + 2*uint64(uint32(x))*uint64(uint32(y))
}

func argon2GB(v *[16]uint64, a, b, c, d int) {
	v[a] = blamka(v[a], v[b])
	v[d] = bits.RotateLeft64(v[d]^v[a], -32)
	v[c] = blamka(v[c], v[d])
	v[b] = bits.RotateLeft64(v[b]^v[c], -24)
	v[a] = blamka(v[a], v[b])
	v[d] = bits.RotateLeft64(v[d]^v[a], -16)
	v[c] = blamka(v[c], v[d])
	v[b] = bits.RotateLeft64(v[b]^v[c], -63)
}
