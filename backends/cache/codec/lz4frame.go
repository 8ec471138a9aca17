package codec

import (
	"encoding/binary"
	"fmt"
	"math/bits"

	"github.com/pierrec/lz4/v4"
)

// LZ4 frame format constants (lz4_Frame_format.md).
const (
	lz4FrameMagic   = 0x184d2204
	lz4SkipMagic    = 0x184d2a50 // low 4 bits free
	lz4MaxLinkedWin = 64 << 10
)

func lz4Err(msg string) error { return fmt.Errorf("%w: lz4: %s", ErrNotCompressed, msg) }

// lz4DecodeFrame decodes the first LZ4 frame of data, as
// lz4.frame.decompress does (what follows the frame is ignored; a skippable
// frame first yields empty output). Header, block and content checksums are
// verified when present, and so is the content size.
func lz4DecodeFrame(data []byte, limit int) ([]byte, error) {
	if len(data) < 4 {
		return nil, lz4Err("frame header incomplete")
	}
	magic := binary.LittleEndian.Uint32(data)
	if magic&^0xf == lz4SkipMagic {
		if len(data) < 8 || uint64(len(data)-8) < uint64(binary.LittleEndian.Uint32(data[4:])) {
			return nil, lz4Err("frame incomplete")
		}
		return []byte{}, nil
	}
	if magic != lz4FrameMagic {
		return nil, lz4Err("unknown frame magic")
	}
	if len(data) < 7 {
		return nil, lz4Err("frame header incomplete")
	}
	flg, bd := data[4], data[5]
	if flg>>6 != 1 {
		return nil, lz4Err("wrong frame version")
	}
	if flg&0x02 != 0 || bd&0x8f != 0 {
		return nil, lz4Err("reserved flag set")
	}
	independent := flg&0x20 != 0
	blockSum := flg&0x10 != 0
	hasSize := flg&0x08 != 0
	contentSum := flg&0x04 != 0
	hasDictID := flg&0x01 != 0
	bsID := bd >> 4 & 7
	if bsID < 4 {
		return nil, lz4Err("invalid block size")
	}
	blockMax := 1 << (2*int(bsID) + 8) // 4: 64 KiB … 7: 4 MiB
	hlen := 7
	if hasSize {
		hlen += 8
	}
	if hasDictID {
		hlen += 4
	}
	if len(data) < hlen {
		return nil, lz4Err("frame header incomplete")
	}
	if byte(xxh32(data[4:hlen-1], 0)>>8) != data[hlen-1] {
		return nil, lz4Err("header checksum invalid")
	}
	var contentSize uint64
	if hasSize {
		contentSize = binary.LittleEndian.Uint64(data[6:])
		if contentSize > uint64(limit) {
			return nil, fmt.Errorf("%w (more than %d bytes)", ErrTooLarge, limit)
		}
	}
	p := hlen
	initial := min(limit, blockMax)
	if hasSize && contentSize > 0 {
		initial = int(contentSize)
	}
	out := make([]byte, 0, min(initial, 4*len(data)+64))
	for {
		if p+4 > len(data) {
			return nil, lz4Err("frame incomplete")
		}
		word := binary.LittleEndian.Uint32(data[p:])
		p += 4
		if word == 0 {
			break // end mark
		}
		raw := word&0x80000000 != 0
		n := int(word & 0x7fffffff)
		if n > blockMax {
			return nil, lz4Err("block larger than the frame's maximum")
		}
		if p+n > len(data) {
			return nil, lz4Err("frame incomplete")
		}
		block := data[p : p+n]
		p += n
		if blockSum {
			if p+4 > len(data) {
				return nil, lz4Err("frame incomplete")
			}
			if binary.LittleEndian.Uint32(data[p:]) != xxh32(block, 0) {
				return nil, lz4Err("block checksum invalid")
			}
			p += 4
		}
		room := limit - len(out)
		if raw {
			if n > room {
				return nil, fmt.Errorf("%w (more than %d bytes)", ErrTooLarge, limit)
			}
			out = append(out, block...)
			continue
		}
		want := min(blockMax, room)
		if cap(out)-len(out) < want {
			nc := max(2*cap(out), len(out)+want)
			nc = min(nc, limit)
			nb := make([]byte, len(out), max(nc, len(out)+want))
			copy(nb, out)
			out = nb
		}
		dst := out[len(out) : len(out)+want]
		var k int
		var err error
		if independent || len(out) == 0 {
			k, err = lz4.UncompressBlock(block, dst)
		} else {
			k, err = lz4.UncompressBlockWithDict(block, dst, out[max(0, len(out)-lz4MaxLinkedWin):])
		}
		if err != nil {
			if want < blockMax {
				// The block may simply not fit in what is left of the limit.
				return nil, fmt.Errorf("%w (more than %d bytes, or corrupt lz4 block)", ErrTooLarge, limit)
			}
			return nil, lz4Err("corrupt block")
		}
		out = out[:len(out)+k]
	}
	if hasSize && contentSize != 0 && uint64(len(out)) != contentSize {
		return nil, lz4Err("frame size wrong")
	}
	if contentSum {
		if p+4 > len(data) {
			return nil, lz4Err("frame incomplete")
		}
		if binary.LittleEndian.Uint32(data[p:]) != xxh32(out, 0) {
			return nil, lz4Err("content checksum invalid")
		}
	}
	return out, nil
}

// xxh32 is the 32-bit xxHash of b (the checksum of the LZ4 frame format),
// written from the xxHash specification.
func xxh32(b []byte, seed uint32) uint32 {
	const (
		p1 = 0x9e3779b1
		p2 = 0x85ebca77
		p3 = 0xc2b2ae3d
		p4 = 0x27d4eb2f
		p5 = 0x165667b1
	)
	n := len(b)
	var h uint32
	if n >= 16 {
		v1, v2, v3, v4 := seed+p1+p2, seed+p2, seed, seed-p1
		for len(b) >= 16 {
			v1 = bits.RotateLeft32(v1+binary.LittleEndian.Uint32(b)*p2, 13) * p1
			v2 = bits.RotateLeft32(v2+binary.LittleEndian.Uint32(b[4:])*p2, 13) * p1
			v3 = bits.RotateLeft32(v3+binary.LittleEndian.Uint32(b[8:])*p2, 13) * p1
			v4 = bits.RotateLeft32(v4+binary.LittleEndian.Uint32(b[12:])*p2, 13) * p1
			b = b[16:]
		}
		h = bits.RotateLeft32(v1, 1) + bits.RotateLeft32(v2, 7) + bits.RotateLeft32(v3, 12) + bits.RotateLeft32(v4, 18)
	} else {
		h = seed + p5
	}
	h += uint32(n)
	for len(b) >= 4 {
		h = bits.RotateLeft32(h+binary.LittleEndian.Uint32(b)*p3, 17) * p4
		b = b[4:]
	}
	for _, c := range b {
		h = bits.RotateLeft32(h+uint32(c)*p5, 11) * p1
	}
	h ^= h >> 15
	h *= p2
	h ^= h >> 13
	h *= p3
	h ^= h >> 16
	return h
}
