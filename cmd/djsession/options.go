package main

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// flagKind says how a flag takes its value.
type flagKind uint8

const (
	flagString flagKind = iota // --name VALUE or --name=VALUE; the last one wins
	flagBool                   // --name, or --name=true|false
	flagList                   // like flagString, but every occurrence is kept
)

// flagSpec describes one flag: its name without the leading "--", how it
// takes a value, the environment variable of the same meaning (global
// options only) and its help text.
type flagSpec struct {
	name   string
	kind   flagKind
	env    string
	metav  string // the value's name in help text
	help   string
	secret bool // never repeat its value in a message
}

// globalFlags are the options every command reads (DESIGN.md, "The
// command-line contract"): each one a flag, most with an environment
// variable; a flag wins over its variable.
var globalFlags = []flagSpec{
	{name: "secret-key", env: "DJANGO_SECRET_KEY", metav: "KEY", help: "SECRET_KEY", secret: true},
	{name: "fallback-key", kind: flagList, env: "DJANGO_SECRET_KEY_FALLBACKS", metav: "KEY",
		help: "SECRET_KEY_FALLBACKS entry (repeatable; the variable is comma-separated)", secret: true},
	{name: "engine", env: "SESSION_ENGINE", metav: "ENGINE",
		help: "db, cache, cached_db, file or signed_cookies (Django's dotted names too)"},
	{name: "database", env: "DATABASE_URL", metav: "URL", help: "where django_session and auth_user live", secret: true},
	{name: "cache", env: "CACHE_URL", metav: "URL", help: "the session cache: redis://, rediss://, memcache://, filecache:///DIR (FileBasedCache) or dbcache://TABLE (DatabaseCache, in --database)", secret: true},
	{name: "cache-format", metav: "FORMAT", help: "django-redis (default for redis://), django, pymemcache (default for memcache://), pylibmc, filecache (a FileBasedCache file) or dbcache (DatabaseCache's value column)"},
	{name: "key-prefix", metav: "PREFIX", help: "the cache's KEY_PREFIX"},
	{name: "cache-version", metav: "N", help: "the cache's VERSION"},
	{name: "cache-serializer", metav: "NAME", help: "django-redis SERIALIZER: pickle, json or msgpack"},
	{name: "cache-compressor", metav: "NAME", help: "django-redis COMPRESSOR: none, zlib, lzma, lz4, zstd or gzip"},
	{name: "file-path", env: "SESSION_FILE_PATH", metav: "DIR", help: "the file backend's folder"},
	{name: "serializer", env: "SESSION_SERIALIZER", metav: "NAME", help: "json (default) or pickle (Django's dotted names too)"},
	{name: "cookie-name", metav: "NAME", help: "SESSION_COOKIE_NAME (default sessionid)"},
	{name: "cookie-age", metav: "SECONDS", help: "SESSION_COOKIE_AGE (default 1209600)"},
	{name: "now", metav: "UNIXTIME", help: "every clock reads this instant (fraction allowed: 1700000005.5)"},
	{name: "json", kind: flagBool, help: "print JSON where a command would print a table"},
	{name: "legacy-sha1", kind: flagBool, help: "also accept what Django 3.1-3.2 accepted (SHA-1 signatures and auth hashes)"},
	{name: "help", kind: flagBool, help: "show help"},
}

// parsedArgs is the command line split into the command name, its
// positional arguments and the flags given (values in the order given).
type parsedArgs struct {
	cmd   string
	args  []string
	flags map[string][]string
	order []string // flag names in the order first seen
}

// has reports whether flag name was given at least once.
func (p *parsedArgs) has(name string) bool { _, ok := p.flags[name]; return ok }

// last returns the last value given for flag name.
func (p *parsedArgs) last(name string) (string, bool) {
	v, ok := p.flags[name]
	if !ok || len(v) == 0 {
		return "", false
	}
	return v[len(v)-1], true
}

// boolFlag returns the value of a boolean flag (false when absent).
func (p *parsedArgs) boolFlag(name string) bool {
	v, ok := p.last(name)
	return ok && v == "true"
}

// knownFlags is every flag any command takes, by name. One name has one kind
// everywhere, so the command line can be split before the command is known
// (flags may come before the command name).
func knownFlags() map[string]flagSpec {
	m := make(map[string]flagSpec, len(globalFlags)+len(commandFlags))
	for _, f := range globalFlags {
		m[f.name] = f
	}
	for _, f := range commandFlags {
		m[f.name] = f
	}
	return m
}

// flagName returns the name part of a flag argument for messages: the text
// before any "=", so a mistyped `--secret=...` never echoes the value.
func flagName(arg string) string {
	if i := strings.IndexByte(arg, '='); i >= 0 {
		return arg[:i]
	}
	return arg
}

// parseArgs splits argv. Flags may appear anywhere: before the command name,
// between arguments, after them; `--name=value` and `--name value` are the
// same; `-h` is --help; `--` ends the flags (everything after it is an
// argument, so a value may start with "-"); a lone `-` is an argument.
func parseArgs(argv []string) (*parsedArgs, error) {
	known := knownFlags()
	p := &parsedArgs{flags: map[string][]string{}}
	var pos []string
	for i := 0; i < len(argv); i++ {
		a := argv[i]
		switch {
		case a == "--":
			pos = append(pos, argv[i+1:]...)
			i = len(argv)
			continue
		case a == "-" || !strings.HasPrefix(a, "-"):
			pos = append(pos, a)
			continue
		case a == "-h":
			a = "--help"
		case !strings.HasPrefix(a, "--"):
			return nil, usagef("unknown flag %s (flags are spelled --name; put -- before an argument that starts with -)", flagName(a))
		}
		name, val, hasVal := strings.Cut(a[2:], "=")
		spec, ok := known[name]
		if !ok {
			return nil, usagef("unknown flag --%s", name)
		}
		switch spec.kind {
		case flagBool:
			if !hasVal {
				val = "true"
			} else {
				b, err := strconv.ParseBool(val)
				if err != nil {
					return nil, usagef("flag --%s takes no value, or =true / =false", name)
				}
				val = strconv.FormatBool(b)
			}
		default:
			if !hasVal {
				if i+1 >= len(argv) {
					return nil, usagef("flag --%s needs a value", name)
				}
				i++
				val = argv[i]
			}
		}
		if _, seen := p.flags[name]; !seen {
			p.order = append(p.order, name)
		}
		p.flags[name] = append(p.flags[name], val)
	}
	if len(pos) > 0 {
		p.cmd, p.args = pos[0], pos[1:]
	}
	return p, nil
}

// Options are the global options after flags and environment are merged
// (a flag wins over its variable). Values that come from the environment
// and that the running command does not need are not checked, so a
// SESSION_ENGINE set for another tool does not break `djsession sign`;
// flags are always checked.
type Options struct {
	// SecretKey is SECRET_KEY ("" when neither flag nor variable gives one).
	SecretKey string
	// FallbackKeys is SECRET_KEY_FALLBACKS, in order.
	FallbackKeys []string
	// Now is the fixed instant of --now, when HasNow is set.
	Now time.Time
	// HasNow reports whether --now was given.
	HasNow bool
	// JSON forces JSON output (--json).
	JSON bool
	// LegacySHA1 accepts what Django 3.1-3.2 accepted: SHA-1 signatures and
	// SHA-1 session auth hashes (--legacy-sha1).
	LegacySHA1 bool

	// The store options, raw as given; read them through the accessors,
	// which check and normalize them.
	engine, database, cache, cacheFormat, keyPrefix, cacheVersion string
	cacheSerializer, cacheCompressor, filePath, serializer        string
	cookieName, cookieAge                                         string
	src                                                           map[string]string // option name → "--flag" or "$VAR", for messages
}

// envLookup builds a lookup over "NAME=value" entries; a later entry wins,
// as in the process environment. An empty value counts as unset.
func envLookup(env []string) func(string) (string, bool) {
	m := make(map[string]string, len(env))
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok && v != ""
	}
}

// newOptions merges the parsed flags with the environment and checks every
// value given as a flag.
func newOptions(p *parsedArgs, env []string) (*Options, error) {
	look := envLookup(env)
	o := &Options{src: map[string]string{}}
	get := func(name string) string {
		if v, ok := p.last(name); ok {
			o.src[name] = "--" + name
			return v
		}
		for _, f := range globalFlags {
			if f.name == name && f.env != "" {
				if v, ok := look(f.env); ok {
					o.src[name] = "$" + f.env
					return v
				}
			}
		}
		return ""
	}
	o.SecretKey = get("secret-key")
	if p.has("fallback-key") {
		for _, k := range p.flags["fallback-key"] {
			if k == "" {
				return nil, usagef("--fallback-key must not be empty")
			}
			o.FallbackKeys = append(o.FallbackKeys, k)
		}
	} else if v, ok := look("DJANGO_SECRET_KEY_FALLBACKS"); ok {
		for _, k := range strings.Split(v, ",") {
			if k != "" {
				o.FallbackKeys = append(o.FallbackKeys, k)
			}
		}
	}
	o.JSON = p.boolFlag("json")
	o.LegacySHA1 = p.boolFlag("legacy-sha1")
	if v, ok := p.last("now"); ok {
		t, err := parseUnixTime(v)
		if err != nil {
			return nil, usagef("--now: %v", err)
		}
		o.Now, o.HasNow = t, true
	}
	o.engine = get("engine")
	o.database = get("database")
	o.cache = get("cache")
	o.cacheFormat = get("cache-format")
	o.keyPrefix = get("key-prefix")
	o.cacheVersion = get("cache-version")
	o.cacheSerializer = get("cache-serializer")
	o.cacheCompressor = get("cache-compressor")
	o.filePath = get("file-path")
	o.serializer = get("serializer")
	o.cookieName = get("cookie-name")
	o.cookieAge = get("cookie-age")

	// Check what was given as a flag now; what came from the environment is
	// checked when a command reads it.
	for _, check := range []struct {
		name string
		fn   func() error
	}{
		{"engine", func() error { _, err := o.Engine(); return err }},
		{"cache-format", func() error { _, err := o.CacheFormat(); return err }},
		{"cache-version", func() error { _, err := o.CacheVersion(); return err }},
		{"cache-serializer", func() error { _, err := o.CacheSerializer(); return err }},
		{"cache-compressor", func() error { _, err := o.CacheCompressor(); return err }},
		{"serializer", func() error { _, err := o.Serializer(); return err }},
		{"cookie-name", func() error { _, err := o.CookieName(); return err }},
		{"cookie-age", func() error { _, err := o.CookieAge(); return err }},
	} {
		if p.has(check.name) {
			if err := check.fn(); err != nil {
				return nil, err
			}
		}
	}
	return o, nil
}

// Clock returns the time every clock reads: --now when given, else the
// real time.
func (o *Options) Clock() time.Time {
	if o.HasNow {
		return o.Now
	}
	return time.Now()
}

// RequireSecret returns a usage error unless a SECRET_KEY was given.
// Django refuses an empty SECRET_KEY too (ImproperlyConfigured).
func (o *Options) RequireSecret() error {
	if o.SecretKey == "" {
		return usagef("no secret key: pass --secret-key or set DJANGO_SECRET_KEY")
	}
	return nil
}

// optErr is a configuration error about option name, naming where its
// value came from.
func (o *Options) optErr(name, format string, args ...any) error {
	where := o.src[name]
	if where == "" {
		where = "--" + name
	}
	return usagef("%s: %s", where, fmt.Sprintf(format, args...))
}

// normalizeName maps value to one of the short names in table, accepting a
// short name itself or any of its dotted aliases.
func normalizeName(value string, table map[string][]string) (string, bool) {
	for short, aliases := range table {
		if value == short {
			return short, true
		}
		for _, a := range aliases {
			if value == a {
				return short, true
			}
		}
	}
	return "", false
}

// sessionEngines maps each SESSION_ENGINE short name to Django's dotted
// module path (spec §3.9).
var sessionEngines = map[string][]string{
	"db":             {"django.contrib.sessions.backends.db"},
	"cache":          {"django.contrib.sessions.backends.cache"},
	"cached_db":      {"django.contrib.sessions.backends.cached_db"},
	"file":           {"django.contrib.sessions.backends.file"},
	"signed_cookies": {"django.contrib.sessions.backends.signed_cookies"},
}

// Engine returns the session engine's short name; the default is "db", as
// Django's SESSION_ENGINE default (spec §3.1).
func (o *Options) Engine() (string, error) {
	if o.engine == "" {
		return "db", nil
	}
	if e, ok := normalizeName(o.engine, sessionEngines); ok {
		return e, nil
	}
	return "", o.optErr("engine", "unknown session engine %q (want db, cache, cached_db, file or signed_cookies)", o.engine)
}

// Database returns DATABASE_URL ("" when not given).
func (o *Options) Database() string { return o.database }

// Cache returns CACHE_URL ("" when not given).
func (o *Options) Cache() string { return o.cache }

// KeyPrefix returns the cache KEY_PREFIX (default "").
func (o *Options) KeyPrefix() string { return o.keyPrefix }

// FilePath returns SESSION_FILE_PATH ("" means Django's default, the
// system temporary directory).
func (o *Options) FilePath() string { return o.filePath }

// CacheFormat returns --cache-format: "django-redis", "django",
// "pymemcache", "pylibmc", "filecache" (a FileBasedCache file),
// "dbcache" (DatabaseCache's value column), or "" when not given (the
// caller picks the default for its URL scheme).
func (o *Options) CacheFormat() (string, error) {
	switch o.cacheFormat {
	case "", "django-redis", "django", "pymemcache", "pylibmc", "filecache", "dbcache":
		return o.cacheFormat, nil
	}
	return "", o.optErr("cache-format", "unknown cache format %q (want django-redis, django, pymemcache, pylibmc, filecache or dbcache)", o.cacheFormat)
}

// CacheVersion returns the cache VERSION (default 1, Django's).
func (o *Options) CacheVersion() (int, error) {
	if o.cacheVersion == "" {
		return 1, nil
	}
	n, err := strconv.Atoi(o.cacheVersion)
	if err != nil {
		return 0, o.optErr("cache-version", "not an integer: %q", o.cacheVersion)
	}
	return n, nil
}

// cacheSerializers are django-redis's SERIALIZER classes (spec §7.3).
var cacheSerializers = map[string][]string{
	"pickle":  {"django_redis.serializers.pickle.PickleSerializer"},
	"json":    {"django_redis.serializers.json.JSONSerializer"},
	"msgpack": {"django_redis.serializers.msgpack.MSGPackSerializer"},
}

// CacheSerializer returns the django-redis serializer's short name
// (default "pickle", django-redis's default).
func (o *Options) CacheSerializer() (string, error) {
	if o.cacheSerializer == "" {
		return "pickle", nil
	}
	if s, ok := normalizeName(o.cacheSerializer, cacheSerializers); ok {
		return s, nil
	}
	return "", o.optErr("cache-serializer", "unknown serializer %q (want pickle, json or msgpack)", o.cacheSerializer)
}

// cacheCompressors are django-redis's COMPRESSOR classes (spec §7.4).
var cacheCompressors = map[string][]string{
	"none": {"django_redis.compressors.identity.IdentityCompressor", "identity"},
	"zlib": {"django_redis.compressors.zlib.ZlibCompressor"},
	"lzma": {"django_redis.compressors.lzma.LzmaCompressor"},
	"lz4":  {"django_redis.compressors.lz4.Lz4Compressor"},
	"zstd": {"django_redis.compressors.zstd.ZStdCompressor"},
	"gzip": {"django_redis.compressors.gzip.GzipCompressor"},
}

// CacheCompressor returns the django-redis compressor's short name
// (default "none", the IdentityCompressor).
func (o *Options) CacheCompressor() (string, error) {
	if o.cacheCompressor == "" {
		return "none", nil
	}
	if c, ok := normalizeName(o.cacheCompressor, cacheCompressors); ok {
		return c, nil
	}
	return "", o.optErr("cache-compressor", "unknown compressor %q (want none, zlib, lzma, lz4, zstd or gzip)", o.cacheCompressor)
}

// sessionSerializers are SESSION_SERIALIZER's classes (spec §3.7); the
// session JSONSerializer is the same class as signing's.
var sessionSerializers = map[string][]string{
	"json": {"django.contrib.sessions.serializers.JSONSerializer", "django.core.signing.JSONSerializer"},
	"pickle": {"django.contrib.sessions.serializers.PickleSerializer",
		"django.core.serializers.base.PickleSerializer"},
}

// Serializer returns the session serializer's short name, "json"
// (default) or "pickle".
func (o *Options) Serializer() (string, error) {
	if o.serializer == "" {
		return "json", nil
	}
	if s, ok := normalizeName(o.serializer, sessionSerializers); ok {
		return s, nil
	}
	return "", o.optErr("serializer", "unknown session serializer %q (want json or pickle)", o.serializer)
}

// CookieName returns SESSION_COOKIE_NAME (default "sessionid", spec §3.1).
func (o *Options) CookieName() (string, error) {
	if o.cookieName == "" {
		if o.src["cookie-name"] != "" {
			return "", o.optErr("cookie-name", "must not be empty")
		}
		return "sessionid", nil
	}
	return o.cookieName, nil
}

// CookieAge returns SESSION_COOKIE_AGE in seconds (default 1209600, two
// weeks, spec §3.1).
func (o *Options) CookieAge() (int64, error) {
	if o.cookieAge == "" {
		return 1209600, nil
	}
	n, err := strconv.ParseInt(o.cookieAge, 10, 64)
	if err != nil {
		return 0, o.optErr("cookie-age", "not an integer number of seconds: %q", o.cookieAge)
	}
	return n, nil
}

// parseUnixTime reads a decimal Unix time with an optional fraction
// ("1700000005.5", "-1.25") exactly, to the nanosecond (digits beyond are
// cut off, as a float would round them anyway).
func parseUnixTime(s string) (time.Time, error) {
	sec, nsec, err := parseDecimalSeconds(s)
	if err != nil {
		return time.Time{}, err
	}
	return time.Unix(sec, nsec), nil
}

// parseDecimalSeconds splits a decimal number of seconds into whole seconds
// and nanoseconds (0 <= nsec < 1e9, so -1.25 is -2 s + 750000000 ns).
func parseDecimalSeconds(s string) (sec int64, nsec int64, err error) {
	bad := fmt.Errorf("want a decimal number of seconds like 1700000005.5, got %q", s)
	neg := strings.HasPrefix(s, "-")
	body := strings.TrimPrefix(s, "-")
	ip, fp, _ := strings.Cut(body, ".")
	if ip == "" && fp == "" {
		return 0, 0, bad
	}
	for _, part := range []string{ip, fp} {
		for _, c := range part {
			if c < '0' || c > '9' {
				return 0, 0, bad
			}
		}
	}
	if ip == "" {
		ip = "0"
	}
	whole, ok := new(big.Int).SetString(ip, 10)
	if !ok || whole.BitLen() > 40 { // ±3.4e4 years: far beyond any real clock
		return 0, 0, fmt.Errorf("out of range: %q", s)
	}
	frac := (fp + "000000000")[:9]
	n, _ := strconv.ParseInt(frac, 10, 64)
	sec = whole.Int64()
	if neg {
		sec = -sec
		if n != 0 {
			sec--
			n = 1e9 - n
		}
	}
	return sec, n, nil
}

// parseMaxAge reads --max-age: a decimal number of seconds with an optional
// fraction, as Django's max_age (int, float or timedelta) allows.
func parseMaxAge(s string) (time.Duration, error) {
	sec, nsec, err := parseDecimalSeconds(s)
	if err != nil {
		return 0, err
	}
	if sec > math.MaxInt64/int64(time.Second)-1 || sec < math.MinInt64/int64(time.Second)+1 {
		return 0, fmt.Errorf("out of range: %q", s)
	}
	return time.Duration(sec)*time.Second + time.Duration(nsec), nil
}
