package cacheddb

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/djsession/djsession/backends/cache"
	"github.com/djsession/djsession/backends/cache/codec"
	"github.com/djsession/djsession/backends/cache/dbcache"
	"github.com/djsession/djsession/backends/db"
	"github.com/djsession/djsession/backends/testenv"
	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/django/storetest"
	"github.com/djsession/djsession/pickle/py"
)

const pythonBin = "/usr/bin/python3"

func repoPath(t testing.TB, parts ...string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(append([]string{filepath.Dir(file), "..", ".."}, parts...)...)
}

// runDjango runs one batch of the test Django project's djs.py (one Python
// process) with env.
func runDjango(t testing.TB, env []string, ops []map[string]any) []json.RawMessage {
	t.Helper()
	if _, err := os.Stat(pythonBin); err != nil {
		testenv.Require(t, pythonBin, err)
	}
	in, _ := json.Marshal(ops)
	cmd := exec.Command(pythonBin, repoPath(t, "testdata", "djangoproject", "djs.py"), "batch")
	cmd.Env = append(append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1"), env...)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 77 {
		testenv.Require(t, "Django for "+pythonBin, err)
	}
	if err != nil {
		t.Fatalf("djs.py: %v\n%s", err, stderr.String())
	}
	var res []json.RawMessage
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("djs.py output %q: %v", out, err)
	}
	for i, r := range res {
		var e struct{ Error, Message string }
		if json.Unmarshal(r, &e) == nil && e.Error != "" {
			t.Fatalf("djs.py op %d: %s: %s", i, e.Error, e.Message)
		}
	}
	return res
}

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

func normal(t testing.TB, d *py.Dict) []byte {
	b, err := py.NormalJSON(py.DictOf(d))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDjangoInterop: Django 3.2's cached_db (SQLite database; cache:
// django-redis 5.2, FileBasedCache, or DatabaseCache in the same database)
// and this store share sessions both ways, through the cache and through
// the database alone.
func TestDjangoInterop(t *testing.T) {
	for _, cacheName := range []string{"django-redis", "filebased", "database"} {
		t.Run(cacheName, func(t *testing.T) { djangoInterop(t, cacheName) })
	}
}

func djangoInterop(t *testing.T, cacheName string) {
	s, _ := storetest.Settings()
	s.Clock = nil
	var f *fixture
	var djangoCache map[string]any
	switch cacheName {
	case "filebased":
		dir := t.TempDir()
		f = newFixture(t, s, "filecache://"+dir)
		djangoCache = map[string]any{"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": dir}
	case "database":
		f = newFixture(t, s, "dbcache://djs_cache")
		if err := f.cache.Client().(*dbcache.Client).CreateTable(testCtx(t)); err != nil {
			t.Fatal(err)
		}
		djangoCache = map[string]any{"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "djs_cache"}
	default:
		f = newFixture(t, s, "")
		djangoCache = map[string]any{"BACKEND": "django_redis.cache.RedisCache", "LOCATION": redisURL(t)}
	}
	djangoCache["KEY_PREFIX"] = f.prefix
	ctx := testCtx(t)
	data := `{"_auth_user_id": "7", "cart": [1, 2, {"sku": "A-1"}], "name": "Zo\u00eb", "n": 1.25}`
	v, err := py.DecodeJSON([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := v.Dict()
	// Ours: one with its cache entry, one in the database only.
	var ours []string
	for i := range 2 {
		sess := django.NewSession(ctx, f.st, s, "")
		for _, e := range want.Entries() {
			k, _ := e.Key.Str()
			sess.Set(k, e.Value)
		}
		if err := sess.Save(false); err != nil {
			t.Fatal(err)
		}
		ours = append(ours, sess.SessionKey())
		if i == 1 {
			if err := f.cache.Delete(ctx, sess.SessionKey()); err != nil {
				t.Fatal(err)
			}
		}
	}
	caches, _ := json.Marshal(map[string]any{"default": djangoCache})
	env := []string{"SESSION_ENGINE=cached_db", "DATABASE_URL=" + f.dbURL, "DJS_CACHES=" + string(caches),
		"DJANGO_SECRET_KEY=" + s.SecretKey}
	res := runDjango(t, env, []map[string]any{
		{"op": "read", "session_key": ours[0]},
		{"op": "read", "session_key": ours[1]},
		{"op": "write", "data": json.RawMessage(data)},
		{"op": "write", "data": json.RawMessage(data)},
	})
	for i := range 2 {
		var r struct {
			Data     json.RawMessage `json:"data"`
			Survived bool            `json:"survived"`
		}
		if err := json.Unmarshal(res[i], &r); err != nil {
			t.Fatal(err)
		}
		if !r.Survived || !sameJSON(t, r.Data, normal(t, want)) {
			t.Errorf("Django read our session %d: survived %v, data %s", i, r.Survived, r.Data)
		}
	}
	// Django's read of the database-only session filled the cache.
	if ok, _ := f.cache.Exists(ctx, ours[1]); !ok {
		t.Error("Django's read-through did not fill the cache entry we read")
	}
	for i := 2; i < 4; i++ {
		var w struct {
			SessionKey string `json:"session_key"`
		}
		if err := json.Unmarshal(res[i], &w); err != nil {
			t.Fatal(err)
		}
		if i == 3 {
			// Read it from the database alone.
			if err := f.cache.Delete(ctx, w.SessionKey); err != nil {
				t.Fatal(err)
			}
		}
		d, found, err := f.st.Load(ctx, w.SessionKey)
		if err != nil || !found {
			t.Fatalf("Load(Django's session %d): %v %v", i, found, err)
		}
		if !sameJSON(t, normal(t, d), normal(t, want)) {
			t.Errorf("we read Django's session as %s", normal(t, d))
		}
		dbOnly, found, err := f.db.Load(ctx, w.SessionKey)
		if err != nil || !found || !sameJSON(t, normal(t, dbOnly), normal(t, want)) {
			t.Errorf("Django's database row: %v %v", found, err)
		}
	}
}

// cachedDBVector is a cached_db case of testdata/vectors (Django 5.2 / 6.0,
// django-redis 6.0.0; /work/shared/vectors/README.md).
type cachedDBVector struct {
	ID       string `json:"id"`
	Django   string `json:"django"`
	Kind     string `json:"kind"`
	Settings struct {
		SecretKey string `json:"SECRET_KEY"`
	} `json:"settings"`
	Input struct {
		Timestamp int64 `json:"timestamp"`
		CacheSpec struct {
			Backend    string `json:"backend"`
			Serializer string `json:"serializer"`
			Compressor string `json:"compressor"`
		} `json:"cache_spec"`
	} `json:"input"`
	Expected struct {
		SessionKey string `json:"session_key"`
		RedisKey   string `json:"redis_key"`
		ValueB64   string `json:"value_b64"`
		DBRow      struct {
			SessionData string `json:"session_data"`
			ExpireDate  string `json:"expire_date"`
		} `json:"db_row"`
		Decoded    json.RawMessage `json:"decoded"`
		FromDBOnly json.RawMessage `json:"decoded_from_db_only"`
	} `json:"expected"`
}

// TestVectors: Django's row in SQLite and Django's value in Redis read the
// same as Django read them, through the database (empty cache) and then
// through the cache.
func TestVectors(t *testing.T) {
	u := redisURL(t)
	rc := adminRedis(t, u)
	var vectors []cachedDBVector
	for _, name := range []string{"django-5.2.jsonl", "django-6.0.jsonl"} {
		fh, err := os.Open(repoPath(t, "testdata", "vectors", name))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			var v cachedDBVector
			if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
				t.Fatal(err)
			}
			if v.Kind == "cached_db" {
				vectors = append(vectors, v)
			}
		}
		fh.Close()
	}
	if len(vectors) != 6 {
		t.Fatalf("%d cached_db vectors, want 6", len(vectors))
	}
	for _, v := range vectors {
		t.Run(v.Django+"/"+v.ID, func(t *testing.T) {
			s := django.DefaultSettings(v.Settings.SecretKey)
			now := time.Unix(v.Input.Timestamp, 0)
			s.Clock = func() time.Time { return now }
			opts := []cache.Option{cache.WithSerializer(v.Input.CacheSpec.Serializer), cache.WithCompressor(v.Input.CacheSpec.Compressor)}
			if v.Input.CacheSpec.Backend == "django" {
				opts = []cache.Option{cache.WithFormatName("django")}
			}
			dbURL := testenv.SQLiteURL(t)
			st, err := Open(dbURL, u, s, nil, opts)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			ctx := context.Background()
			if st.Cache().CacheKey(v.Expected.SessionKey) != v.Expected.RedisKey {
				t.Fatalf("cache key %q, want %q", st.Cache().CacheKey(v.Expected.SessionKey), v.Expected.RedisKey)
			}
			t.Cleanup(func() { rc.Del(context.Background(), v.Expected.RedisKey) })
			rc.Del(ctx, v.Expected.RedisKey)
			dbs := st.DB().(*db.Store)
			if err := dbs.CreateTable(ctx); err != nil {
				t.Fatal(err)
			}
			// Django's row, expire_date as Django writes it on SQLite
			// (naive UTC text, spec §3.9.1).
			exp, err := time.Parse(time.RFC3339Nano, v.Expected.DBRow.ExpireDate)
			if err != nil {
				t.Fatal(err)
			}
			sqlDB := dbs.DB()
			_, err = sqlDB.ExecContext(ctx, "INSERT INTO django_session (session_key, session_data, expire_date) VALUES (?, ?, ?)",
				v.Expected.SessionKey, v.Expected.DBRow.SessionData, exp.UTC().Format("2006-01-02 15:04:05.000000"))
			if err != nil {
				t.Fatal(err)
			}
			d, found, err := st.Load(ctx, v.Expected.SessionKey)
			if err != nil || !found {
				t.Fatalf("Load from the database: %v %v", found, err)
			}
			if !sameJSON(t, normal(t, d), v.Expected.FromDBOnly) {
				t.Errorf("from the database\n got %s\nwant %s", normal(t, d), v.Expected.FromDBOnly)
			}
			// Django's cache value, read through the cache.
			raw, _ := base64.StdEncoding.DecodeString(v.Expected.ValueB64)
			if err := rc.Set(ctx, v.Expected.RedisKey, raw, time.Minute).Err(); err != nil {
				t.Fatal(err)
			}
			if _, err := sqlDB.ExecContext(ctx, "DELETE FROM django_session"); err != nil {
				t.Fatal(err)
			}
			d, found, err = st.Load(ctx, v.Expected.SessionKey)
			if err != nil || !found {
				t.Fatalf("Load from the cache: %v %v", found, err)
			}
			if !sameJSON(t, normal(t, d), v.Expected.Decoded) {
				t.Errorf("from the cache\n got %s\nwant %s", normal(t, d), v.Expected.Decoded)
			}
			if !strings.HasPrefix(v.Expected.RedisKey, ":1:"+codec.CachedDBPrefix) {
				t.Errorf("redis key %q", v.Expected.RedisKey)
			}
		})
	}
}

// TestCorruptRowKeepsKey: a database row that fails verification (written
// with another SECRET_KEY), no cache entry. Django's cached_db load()
// decodes it to {}, keeps the key and caches the {} for the row's life
// (spec §3.9.3); so do we. Checked against Django 3.2 on a second row.
func TestCorruptRowKeepsKey(t *testing.T) {
	s, _ := storetest.Settings()
	s.Clock = nil
	f := newFixture(t, s, "")
	ctx := testCtx(t)
	other := *s
	other.SecretKey = "another-secret-key-for-this-test"
	foreign, err := db.Open(f.dbURL, &other)
	if err != nil {
		t.Fatal(err)
	}
	defer foreign.Close()
	var keys []string
	for range 2 {
		sess := django.NewSession(ctx, foreign, &other, "")
		sess.Set("a", py.Int(1))
		if err := sess.Save(false); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, sess.SessionKey())
	}

	if _, state, err := f.st.LoadState(ctx, keys[0]); err != nil || state != django.LoadCorrupt {
		t.Fatalf("LoadState: %v, %v", state, err)
	}
	if d, found, err := f.cache.Load(ctx, keys[0]); err != nil || !found || d.Len() != 0 {
		t.Fatalf("cache after the corrupt load: %v %v %v (Django caches {})", d, found, err)
	}
	sess := django.NewSession(ctx, f.st, s, keys[0])
	if sess.Data().Len() != 0 || sess.SessionKey() != keys[0] {
		t.Fatalf("session: key %q, %d items", sess.SessionKey(), sess.Data().Len())
	}

	caches, _ := json.Marshal(map[string]any{"default": map[string]any{
		"BACKEND": "django_redis.cache.RedisCache", "LOCATION": redisURL(t), "KEY_PREFIX": f.prefix}})
	env := []string{"SESSION_ENGINE=cached_db", "DATABASE_URL=" + f.dbURL, "DJS_CACHES=" + string(caches),
		"DJANGO_SECRET_KEY=" + s.SecretKey}
	res := runDjango(t, env, []map[string]any{{"op": "read", "session_key": keys[1]}})
	var r struct {
		Data     json.RawMessage `json:"data"`
		Survived bool            `json:"survived"`
	}
	if err := json.Unmarshal(res[0], &r); err != nil {
		t.Fatal(err)
	}
	if !r.Survived || string(r.Data) != "{}" {
		t.Fatalf("Django on a corrupt row: kept the key %v, data %s (the test expects true, {})", r.Survived, r.Data)
	}
	if d, found, err := f.cache.Load(ctx, keys[1]); err != nil || !found || d.Len() != 0 {
		t.Fatalf("Django's cache entry for the corrupt row: %v %v %v", d, found, err)
	}
}
