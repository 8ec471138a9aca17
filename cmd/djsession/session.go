package main

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/djsession/djsession/backends/cache"
	"github.com/djsession/djsession/backends/cache/codec"
	"github.com/djsession/djsession/backends/cache/dbcache"
	"github.com/djsession/djsession/backends/signedcookies"
	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/pickle/py"
	"github.com/djsession/djsession/signing"
)

// The session codec commands: decode and encode what each SESSION_ENGINE
// stores, without connecting anywhere (DESIGN.md, "The command-line
// contract"; formats in spec §3.5–§3.7, §3.9.5, §6.2–§6.3, §7.2–§7.4).

var sessionCodecFlags = []flagSpec{
	{name: "base64", kind: flagBool, help: "cache engines: the raw cache value is standard base64 text (in and out)"},
	{name: "cache-flags", metav: "N", help: "pymemcache, pylibmc: the item's memcached flags (default 1, a pickle, what a session dict gets)"},
	{name: "legacy-format", kind: flagBool,
		help: "write what Django 3.1-3.2 with DEFAULT_HASHING_ALGORITHM='sha1' writes, for Django <= 3.0 readers " +
			"(session_data: format L; signed_cookies: a SHA-1 signature)"},
	{name: "herd", kind: flagBool,
		help: "cache engines, django-redis: write what HerdClient stores, (Marker(), session, now + --cookie-age)"},
}

var sessionCodecCommands = []command{
	{
		name: "decode", synopsis: "[VALUE|-]", minArgs: 0, maxArgs: 1,
		summary: "print the session dict in a stored value (session_data, cookie or cache value)",
		help: `What VALUE is depends on --engine:
  db, file (default db)  session_data, as in django_session or a session file:
                         the current format, the pre-3.1 format (L), and the
                         SHA-1-signed form of Django 3.1-3.2 are all read.
                         --serializer pickle for PickleSerializer sessions.
  signed_cookies         the session cookie's value; exit 1 with 'signature
                         expired' when it is older than --cookie-age.
  cache, cached_db       the raw cache value: bytes on stdin as 'redis-cli GET'
                         prints them (one trailing newline ignored), or base64
                         text with --base64, in --cache-format (django-redis,
                         the default: --cache-serializer, --cache-compressor;
                         django; pymemcache or pylibmc: --cache-flags, e.g.
                         9 for a pylibmc value zlib-compressed; filecache: a
                         FileBasedCache .djcache file's bytes, exit 1 with
                         'expired' past its expiry; dbcache: the text of
                         DatabaseCache's value column).
VALUE is read from stdin when it is - or absent; text values are trimmed.
Prints the session dict as JSON (the normal form: datetimes as isoformat(),
bytes as base64, tuples and sets as arrays). Exit 1 with 'bad signature',
'signature expired' or 'bad payload' when the value is rejected, including a
value whose signature verifies but whose payload does not decode.`,
		flags: []string{"base64", "cache-flags"},
		run:   runDecode,
	},
	{
		name: "encode", synopsis: "[JSON|-]", minArgs: 0, maxArgs: 1,
		summary: "print what Django stores for a session dict (session_data, cookie or cache value)",
		help: `JSON is the session dict (a JSON object), from stdin when it is - or absent.
Prints, per --engine: session_data (db, file; default db), the session cookie
(signed_cookies), or the raw cache value (cache, cached_db) as bytes with no
newline, or as base64 text with --base64 (with --cache-format pymemcache or
pylibmc the item's flags are 1, a pickle; --cache-format filecache writes a
whole .djcache file expiring at now + --cookie-age, dbcache the text of the
value column). --now fixes the signing timestamp.
--legacy-format writes the pre-3.1 session_data format L, or a SHA-1 signed
cookie: what Django 3.1-3.2 wrote with DEFAULT_HASHING_ALGORITHM = 'sha1',
and what Django <= 3.0 reads. --herd writes the value django-redis's
HerdClient stores for a session saved now (--now) with --cookie-age as its
age (pickle serializer only); decode reads such values without a flag.`,
		flags: []string{"base64", "legacy-format", "herd"},
		run:   runEncode,
	},
}

// cookieAgeLimit bounds --cookie-age so that adding it to a time cannot
// overflow (about 68 years, as the django package clamps expiries).
const cookieAgeLimit = 1<<31 - 1

// sessionSettings builds the Django settings of a session command from the
// global options. Reading accepts everything Django 3.1+ could have stored
// (DESIGN.md: the SHA-1 form of 3.1–3.2 and format L), so LegacySHA1 is
// always on here; it only widens what verifies, never what is signed.
func (inv *invocation) sessionSettings() (*django.Settings, error) {
	o := inv.opts
	if err := o.RequireSecret(); err != nil {
		return nil, err
	}
	s := django.DefaultSettings(o.SecretKey)
	s.SecretKeyFallbacks = append([]string(nil), o.FallbackKeys...)
	name, err := o.CookieName()
	if err != nil {
		return nil, err
	}
	s.SessionCookieName = name
	age, err := inv.cookieAge()
	if err != nil {
		return nil, err
	}
	s.SessionCookieAge = int(age)
	ser, err := o.Serializer()
	if err != nil {
		return nil, err
	}
	if ser == "pickle" {
		s.SessionSerializer = django.PickleSerializer{}
	} else {
		s.SessionSerializer = django.JSONSerializer{}
	}
	s.SessionFilePath = o.FilePath()
	s.LegacySHA1 = true
	s.WriteLegacyFormat = inv.boolFlag("legacy-format")
	if o.HasNow {
		now := o.Now
		s.Clock = func() time.Time { return now }
	}
	if err := s.Validate(); err != nil {
		return nil, usagef("%s", strings.TrimPrefix(err.Error(), "django: "))
	}
	return s, nil
}

// encodeHerd wraps d as django-redis's HerdClient stores a session saved
// now with --cookie-age as its age: deadline = now + age (spec §7.5).
func (inv *invocation) encodeHerd(f codec.Format, d *py.Dict) ([]byte, error) {
	dr, ok := f.(codec.DjangoRedis)
	if !ok {
		return nil, usagef("--herd applies to --cache-format django-redis")
	}
	age, err := inv.cookieAge()
	if err != nil {
		return nil, err
	}
	raw, err := dr.EncodeHerd(py.DictOf(d), inv.opts.Clock().Unix()+age)
	if err != nil {
		return nil, usagef("cannot store the session as HerdClient does: %s", trimLibPrefixes(err))
	}
	return raw, nil
}

// cookieAge returns --cookie-age, checked to be positive and below
// cookieAgeLimit.
func (inv *invocation) cookieAge() (int64, error) {
	age, err := inv.opts.CookieAge()
	if err != nil {
		return 0, err
	}
	if age <= 0 || age > cookieAgeLimit {
		return 0, inv.opts.optErr("cookie-age", "must be a positive number of seconds below 2^31, got %d", age)
	}
	return age, nil
}

// isCacheEngine reports whether the engine keeps sessions in a cache (whose
// values decode and encode take raw).
func isCacheEngine(engine string) bool { return engine == "cache" || engine == "cached_db" }

// cacheFormatName returns --cache-format, or its default: pylibmc for a
// pylibmc:// CACHE_URL, pymemcache for the other memcached schemes,
// filecache and dbcache for theirs, django-redis otherwise (DESIGN.md; backends/cache reads URLs the same way).
func (inv *invocation) cacheFormatName() (string, error) {
	f, err := inv.opts.CacheFormat()
	if err != nil || f != "" {
		return f, err
	}
	if u, err := url.Parse(inv.opts.Cache()); err == nil {
		switch strings.ToLower(u.Scheme) {
		case "filecache", "dbcache":
			return strings.ToLower(u.Scheme), nil
		case "pylibmc":
			return "pylibmc", nil
		case "memcache", "pymemcache", "memcached", "pymemcached":
			return "pymemcache", nil
		}
	}
	return "django-redis", nil
}

// cacheFormat returns the codec of the cache client that wrote the values
// (spec §6.2, §6.3, §7.2).
func (inv *invocation) cacheFormat() (codec.Format, error) {
	name, err := inv.cacheFormatName()
	if err != nil {
		return nil, err
	}
	o := inv.opts
	if name != "django-redis" {
		for _, f := range []string{"cache-serializer", "cache-compressor"} {
			if o.src[f] != "" {
				return nil, usagef("--%s applies only to --cache-format django-redis", f)
			}
		}
	}
	switch name {
	case "filecache":
		// A file's whole content: its expiry (encode: now + --cookie-age),
		// then the value.
		age, err := inv.cookieAge()
		if err != nil {
			return nil, err
		}
		return cache.FileEntryFormat{Now: o.Clock, TTL: time.Duration(age) * time.Second}, nil
	case "dbcache":
		return dbcache.ValueFormat{}, nil
	case "django":
		return codec.DjangoRedisCache{}, nil
	case "pymemcache":
		return codec.PyMemcache{}, nil
	case "pylibmc":
		// Django's PyLibMCCache passes no min_compress_len: encode never
		// compresses; decode inflates a value whose flags say zlib.
		return codec.PyLibMC{}, nil
	}
	sname, err := o.CacheSerializer()
	if err != nil {
		return nil, err
	}
	cname, err := o.CacheCompressor()
	if err != nil {
		return nil, err
	}
	ser, err := codec.SerializerByName(sname)
	if err != nil {
		return nil, o.optErr("cache-serializer", "%v", err)
	}
	comp, err := codec.CompressorByName(cname)
	if err != nil {
		return nil, o.optErr("cache-compressor", "%v", err)
	}
	return codec.DjangoRedis{Serializer: ser, Compressor: comp}, nil
}

// isMemcachedFormat reports whether values of f carry memcached flags.
func isMemcachedFormat(f codec.Format) bool {
	switch f.(type) {
	case codec.PyMemcache, codec.PyLibMC:
		return true
	}
	return false
}

// cacheFlags returns --cache-flags (default codec.FlagPickle: pymemcache
// pickles a dict, spec §6.3).
func (inv *invocation) cacheFlags() (uint32, bool, error) {
	v, ok := inv.flag("cache-flags")
	if !ok {
		return codec.FlagPickle, false, nil
	}
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil {
		return 0, false, usagef("--cache-flags: want a memcached flags number (0 to 4294967295), got %q", v)
	}
	return uint32(n), true, nil
}

// checkCodecFlags rejects command flags that mean nothing for the engine.
func (inv *invocation) checkCodecFlags(engine string) error {
	cache := isCacheEngine(engine)
	if inv.boolFlag("base64") && !cache {
		return usagef("--base64 applies to the cache engines (cache, cached_db); %s values are text", engine)
	}
	if _, ok := inv.flag("cache-flags"); ok && !cache {
		return usagef("--cache-flags applies to the cache engines (cache, cached_db)")
	}
	if inv.boolFlag("herd") && !cache {
		return usagef("--herd applies to the cache engines (cache, cached_db)")
	}
	if inv.boolFlag("legacy-format") && cache {
		return usagef("--legacy-format applies to session_data (db, cached_db and file stores) and signed cookies, not to raw cache values")
	}
	return nil
}

// sessionError turns why a stored value was rejected into exit 1 with the
// reason first ("bad signature", "signature expired", "bad payload", ...).
// The libraries' messages hold no secret and no expected MAC.
func sessionError(err error) error {
	var msg string
	switch {
	case errors.Is(err, signing.ErrSignatureExpired):
		msg = ensurePrefix(trimLibPrefixes(err), "signature expired")
	case errors.Is(err, signing.ErrBadSignature):
		msg = ensurePrefix(trimLibPrefixes(err), "bad signature")
	case errors.Is(err, signing.ErrBadPayload):
		msg = ensurePrefix(trimLibPrefixes(err), "bad payload")
	case errors.Is(err, cache.ErrEntryExpired):
		msg = "expired: the cache entry's expiry time has passed"
	case errors.Is(err, django.ErrNotADict):
		msg = "bad payload: " + trimLibPrefixes(err)
	default:
		msg = "bad value: " + trimLibPrefixes(err)
	}
	return rejectf("%s", msg)
}

// trimLibPrefixes drops the package prefixes of a library error
// ("django: session data corrupted: signing: bad signature: ...") down to
// the reason ("bad signature: ...").
func trimLibPrefixes(err error) string {
	msg := err.Error()
	for _, p := range []string{"django: session data corrupted: ", "django: ", "signing: ", "codec: "} {
		msg = strings.TrimPrefix(msg, p)
	}
	for _, p := range []string{"signing: ", "py: ", "pickle: ", "codec: "} {
		msg = strings.ReplaceAll(msg, ": "+p, ": ")
	}
	return msg
}

// textInput reads a text value (argument or stdin) and trims the
// whitespace around it, such as the newline of `echo` or a terminal.
func (inv *invocation) textInput(i int) (string, error) {
	s, err := inv.valueInput(i)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(s), nil
}

// cacheInput reads a raw cache value: base64 text with --base64, else the
// bytes of the argument or stdin as they are.
func (inv *invocation) cacheInput() ([]byte, error) {
	s, err := inv.valueInput(0)
	if err != nil {
		return nil, err
	}
	if !inv.boolFlag("base64") {
		return []byte(s), nil
	}
	b, err := decodeBase64Text(s)
	if err != nil {
		// The value, not the command line, is wrong: rejected (exit 1).
		return nil, rejectf("bad value: not base64 text (--base64 reads the raw cache value as standard base64)")
	}
	return b, nil
}

// decodeBase64Text reads standard (or URL-safe) base64 with or without
// padding, ignoring ASCII whitespace such as line breaks.
func decodeBase64Text(s string) ([]byte, error) {
	clean := strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(clean); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("not base64")
}

// decodeCacheValue reads a session from a raw cache value. `redis-cli GET`
// prints a newline after the value; a value ending in one is read without
// it first, and as it is if that fails (a zlib value may end in 0x0a).
//
// A django-redis value HerdClient wrapped, (Marker(), session, deadline),
// is read as the session inside, whatever its deadline: decode shows what
// is stored, not what a HerdClient read would return at this moment.
func decodeCacheValue(f codec.Format, raw []byte, flags uint32) (*py.Dict, error) {
	dr, isDjangoRedis := f.(codec.DjangoRedis)
	try := func(b []byte) (*py.Dict, error) {
		var v py.Value
		var err error
		if isDjangoRedis {
			v, _, _, err = dr.DecodeHerd(b)
		} else {
			v, err = f.Decode(b, flags)
		}
		if err != nil {
			return nil, err
		}
		d, ok := v.Dict()
		if !ok {
			return nil, fmt.Errorf("%w (the cache holds %s)", django.ErrNotADict, v.TypeName())
		}
		return d, nil
	}
	if trimmed, ok := bytes.CutSuffix(raw, []byte("\n")); ok {
		if d, err := try(trimmed); err == nil {
			return d, nil
		}
	}
	return try(raw)
}

func runDecode(inv *invocation) error {
	engine, err := inv.opts.Engine()
	if err != nil {
		return err
	}
	if err := inv.checkCodecFlags(engine); err != nil {
		return err
	}
	if isCacheEngine(engine) {
		// A cache value is not signed: no secret key is needed.
		f, err := inv.cacheFormat()
		if err != nil {
			return err
		}
		flags, given, err := inv.cacheFlags()
		if err != nil {
			return err
		}
		if given && !isMemcachedFormat(f) {
			return usagef("--cache-flags applies to --cache-format pymemcache or pylibmc")
		}
		raw, err := inv.cacheInput()
		if err != nil {
			return err
		}
		d, err := decodeCacheValue(f, raw, flags)
		if err != nil {
			return sessionError(err)
		}
		return inv.printValue(py.DictOf(d))
	}
	s, err := inv.sessionSettings()
	if err != nil {
		return err
	}
	value, err := inv.textInput(0)
	if err != nil {
		return err
	}
	var d *py.Dict
	if engine == "signed_cookies" {
		st, err := newCookieStore(s)
		if err != nil {
			return err
		}
		d, err = st.Decode(value)
		if err != nil {
			return sessionError(err)
		}
	} else {
		c, err := django.NewCodec(s)
		if err != nil {
			return usagef("%s", trimLibPrefixes(err))
		}
		d, err = c.Decode(value)
		if err != nil {
			return sessionError(err)
		}
	}
	return inv.printValue(py.DictOf(d))
}

// sessionJSON reads the session dict a user gives as JSON (UTF-8): it must
// be a JSON object.
func sessionJSON(text string) (*py.Dict, error) {
	v, err := decodeJSONInput(text)
	if err != nil {
		return nil, err
	}
	d, ok := v.Dict()
	if !ok {
		return nil, usagef("the session must be a JSON object, not %s", v.TypeName())
	}
	return d, nil
}

// encodeSessionData returns session_data for d (spec §3.5).
func encodeSessionData(s *django.Settings, d *py.Dict) (string, error) {
	c, err := django.NewCodec(s)
	if err != nil {
		return "", usagef("%s", trimLibPrefixes(err))
	}
	out, err := c.Encode(d)
	if err != nil {
		return "", usagef("cannot serialize the session: %s", trimLibPrefixes(err))
	}
	return out, nil
}

// newCookieStore returns the signed-cookie backend for the settings; a
// failure is a configuration error.
func newCookieStore(s *django.Settings) (*signedcookies.Store, error) {
	st, err := signedcookies.New(s)
	if err != nil {
		return nil, usagef("%s", trimLibPrefixes(err))
	}
	return st, nil
}

// encodeCookie returns the signed_cookies session value for d (spec §3.9.5).
// With legacy, the signature is SHA-1, as Django 3.1–3.2 wrote it with
// DEFAULT_HASHING_ALGORITHM = "sha1" and Django ≤3.0 always did (the store
// does it under Settings.WriteLegacyFormat).
func encodeCookie(s *django.Settings, d *py.Dict, legacy bool) (string, error) {
	if legacy {
		ls := *s
		ls.WriteLegacyFormat = true
		s = &ls
	}
	st, err := newCookieStore(s)
	if err != nil {
		return "", err
	}
	out, err := st.Encode(d)
	if err != nil {
		return "", usagef("cannot serialize the session: %s", trimLibPrefixes(err))
	}
	return out, nil
}

func runEncode(inv *invocation) error {
	engine, err := inv.opts.Engine()
	if err != nil {
		return err
	}
	if err := inv.checkCodecFlags(engine); err != nil {
		return err
	}
	if isCacheEngine(engine) {
		f, err := inv.cacheFormat()
		if err != nil {
			return err
		}
		text, err := inv.dataInput(0)
		if err != nil {
			return err
		}
		d, err := sessionJSON(text)
		if err != nil {
			return err
		}
		var raw []byte
		if inv.boolFlag("herd") {
			if raw, err = inv.encodeHerd(f, d); err != nil {
				return err
			}
		} else if raw, _, err = f.Encode(py.DictOf(d)); err != nil {
			return usagef("cannot store the session in this cache format: %s", trimLibPrefixes(err))
		}
		if inv.boolFlag("base64") {
			return inv.printText(base64.StdEncoding.EncodeToString(raw))
		}
		_, err = inv.stdout.Write(raw)
		return err
	}
	s, err := inv.sessionSettings()
	if err != nil {
		return err
	}
	text, err := inv.dataInput(0)
	if err != nil {
		return err
	}
	d, err := sessionJSON(text)
	if err != nil {
		return err
	}
	var out string
	if engine == "signed_cookies" {
		out, err = encodeCookie(s, d, inv.boolFlag("legacy-format"))
	} else {
		out, err = encodeSessionData(s, d)
	}
	if err != nil {
		return err
	}
	return inv.printText(out)
}
