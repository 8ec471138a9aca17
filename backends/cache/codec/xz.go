package codec

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"hash/crc64"
	"io"

	"github.com/ulikunitz/xz/lzma"
)

// This file reads what Python's lzma.decompress (FORMAT_AUTO) reads: .xz
// streams and legacy .lzma ("alone") data. The .xz container is parsed here
// so that the LZMA2 dictionary is sized from the output the chunk headers
// announce (never from the header's claim, which may be 4 GiB) and the size
// limit is checked before decoding anything.

var xzMagic = []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}

// xzTruncated marks input that ends too early: liblzma then waits for more
// input, which Python reports as "Compressed data ended before the
// end-of-stream marker was reached".
var xzTruncated = errors.New("compressed data ended before the end-of-stream marker was reached")

// xzFormatError is any other rejection of the data by liblzma.
type xzFormatError struct{ msg string }

func (e *xzFormatError) Error() string { return e.msg }

func xzErr(format string, args ...any) error { return &xzFormatError{fmt.Sprintf(format, args...)} }

var crc64Table = crc64.MakeTable(crc64.ECMA)

// lzmaDecompress mirrors lzma.decompress: the first stream must decode;
// after it, further streams are decoded while they parse, a stream that
// fails to parse ends decoding silently, and one that is cut short is an
// error.
func lzmaDecompress(data []byte, limit int) ([]byte, error) {
	out := make([]byte, 0, min(limit, 4*len(data)+64))
	first := true
	for {
		var err error
		var rest []byte
		out, rest, err = lzmaDecodeOne(data, out, limit)
		if err != nil {
			if errors.Is(err, ErrTooLarge) || errors.Is(err, ErrUnsupported) {
				return nil, err
			}
			if first || errors.Is(err, xzTruncated) {
				return nil, fmt.Errorf("%w: lzma: %v", ErrNotCompressed, err)
			}
			return out, nil // leftover data is not a valid stream: ignored
		}
		first = false
		if len(rest) == 0 {
			return out, nil
		}
		data = rest
	}
}

// lzmaDecodeOne decodes one .xz stream or one .lzma stream from data,
// appending to out, and returns the data after it.
func lzmaDecodeOne(data, out []byte, limit int) ([]byte, []byte, error) {
	if len(data) == 0 {
		return out, nil, xzTruncated
	}
	if data[0] == xzMagic[0] {
		return xzDecodeStream(data, out, limit)
	}
	return lzmaAloneDecode(data, out, limit)
}

// xzVarint reads an .xz multibyte integer (at most 9 bytes, minimal).
func xzVarint(b []byte) (uint64, int, error) {
	var v uint64
	for i := 0; i < 9; i++ {
		if i >= len(b) {
			return 0, 0, xzTruncated
		}
		c := b[i]
		if i > 0 && c == 0 {
			return 0, 0, xzErr("non-minimal integer")
		}
		v |= uint64(c&0x7f) << (7 * i)
		if c&0x80 == 0 {
			return v, i + 1, nil
		}
	}
	return 0, 0, xzErr("integer too long")
}

func xzCheckSize(id byte) int {
	switch {
	case id == 0:
		return 0
	case id <= 3:
		return 4
	case id <= 6:
		return 8
	case id <= 9:
		return 16
	case id <= 12:
		return 32
	}
	return 64
}

// lzmaDictCap returns the dictionary size an LZMA2 property byte encodes.
func lzmaDictCap(b byte) int64 {
	if b == 40 {
		return 1<<32 - 1
	}
	return int64(2|b&1) << (b/2 + 11)
}

// lzma2Extent walks the LZMA2 chunk headers of data and returns the length
// of the chunk sequence (end marker included) and the uncompressed size it
// announces. It stops counting once the size passes budget.
func lzma2Extent(data []byte, budget int) (n int, size int64, err error) {
	i := 0
	for {
		if i >= len(data) {
			return 0, 0, xzTruncated
		}
		c := data[i]
		i++
		switch {
		case c == 0:
			return i, size, nil
		case c == 1 || c == 2:
			if i+2 > len(data) {
				return 0, 0, xzTruncated
			}
			u := int(binary.BigEndian.Uint16(data[i:])) + 1
			i += 2 + u
			size += int64(u)
		case c >= 0x80:
			h := 4
			if c >= 0xc0 {
				h = 5
			}
			if i+h > len(data) {
				return 0, 0, xzTruncated
			}
			u := int(c&0x1f)<<16 | int(binary.BigEndian.Uint16(data[i:]))
			cs := int(binary.BigEndian.Uint16(data[i+2:])) + 1
			i += h + cs
			size += int64(u + 1)
		default:
			return 0, 0, xzErr("invalid LZMA2 chunk")
		}
		if i > len(data) {
			return 0, 0, xzTruncated
		}
		if size > int64(budget) {
			return 0, 0, fmt.Errorf("%w (more than %d bytes)", ErrTooLarge, budget)
		}
	}
}

type xzRecord struct{ unpadded, uncompressed uint64 }

func xzDecodeStream(data, out []byte, limit int) ([]byte, []byte, error) {
	if len(data) < 12 {
		if !bytes.HasPrefix(xzMagic, data[:min(len(data), 6)]) {
			return out, nil, xzErr("not an .xz stream")
		}
		return out, nil, xzTruncated
	}
	if !bytes.Equal(data[:6], xzMagic) {
		return out, nil, xzErr("not an .xz stream")
	}
	if binary.LittleEndian.Uint32(data[8:]) != crc32.ChecksumIEEE(data[6:8]) {
		return out, nil, xzErr("stream header CRC mismatch")
	}
	if data[6] != 0 || data[7]&0xf0 != 0 {
		return out, nil, xzErr("unsupported stream flags")
	}
	flags := data[6:8]
	check := data[7] & 0x0f
	checkSize := xzCheckSize(check)
	p := 12
	var records []xzRecord
	for {
		if p >= len(data) {
			return out, nil, xzTruncated
		}
		if data[p] == 0 {
			break // index indicator
		}
		// Block header.
		hsize := (int(data[p]) + 1) * 4
		if p+hsize > len(data) {
			return out, nil, xzTruncated
		}
		hdr := data[p : p+hsize]
		if binary.LittleEndian.Uint32(hdr[hsize-4:]) != crc32.ChecksumIEEE(hdr[:hsize-4]) {
			return out, nil, xzErr("block header CRC mismatch")
		}
		bflags := hdr[1]
		if bflags&0x3c != 0 {
			return out, nil, xzErr("unsupported block flags")
		}
		q := 2
		body := hdr[:hsize-4]
		var declComp, declUncomp uint64
		hasComp, hasUncomp := bflags&0x40 != 0, bflags&0x80 != 0
		if hasComp {
			v, n, err := xzVarint(body[q:])
			if err != nil {
				return out, nil, xzErr("bad block header")
			}
			declComp, q = v, q+n
		}
		if hasUncomp {
			v, n, err := xzVarint(body[q:])
			if err != nil {
				return out, nil, xzErr("bad block header")
			}
			declUncomp, q = v, q+n
		}
		nfilters := int(bflags&3) + 1
		var dictByte byte
		for f := 0; f < nfilters; f++ {
			id, n, err := xzVarint(body[q:])
			if err != nil {
				return out, nil, xzErr("bad block header")
			}
			q += n
			psize, n, err := xzVarint(body[q:])
			if err != nil || uint64(len(body)-q-n) < psize {
				return out, nil, xzErr("bad block header")
			}
			q += n
			props := body[q : q+int(psize)]
			q += int(psize)
			if id != 0x21 || f != nfilters-1 {
				return out, nil, fmt.Errorf("%w: .xz filter %#x (only LZMA2 is supported)", ErrUnsupported, id)
			}
			if psize != 1 || props[0]&0xc0 != 0 || props[0] > 40 {
				return out, nil, xzErr("bad LZMA2 properties")
			}
			dictByte = props[0]
		}
		for _, c := range body[q:] {
			if c != 0 {
				return out, nil, xzErr("bad block header padding")
			}
		}
		// LZMA2 data: find its extent and size first.
		start := p + hsize
		clen, usize, err := lzma2Extent(data[start:], limit-len(out))
		if err != nil {
			return out, nil, err
		}
		if (hasComp && declComp != uint64(clen)) || (hasUncomp && declUncomp != uint64(usize)) {
			return out, nil, xzErr("block sizes do not match the header")
		}
		dict := lzmaDictCap(dictByte)
		if dict > usize {
			dict = usize
		}
		if dict < lzma.MinDictCap {
			dict = lzma.MinDictCap
		}
		r, err := lzma.Reader2Config{DictCap: int(dict)}.NewReader2(bytes.NewReader(data[start : start+clen]))
		if err != nil {
			return out, nil, xzErr("lzma2: %v", err)
		}
		before := len(out)
		out, err = readExact(r, out, int(usize))
		if err != nil {
			return out, nil, xzErr("lzma2: %v", err)
		}
		block := out[before:]
		p = start + clen
		// Block padding (to a multiple of four), then the check.
		for pad := (4 - (hsize+clen)%4) % 4; pad > 0; pad-- {
			if p >= len(data) {
				return out, nil, xzTruncated
			}
			if data[p] != 0 {
				return out, nil, xzErr("bad block padding")
			}
			p++
		}
		if p+checkSize > len(data) {
			return out, nil, xzTruncated
		}
		sum := data[p : p+checkSize]
		switch check {
		case 1:
			if binary.LittleEndian.Uint32(sum) != crc32.ChecksumIEEE(block) {
				return out, nil, xzErr("CRC32 mismatch")
			}
		case 4:
			if binary.LittleEndian.Uint64(sum) != crc64.Checksum(block, crc64Table) {
				return out, nil, xzErr("CRC64 mismatch")
			}
		case 10:
			h := sha256.Sum256(block)
			if !bytes.Equal(sum, h[:]) {
				return out, nil, xzErr("SHA-256 mismatch")
			}
		}
		p += checkSize
		// The index records the unpadded size: header + data + check.
		records = append(records, xzRecord{unpadded: uint64(hsize + clen + checkSize), uncompressed: uint64(usize)})
	}
	// Index.
	ip := p
	q := p + 1
	count, n, err := xzVarint(data[q:])
	if err != nil {
		return out, nil, err
	}
	q += n
	if count != uint64(len(records)) {
		return out, nil, xzErr("index does not match the blocks")
	}
	for _, rec := range records {
		u, n, err := xzVarint(data[q:])
		if err != nil {
			return out, nil, err
		}
		q += n
		v, n, err := xzVarint(data[q:])
		if err != nil {
			return out, nil, err
		}
		q += n
		if u != rec.unpadded || v != rec.uncompressed {
			return out, nil, xzErr("index does not match the blocks")
		}
	}
	for (q-ip)%4 != 0 {
		if q >= len(data) {
			return out, nil, xzTruncated
		}
		if data[q] != 0 {
			return out, nil, xzErr("bad index padding")
		}
		q++
	}
	if q+4 > len(data) {
		return out, nil, xzTruncated
	}
	if binary.LittleEndian.Uint32(data[q:]) != crc32.ChecksumIEEE(data[ip:q]) {
		return out, nil, xzErr("index CRC mismatch")
	}
	q += 4
	indexSize := q - ip
	// Stream footer.
	if q+12 > len(data) {
		return out, nil, xzTruncated
	}
	ft := data[q : q+12]
	if ft[10] != 'Y' || ft[11] != 'Z' {
		return out, nil, xzErr("bad stream footer")
	}
	if binary.LittleEndian.Uint32(ft) != crc32.ChecksumIEEE(ft[4:10]) {
		return out, nil, xzErr("stream footer CRC mismatch")
	}
	if (int64(binary.LittleEndian.Uint32(ft[4:]))+1)*4 != int64(indexSize) || !bytes.Equal(ft[8:10], flags) {
		return out, nil, xzErr("stream footer does not match")
	}
	return out, data[q+12:], nil
}

// readExact appends exactly n bytes read from r to out and requires r to be
// at EOF afterwards.
func readExact(r io.Reader, out []byte, n int) ([]byte, error) {
	if cap(out)-len(out) < n {
		nb := make([]byte, len(out), len(out)+n)
		copy(nb, out)
		out = nb
	}
	if _, err := io.ReadFull(r, out[len(out):len(out)+n]); err != nil {
		return out, err
	}
	out = out[:len(out)+n]
	var one [1]byte
	if k, err := r.Read(one[:]); k != 0 || err != io.EOF {
		return out, errors.New("data continues past the announced size")
	}
	return out, nil
}

// lzmaAloneDecode decodes one legacy .lzma stream, applying the header
// checks liblzma's auto decoder makes (lc+lp <= 4, a dictionary size of the
// form 2^n or 2^n+2^(n-1), a known size below 2^38).
func lzmaAloneDecode(data, out []byte, limit int) ([]byte, []byte, error) {
	if data[0] >= 9*5*5 {
		return out, nil, xzErr("not an .lzma stream")
	}
	lc, lp := int(data[0]%9), int(data[0]/9%5)
	if lc+lp > 4 {
		return out, nil, xzErr("not an .lzma stream")
	}
	if len(data) < 5 {
		return out, nil, xzTruncated
	}
	dict := binary.LittleEndian.Uint32(data[1:])
	if dict != 1<<32-1 {
		d := dict - 1
		d |= d >> 2
		d |= d >> 3
		d |= d >> 4
		d |= d >> 8
		d |= d >> 16
		d++
		if d != dict {
			return out, nil, xzErr("not an .lzma stream")
		}
	}
	if len(data) < 13 {
		return out, nil, xzTruncated
	}
	size := binary.LittleEndian.Uint64(data[5:])
	known := size != 1<<64-1
	if known && size >= 1<<38 {
		return out, nil, xzErr("not an .lzma stream")
	}
	budget := limit - len(out)
	if known && size > uint64(budget) {
		return out, nil, fmt.Errorf("%w (more than %d bytes)", ErrTooLarge, limit)
	}
	// The dictionary need not exceed the output: rewrite the header's
	// claim (the .lzma header has no checksum) so the decoder allocates
	// no more than that.
	need := uint32(budget)
	if known {
		need = uint32(size)
	}
	if need < lzma.MinDictCap {
		need = lzma.MinDictCap
	}
	hdr := make([]byte, 13)
	copy(hdr, data[:13])
	if dict > need {
		binary.LittleEndian.PutUint32(hdr[1:], need)
	} else if dict < lzma.MinDictCap {
		binary.LittleEndian.PutUint32(hdr[1:], lzma.MinDictCap)
	}
	src := bytes.NewReader(data[13:])
	r, err := lzma.ReaderConfig{DictCap: int(max(need, dict2(hdr)))}.NewReader(io.MultiReader(bytes.NewReader(hdr), src))
	if err != nil {
		return out, nil, xzErr("lzma: %v", err)
	}
	before := len(out)
	var got []byte
	got, err = readLimited(r, budget)
	if err != nil {
		if errors.Is(err, ErrTooLarge) {
			return out, nil, fmt.Errorf("%w (more than %d bytes)", ErrTooLarge, limit)
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return out, nil, xzTruncated
		}
		return out, nil, xzErr("lzma: %v", err)
	}
	if known && uint64(len(got)) != size {
		return out, nil, xzTruncated
	}
	out = append(out[:before], got...)
	return out, data[len(data)-src.Len():], nil
}

func dict2(hdr []byte) uint32 { return binary.LittleEndian.Uint32(hdr[1:]) }
