package hashers

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// djangoScript runs in ONE /usr/bin/python3 process with Debian's Django
// 3.2, argon2-cffi and bcrypt. It reads a JSON request on stdin and prints
// JSON results: Django's make_password / encode / check_password /
// must_update, hashlib.scrypt and argon2-cffi's hash_secret.
//
// PBKDF2's class iterations are set to 1000 on both sides so that the
// preferred hasher (and Django's harden_runtime) stays cheap; Django
// verifies any count found in a string.
const djangoScript = `
import sys, json, base64, hashlib
try:
    import django
    from django.conf import settings
    import argon2, bcrypt
    from argon2.low_level import hash_secret, Type
except ImportError as e:
    print(json.dumps({"skip": "python module missing: %s" % e}))
    sys.exit(0)
P = "django.contrib.auth.hashers."
settings.configure(SECRET_KEY="hashers-test", PASSWORD_HASHERS=[P + n for n in (
    "PBKDF2PasswordHasher", "PBKDF2SHA1PasswordHasher", "Argon2PasswordHasher",
    "BCryptSHA256PasswordHasher", "BCryptPasswordHasher", "SHA1PasswordHasher",
    "MD5PasswordHasher", "UnsaltedSHA1PasswordHasher", "UnsaltedMD5PasswordHasher")])
django.setup()
from django.contrib.auth import hashers as H
H.PBKDF2PasswordHasher.iterations = 1000
req = json.load(sys.stdin)

def small(alg):
    h = type(H.get_hasher(alg))()
    if alg == "argon2":
        h.time_cost, h.memory_cost, h.parallelism = 1, 64, 2
    if alg.startswith("bcrypt"):
        h.rounds = 4
    return h

def cands(pw):
    return [pw, "wrong password", pw + "!"]

def checks(enc, pw):
    out = []
    for c in cands(pw):
        called = []
        try:
            ok = H.check_password(c, enc, setter=lambda p: called.append(1))
            out.append([bool(ok), bool(called)])
        except Exception as e:
            out.append("error")
    return out

def must_update(enc):
    try:
        return bool(H.identify_hasher(enc).must_update(enc))
    except Exception:
        return "error"

def entry(enc, pw, kind):
    return {"kind": kind, "encoded": enc, "password": pw, "checks": checks(enc, pw), "must_update": must_update(enc)}

res = {"made": [], "encode": [], "check": [], "scrypt": [], "argon2": []}
for m in req["make"]:
    alg, pw = m["hasher"], m["password"]
    h = small(alg) if not m.get("defaults") else H.get_hasher(alg)
    enc = H.make_password(pw, hasher=h)
    res["made"].append(entry(enc, pw, alg))
    if alg in ("bcrypt", "bcrypt_sha256"):
        res["made"].append(entry(enc.replace("$$2b$", "$$2y$", 1), pw, alg + " $2y$"))
        res["made"].append(entry(h.encode(pw, bcrypt.gensalt(4, prefix=b"2a")), pw, alg + " $2a$"))
    if alg == "unsalted_md5":
        res["made"].append(entry("md5$$" + enc, pw, "md5$$ form"))
for e in req["encode"]:
    salt = e["salt"].encode() if e["hasher"].startswith("bcrypt") else e["salt"]
    res["encode"].append(small(e["hasher"]).encode(e["password"], salt))
for c in req["check"]:
    res["check"].append(entry(c["encoded"], c["password"], "ours"))
for s in req["scrypt"]:
    dk = hashlib.scrypt(s["password"].encode(), salt=s["salt"].encode(), n=s["n"], r=s["r"], p=s["p"],
                        maxmem=256 * 1024 * 1024, dklen=64)
    res["scrypt"].append(base64.b64encode(dk).decode())
for a in req["argon2"]:
    enc = hash_secret(a["password"].encode(), a["salt"].encode(), time_cost=a["t"], memory_cost=a["m"],
                      parallelism=a["p"], hash_len=a["n"], type={"d": Type.D, "i": Type.I, "id": Type.ID}[a["type"]],
                      version=a["v"]).decode()
    if a["strip_version"]:
        enc = enc.replace("$v=%d" % a["v"], "", 1)
    res["argon2"].append("argon2" + enc)
print(json.dumps(res))
`

type djangoEntry struct {
	Kind       string            `json:"kind"`
	Encoded    string            `json:"encoded"`
	Password   string            `json:"password"`
	Checks     []json.RawMessage `json:"checks"`
	MustUpdate json.RawMessage   `json:"must_update"`
}

type argonReq struct {
	Type         string `json:"type"`
	V            int    `json:"v"`
	T            int    `json:"t"`
	M            int    `json:"m"`
	P            int    `json:"p"`
	N            int    `json:"n"`
	Password     string `json:"password"`
	Salt         string `json:"salt"`
	StripVersion bool   `json:"strip_version"`
}

// runDjango runs djangoScript once; it skips (or fails under
// DJSESSION_REQUIRE_SERVICES=1) when Python or a module is missing.
func runDjango(t *testing.T, req any, out any) {
	t.Helper()
	unavailable := func(why string) {
		t.Helper()
		if os.Getenv("DJSESSION_REQUIRE_SERVICES") == "1" {
			t.Fatalf("Django 3.2 cross-check required but unavailable: %s", why)
		}
		t.Skipf("Django 3.2 cross-check skipped: %s", why)
	}
	const python = "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		unavailable(python + " not found")
	}
	in, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, "-c", djangoScript)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, stderr.String())
	}
	var skip struct{ Skip string }
	if json.Unmarshal(stdout, &skip) == nil && skip.Skip != "" {
		unavailable(skip.Skip)
	}
	if err := json.Unmarshal(stdout, out); err != nil {
		t.Fatalf("python output: %v\n%s", err, stdout)
	}
}

// TestAgainstDjango32 cross-checks with real Django 3.2 in both directions:
// Django makes a hash with every hasher and we check it; we make one with
// every hasher and Django checks it. For each, Django's check_password
// verdict and whether it would call its setter (our mustUpdate) must equal
// ours for the right password, a wrong one and the password plus "!"
// (which plain bcrypt ignores past 72 bytes). Deterministic encodings must
// be byte-identical. Django 3.2 has no scrypt: our scrypt keys are compared
// with hashlib.scrypt. argon2-cffi makes argon2d, version 0x10 (with and
// without "v=") and multi-lane hashes for our engine.
func TestAgainstDjango32(t *testing.T) {
	passwords := []string{
		"correct horse battery staple",
		"lètmein",
		"",
		strings.Repeat("pässwörd-", 11) + "x", // 100 characters, 118 bytes: past bcrypt's 72
	}
	algorithms := []string{"pbkdf2_sha256", "pbkdf2_sha1", "argon2", "bcrypt_sha256", "bcrypt",
		"sha1", "md5", "unsalted_sha1", "unsalted_md5"}
	small := Hashers{
		PBKDF2PasswordHasher{Iterations: 1000}, PBKDF2SHA1PasswordHasher{Iterations: 1000},
		Argon2PasswordHasher{MemoryCost: 64, TimeCost: 1, Parallelism: 2},
		BCryptSHA256PasswordHasher{Rounds: 4}, BCryptPasswordHasher{Rounds: 4},
		SHA1PasswordHasher{}, MD5PasswordHasher{}, UnsaltedSHA1PasswordHasher{}, UnsaltedMD5PasswordHasher{},
	}
	// What Django's process is configured as: its PASSWORD_HASHERS with
	// 3.2 defaults, PBKDF2 at 1000 iterations.
	django32 := withIterations(allHashers(t, "3.2"), 1000)

	type makeReq struct {
		Hasher   string `json:"hasher"`
		Password string `json:"password"`
		Defaults bool   `json:"defaults,omitempty"`
	}
	type encReq struct {
		Hasher   string `json:"hasher"`
		Password string `json:"password"`
		Salt     string `json:"salt"`
	}
	type checkReq struct {
		Encoded  string `json:"encoded"`
		Password string `json:"password"`
	}
	type scryptReq struct {
		Password string `json:"password"`
		Salt     string `json:"salt"`
		N        int    `json:"n"`
		R        int    `json:"r"`
		P        int    `json:"p"`
	}
	var req struct {
		Make   []makeReq   `json:"make"`
		Encode []encReq    `json:"encode"`
		Check  []checkReq  `json:"check"`
		Scrypt []scryptReq `json:"scrypt"`
		Argon2 []argonReq  `json:"argon2"`
	}
	var ourEncodes []string
	for _, alg := range algorithms {
		h, _ := small.Get(alg)
		for _, pw := range passwords {
			req.Make = append(req.Make, makeReq{alg, pw, false})
			enc, err := MakePassword(pw, WithHashers(small), WithHasher(alg))
			if err != nil {
				t.Fatalf("MakePassword %s: %v", alg, err)
			}
			req.Check = append(req.Check, checkReq{enc, pw})
			salt := "seasaltseasaltseasalt1"
			switch {
			case strings.HasPrefix(alg, "bcrypt"):
				salt = "$2b$04$abcdefghijklmnopqrstuu"
			case strings.HasPrefix(alg, "unsalted"):
				salt = ""
			}
			req.Encode = append(req.Encode, encReq{alg, pw, salt})
			enc, err = h.Encode(pw, salt)
			if err != nil {
				t.Fatalf("Encode %s: %v", alg, err)
			}
			ourEncodes = append(ourEncodes, enc)
		}
	}
	// Django's own defaults for argon2 (argon2id, 100 MiB, 8 lanes).
	req.Make = append(req.Make, makeReq{"argon2", "lètmein", true})
	// A few strings Django refuses: both must say no.
	for _, enc := range []string{"", "md5$$aaaaaaaaaa", "sha1$$abc", "pbkdf2_sha256$1000$$x",
		"bcrypt$$2c$04$" + strings.Repeat("a", 53), "argon2$argon2id$v=19$m=64,t=1,p=1$c2FsdA$AAAAAAAAAAAAAAAAAAAAAA",
		"nosuch$1$2", "!x"} {
		req.Check = append(req.Check, checkReq{enc, "x"})
	}
	scryptCases := []scryptReq{
		{"lètmein", "seasalt", 16384, 8, 5},
		{"", "s", 1024, 8, 1},
		{passwords[3], "abcdefghijklmnopqrstuv", 2, 1, 3},
		{"pw", "salt", 4096, 2, 2},
	}
	req.Scrypt = scryptCases
	for i, a := range []argonReq{
		{"d", 19, 2, 64, 2, 16, "", "", false},
		{"d", 16, 3, 32, 1, 32, "", "", false},
		{"i", 16, 3, 48, 3, 64, "", "", false},
		{"id", 16, 2, 64, 2, 65, "", "", false},
		{"i", 16, 2, 16, 1, 16, "", "", false},
		{"id", 19, 3, 256, 4, 100, "", "", false},
		{"i", 19, 2, 64, 8, 4, "", "", false},
		{"id", 20, 2, 32, 1, 16, "", "", false},
	} {
		a.Password = passwords[i%len(passwords)]
		a.Salt = "somesalt" + strings.Repeat("x", i)
		a.StripVersion = a.V == 16 && i%2 == 0
		req.Argon2 = append(req.Argon2, a)
	}

	var res struct {
		Made   []djangoEntry `json:"made"`
		Encode []string      `json:"encode"`
		Check  []djangoEntry `json:"check"`
		Scrypt []string      `json:"scrypt"`
		Argon2 []string      `json:"argon2"`
	}
	runDjango(t, req, &res)
	if len(res.Made) < len(req.Make) || len(res.Check) != len(req.Check) || len(res.Encode) != len(req.Encode) ||
		len(res.Scrypt) != len(req.Scrypt) || len(res.Argon2) != len(req.Argon2) {
		t.Fatalf("python answered %d/%d/%d/%d/%d entries", len(res.Made), len(res.Check), len(res.Encode),
			len(res.Scrypt), len(res.Argon2))
	}

	// Both directions: our CheckPassword against Django's check_password.
	compare := func(origin string, e djangoEntry) {
		t.Helper()
		label := origin + " " + e.Kind + " " + shortLabel(e.Encoded)
		cands := []string{e.Password, "wrong password", e.Password + "!"}
		for i, c := range cands {
			var dj []bool
			djErr := json.Unmarshal(e.Checks[i], &dj) != nil
			ok, mu, err := CheckPassword(c, e.Encoded, WithHashers(django32))
			if djErr {
				if ok {
					t.Errorf("%s cand %d: Django raised, we accept", label, i)
				}
				continue
			}
			if ok != dj[0] || mu != dj[1] {
				t.Errorf("%s cand %d: ours ok=%v update=%v (err %v), Django %v", label, i, ok, mu, err, dj)
			}
		}
		var djUpdate bool
		if json.Unmarshal(e.MustUpdate, &djUpdate) == nil {
			if h, err := django32.Identify(e.Encoded); err != nil || h.MustUpdate(e.Encoded) != djUpdate {
				t.Errorf("%s: must_update Django %v, ours differs (%v)", label, djUpdate, err)
			}
		}
	}
	made := map[string]bool{}
	for _, e := range res.Made {
		made[e.Kind] = true
		// Sanity: Django accepts its own hash with the right password.
		if string(e.Checks[0]) == "\"error\"" || !strings.HasPrefix(string(e.Checks[0]), "[true") {
			t.Errorf("Django refused its own %s hash", e.Kind)
		}
		compare("django", e)
	}
	for _, k := range []string{"bcrypt $2y$", "bcrypt_sha256 $2a$", "md5$$ form", "argon2"} {
		if !made[k] {
			t.Errorf("no Django-made %q case", k)
		}
	}
	for i, e := range res.Check {
		if i < len(algorithms)*len(passwords) && !strings.HasPrefix(string(e.Checks[0]), "[true") {
			t.Errorf("Django refused our %s", shortLabel(e.Encoded))
		}
		compare("ours", e)
	}
	// Byte-identical deterministic encodings (bcrypt with a fixed salt too).
	for i, want := range res.Encode {
		if ourEncodes[i] != want {
			t.Errorf("encode %s %q:\n ours   %s\n Django %s", req.Encode[i].Hasher, req.Encode[i].Password, ourEncodes[i], want)
		}
	}
	// scrypt: our key = hashlib.scrypt's.
	for i, c := range scryptCases {
		h := ScryptPasswordHasher{WorkFactor: c.N, BlockSize: c.R, Parallelism: c.P}
		enc, err := h.Encode(c.Password, c.Salt)
		if err != nil {
			t.Fatalf("scrypt %+v: %v", c, err)
		}
		if got := enc[strings.LastIndexByte(enc, '$')+1:]; got != res.Scrypt[i] {
			t.Errorf("scrypt %d: ours %s, hashlib %s", i, got, res.Scrypt[i])
		}
		if _, err := base64.StdEncoding.DecodeString(res.Scrypt[i]); err != nil {
			t.Errorf("scrypt %d: %v", i, err)
		}
	}
	// argon2-cffi strings our engine must verify (argon2d, versions 0x10
	// and 20, no "v=", several lanes and passes, tags around 64 bytes).
	for i, enc := range res.Argon2 {
		a := req.Argon2[i]
		h := Argon2PasswordHasher{}
		if ok, err := h.Verify(a.Password, enc); !ok || err != nil {
			t.Errorf("argon2-cffi %s: ours %v %v", enc, ok, err)
		}
		if ok, err := h.Verify(a.Password+"!", enc); ok || err != nil {
			t.Errorf("argon2-cffi %s wrong password: %v %v", enc, ok, err)
		}
		if a.StripVersion && strings.Contains(enc, "v=") {
			t.Errorf("argon2 %s: version not stripped", enc)
		}
	}
}

func shortLabel(s string) string {
	if len(s) > 48 {
		return s[:48] + "..."
	}
	return s
}
