package cache

import (
	"crypto/tls"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/redis/go-redis/v9"

	"github.com/djsession/djsession/backends/cache/codec"
	"github.com/djsession/djsession/django"
)

// Default network limits of Open: short, so that a dead or hung server is
// an error in about a second, never a hang. A Redis operation fails after
// at most DefaultDialTimeout (connecting) plus DefaultReadTimeout
// (waiting for the answer); nothing is retried. After a Redis server comes
// back, go-redis may keep failing fast for up to about a second: once a
// pool's worth of dials has failed it only re-dials in the background,
// once a second. Memcached recovers on the next call.
const (
	DefaultDialTimeout  = 1 * time.Second
	DefaultReadTimeout  = 500 * time.Millisecond
	DefaultWriteTimeout = 500 * time.Millisecond
)

// Option configures New and Open. Options win over the CACHE_URL's query.
type Option func(*options)

type options struct {
	format        codec.Format
	formatName    string
	serializer    string
	compressor    string
	pickleVersion int
	keyPrefix     string
	keyPrefixSet  bool
	version       int
	keyFunc       codec.KeyFunc
	sessionPrefix string
	maxValueSize  int
	herd          bool
	herdTimeout   int

	dialTimeout, readTimeout, writeTimeout time.Duration
	poolSize                               int
	tlsConfig                              *tls.Config
	now                                    func() time.Time
	openDatabase                           func(cfg *Config) (Client, error)
}

func collect(opts []Option) *options {
	o := &options{}
	for _, opt := range opts {
		if opt != nil {
			opt(o)
		}
	}
	return o
}

// WithFormat sets the value format directly (any codec.Format).
func WithFormat(f codec.Format) Option { return func(o *options) { o.format = f } }

// WithFormatName selects the client that wrote the values: "django-redis"
// (django_redis.cache.RedisCache, the default for Redis), "django"
// (django.core.cache.backends.redis.RedisCache, Django 4.0+), "pymemcache"
// (PyMemcacheCache, the default for memcached) or "pylibmc"
// (PyLibMCCache). "" keeps the URL's or the default.
func WithFormatName(name string) Option {
	return func(o *options) {
		if name != "" {
			o.formatName = strings.ToLower(name)
		}
	}
}

// WithSerializer sets django-redis's SERIALIZER: "pickle" (default),
// "json", "msgpack", or the class path. "" keeps the URL's.
func WithSerializer(name string) Option {
	return func(o *options) {
		if name != "" {
			o.serializer = name
		}
	}
}

// WithCompressor sets django-redis's COMPRESSOR: "none" (default), "zlib",
// "gzip", "lzma", "lz4", "zstd", or the class path. "" keeps the URL's.
func WithCompressor(name string) Option {
	return func(o *options) {
		if name != "" {
			o.compressor = name
		}
	}
}

// WithPickleVersion sets django-redis's PICKLE_VERSION (-1 = highest, 5;
// by default 4, django-redis ≥ 5.1's pickle.DEFAULT_PROTOCOL).
func WithPickleVersion(v int) Option { return func(o *options) { o.pickleVersion = v } }

// WithKeyPrefix sets the cache's KEY_PREFIX. An empty prefix keeps the
// URL's (whose default is "").
func WithKeyPrefix(prefix string) Option {
	return func(o *options) {
		if prefix != "" {
			o.keyPrefix, o.keyPrefixSet = prefix, true
		}
	}
}

// WithVersion sets the cache's VERSION (default 1); 0 keeps the URL's.
func WithVersion(v int) Option {
	return func(o *options) {
		if v != 0 {
			o.version = v
		}
	}
}

// WithKeyFunc sets a custom KEY_FUNCTION (Django's default is
// codec.MakeKey, "<prefix>:<version>:<key>").
func WithKeyFunc(f codec.KeyFunc) Option { return func(o *options) { o.keyFunc = f } }

// WithSessionPrefix sets the session key prefix: codec.SessionCachePrefix
// (the default) or codec.CachedDBPrefix; a custom SessionStore subclass
// may use another.
func WithSessionPrefix(p string) Option { return func(o *options) { o.sessionPrefix = p } }

// WithMaxValueSize sets the largest stored value the Store reads, in bytes
// as stored (after compression): a longer value is no session (Load: not
// found, no error; List: nil Data), as a value that does not decode, and
// is not read whole (Redis: GETRANGE key 0 n, see BoundedClient). 0 keeps
// the CACHE_URL's max_value_size, or DefaultMaxValueSize; a negative n
// removes the limit (Django's behaviour: values are read with GET). A
// limit above the defaults also raises the bounds the value format of
// package codec applies when decoding (the pickle reader's MaxInput, 8 MiB
// by default, and the format's MaxSize on decompressed bytes, 16 MiB), to
// n, or to 512 MiB without a limit, so that a value read is not then
// refused for its size; bounds set on the format given to WithFormat are
// kept.
func WithMaxValueSize(n int) Option {
	return func(o *options) {
		if n != 0 {
			o.maxValueSize = n
		}
	}
}

// WithHerd makes the store read and write sessions as django-redis's
// HerdClient does (CLIENT_CLASS "django_redis.client.HerdClient", spec
// §7.5), with CACHE_HERD_TIMEOUT herdTimeout seconds
// (codec.DefaultHerdTimeout, 60, is Django's default; 0 is a valid
// setting, negative is not). A session saved with an expiry age T is
// stored as the pickle of (Marker(), session, now + T), compressed as
// usual, with a TTL of T + herdTimeout. Load reads wrapped and plain
// values; past its deadline a wrapped session is a miss at random, and
// always herdTimeout seconds after (codec.HerdMiss), with the current time
// from the settings' Clock. It needs the django-redis format with the
// pickle serializer to save (with json or msgpack, django-redis itself
// fails every save, and so does the Store); New and Open fail with
// another format. It wins over the CACHE_URL's client_class and
// herd_timeout.
func WithHerd(herdTimeout int) Option {
	return func(o *options) { o.herd, o.herdTimeout = true, herdTimeout }
}

// WithDialTimeout bounds connecting (default DefaultDialTimeout).
func WithDialTimeout(d time.Duration) Option { return func(o *options) { o.dialTimeout = d } }

// WithReadTimeout bounds waiting for an answer (default
// DefaultReadTimeout). For memcached it bounds each whole operation.
func WithReadTimeout(d time.Duration) Option { return func(o *options) { o.readTimeout = d } }

// WithWriteTimeout bounds sending a command (default DefaultWriteTimeout;
// Redis only: memcached uses the read timeout for both).
func WithWriteTimeout(d time.Duration) Option { return func(o *options) { o.writeTimeout = d } }

// WithPoolSize sets the connection pool size per server: go-redis's
// PoolSize (default 10 per CPU), gomemcache's idle connections kept
// (default 2, which is too few for many concurrent requests: Open uses
// 16 unless this is set).
func WithPoolSize(n int) Option { return func(o *options) { o.poolSize = n } }

// WithDatabaseCache gives Open the way to reach a dbcache:// table: open
// returns the Client of cfg.Table (cfg.MaxEntries and cfg.CullFrequency
// included) in the database the caller chose; package dbcache's Opener
// makes one from a DATABASE_URL. Without it Open refuses dbcache:// URLs,
// since a CACHE_URL does not name the database.
func WithDatabaseCache(open func(cfg *Config) (Client, error)) Option {
	return func(o *options) { o.openDatabase = open }
}

// WithTLSConfig sets the TLS configuration of rediss:// connections.
func WithTLSConfig(c *tls.Config) Option { return func(o *options) { o.tlsConfig = c } }

// resolveFormat builds the value format from the options.
func (o *options) resolveFormat(backend Backend) (codec.Format, error) {
	if o.format != nil {
		return o.format, nil
	}
	if backend == FileBased || backend == Database {
		// "filecache" and "dbcache" (the URL schemes) name the format the
		// backend has anyway.
		named := o.formatName != "" && o.formatName != map[Backend]string{FileBased: "filecache", Database: "dbcache"}[backend]
		if named || o.serializer != "" || o.compressor != "" || o.pickleVersion != 0 {
			return nil, fmt.Errorf("%w: %s cache values are always pickled (spec §6.3): no format, serializer or compressor applies", django.ErrImproperlyConfigured, backend)
		}
		return codec.DjangoPickle{}, nil
	}
	name := o.formatName
	if name == "" {
		name = "django-redis"
		if backend == Memcached {
			name = "pymemcache"
		}
	}
	djangoRedisOnly := func() error {
		if o.serializer != "" || o.compressor != "" || o.pickleVersion != 0 {
			return fmt.Errorf("%w: SERIALIZER, COMPRESSOR and PICKLE_VERSION are django-redis options; format %q has its own", django.ErrImproperlyConfigured, name)
		}
		return nil
	}
	switch name {
	case "django-redis", "django_redis":
		ser, err := codec.SerializerByName(o.serializer)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", django.ErrImproperlyConfigured, err)
		}
		if o.pickleVersion != 0 {
			p, ok := ser.(codec.PickleSerializer)
			if !ok {
				return nil, fmt.Errorf("%w: PICKLE_VERSION needs the pickle serializer", django.ErrImproperlyConfigured)
			}
			if o.pickleVersion > 5 || o.pickleVersion < -1 {
				return nil, fmt.Errorf("%w: PICKLE_VERSION %d", django.ErrImproperlyConfigured, o.pickleVersion)
			}
			p.Protocol = o.pickleVersion
			ser = p
		}
		comp, err := codec.CompressorByName(o.compressor)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", django.ErrImproperlyConfigured, err)
		}
		return codec.DjangoRedis{Serializer: ser, Compressor: comp}, nil
	case "django":
		return codec.DjangoRedisCache{}, djangoRedisOnly()
	case "pymemcache":
		return codec.PyMemcache{}, djangoRedisOnly()
	case "pylibmc":
		return codec.PyLibMC{}, djangoRedisOnly()
	}
	return nil, fmt.Errorf("%w: unknown cache format %q (want django-redis, django, pymemcache or pylibmc)", django.ErrImproperlyConfigured, name)
}

// checkHerd checks the HerdClient options against the value format.
func (o *options) checkHerd(f codec.Format) error {
	if !o.herd {
		return nil
	}
	if o.herdTimeout < 0 {
		return fmt.Errorf("%w: negative CACHE_HERD_TIMEOUT %d", django.ErrImproperlyConfigured, o.herdTimeout)
	}
	if _, ok := herdFormat(f); !ok {
		return fmt.Errorf("%w: HerdClient is a django-redis client; the value format is %T", django.ErrImproperlyConfigured, f)
	}
	return nil
}

// herdFormat returns f when it is django-redis's format.
func herdFormat(f codec.Format) (codec.DjangoRedis, bool) {
	switch df := f.(type) {
	case codec.DjangoRedis:
		return df, true
	case *codec.DjangoRedis:
		if df != nil {
			return *df, true
		}
	}
	return codec.DjangoRedis{}, false
}

// Open connects to the cache a CACHE_URL names (see ParseURL) and returns
// its session store; Close releases the connections. Connections are made
// lazily: Open fails only on a bad URL or options. Options win over the
// URL's query parameters.
func Open(cacheURL string, settings *django.Settings, opts ...Option) (*Store, error) {
	if settings == nil {
		return nil, fmt.Errorf("%w: no settings", django.ErrImproperlyConfigured)
	}
	cfg, err := ParseURL(cacheURL)
	if err != nil {
		return nil, err
	}
	// The URL's values first, then the options over them.
	o := collect(append([]Option{func(o *options) {
		o.formatName = cfg.Format
		o.serializer, o.compressor, o.pickleVersion = cfg.Serializer, cfg.Compressor, cfg.PickleVersion
		o.keyPrefix, o.version = cfg.KeyPrefix, cfg.Version
		o.dialTimeout, o.readTimeout, o.writeTimeout = cfg.DialTimeout, cfg.ReadTimeout, cfg.WriteTimeout
		o.poolSize = cfg.PoolSize
		o.maxValueSize = cfg.MaxValueSize
		o.herd, o.herdTimeout = cfg.Herd, cfg.HerdTimeout
	}}, opts...))
	if o.dialTimeout <= 0 {
		o.dialTimeout = DefaultDialTimeout
	}
	if o.readTimeout <= 0 {
		o.readTimeout = DefaultReadTimeout
	}
	if o.writeTimeout <= 0 {
		o.writeTimeout = DefaultWriteTimeout
	}
	f, err := o.resolveFormat(cfg.Backend)
	if err != nil {
		return nil, err
	}
	if err := o.checkHerd(f); err != nil {
		return nil, err
	}
	var client Client
	switch cfg.Backend {
	case Memcached:
		_, modula := f.(codec.PyLibMC)
		client = newMemcacheClient(cfg, o, modula)
	case FileBased:
		if client, err = NewFileClient(cfg.Path, FileOptions{MaxEntries: cfg.MaxEntries, CullFrequency: cfg.CullFrequency, Now: settings.Now}); err != nil {
			return nil, err
		}
	case Database:
		if o.openDatabase == nil {
			return nil, fmt.Errorf("%w: dbcache://%s needs a database: open it with backends.Open (DATABASE_URL) or pass WithDatabaseCache", django.ErrImproperlyConfigured, cfg.Table)
		}
		if client, err = o.openDatabase(cfg); err != nil {
			return nil, err
		}
	default:
		_, seconds := f.(codec.DjangoRedisCache)
		client, err = newRedisFromConfig(cfg, o, seconds)
		if err != nil {
			return nil, err
		}
	}
	s := newStore(client, settings, f, o)
	s.owned = true
	return s, nil
}

func (o *options) tls(cfg *Config, l Location) *tls.Config {
	if !l.TLS {
		return nil
	}
	if o.tlsConfig != nil {
		return o.tlsConfig.Clone()
	}
	host, _, err := net.SplitHostPort(l.Addr)
	if err != nil {
		host = l.Addr
	}
	return &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12, InsecureSkipVerify: cfg.TLSInsecure}
}

// redisOptions are the go-redis options of one server: our timeouts, no
// retries (a retried SET NX whose first answer was lost would report a
// conflict for its own write), no CLIENT SETINFO round trips.
func (o *options) redisOptions(cfg *Config, l Location) *redis.Options {
	return &redis.Options{
		Network:               l.Network,
		Addr:                  l.Addr,
		Username:              l.Username,
		Password:              l.Password,
		DB:                    l.DB,
		DialTimeout:           o.dialTimeout,
		ReadTimeout:           o.readTimeout,
		WriteTimeout:          o.writeTimeout,
		PoolSize:              o.poolSize,
		PoolTimeout:           o.dialTimeout + o.readTimeout,
		MaxRetries:            -1,
		DialerRetries:         1,
		ContextTimeoutEnabled: true,
		DisableIdentity:       true,
		TLSConfig:             o.tls(cfg, l),
	}
}

func describe(cfg *Config) string {
	addrs := make([]string, len(cfg.Locations))
	for i, l := range cfg.Locations {
		addrs[i] = l.Addr
	}
	s := strings.Join(addrs, ",")
	if cfg.Topology == Sentinel {
		s = "sentinel " + cfg.MasterName + "@" + s
	}
	return s
}

func newRedisFromConfig(cfg *Config, o *options, seconds bool) (Client, error) {
	c := &redisClient{seconds: seconds, where: describe(cfg), replicaWrites: cfg.ReplicaWrites}
	switch cfg.Topology {
	case Single, Replicated:
		for i, l := range cfg.Locations {
			rc := redis.NewClient(o.redisOptions(cfg, l))
			c.owned = append(c.owned, rc)
			if i == 0 {
				c.write = rc
			} else {
				c.reads = append(c.reads, rc)
			}
		}
	case Shard:
		sc := &shardClient{}
		var names []string
		seen := map[string]bool{}
		for _, l := range cfg.Locations {
			if seen[l.Name] {
				continue
			}
			seen[l.Name] = true
			names = append(names, l.Name)
			rc := redis.NewClient(o.redisOptions(cfg, l))
			sc.nodes = append(sc.nodes, &redisClient{write: rc, owned: []redis.UniversalClient{rc}, seconds: seconds, where: l.Addr})
		}
		sc.ring = NewHashRing(names)
		return sc, nil
	case Sentinel:
		first := cfg.Locations[0]
		addrs := make([]string, len(cfg.Locations))
		for i, l := range cfg.Locations {
			addrs[i] = l.Addr
		}
		base := o.redisOptions(cfg, first)
		fo := &redis.FailoverOptions{
			MasterName:            cfg.MasterName,
			SentinelAddrs:         addrs,
			SentinelUsername:      cfg.SentinelUsername,
			SentinelPassword:      cfg.SentinelPassword,
			Username:              first.Username,
			Password:              first.Password,
			DB:                    cfg.DB,
			DialTimeout:           base.DialTimeout,
			ReadTimeout:           base.ReadTimeout,
			WriteTimeout:          base.WriteTimeout,
			PoolSize:              base.PoolSize,
			PoolTimeout:           base.PoolTimeout,
			MaxRetries:            -1,
			DialerRetries:         1,
			ContextTimeoutEnabled: true,
			DisableIdentity:       true,
			TLSConfig:             base.TLSConfig,
		}
		fc := redis.NewFailoverClient(fo)
		c.write = fc
		c.owned = []redis.UniversalClient{fc}
		if cfg.SentinelReplicaReads {
			ro := *fo
			ro.ReplicaOnly = true
			rc := redis.NewFailoverClient(&ro)
			c.reads = []redis.UniversalClient{rc}
			c.owned = append(c.owned, rc)
		}
	case Cluster:
		first := cfg.Locations[0]
		addrs := make([]string, len(cfg.Locations))
		for i, l := range cfg.Locations {
			addrs[i] = l.Addr
		}
		base := o.redisOptions(cfg, first)
		cc := redis.NewClusterClient(&redis.ClusterOptions{
			Addrs:                 addrs,
			Username:              first.Username,
			Password:              first.Password,
			DialTimeout:           base.DialTimeout,
			ReadTimeout:           base.ReadTimeout,
			WriteTimeout:          base.WriteTimeout,
			PoolSize:              base.PoolSize,
			PoolTimeout:           base.PoolTimeout,
			MaxRetries:            -1,
			DialerRetries:         1,
			ContextTimeoutEnabled: true,
			DisableIdentity:       true,
			TLSConfig:             base.TLSConfig,
		})
		c.write = cc
		c.owned = []redis.UniversalClient{cc}
	default:
		return nil, fmt.Errorf("%w: unknown topology %v", ErrInvalidURL, cfg.Topology)
	}
	return c, nil
}

// newMemcacheClient spreads keys over several servers as the Python client
// does: pylibmc's modula over one-at-a-time hashes (modula), or pymemcache's
// rendezvous hashing.
func newMemcacheClient(cfg *Config, o *options, modula bool) *memcacheClient {
	tracker := newConnTracker(o.dialTimeout)
	servers := make([]memcacheServer, 0, len(cfg.Locations))
	for _, l := range cfg.Locations {
		var addr net.Addr
		if l.Network == "unix" {
			addr = &net.UnixAddr{Name: l.Addr, Net: "unix"}
		} else {
			addr = staticAddr{network: "tcp", addr: l.Addr}
		}
		servers = append(servers, memcacheServer{name: l.Name, addr: addr})
	}
	var sel memcache.ServerSelector = &rendezvousSelector{servers: servers}
	if modula {
		sel = &modulaSelector{servers: servers}
	}
	mc := memcache.NewFromSelector(sel)
	mc.Timeout = o.readTimeout
	mc.MaxIdleConns = o.poolSize
	if mc.MaxIdleConns <= 0 {
		mc.MaxIdleConns = 16
	}
	mc.DialContext = tracker.dial
	now := o.now
	if now == nil {
		now = time.Now
	}
	return &memcacheClient{mc: mc, conns: tracker, where: describe(cfg), now: now}
}

// staticAddr is a net.Addr that is not resolved until dialled, so a host
// name follows DNS changes as the Python clients do.
type staticAddr struct{ network, addr string }

func (a staticAddr) Network() string { return a.network }
func (a staticAddr) String() string  { return a.addr }
