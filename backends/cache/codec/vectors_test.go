package codec

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/djsession/djsession/pickle/py"
)

// cacheVector is a redis_value or cached_db case of
// testdata/vectors/django-*.jsonl (made by Django 5.2 / 6.0 with
// django-redis 6.0.0; format in /work/shared/vectors/README.md).
type cacheVector struct {
	ID     string `json:"id"`
	Django string `json:"django"`
	Kind   string `json:"kind"`
	Input  struct {
		CacheSpec struct {
			Backend    string `json:"backend"`
			Serializer string `json:"serializer"`
			Compressor string `json:"compressor"`
			KeyPrefix  string `json:"key_prefix"`
			Version    *int   `json:"version"`
		} `json:"cache_spec"`
	} `json:"input"`
	Expected struct {
		SessionKey string          `json:"session_key"`
		CacheKey   string          `json:"cache_key"`
		RedisKey   string          `json:"redis_key"`
		ValueB64   string          `json:"value_b64"`
		Decoded    json.RawMessage `json:"decoded"`
	} `json:"expected"`
	PythonRepr string `json:"python_repr"`
}

func loadCacheVectors(t testing.TB) []cacheVector {
	t.Helper()
	var out []cacheVector
	for _, name := range []string{"django-5.2.jsonl", "django-6.0.jsonl"} {
		f, err := os.Open("../../../testdata/vectors/" + name)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			var v cacheVector
			if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
				t.Fatal(err)
			}
			if v.Kind == "redis_value" || v.Kind == "cached_db" {
				out = append(out, v)
			}
		}
		f.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	if len(out) != 42 {
		t.Fatalf("found %d cache vectors, want 42", len(out))
	}
	return out
}

// format maps a cache_spec to the Format that wrote it (aliases in
// vectors/README.md: backend django-redis = DefaultClient, django =
// django.core.cache.backends.redis.RedisCache; django-redis 6.0.0 pickles
// at its default protocol 4).
func (v cacheVector) format(t testing.TB) Format {
	t.Helper()
	spec := v.Input.CacheSpec
	switch spec.Backend {
	case "django":
		return DjangoRedisCache{}
	case "django-redis":
		s, err := SerializerByName(spec.Serializer)
		if err != nil {
			t.Fatal(err)
		}
		c, err := CompressorByName(spec.Compressor)
		if err != nil {
			t.Fatal(err)
		}
		return DjangoRedis{Serializer: s, Compressor: c}
	}
	t.Fatalf("%s: unknown backend %q", v.ID, spec.Backend)
	return nil
}

// sameJSON compares two JSON texts as parsed values (numbers by text).
func sameJSON(t testing.TB, a, b []byte) bool {
	t.Helper()
	parse := func(x []byte) any {
		d := json.NewDecoder(bytes.NewReader(x))
		d.UseNumber()
		var v any
		if err := d.Decode(&v); err != nil {
			t.Fatalf("bad JSON %q: %v", x, err)
		}
		return v
	}
	return reflect.DeepEqual(parse(a), parse(b))
}

func TestVectorsDecode(t *testing.T) {
	for _, v := range loadCacheVectors(t) {
		t.Run(v.Django+"/"+v.ID, func(t *testing.T) {
			stored, err := base64.StdEncoding.DecodeString(v.Expected.ValueB64)
			if err != nil {
				t.Fatal(err)
			}
			got, err := v.format(t).Decode(stored, 0)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			norm, err := py.NormalJSON(got)
			if err != nil {
				t.Fatal(err)
			}
			if !sameJSON(t, norm, v.Expected.Decoded) {
				t.Errorf("decoded\n got %s\nwant %s", norm, v.Expected.Decoded)
			}
			// Keys (spec §6.1, §7.1).
			prefix := SessionCachePrefix
			if v.Kind == "cached_db" {
				prefix = CachedDBPrefix
			}
			if v.Expected.CacheKey != prefix+v.Expected.SessionKey {
				t.Errorf("cache key %q", v.Expected.CacheKey)
			}
			version := 1
			if v.Input.CacheSpec.Version != nil {
				version = *v.Input.CacheSpec.Version
			}
			if k := MakeKey(v.Expected.CacheKey, v.Input.CacheSpec.KeyPrefix, version); k != v.Expected.RedisKey {
				t.Errorf("MakeKey = %q, want %q", k, v.Expected.RedisKey)
			}
			if r, ok := ReverseKey(v.Expected.RedisKey); !ok || (r != v.Expected.CacheKey && !strings.Contains(v.Input.CacheSpec.KeyPrefix, ":")) {
				t.Errorf("ReverseKey = %q, %v", r, ok)
			}
		})
	}
}

// Encoding the decoded value again must give Django's bytes wherever Django
// is deterministic (pickle, JSON); where it is not (zlib, lzma and gzip
// streams), our stream must hold the same serialized bytes.
func TestVectorsEncode(t *testing.T) {
	var mismatched []pyCase
	for _, v := range loadCacheVectors(t) {
		t.Run(v.Django+"/"+v.ID, func(t *testing.T) {
			stored, _ := base64.StdEncoding.DecodeString(v.Expected.ValueB64)
			f := v.format(t)
			val, err := f.Decode(stored, 0)
			if err != nil {
				t.Fatal(err)
			}
			ours, flags, err := f.Encode(val)
			if err != nil || flags != 0 {
				t.Fatalf("Encode: %v (flags %d)", err, flags)
			}
			a, b := ours, stored
			if comp := v.Input.CacheSpec.Compressor; comp != "" && comp != "none" {
				c, _ := CompressorByName(comp)
				var err1, err2 error
				a, err1 = c.Decompress(ours, 0)
				b, err2 = c.Decompress(stored, 0)
				if err1 != nil || err2 != nil {
					t.Fatalf("decompress: %v, %v", err1, err2)
				}
			}
			if bytes.Equal(a, b) {
				return
			}
			if v.Input.CacheSpec.Serializer == "json" || !bytes.Contains(b, []byte{0x68}) {
				t.Errorf("serialized bytes differ\n got %x\nwant %x", a, b)
				return
			}
			// CPython shares interned str objects (a dict key and a
			// module name, repeated key literals) and writes BINGET (h)
			// for the repeat; the py model has no str identity, so the
			// pickle writer repeats the text. Python must load both to
			// the same value.
			mismatched = append(mismatched, pyCase{Name: v.Django + "/" + v.ID, Data: b64(a), Extra: b64(b)})
		})
	}
	if len(mismatched) == 0 {
		return
	}
	res := pyLines(t, pyPickleSameScript, mismatched)
	for _, r := range res {
		if r.Err != "" {
			t.Errorf("%s: python loads ours differently: %s", r.Name, r.Err)
		}
	}
	if len(res) != len(mismatched) {
		t.Errorf("python checked %d of %d", len(res), len(mismatched))
	}
}

const pyPickleSameScript = `
import pickle
for line in sys.stdin:
    c = json.loads(line)
    a = pickle.loads(base64.b64decode(c["data"]))
    b = pickle.loads(base64.b64decode(c["extra"]))
    r = {"name": c["name"]}
    if a != b or repr(a) != repr(b):
        r["err"] = "%r != %r" % (a, b)
    print(json.dumps(r))
`
