package codec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"runtime"
	"strings"
	"sync"

	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz"

	"github.com/djsession/djsession/signing/pyzlib"
)

// Compressor is a django-redis COMPRESSOR (spec §7.4).
//
// Compress applies the compressor's length threshold exactly as django-redis
// does: data at or below it is returned unchanged (there is no marker byte).
// Decompress returns the decompressed bytes, never more than limit of them
// (limit ≤ 0 means DefaultMaxSize): a larger result is ErrTooLarge, found
// without allocating past the limit. Data that is not in the compressor's
// format is ErrNotCompressed, which is exactly the set of failures
// django-redis catches as CompressorError; other failures (gzip's) are
// ErrCorrupt.
type Compressor interface {
	// Name returns the short name ("identity", "zlib", "gzip", "lzma",
	// "lz4", "zstd").
	Name() string
	// Compress returns the stored form of serialized bytes.
	Compress(data []byte) ([]byte, error)
	// Decompress reverses Compress for data that Compress compressed.
	Decompress(data []byte, limit int) ([]byte, error)
}

// Thresholds of the django-redis compressors: data is compressed only when
// strictly longer than this many bytes (spec §7.4).
const (
	ZlibMinLength = 15  // ZlibCompressor.min_length
	GzipMinLength = 15  // GzipCompressor.min_length (django-redis 6.0+)
	LzmaMinLength = 100 // LzmaCompressor.min_length
	Lz4MinLength  = 15  // Lz4Compressor.min_length
	ZstdMinLength = 15  // ZStdCompressor.min_length (django-redis 5.1+)
)

// CompressorByName returns the compressor for a short name ("identity" or
// "none", "zlib", "gzip", "lzma", "lz4", "zstd") or a django-redis class path
// such as "django_redis.compressors.zlib.ZlibCompressor". The empty name is
// the identity compressor, django-redis's default.
func CompressorByName(name string) (Compressor, error) {
	switch strings.ToLower(name) {
	case "", "none", "identity", "django_redis.compressors.identity.identitycompressor":
		return IdentityCompressor{}, nil
	case "zlib", "django_redis.compressors.zlib.zlibcompressor":
		return ZlibCompressor{}, nil
	case "gzip", "django_redis.compressors.gzip.gzipcompressor":
		return GzipCompressor{}, nil
	case "lzma", "xz", "django_redis.compressors.lzma.lzmacompressor":
		return LzmaCompressor{}, nil
	case "lz4", "django_redis.compressors.lz4.lz4compressor":
		return Lz4Compressor{}, nil
	case "zstd", "django_redis.compressors.zstd.zstdcompressor":
		return ZstdCompressor{}, nil
	}
	return nil, fmt.Errorf("%w: unknown compressor %q", ErrUnsupported, name)
}

// IdentityCompressor is django-redis's default IdentityCompressor: data is
// stored as serialized. Decompress returns data itself (not a copy); data
// longer than the limit is ErrTooLarge.
type IdentityCompressor struct{}

// Name returns "identity".
func (IdentityCompressor) Name() string { return "identity" }

// Compress returns data unchanged.
func (IdentityCompressor) Compress(data []byte) ([]byte, error) { return data, nil }

// Decompress returns data unchanged, or ErrTooLarge past the limit.
func (IdentityCompressor) Decompress(data []byte, limit int) ([]byte, error) {
	if limit = limitOrDefault(limit); len(data) > limit {
		return nil, fmt.Errorf("%w (%d bytes)", ErrTooLarge, len(data))
	}
	return data, nil
}

// ZlibCompressor is django-redis's ZlibCompressor: zlib container at level 6
// for data longer than 15 bytes, the same bytes as django-redis writes
// (zlib.compress(value, 6)). Every decompression failure is
// ErrNotCompressed (Python's zlib.error); data after the end of the stream is
// ignored, as zlib.decompress does.
type ZlibCompressor struct{}

// Name returns "zlib".
func (ZlibCompressor) Name() string { return "zlib" }

// Compress zlib-compresses data longer than ZlibMinLength at level 6.
func (ZlibCompressor) Compress(data []byte) ([]byte, error) {
	if len(data) <= ZlibMinLength {
		return data, nil
	}
	return zlibCompress(data, 6)
}

// Decompress inflates a zlib stream.
func (ZlibCompressor) Decompress(data []byte, limit int) ([]byte, error) {
	return zlibDecompress(data, limitOrDefault(limit))
}

// zlibCompress is zlib.compress(data, level), byte for byte as CPython
// writes it (pyzlib follows zlib's deflate; level -1 is 6).
func zlibCompress(data []byte, level int) ([]byte, error) {
	return pyzlib.Compress(nil, data, level)
}

// zlibDecompress is zlib.decompress(data), at most limit bytes: a preset
// dictionary (Python's Z_NEED_DICT) and every other failure is
// ErrNotCompressed (zlib.error); data after the stream is ignored.
func zlibDecompress(data []byte, limit int) ([]byte, error) {
	out, err := pyzlib.Decompress(nil, data, limit)
	switch {
	case err == nil:
		return out, nil
	case errors.Is(err, pyzlib.ErrTooLarge):
		return nil, fmt.Errorf("%w (more than %d bytes)", ErrTooLarge, limit)
	}
	return nil, fmt.Errorf("%w: zlib: %v", ErrNotCompressed, trimPyzlib(err))
}

// trimPyzlib drops pyzlib's "pyzlib: " prefix from an error text.
func trimPyzlib(err error) string {
	return strings.TrimPrefix(err.Error(), "pyzlib: ")
}

// GzipCompressor is django-redis 6.0's GzipCompressor: gzip.compress(data)
// (level 9) for data longer than 15 bytes. Python writes the current time in
// the header; this writer writes 0 ("no time"), which every reader accepts.
//
// Decompress follows Python's gzip.decompress: members are decoded one after
// the other (zero bytes between them skipped); empty input is empty output.
// Only BadGzipFile conditions (wrong magic, unknown method, CRC or length
// mismatch) are ErrNotCompressed; truncation and bad deflate data are
// ErrCorrupt, because django-redis does not catch EOFError or zlib.error
// (spec §7.4).
type GzipCompressor struct{}

// Name returns "gzip".
func (GzipCompressor) Name() string { return "gzip" }

// Compress gzips data longer than GzipMinLength at level 9: the header
// Python's gzip.compress writes (no name, XFL 2 for level 9, OS 255) with
// a zero time, then the deflate body and trailer, which are CPython's
// bytes.
func (GzipCompressor) Compress(data []byte) ([]byte, error) {
	if len(data) <= GzipMinLength {
		return data, nil
	}
	out := make([]byte, 0, len(data)+len(data)>>8+64)
	out = append(out, 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 0xff)
	out, err := pyzlib.Deflate(out, data, 9)
	if err != nil {
		return nil, err
	}
	out = binary.LittleEndian.AppendUint32(out, crc32.ChecksumIEEE(data))
	return binary.LittleEndian.AppendUint32(out, uint32(len(data))), nil
}

// Decompress decodes gzip members as Python's gzip.decompress does.
func (GzipCompressor) Decompress(data []byte, limit int) ([]byte, error) {
	return gunzip(data, limitOrDefault(limit))
}

// gzip header flag bits (RFC 1952).
const (
	gzFHCRC    = 1 << 1
	gzFEXTRA   = 1 << 2
	gzFNAME    = 1 << 3
	gzFCOMMENT = 1 << 4
)

var (
	errGzipEOF = fmt.Errorf("%w: gzip: compressed file ended before the end-of-stream marker was reached", ErrCorrupt)
)

func gunzip(data []byte, limit int) ([]byte, error) {
	var out []byte
	for len(data) > 0 {
		// Header (Python's _read_gzip_header; reserved flag bits and the
		// header CRC are not checked there either).
		if len(data) < 2 || data[0] != 0x1f || data[1] != 0x8b {
			return nil, fmt.Errorf("%w: gzip: not a gzipped file", ErrNotCompressed)
		}
		if len(data) < 10 {
			return nil, errGzipEOF
		}
		if data[2] != 8 {
			return nil, fmt.Errorf("%w: gzip: unknown compression method", ErrNotCompressed)
		}
		flag := data[3]
		p := 10
		if flag&gzFEXTRA != 0 {
			if len(data) < p+2 {
				return nil, errGzipEOF
			}
			n := int(binary.LittleEndian.Uint16(data[p:]))
			p += 2
			if len(data) < p+n {
				return nil, errGzipEOF
			}
			p += n
		}
		for _, f := range []byte{gzFNAME, gzFCOMMENT} {
			if flag&f != 0 {
				i := bytes.IndexByte(data[p:], 0)
				if i < 0 {
					return nil, errGzipEOF
				}
				p += i + 1
			}
		}
		if flag&gzFHCRC != 0 {
			if len(data) < p+2 {
				return nil, errGzipEOF
			}
			p += 2
		}
		// Raw deflate body: pyzlib reports where it ends. Members are
		// appended to one buffer under one limit: reading each into its
		// own would allocate per member, and a few KB of 1 MiB members
		// then cost far more than the limit.
		start := len(out)
		if out == nil {
			out = make([]byte, 0, min(512, limit+1))
		}
		grown, n, err := pyzlib.Inflate(out, data[p:], limit-start)
		if err != nil {
			switch {
			case errors.Is(err, pyzlib.ErrTooLarge):
				return nil, fmt.Errorf("%w (more than %d bytes)", ErrTooLarge, limit)
			case errors.Is(err, pyzlib.ErrTruncated):
				return nil, errGzipEOF
			}
			return nil, fmt.Errorf("%w: gzip: %v", ErrCorrupt, trimPyzlib(err))
		}
		out = grown
		member := out[start:]
		rest := data[p+n:]
		if len(rest) < 8 {
			return nil, errGzipEOF
		}
		if binary.LittleEndian.Uint32(rest) != crc32.ChecksumIEEE(member) {
			return nil, fmt.Errorf("%w: gzip: CRC check failed", ErrNotCompressed)
		}
		if binary.LittleEndian.Uint32(rest[4:]) != uint32(len(member)) {
			return nil, fmt.Errorf("%w: gzip: incorrect length of data produced", ErrNotCompressed)
		}
		data = bytes.TrimLeft(rest[8:], "\x00")
	}
	if out == nil {
		out = []byte{}
	}
	return out, nil
}

// LzmaCompressor is django-redis's LzmaCompressor: lzma.compress(data,
// preset=4), an .xz container (CRC64 check, one LZMA2 block), for data
// longer than 100 bytes. The bytes differ from liblzma's; Python reads them.
//
// Decompress accepts what Python's lzma.decompress (FORMAT_AUTO) accepts:
// .xz streams (LZMA2 filter only; others are ErrUnsupported) and legacy
// .lzma data; further concatenated .xz streams are decoded, other trailing
// data is ignored. Every failure is ErrNotCompressed (LZMAError). The
// dictionary is never larger than the output the headers announce.
type LzmaCompressor struct{}

// Name returns "lzma".
func (LzmaCompressor) Name() string { return "lzma" }

// Compress writes an .xz stream for data longer than LzmaMinLength.
func (LzmaCompressor) Compress(data []byte) ([]byte, error) {
	if len(data) <= LzmaMinLength {
		return data, nil
	}
	var b bytes.Buffer
	// Preset 4: 4 MiB dictionary, CRC64 check (Python's defaults).
	w, err := xz.WriterConfig{DictCap: 4 << 20, CheckSum: xz.CRC64}.NewWriter(&b)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(data); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Decompress decodes .xz or .lzma data.
func (LzmaCompressor) Decompress(data []byte, limit int) ([]byte, error) {
	return lzmaDecompress(data, limitOrDefault(limit))
}

// Lz4Compressor is django-redis's Lz4Compressor: lz4.frame.compress(data)
// (LZ4 frame, 64 KiB blocks, content size stored, no checksums) for data
// longer than 15 bytes. Decompress reads the first frame only, as
// lz4.frame.decompress does, ignoring what follows; every failure is
// ErrNotCompressed (django-redis catches any exception there).
type Lz4Compressor struct{}

// Name returns "lz4".
func (Lz4Compressor) Name() string { return "lz4" }

// Compress writes one LZ4 frame for data longer than Lz4MinLength.
func (Lz4Compressor) Compress(data []byte) ([]byte, error) {
	if len(data) <= Lz4MinLength {
		return data, nil
	}
	var b bytes.Buffer
	w := lz4.NewWriter(&b)
	if err := w.Apply(lz4.BlockSizeOption(lz4.Block64Kb), lz4.ChecksumOption(false),
		lz4.SizeOption(uint64(len(data))), lz4.ConcurrencyOption(1)); err != nil {
		return nil, err
	}
	if _, err := w.Write(data); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Decompress decodes the first LZ4 frame of data.
func (Lz4Compressor) Decompress(data []byte, limit int) ([]byte, error) {
	return lz4DecodeFrame(data, limitOrDefault(limit))
}

// ZstdCompressor is django-redis 5.1+'s ZStdCompressor: pyzstd.compress(data)
// (one zstd frame at the default level 3, content size stored, no checksum)
// for data longer than 15 bytes. Decompress decodes concatenated frames
// (skippable frames skipped); every failure except the size limit is
// ErrNotCompressed (pyzstd.ZstdError). A frame whose declared window is
// larger than the limit is ErrTooLarge. pyzstd is not installed where this
// was written: decoding is tested against klauspost/compress output only.
type ZstdCompressor struct{}

// Name returns "zstd".
func (ZstdCompressor) Name() string { return "zstd" }

var (
	zstdEncOnce sync.Once
	zstdEnc     *zstd.Encoder
	zstdEncErr  error

	zstdDecMu sync.Mutex
	zstdDecs  = map[int]*zstd.Decoder{}
)

// Compress writes one zstd frame for data longer than ZstdMinLength.
func (ZstdCompressor) Compress(data []byte) ([]byte, error) {
	if len(data) <= ZstdMinLength {
		return data, nil
	}
	zstdEncOnce.Do(func() {
		zstdEnc, zstdEncErr = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault),
			zstd.WithEncoderCRC(false), zstd.WithEncoderConcurrency(1))
	})
	if zstdEncErr != nil {
		return nil, zstdEncErr
	}
	return zstdEnc.EncodeAll(data, make([]byte, 0, len(data)/2+16)), nil
}

// zstdDecoder returns a shared decoder whose output limit is limit. Decoders
// are cached per limit (callers use one or two limits).
func zstdDecoder(limit int) (*zstd.Decoder, error) {
	zstdDecMu.Lock()
	defer zstdDecMu.Unlock()
	if d, ok := zstdDecs[limit]; ok {
		return d, nil
	}
	d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(runtime.GOMAXPROCS(0)),
		zstd.WithDecoderMaxMemory(uint64(limit)), zstd.WithDecoderLowmem(true))
	if err != nil {
		return nil, err
	}
	if len(zstdDecs) < 16 {
		zstdDecs[limit] = d
	}
	return d, nil
}

// Decompress decodes zstd frames.
func (ZstdCompressor) Decompress(data []byte, limit int) ([]byte, error) {
	limit = limitOrDefault(limit)
	if len(data) < 4 {
		return nil, fmt.Errorf("%w: zstd: input too short", ErrNotCompressed)
	}
	d, err := zstdDecoder(limit)
	if err != nil {
		return nil, err
	}
	out, err := d.DecodeAll(data, nil)
	if err != nil {
		if errors.Is(err, zstd.ErrDecoderSizeExceeded) || errors.Is(err, zstd.ErrWindowSizeExceeded) {
			return nil, fmt.Errorf("%w (more than %d bytes)", ErrTooLarge, limit)
		}
		return nil, fmt.Errorf("%w: zstd: %v", ErrNotCompressed, err)
	}
	if len(out) > limit {
		return nil, fmt.Errorf("%w (more than %d bytes)", ErrTooLarge, limit)
	}
	if out == nil {
		out = []byte{}
	}
	return out, nil
}
