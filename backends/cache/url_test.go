package cache

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/djsession/djsession/backends/cache/codec"
	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/django/storetest"
)

// Expected values derived by hand from django-environ's cache_url_config
// (LOCATION = the URL's scheme with "cache" removed + "://" + each
// comma-separated netloc part + the path; query keys become options) and
// redis-py's from_url (db from the path or ?db=, credentials
// percent-decoded), and pymemcache's server names ("host:port").
func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		url  string
		want Config
	}{
		{"redis://127.0.0.1:6379/1", Config{Backend: Redis, Topology: Single, Locations: []Location{
			{Name: "redis://127.0.0.1:6379/1", Network: "tcp", Addr: "127.0.0.1:6379", DB: 1}}}},
		{"redis://localhost", Config{Backend: Redis, Topology: Single, Locations: []Location{
			{Name: "redis://localhost", Network: "tcp", Addr: "localhost:6379"}}}},
		{"rediscache://:s%40cret@cache:6380/2?key_prefix=site&version=3", Config{Backend: Redis, Topology: Single,
			KeyPrefix: "site", Version: 3, Locations: []Location{
				{Name: "redis://:s%40cret@cache:6380/2", Network: "tcp", Addr: "cache:6380", Password: "s@cret", DB: 2}}}},
		{"rediss://user:pw@[::1]:6390/0?ssl_cert_reqs=none", Config{Backend: Redis, Topology: Single, TLSInsecure: true,
			Locations: []Location{{Name: "rediss://user:pw@[::1]:6390/0", Network: "tcp", Addr: "[::1]:6390",
				Username: "user", Password: "pw", TLS: true}}}},
		{"redis://:pw@h1:6379,h2:6379/0?password=other", Config{Backend: Redis, Topology: Replicated, Locations: []Location{
			{Name: "redis://:pw@h1:6379/0", Network: "tcp", Addr: "h1:6379", Password: "pw"},
			{Name: "redis://h2:6379/0", Network: "tcp", Addr: "h2:6379", Password: "other"}}}},
		{"redis://h1,h2:6380/4?client_class=django_redis.client.ShardClient&serializer=json&compressor=django_redis.compressors.zlib.ZlibCompressor",
			Config{Backend: Redis, Topology: Shard, Serializer: "json", Compressor: "django_redis.compressors.zlib.ZlibCompressor",
				Locations: []Location{
					{Name: "redis://h1/4", Network: "tcp", Addr: "h1:6379", DB: 4},
					{Name: "redis://h2:6380/4", Network: "tcp", Addr: "h2:6380", DB: 4}}}},
		{"redis://h/0?client_class=django_redis.client.HerdClient", Config{Backend: Redis, Topology: Single,
			Herd: true, HerdTimeout: 60, Locations: []Location{{Name: "redis://h/0", Network: "tcp", Addr: "h:6379"}}}},
		{"redis://h1,h2/1?CLIENT_CLASS=django_redis.client.HerdClient&herd_timeout=0&serializer=pickle&compressor=zlib",
			Config{Backend: Redis, Topology: Replicated, Herd: true, HerdTimeout: 0, Serializer: "pickle", Compressor: "zlib",
				Locations: []Location{
					{Name: "redis://h1/1", Network: "tcp", Addr: "h1:6379", DB: 1},
					{Name: "redis://h2/1", Network: "tcp", Addr: "h2:6379", DB: 1}}}},
		{"unix:///run/redis.sock?client_class=django_redis.client.HerdClient&herd_timeout=90&format=django-redis", Config{
			Backend: Redis, Topology: Single, Herd: true, HerdTimeout: 90, Format: "django-redis",
			Locations: []Location{{Name: "unix:///run/redis.sock", Network: "unix", Addr: "/run/redis.sock"}}}},
		{"unix:///run/redis.sock?db=5", Config{Backend: Redis, Topology: Single, Locations: []Location{
			{Name: "unix:///run/redis.sock", Network: "unix", Addr: "/run/redis.sock", DB: 5}}}},
		{"redis:///run/redis.sock?DB=2&Socket_Timeout=0.25&socket_connect_timeout=2&pool_size=7&timeout=300&format=django",
			Config{Backend: Redis, Topology: Single, Format: "django", ReadTimeout: 250 * time.Millisecond,
				WriteTimeout: 250 * time.Millisecond, DialTimeout: 2 * time.Second, PoolSize: 7,
				Locations: []Location{{Name: "unix:///run/redis.sock", Network: "unix", Addr: "/run/redis.sock", DB: 2}}}},
		{"redis+sentinel://:pw@s1,s2:26380/mymaster/3?sentinel_password=sp", Config{Backend: Redis, Topology: Sentinel,
			MasterName: "mymaster", DB: 3, SentinelPassword: "sp", Locations: []Location{
				{Name: "s1", Network: "tcp", Addr: "s1:26379", Password: "pw"},
				{Name: "s2:26380", Network: "tcp", Addr: "s2:26380", Password: "pw"}}}},
		{"redis://mymaster/1?client_class=django_redis.client.SentinelClient&sentinels=s1:26379,s2&replica_reads=1", Config{Backend: Redis,
			Topology: Sentinel, MasterName: "mymaster", DB: 1, SentinelReplicaReads: true, Locations: []Location{
				{Name: "s1:26379", Network: "tcp", Addr: "s1:26379"},
				{Name: "s2", Network: "tcp", Addr: "s2:26379"}}}},
		{"redis://h1,h2:6380/0?replica_read_only=False", Config{Backend: Redis, Topology: Replicated, ReplicaWrites: true,
			Locations: []Location{{Name: "redis://h1/0", Network: "tcp", Addr: "h1:6379"}, {Name: "redis://h2:6380/0", Network: "tcp", Addr: "h2:6380"}}}},
		{"redis://h1?REPLICA_READ_ONLY=0", Config{Backend: Redis, Topology: Single, ReplicaWrites: true,
			Locations: []Location{{Name: "redis://h1", Network: "tcp", Addr: "h1:6379"}}}},
		{"redis://h1,h2?replica_read_only=true", Config{Backend: Redis, Topology: Replicated,
			Locations: []Location{{Name: "redis://h1", Network: "tcp", Addr: "h1:6379"}, {Name: "redis://h2", Network: "tcp", Addr: "h2:6379"}}}},
		{"redis+cluster://n1:7000,n2:7001?read_timeout=100ms&write_timeout=1", Config{Backend: Redis, Topology: Cluster,
			ReadTimeout: 100 * time.Millisecond, WriteTimeout: time.Second, Locations: []Location{
				{Name: "n1:7000", Network: "tcp", Addr: "n1:7000"},
				{Name: "n2:7001", Network: "tcp", Addr: "n2:7001"}}}},
		{"memcache://127.0.0.1:11211", Config{Backend: Memcached, Topology: Single, Locations: []Location{
			{Name: "127.0.0.1:11211", Network: "tcp", Addr: "127.0.0.1:11211"}}}},
		{"pymemcache://a,[::1]:11212?key_prefix=x", Config{Backend: Memcached, Topology: Replicated, KeyPrefix: "x", Locations: []Location{
			{Name: "a:11211", Network: "tcp", Addr: "a:11211"},
			{Name: "::1:11212", Network: "tcp", Addr: "[::1]:11212"}}}},
		{"pylibmc://mc:11211", Config{Backend: Memcached, Topology: Single, Format: "pylibmc", Locations: []Location{
			{Name: "mc:11211", Network: "tcp", Addr: "mc:11211"}}}},
		{"memcache:///tmp/memcached.sock", Config{Backend: Memcached, Topology: Single, Locations: []Location{
			{Name: "/tmp/memcached.sock", Network: "unix", Addr: "/tmp/memcached.sock"}}}},
		// django-environ: filecache LOCATION = netloc + path, dbcache
		// LOCATION = netloc; other query keys go to OPTIONS upper-cased
		// (MAX_ENTRIES, CULL_FREQUENCY, where 0 means "cull everything").
		{"filecache:///var/tmp/django_cache", Config{Backend: FileBased, Topology: Single, Path: "/var/tmp/django_cache"}},
		{"filecache://relative/dir?max_entries=1000&CULL_FREQUENCY=0&key_prefix=p", Config{Backend: FileBased,
			Topology: Single, Path: "relative/dir", MaxEntries: 1000, CullFrequency: CullAll, KeyPrefix: "p"}},
		{"dbcache://my_cache_table?cull_frequency=4&version=2", Config{Backend: Database, Topology: Single,
			Table: "my_cache_table", CullFrequency: 4, Version: 2}},
		{"filecache:///c?max_entries=0", Config{Backend: FileBased, Topology: Single, Path: "/c", MaxEntries: -1}},
	} {
		got, err := ParseURL(tc.url)
		if err != nil {
			t.Errorf("ParseURL(%q): %v", tc.url, err)
			continue
		}
		if !reflect.DeepEqual(*got, tc.want) {
			t.Errorf("ParseURL(%q)\n got %+v\nwant %+v", tc.url, *got, tc.want)
		}
	}
}

func TestParseURLErrors(t *testing.T) {
	for _, u := range []string{
		"", "localhost:6379", "http://x", "redis://h:0", "redis://h:99999", "redis://h:port",
		"redis://h/x", "redis://h/-1", "redis://", "redis://h?db=x", "redis://h?version=x",
		"redis://h?client_class=django_redis.client.HerdClient&herd_timeout=-1",
		"redis://h?client_class=django_redis.client.HerdClient&herd_timeout=1.5",
		"redis://h?client_class=django_redis.client.HerdClient&format=django",
		"redis://h?herd_timeout=60", "redis://h?client_class=django_redis.client.ShardClient&herd_timeout=60",
		"memcache://h?herd_timeout=60", "redis://h?client_class=django_redis.client.NopeClient", "redis://[::1/0",
		"redis+sentinel://s1/", "redis+sentinel://s1/m/x", "redis+cluster://n1/1",
		"redis+sentinel://s1/m?replica_reads=maybe", "redis://h?replica_reads=true", "redis+cluster://n1?replica_reads=1",
		"redis://m/0?client_class=django_redis.client.SentinelClient", "memcache://", "memcache://h?format=django",
		"redis://h?format=pylibmc", "redis://h?format=nope", "redis://h?socket_timeout=-1",
		"redis://h?pool_size=-3", "redis://:%zz@h", "redis://h?a=%zz",
		"redis://" + strings.Repeat("a", MaxURLLength),
		"filecache://", "filecache:///d?format=django", "filecache:///d?max_entries=-1", "filecache:///d?max_entries=x",
		"filecache:///d?cull_frequency=-1", "dbcache://", "dbcache://t/x", "dbcache://t?serializer=json&format=pymemcache",
		"redis://h?max_entries=10", "memcache://h?cull_frequency=2",
		"redis://h1,h2?replica_read_only=maybe", "redis://h1,h2?replica_read_only=false&format=django",
		"redis+sentinel://s1/m?replica_read_only=false", "redis+cluster://n1?replica_read_only=false",
		"redis://h1,h2?client_class=django_redis.client.ShardClient&replica_read_only=false",
		"memcache://h?replica_read_only=false", "filecache:///d?replica_read_only=false",
	} {
		if _, err := ParseURL(u); !errors.Is(err, ErrInvalidURL) {
			t.Errorf("ParseURL(%q) = %v, want ErrInvalidURL", u, err)
		}
	}
	// Passwords stay out of error texts.
	_, err := ParseURL("redis://:hunter2@h:bad/0")
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error %v", err)
	}
}

func FuzzParseURL(f *testing.F) {
	for _, s := range []string{
		"redis://127.0.0.1:6379/1", "rediss://u:p@[::1]:6390/0?ssl_cert_reqs=none",
		"redis://:pw@h1:6379,h2:6379/0?password=o&client_class=django_redis.client.ShardClient",
		"unix:///run/redis.sock?db=5", "redis+sentinel://:pw@s1,s2:26380/m/3", "redis+cluster://n1:7000",
		"pymemcache://a,[::1]:11212?key_prefix=x", "memcache:///tmp/m.sock", "redis://h?socket_timeout=0.5",
		"redis://h/0?client_class=django_redis.client.HerdClient&herd_timeout=30",
		"filecache:///var/tmp/c?max_entries=10&cull_frequency=0", "dbcache://t?cull_frequency=2",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cfg, err := ParseURL(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidURL) {
				t.Fatalf("ParseURL(%q): error %v is not ErrInvalidURL", s, err)
			}
			return
		}
		if cfg.Backend == 0 || cfg.Topology == 0 ||
			(cfg.Backend == FileBased) != (cfg.Path != "") || (cfg.Backend == Database) != (cfg.Table != "") ||
			(len(cfg.Locations) == 0) != (cfg.Backend == FileBased || cfg.Backend == Database) {
			t.Fatalf("ParseURL(%q) = %+v", s, cfg)
		}
		for _, l := range cfg.Locations {
			if l.Addr == "" || (l.Network != "tcp" && l.Network != "unix") {
				t.Fatalf("ParseURL(%q): location %+v", s, l)
			}
		}
	})
}

func TestOpenOptionsWinOverURL(t *testing.T) {
	s, _ := storetest.Settings()
	st, err := Open("redis://127.0.0.1:1/0?key_prefix=url&version=2&serializer=json", s,
		WithKeyPrefix("opt"), WithVersion(5), WithSerializer("msgpack"), WithKeyPrefix(""), WithVersion(0))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if got := st.CacheKey("k"); got != "opt:5:django.contrib.sessions.cachek" {
		t.Errorf("CacheKey = %q", got)
	}
	if f, ok := st.Format().(codec.DjangoRedis); !ok || f.Serializer.Name() != "msgpack" {
		t.Errorf("format %#v, want django-redis with msgpack", st.Format())
	}
	for _, bad := range [][]Option{
		{WithFormatName("django"), WithSerializer("json")},
		{WithFormatName("nope")},
		{WithSerializer("yaml")},
		{WithCompressor("brotli")},
		{WithPickleVersion(9)},
		{WithSerializer("json"), WithPickleVersion(3)},
	} {
		if st, err := Open("redis://127.0.0.1:1/0", s, bad...); err == nil {
			st.Close()
			t.Errorf("Open with %d bad options succeeded", len(bad))
		}
	}
	if _, err := Open("redis://127.0.0.1:1/0", nil); err == nil {
		t.Error("Open without settings succeeded")
	}
	if _, err := New(nil, s); err == nil {
		t.Error("New without a client succeeded")
	}
}

// A dbcache:// URL does not name its database: Open needs
// WithDatabaseCache, whose opener gets the parsed table and culling
// options; Django's own caches take no format options.
func TestOpenDatabaseCacheNeedsOpener(t *testing.T) {
	s, _ := storetest.Settings()
	if st, err := Open("dbcache://sessions_cache", s); !errors.Is(err, django.ErrImproperlyConfigured) {
		t.Fatalf("Open(dbcache://) without an opener = %v, %v", st, err)
	}
	var got *Config
	opener := WithDatabaseCache(func(cfg *Config) (Client, error) {
		got = cfg
		return nil, errors.New("no database here")
	})
	if _, err := Open("dbcache://sessions_cache?max_entries=50&cull_frequency=0", s, opener); err == nil || err.Error() != "no database here" {
		t.Fatalf("Open with a failing opener: %v", err)
	}
	if got == nil || got.Table != "sessions_cache" || got.MaxEntries != 50 || got.CullFrequency != CullAll {
		t.Fatalf("opener got %+v", got)
	}
	for _, opt := range []Option{WithFormatName("django"), WithSerializer("json"), WithCompressor("zlib"), WithPickleVersion(4)} {
		if _, err := Open("dbcache://t", s, opener, opt); !errors.Is(err, django.ErrImproperlyConfigured) {
			t.Errorf("dbcache with a format option: %v, want ErrImproperlyConfigured", err)
		}
	}
}

// filecache:// opens a FileClient on the URL's folder with its culling
// options, and Django's own caches default to the bare pickle whether the
// Store comes from Open or New.
func TestOpenFileCache(t *testing.T) {
	s, _ := storetest.Settings()
	dir := t.TempDir()
	st, err := Open("filecache://"+dir+"/sessions?max_entries=7&cull_frequency=0&key_prefix=p", s)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	fc, ok := st.Client().(*FileClient)
	if !ok || fc.Dir() != dir+"/sessions" {
		t.Fatalf("client %T %v", st.Client(), st.Client())
	}
	if _, ok := st.Format().(codec.DjangoPickle); !ok {
		t.Errorf("Open format %T, want DjangoPickle", st.Format())
	}
	if got := st.CacheKey("k"); got != "p:1:django.contrib.sessions.cachek" {
		t.Errorf("CacheKey = %q", got)
	}
	nst, err := New(fc, s)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := nst.Format().(codec.DjangoPickle); !ok {
		t.Errorf("New format %T, want DjangoPickle", nst.Format())
	}
	if _, err := Open("filecache://"+dir, s, WithFormatName("pymemcache")); !errors.Is(err, django.ErrImproperlyConfigured) {
		t.Errorf("filecache with a format: %v", err)
	}
}
