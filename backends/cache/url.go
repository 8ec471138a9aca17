package cache

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/djsession/djsession/backends/cache/codec"
)

// MaxURLLength bounds the CACHE_URL accepted by ParseURL.
const MaxURLLength = 8192

// Backend is the kind of cache server.
type Backend int

// The cache servers.
const (
	Redis Backend = iota + 1
	Memcached
	// FileBased is Django's FileBasedCache: one file per key in a folder
	// (filecache://, FileClient).
	FileBased
	// Database is Django's DatabaseCache: a table made by createcachetable
	// (dbcache://table, package dbcache).
	Database
)

// String returns "redis", "memcached", "filebased" or "database".
func (b Backend) String() string {
	switch b {
	case Redis:
		return "redis"
	case Memcached:
		return "memcached"
	case FileBased:
		return "filebased"
	case Database:
		return "database"
	}
	return "Backend(" + strconv.Itoa(int(b)) + ")"
}

// Topology is how the servers of a CACHE_URL are used.
type Topology int

// The topologies.
const (
	// Single is one server.
	Single Topology = iota + 1
	// Replicated is Django's (and django-redis DefaultClient's) list of
	// Redis servers: writes go to the first, reads to a random one of the
	// others (spec §6.2, §7.5). For Memcached, a list of servers shares
	// the keys by the Python client's hashing.
	Replicated
	// Sentinel is a Redis primary found through Sentinel (go-redis's
	// FailoverClient). Reads and writes both go to the primary, where
	// django-redis's SentinelClient reads from replicas: a session just
	// written is always read back. ?replica_reads=true reads as
	// django-redis does (Config.SentinelReplicaReads).
	Sentinel
	// Cluster is Redis Cluster (go-redis's ClusterClient); listing scans
	// every primary.
	Cluster
	// Shard is django-redis's ShardClient: keys spread over the servers
	// by its HashRing (spec §7.5).
	Shard
)

// String returns the topology's name ("single", "replicated", ...).
func (t Topology) String() string {
	switch t {
	case Single:
		return "single"
	case Replicated:
		return "replicated"
	case Sentinel:
		return "sentinel"
	case Cluster:
		return "cluster"
	case Shard:
		return "shard"
	}
	return "Topology(" + strconv.Itoa(int(t)) + ")"
}

// Location is one server of a CACHE_URL.
type Location struct {
	// Name is the LOCATION entry as django-environ makes it (for Redis,
	// "redis://[userinfo@]host:port/db", the string django-redis's
	// ShardClient hashes; for Memcached, "host:port" as pymemcache names
	// it, or the socket path).
	Name string
	// Network is "tcp" or "unix"; Addr is host:port or the socket path.
	Network, Addr string
	// Username and Password authenticate to this server (Redis).
	Username, Password string
	// DB is the Redis database number.
	DB int
	// TLS says rediss://.
	TLS bool
}

// Config is a parsed CACHE_URL.
type Config struct {
	Backend  Backend
	Topology Topology
	// Locations are the servers (for Sentinel: the sentinels; for Cluster:
	// the seed nodes).
	Locations []Location
	// MasterName is the Sentinel service name.
	MasterName string
	// DB is the database of a Sentinel-managed primary.
	DB int
	// SentinelUsername and SentinelPassword authenticate to the sentinels.
	SentinelUsername, SentinelPassword string
	// SentinelReplicaReads sends a Sentinel store's reads (Load, Exists,
	// List) to a replica, as django-redis's SentinelClient reads, from
	// ?replica_reads=true. Off by default: reads go to the primary, so a
	// session just saved is always read back (a replica may lag behind).
	// With no replica up, reads go to the primary.
	SentinelReplicaReads bool
	// ReplicaWrites is django-redis's OPTIONS REPLICA_READ_ONLY = False,
	// from ?replica_read_only=false: a write (Save, create) that fails —
	// the server unreachable, a timeout, or an error reply such as
	// READONLY — is retried on the other servers of the list in random
	// order and then once more on the first, as DefaultClient.set does
	// (spec §6.2). For a list of servers read and written by django-redis
	// (Single or Replicated topology, not format=django). Deletes are not
	// retried, as in django-redis. A retried write keeps the session's
	// TTL, where django-redis 5.2 multiplies its timeout by 1000 once more
	// for each retry (seen with Debian's 5.2.0: a 60 s entry retried once
	// lives 16.7 hours).
	ReplicaWrites bool

	// Format is the value format: "django-redis", "django", "pymemcache"
	// or "pylibmc" ("" = the default of the backend).
	Format string
	// KeyPrefix and Version are the cache's KEY_PREFIX and VERSION
	// (Version 0 = not given, Django's default 1).
	KeyPrefix string
	Version   int
	// Serializer, Compressor and PickleVersion are django-redis's OPTIONS
	// SERIALIZER, COMPRESSOR and PICKLE_VERSION ("" / 0 = default).
	Serializer, Compressor string
	PickleVersion          int
	// DialTimeout, ReadTimeout and WriteTimeout are 0 when not given.
	DialTimeout, ReadTimeout, WriteTimeout time.Duration
	// PoolSize is the connection pool size per server (0 = default).
	PoolSize int
	// MaxValueSize is the largest stored value read, in bytes (0 =
	// DefaultMaxValueSize, negative = no limit; see WithMaxValueSize).
	MaxValueSize int
	// Herd says client_class=django_redis.client.HerdClient (see
	// WithHerd); HerdTimeout is then CACHE_HERD_TIMEOUT, in seconds, from
	// ?herd_timeout= (default codec.DefaultHerdTimeout, 60).
	Herd        bool
	HerdTimeout int
	// TLSInsecure skips server certificate checks (ssl_cert_reqs=none).
	TLSInsecure bool

	// Path is FileBasedCache's folder (its LOCATION), Table
	// DatabaseCache's table (its LOCATION).
	Path, Table string
	// MaxEntries and CullFrequency are FileBasedCache's and
	// DatabaseCache's MAX_ENTRIES and CULL_FREQUENCY, from ?max_entries=
	// and ?cull_frequency= (0 = not given: Django's 300 and 3). Django's
	// MAX_ENTRIES = 0 (cull before every write) is -1 here, and its
	// CULL_FREQUENCY = 0, which empties the whole cache when it is full,
	// is CullAll.
	MaxEntries, CullFrequency int
}

// CullAll as a CullFrequency is Django's CULL_FREQUENCY = 0: when the
// cache is full, every entry is deleted.
const CullAll = -1

func badURL(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidURL}, args...)...)
}

// ParseURL reads a CACHE_URL the way django-environ's cache_url does
// (and redis-py each LOCATION):
//
//	redis://[[user]:pass@]host[:port][/db]   django-redis (default) or Django's RedisCache
//	rediss://...                              the same over TLS
//	redis://h1:6379,h2:6379/0                 Django's primary + replicas (writes to h1)
//	redis:///path/to/redis.sock?db=1, unix:///path?db=1   a Unix socket
//	redis://h1,h2/0?client_class=django_redis.client.ShardClient   django-redis's shard ring
//	redis://host/0?client_class=django_redis.client.HerdClient&herd_timeout=60   HerdClient (WithHerd)
//	redis+sentinel://[:pass@]s1:26379,s2:26379/service[/db]        Sentinel
//	redis://service/db?client_class=django_redis.client.SentinelClient&sentinels=s1:26379,s2:26379
//	redis+cluster://[:pass@]h1:7000,h2:7001   Redis Cluster (seed nodes)
//	memcache://host:port[,host:port], pymemcache://, pylibmc://, memcache:///path.sock
//	filecache:///var/tmp/django_cache         FileBasedCache (LOCATION = the path)
//	dbcache://my_cache_table                  DatabaseCache (LOCATION = the table; the database is DATABASE_URL's)
//
// rediscache:// is redis://, valkey:// and valkeys:// are redis:// and
// rediss://. The password in the URL applies to its own server only, as
// django-environ splits the host list; ?password= applies to every server
// that has none.
//
// Query parameters (case-insensitive, as django-environ passes them in
// OPTIONS): key_prefix, version, format (django-redis | django |
// pymemcache | pylibmc), serializer, compressor, pickle_version (django-redis
// class paths or short names), db, username, password, sentinels,
// sentinel_username, sentinel_password, replica_reads (Sentinel: read
// from a replica, see Config.SentinelReplicaReads), replica_read_only
// (false retries failed writes on the other servers, see
// Config.ReplicaWrites), client_class (DefaultClient,
// ShardClient, SentinelClient, HerdClient), herd_timeout
// (CACHE_HERD_TIMEOUT, seconds, HerdClient only; default 60),
// socket_connect_timeout / connect_timeout /
// dial_timeout, socket_timeout / read_timeout, write_timeout (seconds, or
// Go durations such as 250ms), pool_size / max_connections,
// max_value_size (bytes; see WithMaxValueSize), ssl_cert_reqs=none,
// max_entries and cull_frequency (filecache and dbcache: MAX_ENTRIES and
// CULL_FREQUENCY).
// timeout is the cache's default expiry in Django (TIMEOUT), which
// sessions never use: it is read and ignored, as are other options this
// package does not need.
func ParseURL(cacheURL string) (*Config, error) {
	if len(cacheURL) > MaxURLLength {
		return nil, badURL("longer than %d bytes", MaxURLLength)
	}
	scheme, rest, ok := strings.Cut(cacheURL, "://")
	if !ok {
		return nil, badURL("%q has no scheme://", redactURL(cacheURL))
	}
	scheme = strings.ToLower(scheme)
	rest, _, _ = strings.Cut(rest, "#")
	rest, rawQuery, _ := strings.Cut(rest, "?")
	netloc, path := rest, ""
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		netloc, path = rest[:i], rest[i:]
	}
	query, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, badURL("query: %v", err)
	}
	q := map[string]string{}
	for k, v := range query {
		if len(v) > 0 {
			q[strings.ToLower(k)] = v[0]
		}
	}
	cfg := &Config{}
	switch scheme {
	case "redis", "rediss", "rediscache", "valkey", "valkeys", "unix":
		err = cfg.parseRedis(scheme, netloc, path, q)
	case "redis+sentinel", "rediss+sentinel", "sentinel", "valkey+sentinel":
		err = cfg.parseSentinel(strings.HasPrefix(scheme, "rediss"), netloc, path, q)
	case "redis+cluster", "rediss+cluster", "valkey+cluster":
		err = cfg.parseCluster(strings.HasPrefix(scheme, "rediss"), netloc, path, q)
	case "memcache", "memcached", "pymemcache", "pylibmc":
		err = cfg.parseMemcached(scheme, netloc, path)
	case "filecache":
		// django-environ: LOCATION = netloc + path, as written.
		cfg.Backend, cfg.Topology, cfg.Path = FileBased, Single, netloc+path
		if cfg.Path == "" {
			err = badURL("filecache:// needs a folder (filecache:///var/tmp/django_cache)")
		}
	case "dbcache":
		// django-environ: LOCATION = netloc.
		cfg.Backend, cfg.Topology, cfg.Table = Database, Single, netloc
		switch {
		case netloc == "":
			err = badURL("dbcache:// needs a table name (dbcache://my_cache_table)")
		case path != "" && path != "/":
			err = badURL("dbcache://%s%s: a table name has no path", netloc, path)
		}
	default:
		return nil, badURL("unknown scheme %q (want redis, rediss, unix, redis+sentinel, redis+cluster, memcache, pymemcache, pylibmc, filecache or dbcache)", scheme)
	}
	if err != nil {
		return nil, err
	}
	if err := cfg.parseOptions(q); err != nil {
		return nil, err
	}
	return cfg, nil
}

// redactURL hides a password for error messages.
func redactURL(s string) string {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		if len(s) > 64 {
			return s[:64] + "..."
		}
		return s
	}
	netloc := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		netloc = rest[:i]
	}
	if at := strings.LastIndexByte(netloc, '@'); at >= 0 {
		rest = "xxx@" + rest[at+1:]
	}
	return scheme + "://" + rest
}

// splitUserinfo splits "[user[:pass]@]hostport"; the user and password are
// percent-decoded as redis-py does.
func splitUserinfo(loc string) (user, pass, hostport string, err error) {
	at := strings.LastIndexByte(loc, '@')
	if at < 0 {
		return "", "", loc, nil
	}
	info := loc[:at]
	u, p, _ := strings.Cut(info, ":")
	if user, err = url.PathUnescape(u); err != nil {
		return "", "", "", badURL("bad user name encoding")
	}
	if pass, err = url.PathUnescape(p); err != nil {
		return "", "", "", badURL("bad password encoding")
	}
	return user, pass, loc[at+1:], nil
}

// splitHostPort splits "host[:port]" or "[v6]:port"; host keeps no
// brackets.
func splitHostPort(hp string, defPort int) (host string, port int, err error) {
	if hp == "" {
		return "", 0, badURL("empty host")
	}
	port = defPort
	if strings.HasPrefix(hp, "[") {
		end := strings.IndexByte(hp, ']')
		if end < 0 {
			return "", 0, badURL("unclosed [ in host %q", hp)
		}
		host, rest := hp[1:end], hp[end+1:]
		if rest != "" {
			p, ok := strings.CutPrefix(rest, ":")
			if !ok {
				return "", 0, badURL("bad host %q", hp)
			}
			if port, err = parsePort(p); err != nil {
				return "", 0, err
			}
		}
		return host, port, nil
	}
	if i := strings.LastIndexByte(hp, ':'); i >= 0 {
		if port, err = parsePort(hp[i+1:]); err != nil {
			return "", 0, err
		}
		hp = hp[:i]
	}
	if hp == "" {
		return "", 0, badURL("empty host")
	}
	return hp, port, nil
}

func parsePort(p string) (int, error) {
	n, err := strconv.Atoi(p)
	if err != nil || n < 1 || n > 65535 {
		return 0, badURL("bad port %q", p)
	}
	return n, nil
}

// parseDB reads a Redis database from a path "/N" (or "" / "/").
func parseDB(path string) (int, error) {
	p := strings.Trim(path, "/")
	if p == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 0 {
		return 0, badURL("bad database %q", p)
	}
	return n, nil
}

func (c *Config) parseRedis(scheme, netloc, path string, q map[string]string) error {
	c.Backend = Redis
	tls := scheme == "rediss" || scheme == "valkeys"
	// django-environ's LOCATION scheme: the URL's, "cache" removed.
	base := strings.ReplaceAll(scheme, "cache", "")
	client := strings.ToLower(q["client_class"])
	if strings.HasSuffix(client, "herdclient") {
		// DefaultClient's servers, with HerdClient's value wrapping.
		c.Herd, c.HerdTimeout = true, codec.DefaultHerdTimeout
		client = ""
	}
	if scheme == "unix" || netloc == "" {
		// unix:///path?db=N (redis-py), redis:///path (django-environ
		// names it unix://path).
		if path == "" || path == "/" {
			return badURL("no host and no socket path")
		}
		user, pass, _, err := splitUserinfo(netloc)
		if err != nil {
			return err
		}
		db, err := dbOption(q, 0)
		if err != nil {
			return err
		}
		c.Topology = Single
		c.Locations = []Location{{Name: "unix://" + netloc + path, Network: "unix", Addr: path,
			Username: user, Password: pass, DB: db}}
		return nil
	}
	db, err := parseDB(path)
	if err != nil {
		return err
	}
	if db, err = dbOption(q, db); err != nil {
		return err
	}
	parts := strings.Split(netloc, ",")
	if strings.HasSuffix(client, "sentinelclient") {
		// django-redis SentinelClient: the host is the service name.
		if len(parts) != 1 {
			return badURL("a SentinelClient LOCATION names one service")
		}
		user, pass, service, err := splitUserinfo(parts[0])
		if err != nil {
			return err
		}
		if q["sentinels"] == "" {
			return badURL("SentinelClient needs ?sentinels=host:port,...")
		}
		c.Topology, c.MasterName, c.DB = Sentinel, service, db
		for _, s := range strings.Split(q["sentinels"], ",") {
			host, port, err := splitHostPort(strings.TrimSpace(s), 26379)
			if err != nil {
				return err
			}
			c.Locations = append(c.Locations, Location{Name: s, Network: "tcp",
				Addr: net.JoinHostPort(host, strconv.Itoa(port)), TLS: tls})
		}
		// The URL's credentials are the Redis servers'.
		for i := range c.Locations {
			c.Locations[i].Username, c.Locations[i].Password = user, pass
		}
		return nil
	}
	for _, p := range parts {
		user, pass, hp, err := splitUserinfo(p)
		if err != nil {
			return err
		}
		host, port, err := splitHostPort(hp, 6379)
		if err != nil {
			return err
		}
		c.Locations = append(c.Locations, Location{
			// django-environ: scheme (rediscache → redis) + "://" + the
			// netloc part + the path.
			Name:    base + "://" + p + path,
			Network: "tcp", Addr: net.JoinHostPort(host, strconv.Itoa(port)),
			Username: user, Password: pass, DB: db, TLS: tls,
		})
	}
	switch {
	case strings.HasSuffix(client, "shardclient"):
		c.Topology = Shard
	case client != "" && !strings.HasSuffix(client, "defaultclient"):
		return badURL("client_class %q is not supported (DefaultClient, ShardClient, SentinelClient, HerdClient are)", q["client_class"])
	case len(c.Locations) == 1:
		c.Topology = Single
	default:
		c.Topology = Replicated
	}
	return nil
}

func dbOption(q map[string]string, def int) (int, error) {
	v, ok := q["db"]
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, badURL("bad db %q", v)
	}
	return n, nil
}

func (c *Config) parseSentinel(tls bool, netloc, path string, q map[string]string) error {
	c.Backend, c.Topology = Redis, Sentinel
	segs := strings.Split(strings.Trim(path, "/"), "/")
	if len(segs) == 0 || segs[0] == "" || len(segs) > 2 {
		return badURL("a Sentinel URL is redis+sentinel://sentinels/service[/db]")
	}
	c.MasterName = segs[0]
	if len(segs) == 2 {
		db, err := parseDB(segs[1])
		if err != nil {
			return err
		}
		c.DB = db
	}
	db, err := dbOption(q, c.DB)
	if err != nil {
		return err
	}
	c.DB = db
	user, pass, hosts, err := splitUserinfo(netloc)
	if err != nil {
		return err
	}
	for _, hp := range strings.Split(hosts, ",") {
		host, port, err := splitHostPort(hp, 26379)
		if err != nil {
			return err
		}
		c.Locations = append(c.Locations, Location{Name: hp, Network: "tcp",
			Addr: net.JoinHostPort(host, strconv.Itoa(port)), Username: user, Password: pass, TLS: tls})
	}
	return nil
}

func (c *Config) parseCluster(tls bool, netloc, path string, q map[string]string) error {
	c.Backend, c.Topology = Redis, Cluster
	if db, err := parseDB(path); err != nil || db != 0 {
		return badURL("Redis Cluster has only database 0")
	}
	user, pass, hosts, err := splitUserinfo(netloc)
	if err != nil {
		return err
	}
	for _, hp := range strings.Split(hosts, ",") {
		host, port, err := splitHostPort(hp, 6379)
		if err != nil {
			return err
		}
		c.Locations = append(c.Locations, Location{Name: hp, Network: "tcp",
			Addr: net.JoinHostPort(host, strconv.Itoa(port)), Username: user, Password: pass, TLS: tls})
	}
	return nil
}

func (c *Config) parseMemcached(scheme, netloc, path string) error {
	c.Backend = Memcached
	if scheme == "pylibmc" {
		c.Format = "pylibmc"
	}
	if netloc == "" {
		if path == "" || path == "/" {
			return badURL("no host and no socket path")
		}
		c.Topology = Single
		c.Locations = []Location{{Name: path, Network: "unix", Addr: path}}
		return nil
	}
	for _, hp := range strings.Split(netloc, ",") {
		host, port, err := splitHostPort(hp, 11211)
		if err != nil {
			return err
		}
		c.Locations = append(c.Locations, Location{
			// pymemcache's HashClient node name: "%s:%s" % (host, port).
			Name:    host + ":" + strconv.Itoa(port),
			Network: "tcp", Addr: net.JoinHostPort(host, strconv.Itoa(port)),
		})
	}
	c.Topology = Single
	if len(c.Locations) > 1 {
		c.Topology = Replicated
	}
	return nil
}

// parseSeconds reads a timeout: a Go duration ("250ms") or seconds as a
// number ("0.5"), as django-redis's SOCKET_TIMEOUT.
func parseSeconds(name, v string) (time.Duration, error) {
	if d, err := time.ParseDuration(v); err == nil {
		if d < 0 {
			return 0, badURL("negative %s", name)
		}
		return d, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || f > 86400 {
		return 0, badURL("bad %s %q", name, v)
	}
	return time.Duration(f * float64(time.Second)), nil
}

func (c *Config) parseOptions(q map[string]string) error {
	var err error
	for k, v := range q {
		switch k {
		case "key_prefix":
			c.KeyPrefix = v
		case "version":
			if c.Version, err = strconv.Atoi(v); err != nil {
				return badURL("bad version %q", v)
			}
		case "format":
			c.Format = strings.ToLower(v)
		case "serializer":
			c.Serializer = v
		case "compressor":
			c.Compressor = v
		case "pickle_version":
			if c.PickleVersion, err = strconv.Atoi(v); err != nil {
				return badURL("bad pickle_version %q", v)
			}
		case "password", "username":
			for i := range c.Locations {
				l := &c.Locations[i]
				if k == "password" && l.Password == "" {
					l.Password = v
				}
				if k == "username" && l.Username == "" {
					l.Username = v
				}
			}
		case "sentinel_password":
			c.SentinelPassword = v
		case "sentinel_username":
			c.SentinelUsername = v
		case "replica_read_only":
			readOnly, perr := strconv.ParseBool(v)
			if perr != nil {
				return badURL("bad replica_read_only %q (want true or false)", v)
			}
			c.ReplicaWrites = !readOnly
		case "replica_reads":
			if c.SentinelReplicaReads, err = strconv.ParseBool(v); err != nil {
				return badURL("bad replica_reads %q (want true or false)", v)
			}
		case "socket_connect_timeout", "connect_timeout", "dial_timeout":
			if c.DialTimeout, err = parseSeconds(k, v); err != nil {
				return err
			}
		case "socket_timeout":
			if c.ReadTimeout, err = parseSeconds(k, v); err != nil {
				return err
			}
			c.WriteTimeout = c.ReadTimeout
		case "read_timeout":
			if c.ReadTimeout, err = parseSeconds(k, v); err != nil {
				return err
			}
		case "write_timeout":
			if c.WriteTimeout, err = parseSeconds(k, v); err != nil {
				return err
			}
		case "pool_size", "max_connections":
			if c.PoolSize, err = strconv.Atoi(v); err != nil || c.PoolSize < 0 {
				return badURL("bad %s %q", k, v)
			}
		case "max_value_size":
			if c.MaxValueSize, err = strconv.Atoi(v); err != nil {
				return badURL("bad max_value_size %q", v)
			}
		case "ssl_cert_reqs":
			c.TLSInsecure = strings.EqualFold(v, "none") || strings.EqualFold(v, "cert_none")
		case "max_entries":
			if c.MaxEntries, err = strconv.Atoi(v); err != nil || c.MaxEntries < 0 {
				return badURL("bad max_entries %q", v)
			}
			if c.MaxEntries == 0 {
				c.MaxEntries = -1 // Django's 0: cull before every write
			}
		case "cull_frequency":
			if c.CullFrequency, err = strconv.Atoi(v); err != nil || c.CullFrequency < 0 {
				return badURL("bad cull_frequency %q", v)
			}
			if c.CullFrequency == 0 {
				c.CullFrequency = CullAll
			}
		case "herd_timeout":
			if !c.Herd {
				return badURL("herd_timeout needs client_class=django_redis.client.HerdClient")
			}
			if c.HerdTimeout, err = strconv.Atoi(v); err != nil || c.HerdTimeout < 0 {
				return badURL("bad herd_timeout %q", v)
			}
		}
	}
	if c.SentinelReplicaReads && c.Topology != Sentinel {
		return badURL("replica_reads applies to Sentinel (Django's primary + replicas list reads replicas already)")
	}
	if c.ReplicaWrites && (c.Backend != Redis || (c.Topology != Single && c.Topology != Replicated) || c.Format == "django") {
		return badURL("replica_read_only=false is django-redis's DefaultClient option: a redis:// list of servers in the django-redis format")
	}
	if c.Herd && c.Format != "" && c.Format != "django-redis" && c.Format != "django_redis" {
		return badURL("HerdClient is a django-redis client; format %q is not", c.Format)
	}
	if (c.MaxEntries != 0 || c.CullFrequency != 0) && c.Backend != FileBased && c.Backend != Database {
		return badURL("max_entries and cull_frequency apply to filecache and dbcache")
	}
	if c.Backend == FileBased || c.Backend == Database {
		if c.Format != "" {
			return badURL("%s values are always pickled (format %q does not apply)", c.Backend, c.Format)
		}
		return nil
	}
	switch c.Format {
	case "", "django-redis", "django_redis", "django":
		if c.Backend == Memcached && c.Format != "" {
			return badURL("format %q is a Redis format", c.Format)
		}
	case "pymemcache", "pylibmc":
		if c.Backend == Redis {
			return badURL("format %q is a memcached format", c.Format)
		}
	default:
		return badURL("unknown format %q (want django-redis, django, pymemcache or pylibmc)", c.Format)
	}
	return nil
}
