package pyzlib

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// corpusItem is one input of the identity tests.
type corpusItem struct {
	name string
	data []byte
}

// benchJSONInputs returns every obj / session_dict of bench/inputs.json,
// serialised by CPython exactly as Django's JSONSerializer does.
func benchJSONInputs(t testing.TB, py *pyServer) []corpusItem {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "bench", "inputs.json"))
	if err != nil {
		t.Fatalf("read bench inputs: %v", err)
	}
	var in struct {
		Benchmarks map[string]map[string]json.RawMessage `json:"benchmarks"`
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		t.Fatal(err)
	}
	var items []corpusItem
	for name, b := range in.Benchmarks {
		for _, field := range []string{"obj", "session_dict"} {
			if v, ok := b[field]; ok {
				items = append(items, corpusItem{name + "." + field, py.mustCall(t, 'S', 0, v)})
			}
		}
	}
	return items
}

// sessionCorpus returns n JSON session dicts of varied shapes and sizes
// (about 20 B to 6 KB), serialised by CPython as Django does.
func sessionCorpus(t testing.TB, py *pyServer, n int, seed uint64) []corpusItem {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 1))
	words := strings.Fields("the quick brown fox jumps over lazy dog django session auth user backend contrib models cart items product name price quantity sku message level info warning success error csrf token language timezone Europe/Paris en-us fr über naïve café 日本語 😀")
	hex := func(k int) string {
		const digits = "0123456789abcdef"
		b := make([]byte, k)
		for i := range b {
			b[i] = digits[r.IntN(16)]
		}
		return string(b)
	}
	var value func(depth int) any
	value = func(depth int) any {
		switch k := r.IntN(10); {
		case k < 3:
			ws := make([]string, 1+r.IntN(6))
			for i := range ws {
				ws[i] = words[r.IntN(len(words))]
			}
			return strings.Join(ws, " ")
		case k < 4:
			return hex(8 + r.IntN(64))
		case k < 5:
			return r.IntN(100000) - 50
		case k < 6:
			return r.Float64() * 1000
		case k < 7 && depth < 3:
			l := make([]any, r.IntN(12))
			for i := range l {
				l[i] = value(depth + 1)
			}
			return l
		case k < 8 && depth < 3:
			return dict(r, depth+1, 1+r.IntN(6), value)
		case k < 9:
			return r.IntN(2) == 0
		default:
			return nil
		}
	}
	var items []corpusItem
	for i := range n {
		var b bytes.Buffer
		b.WriteString(`{"_auth_user_id":"` + strconv.Itoa(r.IntN(100000)) + `",`)
		b.WriteString(`"_auth_user_backend":"django.contrib.auth.backends.ModelBackend",`)
		b.WriteString(`"_auth_user_hash":"` + hex(64) + `"`)
		keys := r.IntN(4 << r.IntN(5))
		for k := range keys {
			v, _ := json.Marshal(value(0))
			fmt.Fprintf(&b, `,"key_%d_%s":%s`, k, words[r.IntN(len(words))], v)
		}
		b.WriteString("}")
		items = append(items, corpusItem{fmt.Sprintf("session%d", i), py.mustCall(t, 'S', 0, b.Bytes())})
	}
	return items
}

// dict builds a JSON object with keys in insertion order.
func dict(r *rand.Rand, depth, n int, value func(int) any) json.RawMessage {
	var b bytes.Buffer
	b.WriteByte('{')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		v, _ := json.Marshal(value(depth))
		fmt.Fprintf(&b, `"k%d":%s`, r.IntN(1000), v)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// byteCorpus returns random, repetitive and text inputs from 0 bytes to
// 200 KB, including sizes that fill several blocks and slide the window.
// With short set (race detector) the largest inputs are left out.
func byteCorpus(seed uint64, short bool) []corpusItem {
	r := rand.New(rand.NewPCG(seed, 2))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	}
	alpha := func(n int, alphabet string) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		return b
	}
	var items []corpusItem
	add := func(name string, b []byte) {
		if short && len(b) > 40000 {
			return
		}
		items = append(items, corpusItem{fmt.Sprintf("%s/%d", name, len(b)), b})
	}
	for n := 0; n <= 40; n++ {
		add("random", random(n))
		add("ab", alpha(n, "ab"))
	}
	for _, n := range []int{100, 257, 258, 259, 260, 261, 262, 263, 1000, 4096, 16383, 16384, 32761, 32762, 32768, 40000, 65273, 65274, 65536, 65537, 100000, 200000} {
		add("random", random(n))
		add("zeros", make([]byte, n))
		add("hex", alpha(n, "0123456789abcdef"))
		if n <= 100000 { // at levels 8-9 these walk 1K-4K-long chains at every byte
			add("ab", alpha(n, "ab"))
			add("acgt", alpha(n, "acgt"))
		}
	}
	// Where level 0 splits its stored blocks.
	for _, n := range []int{65531, 65532, 98304, 98305, 163839, 163840, 229375, 229376, 294909, 294910, 360444} {
		add("stored", random(n))
	}
	// Short periods and long runs.
	for _, p := range []string{"a", "ab", "abc", "abcd", "hello world ", "0123456789abcdefghij"} {
		for _, n := range []int{10, 300, 5000, 70000, 200000} {
			add("period"+strconv.Itoa(len(p)), bytes.Repeat([]byte(p), n/len(p)+1)[:n])
		}
	}
	// Text with long and far matches: Go sources, spec text, and a
	// mutated copy so matches break every so often.
	text := textCorpus(200000)
	for _, n := range []int{50, 500, 3000, 20000, 70000, 200000} {
		add("text", text[:n])
	}
	mut := bytes.Clone(text[:150000])
	for i := 0; i < len(mut); i += 1 + r.IntN(300) {
		mut[i] = byte('A' + r.IntN(26))
	}
	add("mutated", mut)
	// Repeats at distances around TOO_FAR (4096) and the window size, made
	// of short random runs so length-3 matches and chain limits matter.
	for _, dist := range []int{100, 4095, 4096, 4097, 5000, 32506, 32768, 40000} {
		b := random(dist)
		for len(b) < dist+30000 {
			j := len(b) - dist
			k := 3 + r.IntN(6)
			b = append(b, b[j:j+k]...)
			b = append(b, random(r.IntN(8))...)
		}
		add(fmt.Sprintf("dist%d", dist), b)
	}
	// Binary-ish records: structured fields with counters.
	var rec []byte
	for i := 0; len(rec) < 120000; i++ {
		rec = fmt.Appendf(rec, "%08x|user%05d|%s|%d\n", i*2654435761, r.IntN(50000), alpha(5+r.IntN(10), "abcdefghijklmnop"), r.IntN(1<<20))
	}
	add("records", rec)
	return items
}
