package pyzlib

import (
	"bytes"
	"testing"
)

// fuzzSeeds are valid streams of each block type and the hand-made
// edge cases.
func fuzzSeeds(f *testing.F) [][]byte {
	var seeds [][]byte
	for _, c := range handStreams() {
		seeds = append(seeds, c.z)
	}
	for _, data := range [][]byte{[]byte(sessionJSON), textCorpus(3000), bytes.Repeat([]byte("ab"), 300), nil} {
		for _, level := range []int{0, 1, 6, 9} {
			z, _ := Compress(nil, data, level)
			seeds = append(seeds, z)
		}
	}
	return seeds
}

// FuzzDecompress compares Decompress with compress/zlib on arbitrary
// input: both fail or both give the same bytes, and the limit is obeyed.
func FuzzDecompress(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, z []byte) {
		sameOutcome(t, z, 1<<20)
		// A small limit with spare capacity: the bytes past it stay.
		const limit = 50
		dst := make([]byte, 2, 200)
		full := dst[:cap(dst)]
		for i := range full {
			full[i] = 0xee
		}
		got, err := Decompress(dst, z, limit)
		if err == nil && len(got)-2 > limit {
			t.Fatalf("%d bytes with limit %d", len(got)-2, limit)
		}
		for i, b := range full[2+limit:] {
			if b != 0xee {
				t.Fatalf("byte %d past the limit written", 2+limit+i)
			}
		}
	})
}

// FuzzCompressRoundTrip compresses arbitrary data at every level and
// reads it back with Decompress and compress/zlib; Deflate must be the
// body of Compress and Inflate must read it.
func FuzzCompressRoundTrip(f *testing.F) {
	f.Add([]byte(sessionJSON), uint8(6))
	f.Add(textCorpus(2000), uint8(9))
	f.Add(bytes.Repeat([]byte{0}, 1000), uint8(1))
	f.Add([]byte{}, uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, lv uint8) {
		level := int(lv%11) - 1
		z, err := Compress([]byte("x"), data, level)
		if err != nil {
			t.Fatal(err)
		}
		z = z[1:]
		back, err := Decompress(nil, z, len(data))
		if err != nil || !bytes.Equal(back, data) {
			t.Fatalf("level %d: Decompress: %v", level, err)
		}
		if back, err := goInflate(z); err != nil || !bytes.Equal(back, data) {
			t.Fatalf("level %d: compress/zlib: %v", level, err)
		}
		raw, _ := Deflate(nil, data, level)
		if !bytes.Equal(raw, z[2:len(z)-4]) {
			t.Fatalf("level %d: Deflate differs from Compress body", level)
		}
		back, n, err := Inflate(nil, append(raw, 1, 2, 3), -1)
		if err != nil || n != len(raw) || !bytes.Equal(back, data) {
			t.Fatalf("level %d: Inflate n=%d/%d: %v", level, n, len(raw), err)
		}
	})
}
