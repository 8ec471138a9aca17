package main

import (
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/djsession/djsession/pickle/py"
	"github.com/djsession/djsession/signing"
)

// The signing commands: django.core.signing from the command line
// (spec §2.4–§2.7).

var signFlags = []flagSpec{
	{name: "salt", metav: "S", help: `the salt (default: Django's for the call; "" is that default too, as Signer(salt="") does)`},
	{name: "sep", metav: "C", help: "the separator (default :)"},
	{name: "algorithm", metav: "A", help: "the HMAC hash: sha256 (default), sha1, sha512, ..."},
	{name: "timestamp", kind: flagBool, help: "use TimestampSigner (value:TS:SIG)"},
	{name: "max-age", metav: "SECONDS", help: "reject a timestamp older than this (fraction allowed)"},
	{name: "compress", kind: flagBool, help: "zlib-compress the payload when that saves 2 bytes or more"},
	{name: "object", kind: flagBool, help: "sign_object / unsign_object: the value is JSON"},
	{name: "legacy-salt", kind: flagBool, help: "write the old name+salt form, for Django <= 5.2.14 / 6.0.5 and 4.2"},
	{name: "no-legacy-salt", kind: flagBool, help: "read only the v2 salt (SIGNED_COOKIE_LEGACY_SALT_FALLBACK = False)"},
}

var signCommands = []command{
	{
		name: "sign", synopsis: "VALUE", minArgs: 1, maxArgs: 1,
		summary: "sign a string: Signer.sign, or TimestampSigner with --timestamp",
		help: "With --object, VALUE is JSON and is signed with sign_object (--compress allowed).\n" +
			"Prints the signed value.",
		flags: []string{"salt", "sep", "algorithm", "timestamp", "object", "compress"},
		run:   runSign,
	},
	{
		name: "unsign", synopsis: "SIGNED", minArgs: 1, maxArgs: 1,
		summary: "verify a signed string and print the value (Signer.unsign)",
		help: "--max-age needs --timestamp. With --object, prints the object as JSON (unsign_object).\n" +
			"Exit 1 with 'bad signature' or 'signature expired' when the value is rejected.",
		flags: []string{"salt", "sep", "algorithm", "timestamp", "max-age", "object"},
		run:   runUnsign,
	},
	{
		name: "dumps", synopsis: "[JSON|-]", minArgs: 0, maxArgs: 1,
		summary: "signing.dumps: sign a JSON value into a URL-safe token",
		help: "Reads the JSON from stdin when JSON is - or absent. The default salt is\n" +
			"django.core.signing; --salt \"\" gives what dumps(salt=\"\") gives.",
		flags: []string{"salt", "sep", "algorithm", "compress"},
		run:   runDumps,
	},
	{
		name: "loads", synopsis: "TOKEN", minArgs: 1, maxArgs: 1,
		summary: "signing.loads: verify a token and print its value as JSON",
		help:    "Exit 1 with 'bad signature' or 'signature expired' when the token is rejected.",
		flags:   []string{"salt", "sep", "algorithm", "max-age"},
		run:     runLoads,
	},
	{
		name: "sign-cookie", synopsis: "NAME VALUE", minArgs: 2, maxArgs: 2,
		summary: "set_signed_cookie: the value of cookie NAME (v2 salt)",
		help:    "--legacy-salt writes the form Django <= 5.2.14, <= 6.0.5 and 4.2 read.",
		flags:   []string{"salt", "legacy-salt"},
		run:     runSignCookie,
	},
	{
		name: "unsign-cookie", synopsis: "NAME VALUE", minArgs: 2, maxArgs: 2,
		summary: "get_signed_cookie: verify cookie NAME's value and print it",
		help:    "Reads the v2 salt, then the legacy one unless --no-legacy-salt.",
		flags:   []string{"salt", "max-age", "no-legacy-salt"},
		run:     runUnsignCookie,
	},
}

// signingOptions builds the signing.Options of one command from its flags
// and the global options. It checks that a secret key is there.
func (inv *invocation) signingOptions() (*signing.Options, error) {
	o := inv.opts
	if err := o.RequireSecret(); err != nil {
		return nil, err
	}
	so := &signing.Options{LegacySHA1: o.LegacySHA1, FallbackKeys: inv.fallbackKeys(), Clock: inv.clock()}
	so.Salt, _ = inv.flag("salt")
	if sep, ok := inv.flag("sep"); ok {
		if sep == "" {
			// Django rejects an empty separator (spec §2.4); the library
			// reads "" as "the default", so say it here.
			return nil, usagef("--sep: unsafe separator '' (cannot be empty or consist of only A-z0-9-_=)")
		}
		so.Sep = sep
	}
	if alg, ok := inv.flag("algorithm"); ok {
		if alg == "" {
			return nil, usagef("--algorithm must not be empty")
		}
		so.Algorithm = alg
	}
	return so, nil
}

func (inv *invocation) fallbackKeys() [][]byte {
	var keys [][]byte
	for _, k := range inv.opts.FallbackKeys {
		keys = append(keys, []byte(k))
	}
	return keys
}

// clock returns the --now clock, or nil for the real one.
func (inv *invocation) clock() signing.Clock {
	if !inv.opts.HasNow {
		return nil
	}
	now := inv.opts.Now
	return func() time.Time { return now }
}

// maxAge returns --max-age, and whether it was given.
func (inv *invocation) maxAge() (time.Duration, bool, error) {
	v, ok := inv.flag("max-age")
	if !ok {
		return 0, false, nil
	}
	d, err := parseMaxAge(v)
	if err != nil {
		return 0, false, usagef("--max-age: %v", err)
	}
	return d, true, nil
}

// signingError turns an error of package signing into the command's exit:
// a rejected value exits 1 ("bad signature", "signature expired", "bad
// payload"), a bad option exits 2. The library's messages never hold a
// secret or a MAC.
func signingError(err error) error {
	msg := strings.TrimPrefix(err.Error(), "signing: ")
	switch {
	case errors.Is(err, signing.ErrSignatureExpired):
		return rejectf("%s", ensurePrefix(msg, "signature expired"))
	case errors.Is(err, signing.ErrBadSignature):
		return rejectf("%s", ensurePrefix(msg, "bad signature"))
	case errors.Is(err, signing.ErrBadPayload):
		return rejectf("%s", ensurePrefix(msg, "bad payload"))
	case errors.Is(err, signing.ErrInvalidSeparator):
		return usagef("--sep: %s", msg)
	case errors.Is(err, signing.ErrInvalidAlgorithm):
		return usagef("--algorithm: %s (known: %s)", msg, strings.Join(signing.Algorithms(), ", "))
	case errors.Is(err, signing.ErrEmptyKey):
		return usagef("%s", msg)
	}
	return usagef("%s", msg)
}

func ensurePrefix(msg, prefix string) string {
	if strings.HasPrefix(msg, prefix) {
		return msg
	}
	return prefix + ": " + msg
}

// decodeJSONInput parses JSON typed by a user (UTF-8, as Python's
// json.loads(str) reads text) into the Python value model, keeping key
// order, big ints and float text. (py.DecodeJSON reads bytes as Latin-1,
// Django's rule for stored data, spec §2.6; user input is UTF-8.)
func decodeJSONInput(s string) (py.Value, error) {
	if !utf8.ValidString(s) {
		return py.None, usagef("the JSON input is not valid UTF-8")
	}
	v, err := py.DecodeJSONUTF8([]byte(s))
	if err != nil {
		return py.None, usagef("the JSON input: %v", strings.TrimPrefix(err.Error(), "py: "))
	}
	return v, nil
}

// printValue prints a Python value in the JSON normal form.
func (inv *invocation) printValue(v py.Value) error {
	b, err := py.NormalJSON(v)
	if err != nil {
		return rejectf("cannot print the value as JSON: %v", err)
	}
	return inv.printJSON(b)
}

// checkObjectFlags rejects flag combinations that Django's API has no
// meaning for.
func (inv *invocation) checkObjectFlags() error {
	if inv.boolFlag("compress") && !inv.boolFlag("object") {
		return usagef("--compress needs --object (sign_object)")
	}
	if _, ok := inv.flag("max-age"); ok && !inv.boolFlag("timestamp") {
		return usagef("--max-age needs --timestamp (only TimestampSigner checks an age)")
	}
	return nil
}

func runSign(inv *invocation) error {
	if err := inv.checkObjectFlags(); err != nil {
		return err
	}
	so, err := inv.signingOptions()
	if err != nil {
		return err
	}
	key := []byte(inv.opts.SecretKey)
	value := inv.args[0]
	object := inv.boolFlag("object")
	var obj py.Value
	if object {
		if obj, err = decodeJSONInput(value); err != nil {
			return err
		}
	}
	compress := inv.boolFlag("compress")
	var signed string
	if inv.boolFlag("timestamp") {
		s, err := signing.NewTimestampSigner(key, so)
		if err != nil {
			return signingError(err)
		}
		if object {
			signed, err = s.SignObject(obj, compress)
		} else {
			signed = s.Sign(value)
		}
		if err != nil {
			return signingError(err)
		}
	} else {
		s, err := signing.NewSigner(key, so)
		if err != nil {
			return signingError(err)
		}
		if object {
			signed, err = s.SignObject(obj, compress)
		} else {
			signed = s.Sign(value)
		}
		if err != nil {
			return signingError(err)
		}
	}
	return inv.printText(signed)
}

func runUnsign(inv *invocation) error {
	if err := inv.checkObjectFlags(); err != nil {
		return err
	}
	so, err := inv.signingOptions()
	if err != nil {
		return err
	}
	maxAge, hasMaxAge, err := inv.maxAge()
	if err != nil {
		return err
	}
	key := []byte(inv.opts.SecretKey)
	signed := inv.args[0]
	object := inv.boolFlag("object")
	var (
		value string
		obj   py.Value
	)
	if inv.boolFlag("timestamp") {
		s, err := signing.NewTimestampSigner(key, so)
		if err != nil {
			return signingError(err)
		}
		switch {
		case object && hasMaxAge:
			obj, err = s.UnsignObjectMaxAge(signed, maxAge)
		case object:
			obj, err = s.UnsignObject(signed)
		case hasMaxAge:
			value, err = s.UnsignMaxAge(signed, maxAge)
		default:
			value, err = s.Unsign(signed)
		}
		if err != nil {
			return signingError(err)
		}
	} else {
		s, err := signing.NewSigner(key, so)
		if err != nil {
			return signingError(err)
		}
		if object {
			obj, err = s.UnsignObject(signed)
		} else {
			value, err = s.Unsign(signed)
		}
		if err != nil {
			return signingError(err)
		}
	}
	if object {
		return inv.printValue(obj)
	}
	return inv.printText(value)
}

// timestampSigner builds the TimestampSigner that signing.dumps and
// signing.loads use (spec §2.6): salt "django.core.signing" when --salt is
// absent. An explicit --salt "" reaches TimestampSigner(salt="") as it does
// in Django's dumps(salt=""), giving TimestampSigner's own default salt.
func (inv *invocation) dumpsSigner() (*signing.TimestampSigner, error) {
	so, err := inv.signingOptions()
	if err != nil {
		return nil, err
	}
	if _, given := inv.flag("salt"); !given {
		so.Salt = signing.DumpsSalt
	}
	s, err := signing.NewTimestampSigner([]byte(inv.opts.SecretKey), so)
	if err != nil {
		return nil, signingError(err)
	}
	return s, nil
}

func runDumps(inv *invocation) error {
	// Check the configuration before reading stdin.
	s, err := inv.dumpsSigner()
	if err != nil {
		return err
	}
	text, err := inv.dataInput(0)
	if err != nil {
		return err
	}
	v, err := decodeJSONInput(text)
	if err != nil {
		return err
	}
	token, err := s.SignObject(v, inv.boolFlag("compress"))
	if err != nil {
		return usagef("cannot serialize the value: %s", strings.TrimPrefix(err.Error(), "signing: "))
	}
	return inv.printText(token)
}

func runLoads(inv *invocation) error {
	s, err := inv.dumpsSigner()
	if err != nil {
		return err
	}
	maxAge, hasMaxAge, err := inv.maxAge()
	if err != nil {
		return err
	}
	var v py.Value
	if hasMaxAge {
		v, err = s.UnsignObjectMaxAge(inv.args[0], maxAge)
	} else {
		v, err = s.UnsignObject(inv.args[0])
	}
	if err != nil {
		return signingError(err)
	}
	return inv.printValue(v)
}

// cookieSigner builds the signer of set_signed_cookie / get_signed_cookie
// (spec §2.7).
func (inv *invocation) cookieSigner() (*signing.CookieSigner, error) {
	if err := inv.opts.RequireSecret(); err != nil {
		return nil, err
	}
	cs, err := signing.NewCookieSigner([]byte(inv.opts.SecretKey), &signing.CookieOptions{
		FallbackKeys:         inv.fallbackKeys(),
		LegacySHA1:           inv.opts.LegacySHA1,
		LegacySalt:           inv.boolFlag("legacy-salt"),
		NoLegacySaltFallback: inv.boolFlag("no-legacy-salt"),
		Clock:                inv.clock(),
	})
	if err != nil {
		return nil, signingError(err)
	}
	return cs, nil
}

func runSignCookie(inv *invocation) error {
	cs, err := inv.cookieSigner()
	if err != nil {
		return err
	}
	salt, _ := inv.flag("salt")
	return inv.printText(cs.Sign(inv.args[0], inv.args[1], salt))
}

func runUnsignCookie(inv *invocation) error {
	cs, err := inv.cookieSigner()
	if err != nil {
		return err
	}
	maxAge, hasMaxAge, err := inv.maxAge()
	if err != nil {
		return err
	}
	salt, _ := inv.flag("salt")
	var value string
	if hasMaxAge {
		value, err = cs.UnsignMaxAge(inv.args[0], inv.args[1], salt, maxAge)
	} else {
		value, err = cs.Unsign(inv.args[0], inv.args[1], salt)
	}
	if err != nil {
		return signingError(err)
	}
	return inv.printText(value)
}
