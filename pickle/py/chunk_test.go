package py

import "testing"

// TestChunkAt checks that chunkAt numbers the items of a chunkStack one
// after another: each chunk filled in order, from offset 0 to its size.
func TestChunkAt(t *testing.T) {
	wantC, wantOff := 0, 0
	for i := 0; i < 20000; i++ {
		c, off := chunkAt(i)
		if c != wantC || off != wantOff {
			t.Fatalf("chunkAt(%d) = %d, %d; want %d, %d", i, c, off, wantC, wantOff)
		}
		wantOff++
		if wantOff == chunkSize(c) {
			wantC, wantOff = wantC+1, 0
		}
	}
	if got := chunkSize(0); got != 64 {
		t.Errorf("first chunk %d items, want 64", got)
	}
	if got := chunkSize(30); got != maxChunk {
		t.Errorf("late chunk %d items, want %d", got, maxChunk)
	}
}

// TestChunkStackLargeContainers decodes arrays and objects across chunk
// boundaries, nested, and checks every item lands in its place.
func TestChunkStackLargeContainers(t *testing.T) {
	for _, n := range []int{9, 63, 64, 65, 960, 961, 1984, 1985, 5000} {
		b := []byte("[")
		o := []byte("{")
		for i := 0; i < n; i++ {
			if i > 0 {
				b = append(b, ',')
				o = append(o, ',')
			}
			b = append(b, '[')
			b = appendDec(b, i)
			b = append(b, ",[1,2,3,4,5,6,7,8,9,10]]"...)
			o = append(o, '"', 'k')
			o = appendDec(o, i)
			o = append(o, '"', ':')
			o = appendDec(o, i)
		}
		b = append(b, ']')
		o = append(o, '}')
		v, err := DecodeJSON(b)
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		l, _ := v.List()
		if l == nil || len(l.Items) != n {
			t.Fatalf("n=%d: got %v items", n, l)
		}
		for i, it := range l.Items {
			inner, _ := it.List()
			if x, _ := inner.Items[0].Int(); x != int64(i) || len(inner.Items) != 2 {
				t.Fatalf("n=%d: item %d = %s", n, i, it.Repr())
			}
		}
		v, err = DecodeJSON(o)
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		d, _ := v.Dict()
		if d == nil || d.Len() != n {
			t.Fatalf("n=%d: object has %v members", n, d)
		}
		for i := 0; i < n; i++ {
			key := "k" + string(appendDec(nil, i))
			got, ok := d.GetStr(key)
			if x, _ := got.Int(); !ok || x != int64(i) {
				t.Fatalf("n=%d: %s = %s", n, key, got.Repr())
			}
		}
	}
}

func appendDec(b []byte, i int) []byte {
	if i >= 10 {
		b = appendDec(b, i/10)
	}
	return append(b, byte('0'+i%10))
}
