package hostiletest

// The corpus generator. Every signed entry is signed here with the fixed
// test key (corpus_test.go) at the fixed time corpusTime, and every
// compressed one is made by the libraries or written byte by byte from the
// format's specification, so the output is deterministic: running
//
//	DJSESSION_HOSTILE_REGEN=1 go test -run '^TestGenerateCorpus$' ./backends/hostiletest
//
// rewrites testdata/hostile/corpus.jsonl with the same bytes unless this
// file changed. Without the variable the test is skipped: compressing the
// 100 MiB bombs takes tens of seconds, too long for every CI run.

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"math/bits"
	"os"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz"

	"github.com/djsession/djsession/signing"
)

// bombSize is what the decompression bombs expand to: 100 MiB, several
// times every limit in the module (signing 8 MiB, cache codec 16 MiB).
const bombSize = 100 << 20

func TestGenerateCorpus(t *testing.T) {
	if os.Getenv("DJSESSION_HOSTILE_REGEN") != "1" {
		t.Skip("set DJSESSION_HOSTILE_REGEN=1 to regenerate testdata/hostile/corpus.jsonl")
	}
	g := newGen(t)
	g.controls()
	g.structural()
	g.cookieChars()
	g.oversized()
	g.badPayloads()
	g.jsonBombs()
	g.legacy()
	g.pickles()
	g.compressed()
	g.cacheSerializers()
	// Values Python loads (as an empty dict, or past limits the module may
	// or may not apply): only the bounds are checked. chars/signed-unicode:
	// Python's lenient base64 drops the non-alphabet "é" and reads "e30",
	// {} (checked with Django 3.2). long-binput-huge: the pure-Python
	// unpickler stores memo slot 2^32-1, the C one runs out of memory.
	for _, e := range g.entries {
		for _, prefix := range []string{"pickle/bomb/dup-500k/", "pickle/bomb/memoize-500k/",
			"pickle/readonly-buffer/", "pickle/bomb/shared-500kb-key/", "chars/signed-unicode/",
			"pickle/structure/long-binput-huge/"} {
			if strings.HasPrefix(e.Name, prefix) && e.Expect == "" {
				e.Expect = "any"
			}
		}
	}

	var out bytes.Buffer
	for _, e := range g.entries {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		out.Write(b)
		out.WriteByte('\n')
	}
	if err := os.MkdirAll("../../testdata/hostile", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(corpusFile, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %d entries, %d bytes", len(g.entries), out.Len())
}

type gen struct {
	t       *testing.T
	entries []*Entry
	names   map[string]bool
	signers map[string]*signing.TimestampSigner
	zeros   []byte // bombSize zero bytes, shared
}

func newGen(t *testing.T) *gen {
	g := &gen{t: t, names: map[string]bool{}, signers: map[string]*signing.TimestampSigner{}}
	for _, salt := range []string{sessionSalt, cookieSalt} {
		s, err := signing.NewTimestampSigner([]byte(secretKey), &signing.Options{Salt: salt})
		if err != nil {
			t.Fatal(err)
		}
		g.signers[salt] = s
	}
	g.zeros = make([]byte, bombSize)
	return g
}

func (g *gen) add(e Entry, v []byte) {
	g.t.Helper()
	if g.names[e.Name] {
		g.t.Fatalf("duplicate corpus name %q", e.Name)
	}
	g.names[e.Name] = true
	e.setValue(v)
	g.entries = append(g.entries, &e)
}

// text adds an unsigned text entry (a cookie value or session_data).
func (g *gen) text(name, what string, v string) {
	g.add(Entry{Name: name, What: what, Kind: "text"}, []byte(v))
}

// token returns payload:ts:mac, the TimestampSigner form, valid for salt.
func (g *gen) token(salt, payload string) string {
	v := payload + ":" + signing.B62Encode(corpusTime)
	return v + ":" + g.signers[salt].Signature(v)
}

// signedPayload adds two entries with a valid MAC over payload: one as
// session_data ("/session") and one as a signed_cookies cookie ("/cookie").
func (g *gen) signedPayload(name, what, ser, payload string, accept bool) {
	g.add(Entry{Name: name + "/session", What: what + " (session_data, valid MAC)", Kind: "text",
		Signed: "session", Serializer: ser, Expect: expectOf(accept)}, []byte(g.token(sessionSalt, payload)))
	g.add(Entry{Name: name + "/cookie", What: what + " (signed_cookies cookie, valid MAC)", Kind: "text",
		Signed: "cookie", Serializer: ser, Expect: expectOf(accept)}, []byte(g.token(cookieSalt, payload)))
}

// signedData signs serialized data as signing.dumps does: b64url, or "."
// and b64url(zlib) when compress is set (spec §2.6).
func (g *gen) signedData(name, what, ser string, data []byte, compress, accept bool) {
	payload := b64url(data)
	if compress {
		payload = "." + b64url(zlibLevel(data, zlib.DefaultCompression))
	}
	g.signedPayload(name, what, ser, payload, accept)
}

func (g *gen) cache(name, what string, f CacheFormat, v []byte, accept bool) {
	g.add(Entry{Name: name, What: what, Kind: "cache", Cache: &f, Expect: expectOf(accept)}, v)
}

func (g *gen) legacyEntry(name, what, ser, hash string, data []byte, accept bool) {
	raw := append([]byte(hash+":"), data...)
	g.add(Entry{Name: name, What: what + " (format L)", Kind: "text", Signed: "legacy", Serializer: ser, Expect: expectOf(accept)},
		[]byte(base64.StdEncoding.EncodeToString(raw)))
}

func (g *gen) legacyHash(data []byte) string {
	mac, err := signing.SaltedHMAC(legacySalt, data, []byte(secretKey), "sha1")
	if err != nil {
		g.t.Fatal(err)
	}
	return hex.EncodeToString(mac)
}

func expectOf(accept bool) string {
	if accept {
		return "accept"
	}
	return ""
}

func b64url(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func zlibLevel(b []byte, level int) []byte {
	var z bytes.Buffer
	w, err := zlib.NewWriterLevel(&z, level)
	if err != nil {
		panic(err)
	}
	w.Write(b)
	w.Close()
	return z.Bytes()
}

func gzipBytes(b []byte) []byte {
	var z bytes.Buffer
	w, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
	w.Write(b)
	w.Close()
	return z.Bytes()
}

func rawDeflate(b []byte) []byte {
	var z bytes.Buffer
	w, _ := flate.NewWriter(&z, flate.BestCompression)
	w.Write(b)
	w.Close()
	return z.Bytes()
}

func xzBytes(b []byte) []byte {
	var z bytes.Buffer
	w, err := xz.WriterConfig{DictCap: 4 << 20, CheckSum: xz.CRC64}.NewWriter(&z)
	if err != nil {
		panic(err)
	}
	w.Write(b)
	w.Close()
	return z.Bytes()
}

func lz4Frame(b []byte, block lz4.BlockSize) []byte {
	var z bytes.Buffer
	w := lz4.NewWriter(&z)
	if err := w.Apply(lz4.BlockSizeOption(block), lz4.ChecksumOption(false),
		lz4.SizeOption(uint64(len(b))), lz4.ConcurrencyOption(1), lz4.CompressionLevelOption(lz4.Level9)); err != nil {
		panic(err)
	}
	w.Write(b)
	w.Close()
	return z.Bytes()
}

func zstdFrame(b []byte) []byte {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBestCompression),
		zstd.WithEncoderCRC(false), zstd.WithEncoderConcurrency(1), zstd.WithWindowSize(1<<20))
	if err != nil {
		panic(err)
	}
	defer enc.Close()
	return enc.EncodeAll(b, nil)
}

// --- pickles ---------------------------------------------------------------

// Pickle opcodes (CPython's pickletools names).
const (
	pMark           = '('
	pStop           = '.'
	pPop            = '0'
	pDup            = '2'
	pInt            = 'I'
	pLong           = 'L'
	pNone           = 'N'
	pPersID         = 'P'
	pReduce         = 'R'
	pString         = 'S'
	pBinString      = 'T'
	pUnicode        = 'V'
	pBinUnicode     = 'X'
	pBinBytes       = 'B'
	pShortBinBytes  = 'C'
	pAppend         = 'a'
	pBuild          = 'b'
	pGlobal         = 'c'
	pDict           = 'd'
	pEmptyDict      = '}'
	pAppends        = 'e'
	pGet            = 'g'
	pBinGet         = 'h'
	pInst           = 'i'
	pLongBinGet     = 'j'
	pList           = 'l'
	pEmptyList      = ']'
	pObj            = 'o'
	pPut            = 'p'
	pBinPut         = 'q'
	pLongBinPut     = 'r'
	pSetItem        = 's'
	pTuple          = 't'
	pEmptyTuple     = ')'
	pSetItems       = 'u'
	pProto          = 0x80
	pNewObj         = 0x81
	pExt1           = 0x82
	pTuple1         = 0x85
	pTuple2         = 0x86
	pLong1          = 0x8a
	pLong4          = 0x8b
	pShortBinUni    = 0x8c
	pBinUnicode8    = 0x8d
	pBinBytes8      = 0x8e
	pEmptySet       = 0x8f
	pAddItems       = 0x90
	pNewObjEx       = 0x92
	pStackGlobal    = 0x93
	pMemoize        = 0x94
	pFrame          = 0x95
	pByteArray8     = 0x96
	pNextBuffer     = 0x97
	pReadonlyBuffer = 0x98
	pBinInt1        = 'K'
)

type pk struct{ b []byte }

func pkl(proto int) *pk {
	p := &pk{}
	if proto >= 2 {
		p.b = append(p.b, pProto, byte(proto))
	}
	return p
}

func (p *pk) op(b ...byte) *pk { p.b = append(p.b, b...); return p }
func (p *pk) raw(s string) *pk { p.b = append(p.b, s...); return p }
func (p *pk) rep(s string, n int) *pk {
	p.b = append(p.b, strings.Repeat(s, n)...)
	return p
}

// str pushes a str (SHORT_BINUNICODE or BINUNICODE).
func (p *pk) str(s string) *pk {
	if len(s) < 256 {
		p.b = append(append(p.b, pShortBinUni, byte(len(s))), s...)
		return p
	}
	p.b = append(p.b, pBinUnicode)
	p.b = binary.LittleEndian.AppendUint32(p.b, uint32(len(s)))
	p.b = append(p.b, s...)
	return p
}

func (p *pk) global(mod, name string) *pk { return p.op(pGlobal).raw(mod + "\n" + name + "\n") }
func (p *pk) stackGlobal(mod, name string) *pk {
	return p.str(mod).str(name).op(pStackGlobal)
}
func (p *pk) u32(op byte, n uint32) *pk {
	p.b = binary.LittleEndian.AppendUint32(append(p.b, op), n)
	return p
}
func (p *pk) u64(op byte, n uint64) *pk {
	p.b = binary.LittleEndian.AppendUint64(append(p.b, op), n)
	return p
}
func (p *pk) bytes() []byte { return p.b }

// inDict returns PROTO 4, {"x": <body>}, STOP: a dict, so that if the body
// were accepted the whole pickle would be a plausible session.
func inDict(body func(p *pk)) []byte {
	p := pkl(4).op(pEmptyDict).str("x")
	body(p)
	return p.op(pSetItem, pStop).bytes()
}

// pickle adds a pickle as every entry point that unpickles sees it:
// session_data and a cookie signed with PickleSerializer, and a raw cache
// value for django-redis (pickle, no compressor) and Django's RedisCache.
func (g *gen) pickle(name, what string, p []byte, accept bool) {
	g.signedData("pickle/"+name, what, "pickle", p, false, accept)
	g.cache("pickle/"+name+"/django-redis", what+" (django-redis raw value)", CacheFormat{Format: "django-redis"}, p, accept)
	g.cache("pickle/"+name+"/django", what+" (Django RedisCache raw value)", CacheFormat{Format: "django"}, p, accept)
}

// --- the corpus --------------------------------------------------------------

// validJSON is a small session dict, the payload of the control entries.
const validJSON = `{"control":"a valid session: this entry must load"}`

// validPickle is pickle.dumps({"control": "...120 chars..."}, 4) as
// CPython writes it (FRAME omitted, which pickle.loads accepts): long
// enough to pass every compressor's threshold (lzma: 100 bytes).
func validPickle() []byte {
	return pkl(4).op(pEmptyDict, pMemoize).str("control").op(pMemoize).
		str("a valid cache value: this entry must load "+strings.Repeat("x", 80)).op(pMemoize, pSetItem, pStop).bytes()
}

// controls are entries every careful reader accepts, one per entry point
// and format, so that the test proves each entry point reaches its decoder
// (a value planted in the wrong place would make every rejection vacuous).
func (g *gen) controls() {
	g.signedData("control/json", "control: a valid JSON session dict", "json", []byte(validJSON), false, true)
	g.signedData("control/json-compressed", "control: a valid JSON session dict, zlib-compressed ('.' flag)", "json",
		[]byte(`{"control":"`+strings.Repeat("compressible ", 20)+`"}`), true, true)
	g.signedData("control/pickle", "control: a valid pickled session dict", "pickle", validPickle(), false, true)
	g.legacyEntry("control/legacy", "control: a valid pre-3.1 session", "json", g.legacyHash([]byte(validJSON)), []byte(validJSON), true)
	g.signedData("control/lone-surrogates", `a dict whose strings hold lone surrogates ("\ud800", "\udfff" as a key): Django reads it`,
		"json", []byte(`{"a":"\ud800","\udfff":1,"b":"\ud83d\ude00\udbff"}`), false, true)
	g.signedData("control/pickle-lone-surrogate", "a pickled dict whose BINUNICODE holds a surrogatepass lone surrogate (ED A0 80): CPython reads it",
		"pickle", pkl(4).op(pEmptyDict).str("a").str("\xed\xa0\x80").op(pSetItem, pStop).bytes(), false, true)

	vp := validPickle()
	for _, c := range []struct {
		comp string
		v    []byte
	}{
		{"", vp}, {"zlib", zlibLevel(vp, 6)}, {"gzip", gzipBytes(vp)}, {"lzma", xzBytes(vp)},
		{"lz4", lz4Frame(vp, lz4.Block64Kb)}, {"zstd", zstdFrame(vp)},
	} {
		name := "control/cache/django-redis-pickle"
		if c.comp != "" {
			name += "-" + c.comp
		}
		g.cache(name, "control: a valid pickled dict, django-redis compressor "+orNone(c.comp),
			CacheFormat{Format: "django-redis", Compressor: c.comp}, c.v, true)
	}
	g.cache("control/cache/django-redis-json", "control: a valid dict, django-redis JSONSerializer",
		CacheFormat{Format: "django-redis", Serializer: "json"}, []byte(`{"control": "cache"}`), true)
	g.cache("control/cache/django-redis-msgpack", "control: a valid dict, django-redis MSGPackSerializer",
		CacheFormat{Format: "django-redis", Serializer: "msgpack"}, append([]byte{0x81, 0xa7}, "control\xa5cache"...), true)
	g.cache("control/cache/django", "control: a valid pickled dict, Django's RedisCache",
		CacheFormat{Format: "django"}, vp, true)
	one := uint32(1)
	g.cache("control/cache/pymemcache", "control: a valid pickled dict, pymemcache flags 1",
		CacheFormat{Format: "pymemcache", Flags: &one}, vp, true)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// structural: truncated tokens, wrong MACs, bad timestamps, bad keys.
func (g *gen) structural() {
	good := g.token(sessionSalt, b64url([]byte(validJSON)))
	goodCookie := g.token(cookieSalt, b64url([]byte(validJSON)))
	parts := strings.Split(good, ":")
	payload, ts, mac := parts[0], parts[1], parts[2]

	g.text("token/empty", "the empty string", "")
	g.text("token/colon", "a lone separator", ":")
	g.text("token/colons", "separators only", ":::")
	g.text("token/dot", "the compressed flag alone", ".")
	g.text("token/truncated-1", "a valid session token missing its last character", good[:len(good)-1])
	g.text("token/truncated-mac", "a valid token cut after the second separator (empty MAC)", payload+":"+ts+":")
	g.text("token/no-mac", "payload:timestamp with the MAC cut off", payload+":"+ts)
	g.text("token/payload-only", "the payload alone", payload)
	g.text("token/half", "a valid token cut in the middle of the payload", good[:len(payload)/2])
	g.text("token/cookie-truncated", "a valid cookie token missing its last character", goodCookie[:len(goodCookie)-1])
	flip := []byte(good)
	flip[len(flip)-1] ^= 1
	g.text("mac/flipped-bit", "a valid session token with one bit of the MAC flipped", string(flip))
	g.text("mac/other-key", "a token signed with another SECRET_KEY", func() string {
		s, _ := signing.NewTimestampSigner([]byte("not-the-key"), &signing.Options{Salt: sessionSalt})
		v := payload + ":" + ts
		return v + ":" + s.Signature(v)
	}())
	g.text("mac/sha1-length", "a 27-character (SHA-1 length) MAC that does not verify", payload+":"+ts+":"+mac[:27])
	g.text("mac/too-long", "a MAC of 10 000 characters", payload+":"+ts+":"+strings.Repeat(mac, 10000/len(mac)+1)[:10000])
	g.text("mac/all-A", "a MAC of the right length made of 'A'", payload+":"+ts+":"+strings.Repeat("A", len(mac)))
	g.text("mac/non-b64", "a MAC of the right length with characters outside base64url", payload+":"+ts+":"+strings.Repeat("*", len(mac)))
	g.text("mac/padded", "the right MAC with '=' padding appended", good+"=")
	g.text("mac/uppercase", "the right MAC in upper case", payload+":"+ts+":"+strings.ToUpper(mac))
	g.text("mac/swapped-fields", "payload, MAC and timestamp in the wrong order", payload+":"+mac+":"+ts)
	g.text("mac/extra-fields", "a valid token with more separators in front", "a:b:c:"+good)
	g.text("ts/non-base62", "a timestamp that is not base62 (wrong MAC)", payload+":!!!:"+mac)
	g.text("ts/huge", "a 200-digit base62 timestamp (wrong MAC)", payload+":"+strings.Repeat("z", 200)+":"+mac)
	g.text("ts/negative", "a negative timestamp (wrong MAC)", payload+":-1:"+mac)
	// Valid MACs over broken timestamps: a session_data decode has no max
	// age but must still parse the timestamp; a cookie checks it.
	for _, c := range []struct{ name, ts string }{
		{"empty", ""}, {"non-base62", "!!!"}, {"huge", strings.Repeat("z", 200)}, {"int64-overflow", "AzL8n0Y58m8"},
		{"negative", "-1"}, {"unicode", "é"},
	} {
		for _, salt := range []string{sessionSalt, cookieSalt} {
			v := b64url([]byte(`[1]`)) + ":" + c.ts
			v += ":" + g.signers[salt].Signature(v)
			kind, signed := "session", "session"
			if salt == cookieSalt {
				kind, signed = "cookie", "cookie"
			}
			g.add(Entry{Name: "ts/valid-mac-" + c.name + "/" + kind, Kind: "text", Signed: signed,
				What: "a valid MAC over a payload (a JSON list, not a dict) and a timestamp " + c.name}, []byte(v))
		}
	}
}

// cookieChars: cookie values with characters that are not part of any
// session key or token, and keys that try to escape the store.
func (g *gen) cookieChars() {
	for _, c := range []struct{ name, what, v string }{
		{"nul", "a NUL byte inside a key-shaped value", "abcdefgh\x00ijklmnopqrstuvwxyz0123"},
		{"crlf", "CR LF: header injection", "abcdefghijklmnop\r\nSet-Cookie: x=y"},
		{"lf", "a bare LF", "abcdefghijklmnop\nqrstuvwxyz012345"},
		{"tab", "a tab inside", "abcdefghijklmnop\tqrstuvwxyz012345"},
		{"ctl", "every C0 control character and DEL", func() string {
			var b strings.Builder
			for i := 1; i < 0x20; i++ {
				b.WriteByte(byte(i))
			}
			b.WriteByte(0x7f)
			return b.String()
		}()},
		{"quotes", "a quoted value", `"abcdefghijklmnopqrstuvwxyz012345"`},
		{"quote-inside", "a double quote and backslashes inside", `abcdefgh"ijkl\mnop\"qrstuvwxyz`},
		{"octal-escapes", "Python-style octal escapes in quotes", `"\073\054\134abcdefghijklmnop"`},
		{"semicolon", "a semicolon: a second cookie", "abcdefghijklmnop; sessionid=qrstuvwxyz012345"},
		{"semicolons", "semicolons only", ";;;;;;;;"},
		{"comma", "commas and equals signs", "a=b,c=d,e=f,g=h"},
		{"spaces", "spaces only", "        "},
		{"unicode", "non-ASCII letters", "ключсессииключсессииключсессии12"},
		{"emoji", "astral characters", "😀😀😀😀😀😀😀😀"},
		{"rtl", "right-to-left override and zero-width characters", "abcd\u202eefgh\u200bijkl\ufeffmnop"},
		{"fullwidth", "fullwidth digits and letters", "ａｂｃｄｅｆｇｈ０１２３４５６７"},
		{"invalid-utf8", "bytes that are not UTF-8", "abcdefgh\xff\xfe\xc0\xafijklmnop"},
		{"path-traversal", "a relative path out of the session folder", "../../../../../../etc/passwd"},
		{"path-absolute", "an absolute path", "/etc/passwd/abcdefghijklmnop"},
		{"path-backslash", "Windows path separators", `..\..\..\windows\win.ini`},
		{"path-dotdot-key", "a key-like value with a path inside", "abcdefgh/../../abcdefghijklmnop"},
		{"sql-quote", "SQL injection", "' OR '1'='1' --abcdefghijklmnop"},
		{"sql-drop", "SQL injection with a statement", "abcdefgh'; DROP TABLE django_session; --"},
		{"redis-resp", "a Redis protocol injection", "abcdefgh\r\n*1\r\n$8\r\nFLUSHALL\r\n"},
		{"redis-glob", "Redis glob characters", "abcdefgh*?[]\\*"},
		{"memcache-space", "a memcached command injection", "abcdefgh ijklmnop\r\nflush_all\r\n"},
		{"key-7", "seven characters, one short of a session key", "abcdefg"},
		{"key-41", "41 characters, one over session_key's varchar(40)", strings.Repeat("a", 41)},
		{"key-257", "257 characters, over the cache store's key bound", strings.Repeat("b", 257)},
		{"key-10k", "10 000 characters of key alphabet", strings.Repeat("0123456789abcdefghijklmnopqrstuvwxyz", 278)[:10000]},
		{"key-uppercase", "a 32-character key in upper case (Django keys are [a-z0-9])", "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"},
		{"percent-encoded", "a percent-encoded value", "%61%62%63%64%65%66%67%68%2e%2e%2f"},
	} {
		g.text("chars/"+c.name, c.what, c.v)
	}
	// The same characters inside an otherwise valid, validly signed token:
	// the MAC covers them, the payload does not decode.
	for _, c := range []struct{ name, v string }{
		{"nul", "e30\x00"}, {"space", "e3 0"}, {"unicode", "e30é"}, {"quote", `e30"`}, {"semicolon", "e30;x"},
	} {
		g.signedPayload("chars/signed-"+c.name, "a valid MAC over a payload with a "+c.name+" inside", "json", c.v, false)
	}
}

// oversized: values far beyond what a browser sends or a store holds.
func (g *gen) oversized() {
	mb := 1<<20 + 17
	good := g.token(sessionSalt, b64url([]byte(validJSON)))
	mac := good[strings.LastIndexByte(good, ':')+1:]
	g.text("size/1mb-wrong-mac", "a 1 MiB+ cookie of base64 with a MAC that does not verify",
		strings.Repeat("A", mb)+":"+signing.B62Encode(corpusTime)+":"+mac)
	g.text("size/1mb-semicolons", "1 MiB+ of semicolons", strings.Repeat(";", mb))
	g.text("size/1mb-separators", "1 MiB+ of token separators", strings.Repeat(":", mb))
	g.text("size/1mb-key", "a 1 MiB+ key-alphabet value", strings.Repeat("abcdefghijklmnopqrstuvwxyz012345", mb/32+1))
	// A valid MAC over 1 MiB+ of JSON that is not a dict.
	list := "[" + strings.Repeat("1,", mb/2) + "1]"
	g.signedData("size/1mb-valid-mac-list", "a valid MAC over 1 MiB+ of JSON that is a list, not a dict", "json", []byte(list), false, false)
	// A valid MAC over a 1 MiB+ JSON string (not a dict either).
	g.signedData("size/1mb-valid-mac-string", "a valid MAC over a 1 MiB+ JSON string", "json",
		[]byte(`"`+strings.Repeat("x", mb)+`"`), false, false)
}

// badPayloads: a valid MAC over a payload that does not decode.
func (g *gen) badPayloads() {
	for _, c := range []struct{ name, what, payload string }{
		{"b64-bang", "payload '!!!!' (not base64)", "!!!!"},
		{"b64-one-char", "a one-character payload (impossible base64 length)", "a"},
		{"b64-five-chars", "a five-character payload (impossible base64 length)", "abcde"},
		{"b64-padding-inside", "'=' in the middle of the payload", "e3=0"},
		{"b64-std-alphabet", "'+' and '/' (standard, not URL-safe, alphabet)", "e30+/+/"},
		{"empty-payload", "an empty payload", ""},
		{"compressed-empty", "the compressed flag and nothing", "."},
		{"compressed-twice", "two compressed flags", "..eJyrrgUAAPgAug"},
		{"compressed-not-zlib", "the compressed flag over bytes that are not zlib", "." + b64url([]byte("this is not zlib data at all"))},
		{"compressed-raw-deflate", "raw deflate without the zlib header", "." + b64url(rawDeflate([]byte(validJSON)))},
		{"compressed-gzip", "a gzip stream where zlib is expected", "." + b64url(gzipBytes([]byte(validJSON)))},
		{"compressed-truncated", "a zlib stream cut in half", "." + b64url(zlibLevel([]byte(validJSON), 6)[:20])},
		{"compressed-bad-adler", "a zlib stream whose Adler-32 is wrong", "." + b64url(badAdler(zlibLevel([]byte(validJSON), 6)))},
		{"compressed-fdict", "a zlib header asking for a preset dictionary", "." + b64url([]byte{0x78, 0xbb, 0, 0, 0, 1, 3, 0})},
		{"compressed-bad-header", "a zlib header whose check bits are wrong", "." + b64url([]byte{0x78, 0x9d, 3, 0, 0, 0, 0, 1})},
		{"compressed-header-only", "a zlib header and nothing else", "." + b64url([]byte{0x78, 0x9c})},
		{"compressed-trailing", "a valid zlib stream of a list, then garbage", "." + b64url(append(zlibLevel([]byte(`[1]`), 6), "garbage"...))},
		{"pickle-as-json", "pickle bytes under the JSON serializer", b64url(validPickle())},
	} {
		g.signedPayload("payload/"+c.name, c.what, "json", c.payload, false)
	}
	// JSON that Python's json.loads refuses, or that is not a dict.
	for _, c := range []struct{ name, what, json string }{
		{"open-brace", "an unterminated object", `{`},
		{"missing-value", "a member without a value", `{"a":}`},
		{"single-quotes", "Python literal syntax, not JSON", `{'a': 1}`},
		{"trailing-comma", "a trailing comma", `{"a":1,}`},
		{"trailing-garbage", "a dict then garbage", `{}x`},
		{"two-dicts", "two dicts", `{}{}`},
		{"comment", "a comment", `{/*c*/"a":1}`},
		{"bom", "a UTF-8 byte order mark", "\xef\xbb\xbf{}"},
		{"control-in-string", "a raw control character inside a string", "{\"a\":\"\x01\"}"},
		{"bad-escape", "an unknown escape", `{"a":"\q"}`},
		{"truncated-surrogate", "a high surrogate escape cut short", `{"a":"\ud83d\u"}`},
		{"bad-hex", `a \u escape with non-hex digits`, `{"a":"\uZZZZ"}`},
		{"unterminated-string", "an unterminated string", `{"a":"abc`},
		{"leading-zero", "a number with a leading zero", `{"a":01}`},
		{"plus-sign", "a number with a plus sign", `{"a":+1}`},
		{"hex-number", "a hexadecimal number", `{"a":0x10}`},
		{"lone-minus", "a lone minus sign", `{"a":-}`},
		{"undefined", "the JavaScript literal undefined", `{"a":undefined}`},
		{"nul", "a NUL byte between tokens", "{\"a\":1\x00}"},
		{"empty", "no JSON at all", ``},
		{"whitespace", "whitespace only", "  \n\t "},
		{"list", "a list, not a dict", `[1,2,3]`},
		{"string", "a string, not a dict", `"session"`},
		{"number", "a number, not a dict", `12345`},
		{"null", "null", `null`},
		{"true", "true", `true`},
		{"nan", "NaN (Python reads it; not a dict)", `NaN`},
		{"lone-surrogate-top", "a lone surrogate string at the top level (not a dict)", `"\ud800"`},
		{"int-4301-digits", "an int of 4301 digits, one over CPython's limit", `{"a":` + "1" + strings.Repeat("0", 4300) + `}`},
	} {
		g.signedData("json/"+c.name, c.what, "json", []byte(c.json), false, false)
	}
}

func badAdler(z []byte) []byte {
	b := append([]byte(nil), z...)
	b[len(b)-1] ^= 0xff
	return b
}

// jsonBombs: JSON that is expensive to parse or to hold, and zlib bombs in
// the signed payload.
func (g *gen) jsonBombs() {
	deep := strings.Repeat("[", 100000) + strings.Repeat("]", 100000)
	g.signedData("json/nested-100k", "arrays nested 100 000 deep (Python: RecursionError)", "json", []byte(deep), true, false)
	g.signedData("json/nested-100k-uncompressed", "arrays nested 100 000 deep, not compressed", "json", []byte(deep), false, false)
	deepInDict := `{"a":` + strings.Repeat(`{"a":`, 100000) + "1" + strings.Repeat("}", 100001)
	g.signedData("json/nested-100k-objects", "objects nested 100 000 deep inside a session dict", "json", []byte(deepInDict), true, false)
	unclosed := strings.Repeat("[", 1000000)
	g.signedData("json/nested-1m-unclosed", "a million unclosed arrays", "json", []byte(unclosed), true, false)
	huge := "1" + strings.Repeat("0", 100000)
	g.signedData("json/int-10e100000", "an int of 100 001 digits (10^100000) in a session dict (CPython refuses > 4300 digits)", "json",
		[]byte(`{"a":`+huge+`}`), true, false)
	g.signedData("json/int-10e100000-top", "an int of 100 001 digits at the top level", "json", []byte(huge), true, false)
	g.signedData("json/neg-int-10e100000", "a negative int of 100 001 digits", "json", []byte(`{"a":-`+huge+`}`), true, false)
	g.signedData("json/float-100k-digits", "a float literal of 100 000 digits (not a dict)", "json", []byte(`[`+huge+`.5e-99999]`), true, false)
	g.signedData("json/many-keys", "a dict of 150 000 keys, then an error at the end", "json", func() []byte {
		var b strings.Builder
		b.WriteString("{")
		for i := 0; i < 150000; i++ {
			fmt.Fprintf(&b, `"k%d":%d,`, i, i)
		}
		b.WriteString(`}`)
		return []byte(b.String())
	}(), true, false)
	g.signedData("json/many-escapes", "a 1 MiB string of \\u escapes in a list (not a dict)", "json",
		[]byte(`["`+strings.Repeat(`\u0041`, 1<<20/6)+`"]`), true, false)

	// zlib bombs behind a valid MAC ("." flag, spec §2.6: Django inflates
	// without a limit).
	g.signedPayload("zlib/bomb-10mb-zeros", "a valid MAC over zlib of 10 MiB of zeros (about 10 KB)", "json",
		"."+b64url(zlibLevel(g.zeros[:10<<20], 9)), false)
	g.signedPayload("zlib/bomb-100mb-zeros", "a valid MAC over zlib of 100 MiB of zeros (about 100 KB: deflate's ratio is at most 1032:1)", "json",
		"."+b64url(zlibLevel(g.zeros, 9)), false)
	// A bomb that would be a valid session if inflated whole: {"a":"xxx…"}.
	big := make([]byte, 0, bombSize+16)
	big = append(big, `{"a":"`...)
	big = append(big, bytes.Repeat([]byte("x"), bombSize)...)
	big = append(big, `"}`...)
	g.signedPayload("zlib/bomb-100mb-valid-json", "a valid MAC over zlib of a 100 MiB JSON session dict (valid if inflated without a limit)", "json",
		"."+b64url(zlibLevel(big, 9)), false)
	pb := pickleBytesBomb(bombSize)
	g.signedPayload("zlib/bomb-100mb-pickle", "a valid MAC over zlib of a pickled dict holding 100 MiB of bytes (PickleSerializer)", "pickle",
		"."+b64url(zlibLevel(pb, 9)), false)
}

// pickleBytesBomb returns the pickle of {"x": bytes(n)}: valid, n+ bytes.
func pickleBytesBomb(n int) []byte {
	p := pkl(4).op(pEmptyDict).str("x").u64(pBinBytes8, uint64(n))
	p.b = append(p.b, make([]byte, n)...)
	return p.op(pSetItem, pStop).bytes()
}

// legacy: format L (pre-3.1) values with bad hashes.
func (g *gen) legacy() {
	data := []byte(validJSON)
	h := g.legacyHash(data)
	flipped := []byte(h)
	if flipped[0] == '0' {
		flipped[0] = '1'
	} else {
		flipped[0] = '0'
	}
	other, _ := signing.SaltedHMAC("django.contrib.sessionsOtherStore", data, []byte(secretKey), "sha1")
	sha256mac, _ := signing.SaltedHMAC(legacySalt, data, []byte(secretKey), "sha256")
	for _, c := range []struct{ name, what, hash string }{
		{"wrong-hash", "a hash with its first digit changed", string(flipped)},
		{"other-salt", "the hash under another class's salt", hex.EncodeToString(other)},
		{"uppercase-hash", "the right hash in upper case", strings.ToUpper(h)},
		{"short-hash", "the right hash cut to 39 digits", h[:39]},
		{"long-hash", "the right hash with a digit appended", h + "0"},
		{"empty-hash", "no hash before the colon", ""},
		{"sha256-hash", "an HMAC-SHA256 hash (format L is always SHA-1)", hex.EncodeToString(sha256mac)},
		{"huge-hash", "a 1 MiB hash", strings.Repeat("a", 1<<20)},
	} {
		g.legacyEntry("legacy/"+c.name, c.what, "json", c.hash, data, false)
	}
	g.add(Entry{Name: "legacy/no-colon", What: "base64 without a colon (format L)", Kind: "text", Signed: "legacy"},
		[]byte(base64.StdEncoding.EncodeToString([]byte(h+validJSON))))
	g.add(Entry{Name: "legacy/bad-padding", What: "format L base64 with its padding cut off", Kind: "text", Signed: "legacy"},
		[]byte(strings.TrimRight(base64.StdEncoding.EncodeToString([]byte(h+":"+validJSON+"x")), "=")))
	g.add(Entry{Name: "legacy/django-2.2-crash", What: `"bad:encoded:value", which made Django <= 3.2 raise (spec §3.6)`, Kind: "text"},
		[]byte("bad:encoded:value"))
	// Valid hashes over payloads that do not decode.
	for _, c := range []struct{ name, what, data string }{
		{"list", "a list", `[1,2,3]`},
		{"invalid", "invalid JSON", `{"a":`},
		{"nested-100k", "arrays nested 100 000 deep", strings.Repeat("[", 100000) + strings.Repeat("]", 100000)},
		{"int-10e100000", "a dict holding an int of 100 001 digits", `{"a":1` + strings.Repeat("0", 100000) + `}`},
	} {
		g.legacyEntry("legacy/valid-hash-"+c.name, "a valid hash over "+c.what, "json", g.legacyHash([]byte(c.data)), []byte(c.data), false)
	}
	osSystem := inDict(func(p *pk) { p.global("os", "system").str("id").op(pTuple1, pReduce) })
	g.legacyEntry("legacy/valid-hash-os-system", "a valid hash over a pickle calling os.system (PickleSerializer)", "pickle",
		g.legacyHash(osSystem), osSystem, false)
}

// pickles: disallowed globals and pickle bombs.
func (g *gen) pickles() {
	// Disallowed callables, each called with one str argument as the
	// value of a dict item.
	for _, c := range []struct{ mod, name string }{
		{"os", "system"}, {"posix", "system"}, {"nt", "system"}, {"builtins", "eval"}, {"builtins", "exec"},
		{"__builtin__", "eval"}, {"builtins", "__import__"}, {"builtins", "open"}, {"builtins", "compile"},
		{"subprocess", "Popen"}, {"subprocess", "check_output"}, {"os", "popen"}, {"pty", "spawn"},
		{"shutil", "rmtree"}, {"importlib", "import_module"}, {"pickle", "loads"}, {"_pickle", "loads"},
		{"marshal", "loads"}, {"socket", "create_connection"}, {"ctypes", "CDLL"}, {"webbrowser", "open"},
		{"django.core.signing", "loads"}, {"functools", "partial"}, {"operator", "attrgetter"},
		{"builtins", "setattr"}, {"builtins", "globals"}, {"sys", "exit"}, {"codecs", "open"},
		{"zoneinfo", "ZoneInfo.__init__.__globals__"}, {"builtins", "set.__init__"},
		{"builtins", "getattr.__self__"}, {"datetime", "datetime.__reduce__"},
	} {
		name := c.mod + "." + c.name
		g.pickle("global-reduce/"+name, "GLOBAL "+name+" called through REDUCE",
			inDict(func(p *pk) { p.global(c.mod, c.name).str("id").op(pTuple1, pReduce) }), false)
	}
	for _, c := range []struct{ mod, name string }{
		{"os", "system"}, {"builtins", "eval"}, {"subprocess", "Popen"}, {"posix", "system"}, {"nt", "system"},
	} {
		name := c.mod + "." + c.name
		g.pickle("stack-global/"+name, "STACK_GLOBAL "+name+" called through REDUCE",
			inDict(func(p *pk) { p.stackGlobal(c.mod, c.name).str("id").op(pTuple1, pReduce) }), false)
		g.pickle("global-only/"+name, "GLOBAL "+name+" merely loaded, not called",
			inDict(func(p *pk) { p.global(c.mod, c.name) }), false)
	}
	// The protocol 0 form, as text.
	g.pickle("proto0/os.system", "a protocol 0 pickle calling os.system", []byte("(dp0\nVx\np1\ncos\nsystem\np2\n(Vid\np3\ntp4\nRp5\ns."), false)
	g.pickle("proto0/inst-os.system", "INST os system (protocol 0 instance creation)", []byte("(dp0\nVx\n(Vid\nios\nsystem\ns."), false)
	g.pickle("obj/os.system", "OBJ with os.system as the class",
		inDict(func(p *pk) { p.op(pMark).global("os", "system").str("id").op(pObj) }), false)
	g.pickle("newobj/subprocess.Popen", "NEWOBJ subprocess.Popen",
		inDict(func(p *pk) { p.global("subprocess", "Popen").str("id").op(pTuple1, pNewObj) }), false)
	g.pickle("newobj-ex/subprocess.Popen", "NEWOBJ_EX subprocess.Popen",
		inDict(func(p *pk) { p.global("subprocess", "Popen").str("id").op(pTuple1, pEmptyDict, pNewObjEx) }), false)
	g.pickle("stack-global/from-memo", "STACK_GLOBAL builtins.eval with its names taken from the memo",
		inDict(func(p *pk) {
			p.str("builtins").op(pMemoize, pPop).str("eval").op(pMemoize, pPop).op(pBinGet, 0, pBinGet, 1, pStackGlobal).str("1").op(pTuple1, pReduce)
		}), false)
	g.pickle("stack-global/non-str", "STACK_GLOBAL with ints for names",
		inDict(func(p *pk) { p.op(pBinInt1, 1, pBinInt1, 2, pStackGlobal) }), false)
	// builtins.getattr, allowed only as getattr(zoneinfo.ZoneInfo, '_unpickle').
	for _, c := range []struct{ name, what string }{
		{"os-path-join", "getattr(os.path, 'join')"},
		{"zoneinfo-clear-cache", "getattr(zoneinfo.ZoneInfo, 'clear_cache')"},
		{"zoneinfo-init", "getattr(zoneinfo.ZoneInfo, '__init__')"},
		{"zoneinfo-globals", "getattr(zoneinfo.ZoneInfo, '__init_subclass__')"},
		{"decimal-from-float", "getattr(decimal.Decimal, 'from_float')"},
		{"str-join", "getattr('str', 'join') on a plain string"},
		{"unpickle-extra-arg", "getattr(zoneinfo.ZoneInfo, '_unpickle', None): three arguments"},
		{"unpickle-then-os", "getattr(zoneinfo.ZoneInfo, '_unpickle') called with os.system as key"},
	} {
		c := c
		g.pickle("getattr/"+c.name, c.what, inDict(func(p *pk) {
			p.global("builtins", "getattr")
			switch c.name {
			case "os-path-join":
				p.global("os", "path").str("join").op(pTuple2, pReduce)
			case "zoneinfo-clear-cache":
				p.global("zoneinfo", "ZoneInfo").str("clear_cache").op(pTuple2, pReduce).op(pEmptyTuple, pReduce)
			case "zoneinfo-init":
				p.global("zoneinfo", "ZoneInfo").str("__init__").op(pTuple2, pReduce)
			case "zoneinfo-globals":
				p.global("zoneinfo", "ZoneInfo").str("__init_subclass__").op(pTuple2, pReduce)
			case "decimal-from-float":
				p.global("decimal", "Decimal").str("from_float").op(pTuple2, pReduce).op(pMark).raw("F1.5\n").op(pTuple, pReduce)
			case "str-join":
				p.str("str").str("join").op(pTuple2, pReduce)
			case "unpickle-extra-arg":
				p.op(pMark).global("zoneinfo", "ZoneInfo").str("_unpickle").op(pNone, pTuple, pReduce)
			case "unpickle-then-os":
				p.global("zoneinfo", "ZoneInfo").str("_unpickle").op(pTuple2, pReduce).global("os", "system").op(pBinInt1, 1, pTuple2, pReduce)
			}
		}), false)
	}
	// copyreg._reconstructor, allowed only for uuid.UUID on object.
	for _, c := range []struct{ name, mod, cls, base string }{
		{"subprocess.Popen", "subprocess", "Popen", "object"},
		{"os._wrap_close", "os", "_wrap_close", "object"},
		{"uuid-on-dict", "uuid", "UUID", "dict"},
		{"uuid-on-int", "uuid", "UUID", "int"},
		{"django-model", "django.contrib.auth.models", "User", "object"},
	} {
		for _, mod := range []string{"copyreg", "copy_reg"} {
			g.pickle("reconstructor/"+mod+"/"+c.name, mod+"._reconstructor("+c.mod+"."+c.cls+", builtins."+c.base+", None)",
				inDict(func(p *pk) {
					p.global(mod, "_reconstructor").op(pMark).global(c.mod, c.cls).global("builtins", c.base).op(pNone, pTuple, pReduce)
				}), false)
		}
	}
	g.pickle("reconstructor/uuid-build-os", "copyreg._reconstructor(uuid.UUID, object, None) then BUILD with a REDUCE inside the state",
		inDict(func(p *pk) {
			p.global("copyreg", "_reconstructor").op(pMark).global("uuid", "UUID").global("builtins", "object").op(pNone, pTuple, pReduce)
			p.op(pEmptyDict).str("int").global("os", "system").str("id").op(pTuple1, pReduce, pSetItem, pBuild)
		}), false)
	g.pickle("build/dict", "BUILD on a dict (a __setstate__ call on a plain value)",
		inDict(func(p *pk) { p.op(pEmptyDict, pEmptyDict).str("a").op(pNone, pSetItem, pBuild) }), false)
	g.pickle("ext1", "EXT1 1: an extension registry code", inDict(func(p *pk) { p.op(pExt1, 1) }), false)
	g.pickle("persid", "PERSID: a persistent id", []byte("(dp0\nVx\nP0\ns."), false)
	g.pickle("binpersid", "BINPERSID: a persistent id", inDict(func(p *pk) { p.str("0").op('Q') }), false)
	g.pickle("next-buffer", "NEXT_BUFFER: an out-of-band buffer", pkl(5).op(pEmptyDict).str("x").op(pNextBuffer, pSetItem, pStop).bytes(), false)
	g.pickle("readonly-buffer", "READONLY_BUFFER on bytes", inDict(func(p *pk) { p.op(pShortBinBytes, 1, 'a', pReadonlyBuffer) }), false)
	g.pickle("pytz-utc-called", "pytz._UTC called with an argument", inDict(func(p *pk) { p.global("pytz", "_UTC").str("x").op(pTuple1, pReduce) }), false)
	g.pickle("datetime-bad-state", "datetime.datetime with 3 bytes of state", inDict(func(p *pk) {
		p.global("datetime", "datetime").op(pShortBinBytes, 3, 1, 2, 3, pTuple1, pReduce)
	}), false)
	g.pickle("decimal-garbage", "decimal.Decimal('not a number')", inDict(func(p *pk) {
		p.global("decimal", "Decimal").str("not a number").op(pTuple1, pReduce)
	}), false)
	g.pickle("ordereddict-args", "collections.OrderedDict called with a list of pairs (a shape CPython does not write)", inDict(func(p *pk) {
		p.global("collections", "OrderedDict").op(pEmptyList, pMark).str("a").op(pNone, pTuple2, pAppends, pTuple1, pReduce)
	}), false)
	g.pickle("codecs-encode-rot13", "_codecs.encode(str, 'rot13')", inDict(func(p *pk) {
		p.global("_codecs", "encode").str("abc").str("rot13").op(pTuple2, pReduce)
	}), false)

	// Structure: truncated, unknown, unbalanced.
	for _, c := range []struct {
		name, what string
		p          []byte
	}{
		{"empty", "no bytes", nil},
		{"stop-only", "STOP on an empty stack", []byte{pStop}},
		{"proto-only", "PROTO 5 and nothing", []byte{pProto, 5}},
		{"proto-6", "an unknown protocol, 6", []byte{pProto, 6, pEmptyDict, pStop}},
		{"unknown-opcode", "opcode 0xff", []byte{pProto, 4, 0xff, pStop}},
		{"no-stop", "a dict without STOP", []byte{pProto, 4, pEmptyDict}},
		{"setitem-empty-stack", "SETITEM on an empty stack", []byte{pProto, 4, pSetItem, pStop}},
		{"setitem-odd", "SETITEMS with an odd number of items", pkl(4).op(pEmptyDict, pMark).str("a").op(pSetItems, pStop).bytes()},
		{"pop-mark-empty", "POP_MARK without a MARK", []byte{pProto, 4, '1', pEmptyDict, pStop}},
		{"appends-no-mark", "APPENDS without a MARK", []byte{pProto, 4, pEmptyList, pNone, pAppends, pStop}},
		{"get-undefined", "BINGET of a memo slot never stored", []byte{pProto, 4, pBinGet, 7, pStop}},
		{"long-binget-huge", "LONG_BINGET 0xffffffff", []byte{pProto, 4, pLongBinGet, 0xff, 0xff, 0xff, 0xff, pStop}},
		{"long-binput-huge", "LONG_BINPUT 0xffffffff (a 4-billion-slot memo)", []byte{pProto, 4, pEmptyDict, pLongBinPut, 0xff, 0xff, 0xff, 0xff, pStop}},
		{"get-text-huge", "GET with a 100-digit memo index", append(append([]byte{pProto, 2, pEmptyDict, pPut}, strings.Repeat("9", 100)+"\n"...), pStop)},
		{"self-reference", "a dict containing itself (memo get of the dict being built)", pkl(4).op(pEmptyDict, pMemoize).str("self").op(pBinGet, 0, pSetItem, pStop).bytes()},
		{"list-contains-itself", "a list that contains itself", pkl(4).op(pEmptyDict).str("x").op(pEmptyList, pMemoize, pBinGet, 0, pAppend, pSetItem, pStop).bytes()},
		{"unhashable-key", "a list as a dict key", pkl(4).op(pEmptyDict, pEmptyList).op(pNone, pSetItem, pStop).bytes()},
		{"frame-overlap", "a FRAME longer than the data", pkl(4).u64(pFrame, 1000).op(pEmptyDict, pStop).bytes()},
		{"frame-2^62", "a FRAME claiming 2^62 bytes", pkl(4).u64(pFrame, 1<<62).op(pEmptyDict, pStop).bytes()},
		{"frame-negative", "a FRAME length with the top bit set", pkl(4).u64(pFrame, 1<<63|5).op(pEmptyDict, pStop).bytes()},
		{"string-unquoted", "STRING without quotes", []byte("(dp0\nVx\nSabc\ns.")},
		{"string-bad-escape", "STRING with a bad escape", []byte("(dp0\nVx\nS'\\x4'\ns.")},
		{"unicode-non-ascii-py2-str", "a Python 2 str with non-ASCII bytes", []byte("(dp0\nVx\nS'\xff\xfe'\ns.")},
		{"binunicode-invalid-utf8", "BINUNICODE that is not UTF-8", pkl(4).op(pEmptyDict).str("x").op(pShortBinUni, 2, 0xff, 0xfe, pSetItem, pStop).bytes()},
		{"int-bad", "INT with letters", []byte("(dp0\nVx\nI12ab\ns.")},
		{"float-overflow", "FLOAT 1e999999 (overflow)", []byte("(dp0\nVx\nF1e999999\ns.")},
	} {
		g.pickle("structure/"+c.name, c.what, c.p, false)
	}

	// Bombs.
	memo := func(n int, tuple bool) []byte {
		p := pkl(4).op(pEmptyDict).str("x")
		if tuple {
			p.op(pEmptyTuple, pMemoize)
		} else {
			p.op(pEmptyList, pMemoize)
		}
		for i := 0; i < n; i++ {
			if tuple {
				p.op(pBinGet, byte(i), pBinGet, byte(i), pTuple2, pMemoize)
			} else {
				p.op(pEmptyList, pMark, pBinGet, byte(i), pBinGet, byte(i), pAppends, pMemoize)
			}
		}
		return p.op(pSetItem, pStop).bytes()
	}
	g.pickle("bomb/memo-lists-2^60", "memo amplification: 60 levels of [x, x], 2^60 leaves as a tree, in a session dict", memo(60, false), false)
	g.pickle("bomb/memo-tuples-2^60", "memo amplification with tuples (hashable): 2^60 leaves", memo(60, true), false)
	g.pickle("bomb/memo-tuple-key", "a 2^60-leaf tuple DAG used as a dict key (hashing it walks 2^60 nodes)", func() []byte {
		p := pkl(4).op(pEmptyDict).op(pEmptyTuple, pMemoize)
		for i := 0; i < 60; i++ {
			p.op(pBinGet, byte(i), pBinGet, byte(i), pTuple2, pMemoize)
		}
		return p.op(pNone, pSetItem, pStop).bytes()
	}(), false)
	g.pickle("bomb/memo-frozenset", "frozenset(60 levels of shared tuples): set() copies and hashes", func() []byte {
		p := pkl(4).op(pEmptyDict).str("x").global("builtins", "frozenset").op(pEmptyTuple, pMemoize)
		for i := 0; i < 60; i++ {
			p.op(pBinGet, byte(i), pBinGet, byte(i), pTuple2, pMemoize)
		}
		return p.op(pTuple1, pTuple1, pReduce, pSetItem, pStop).bytes()
	}(), false)
	g.pickle("bomb/nested-lists-100k", "lists nested 100 000 deep (EMPTY_LIST × 100 000, APPEND × 99 999)",
		pkl(4).op(pEmptyDict).str("x").rep("]", 100000).rep("a", 99999).op(pSetItem, pStop).bytes(), false)
	g.pickle("bomb/nested-tuples-100k", "tuples nested 100 000 deep (MARK × 100 000, TUPLE × 100 000)",
		pkl(2).op(pEmptyDict).str("x").rep("(", 100000).rep("t", 100000).op(pSetItem, pStop).bytes(), false)
	g.pickle("bomb/nested-dicts-100k", "dicts nested 100 000 deep",
		pkl(4).op(pEmptyDict).str("x").rep("}\x8c\x01a", 100000).op(pNone).rep("s", 100000).op(pSetItem, pStop).bytes(), false)
	g.pickle("bomb/marks-500k", "500 000 open MARKs", pkl(4).rep("(", 500000).op(pEmptyDict, pStop).bytes(), false)
	g.pickle("bomb/dup-500k", "DUP × 500 000: a 500 000-deep stack", pkl(4).op(pNone).rep("2", 500000).op(pPop, pEmptyDict, pStop).bytes(), false)
	g.pickle("bomb/memoize-500k", "MEMOIZE × 500 000 of one value", pkl(4).op(pEmptyDict).rep("\x94", 500000).op(pStop).bytes(), false)
	g.pickle("bomb/list-200k", "a list of 200 000 Nones in one APPENDS (over any container bound)",
		pkl(4).op(pEmptyDict).str("x").op(pEmptyList, pMark).rep("N", 200000).op(pAppends, pSetItem, pStop).bytes(), false)
	g.pickle("bomb/set-200k", "a set fed 200 000 items in one ADDITEMS (over any container bound)",
		pkl(4).op(pEmptyDict).str("x").op(pEmptySet, pMark).rep("K\x07", 200000).op(pAddItems, pSetItem, pStop).bytes(), false)
	g.pickle("bomb/shared-500kb-key", "one 500 KB str used as the key of 100 000 dict items (memo gets: hashing 50 GB)",
		func() []byte {
			p := pkl(4).op(pEmptyDict, pMark).str(strings.Repeat("k", 500000)).op(pMemoize, pNone)
			for i := 0; i < 100000; i++ {
				p.op(pBinGet, 0, pNone)
			}
			return p.op(pSetItems, pStop).bytes()
		}(), false)
	// Length claims.
	for _, c := range []struct {
		name, what string
		p          []byte
	}{
		{"binunicode8-2^60", "BINUNICODE8 claiming 2^60 bytes", pkl(4).op(pEmptyDict).str("x").u64(pBinUnicode8, 1<<60).raw("abc").op(pSetItem, pStop).bytes()},
		{"binbytes8-2^60", "BINBYTES8 claiming 2^60 bytes", pkl(4).op(pEmptyDict).str("x").u64(pBinBytes8, 1<<60).raw("abc").op(pSetItem, pStop).bytes()},
		{"bytearray8-2^60", "BYTEARRAY8 claiming 2^60 bytes", pkl(5).op(pEmptyDict).str("x").u64(pByteArray8, 1<<60).raw("abc").op(pSetItem, pStop).bytes()},
		{"binunicode8-2^64-1", "BINUNICODE8 claiming 2^64-1 bytes (negative as int64)", pkl(4).op(pEmptyDict).str("x").u64(pBinUnicode8, 1<<64-1).raw("abc").op(pSetItem, pStop).bytes()},
		{"binunicode-4gb", "BINUNICODE claiming 4 GiB", pkl(3).op(pEmptyDict).str("x").u32(pBinUnicode, 0xffffffff).raw("abc").op(pSetItem, pStop).bytes()},
		{"binbytes-64mb", "BINBYTES claiming 64 MiB", pkl(3).op(pEmptyDict).str("x").u32(pBinBytes, 64<<20).raw("abc").op(pSetItem, pStop).bytes()},
		{"binunicode-64mb", "BINUNICODE claiming 64 MiB", pkl(3).op(pEmptyDict).str("x").u32(pBinUnicode, 64<<20).raw("abc").op(pSetItem, pStop).bytes()},
		{"binstring-2gb", "BINSTRING claiming 2 GiB", pkl(2).op(pEmptyDict).str("x").u32(pBinString, 0x7fffffff).raw("abc").op(pSetItem, pStop).bytes()},
		{"binstring-negative", "BINSTRING with a negative length", pkl(2).op(pEmptyDict).str("x").u32(pBinString, 0x80000000).raw("abc").op(pSetItem, pStop).bytes()},
		{"short-binbytes-short", "SHORT_BINBYTES 255 with 3 bytes present", pkl(3).op(pEmptyDict).str("x").op(pShortBinBytes, 255).raw("abc").bytes()},
		{"long4-2gb", "LONG4 claiming 2 GiB of digits", pkl(2).op(pEmptyDict).str("x").u32(pLong4, 0x7fffffff).raw("abc").op(pSetItem, pStop).bytes()},
		{"long4-negative", "LONG4 with a negative length", pkl(2).op(pEmptyDict).str("x").u32(pLong4, 0xffffffff).raw("abc").op(pSetItem, pStop).bytes()},
		{"long4-100kb", "LONG4 of 100 000 real bytes (about 240 000 decimal digits)", func() []byte {
			p := pkl(2).op(pEmptyDict).str("x").u32(pLong4, 100000)
			p.b = append(p.b, bytes.Repeat([]byte{0x7f}, 100000)...)
			return p.op(pSetItem, pStop).bytes()
		}()},
		{"long1-short", "LONG1 claiming 255 bytes with 2 present", pkl(2).op(pEmptyDict).str("x").op(pLong1, 255, 1, 2).bytes()},
		{"long-text-100k-digits", "LONG with 100 001 decimal digits", []byte("(dp0\nVx\nL1" + strings.Repeat("0", 100000) + "L\ns.")},
		{"int-text-100k-digits", "INT with 100 001 decimal digits", []byte("(dp0\nVx\nI1" + strings.Repeat("0", 100000) + "\ns.")},
		{"long-text-hex-100k", "LONG with 100 000 hex digits (int(s, 0))", []byte("(dp0\nVx\nL0x" + strings.Repeat("f", 100000) + "L\ns.")},
		{"unicode-text-1mb-escapes", "UNICODE of 180 000 \\u escapes (raw-unicode-escape)", []byte("(dp0\nVx\nV" + strings.Repeat(`\u0041`, 180000) + "\ns.")},
	} {
		// The 1 MB text pickle is well formed and within the 8 MiB
		// input bound: Django loads it, and so do we.
		g.pickle("claim/"+c.name, c.what, c.p, c.name == "unicode-text-1mb-escapes")
	}
}

// compressed: cache values for every compressor django-redis supports:
// bombs, length claims and broken containers (spec §7.4).
func (g *gen) compressed() {
	pb := pickleBytesBomb(bombSize)
	dr := func(comp string) CacheFormat { return CacheFormat{Format: "django-redis", Compressor: comp} }

	// Bombs: 100 MiB of zeros, and a pickled dict of 100 MiB of bytes that
	// would load as a session if decompressed whole.
	g.cache("bomb/zlib-zeros", "zlib of 100 MiB of zeros", dr("zlib"), zlibLevel(g.zeros, 9), false)
	g.cache("bomb/zlib-pickle", "zlib of a pickled dict of 100 MiB of bytes", dr("zlib"), zlibLevel(pb, 9), false)
	g.cache("bomb/gzip-zeros", "gzip of 100 MiB of zeros", dr("gzip"), gzipBytes(g.zeros), false)
	g.cache("bomb/gzip-pickle", "gzip of a pickled dict of 100 MiB of bytes", dr("gzip"), gzipBytes(pb), false)
	g.cache("bomb/gzip-members", "200 gzip members of 1 MiB of zeros each (200 MiB in all)", dr("gzip"), func() []byte {
		m := gzipBytes(g.zeros[:1<<20])
		return bytes.Repeat(m, 200)
	}(), false)
	g.cache("bomb/lzma-zeros", "xz of 100 MiB of zeros", dr("lzma"), xzBytes(g.zeros), false)
	g.cache("bomb/lzma-pickle", "xz of a pickled dict of 100 MiB of bytes", dr("lzma"), xzBytes(pb), false)
	g.cache("bomb/lz4-zeros", "an LZ4 frame of 100 MiB of zeros (4 MiB blocks)", dr("lz4"), lz4Frame(g.zeros, lz4.Block4Mb), false)
	g.cache("bomb/lz4-pickle", "an LZ4 frame of a pickled dict of 100 MiB of bytes", dr("lz4"), lz4Frame(pb, lz4.Block4Mb), false)
	g.cache("bomb/zstd-zeros", "a zstd frame of 100 MiB of zeros", dr("zstd"), zstdFrame(g.zeros), false)
	g.cache("bomb/zstd-pickle", "a zstd frame of a pickled dict of 100 MiB of bytes", dr("zstd"), zstdFrame(pb), false)
	g.cache("bomb/zstd-rle", "zstd RLE blocks: 800 × 128 KiB of zeros from 3 KB", dr("zstd"), zstdRLEBomb(800), false)
	g.cache("bomb/zlib-17mb", "zlib of 17 MiB of zeros: just over the codec's 16 MiB limit", dr("zlib"), zlibLevel(g.zeros[:17<<20], 9), false)
	g.cache("bomb/django-zlib-as-pickle", "a zlib bomb given to Django's RedisCache (not compressed there)", CacheFormat{Format: "django"}, zlibLevel(pb, 9), false)
	g.cache("size/raw-17mb", "a 17 MiB raw value (over the 16 MiB limit), no compressor", dr(""), func() []byte {
		b := pickleBytesBomb(17 << 20)
		return b
	}(), false)

	// Length claims and broken containers.
	g.cache("zlib/bad-adler", "zlib whose Adler-32 is wrong", dr("zlib"), badAdler(zlibLevel(validPickle(), 6)), false)
	g.cache("zlib/truncated", "zlib cut in half", dr("zlib"), zlibLevel(validPickle(), 6)[:30], false)
	g.cache("zlib/fdict", "zlib asking for a preset dictionary", dr("zlib"), []byte{0x78, 0xbb, 0, 0, 0, 1, 3, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0}, false)

	gz := gzipBytes(validPickle())
	g.cache("gzip/truncated", "gzip cut before its trailer (Python: EOFError)", dr("gzip"), gz[:len(gz)-4], false)
	g.cache("gzip/bad-crc", "gzip with a wrong CRC-32", dr("gzip"), func() []byte {
		b := append([]byte(nil), gz...)
		b[len(b)-8] ^= 0xff
		return b
	}(), false)
	g.cache("gzip/isize-64mb", "gzip whose ISIZE claims 64 MiB", dr("gzip"), func() []byte {
		b := append([]byte(nil), gz...)
		binary.LittleEndian.PutUint32(b[len(b)-4:], 64<<20)
		return b
	}(), false)
	g.cache("gzip/fextra-huge", "a gzip header with FEXTRA of 65 535 bytes and 4 present", dr("gzip"),
		[]byte{0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 1, 2, 3, 4}, false)
	g.cache("gzip/fname-unterminated", "a gzip header with FNAME never terminated", dr("gzip"),
		append([]byte{0x1f, 0x8b, 8, 8, 0, 0, 0, 0, 0, 0xff}, bytes.Repeat([]byte("n"), 1000)...), false)
	g.cache("gzip/method-7", "gzip with compression method 7", dr("gzip"), []byte{0x1f, 0x8b, 7, 0, 0, 0, 0, 0, 0, 0xff, 3, 0}, false)

	xzv := xzBytes(validPickle())
	g.cache("lzma/bad-crc64", "xz whose CRC-64 is wrong", dr("lzma"), func() []byte {
		b := append([]byte(nil), xzv...)
		// The check follows the block; flip a byte near the end of the
		// block area (before the index and footer).
		b[len(b)-40] ^= 0xff
		return b
	}(), false)
	g.cache("lzma/truncated", "xz cut in half", dr("lzma"), xzv[:len(xzv)/2], false)
	g.cache("lzma/dict-4gb-size-2^60", "an xz block declaring an LZMA2 dictionary of 4 GiB and an uncompressed size of 2^60", dr("lzma"), xzHugeDict(), false)
	g.cache("lzma/bcj-filter", "an xz block with the x86 BCJ filter (unsupported)", dr("lzma"), xzBCJ(), false)
	g.cache("lzma/alone-dict-4gb", "a legacy .lzma header with a 4 GiB dictionary and unknown size", dr("lzma"),
		append([]byte{0x5d, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, bytes.Repeat([]byte{0}, 64)...), false)
	g.cache("lzma/alone-size-2^60", "a legacy .lzma header declaring 2^60 bytes with an 8 MiB dictionary", dr("lzma"),
		append([]byte{0x5d, 0, 0, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0x10}, bytes.Repeat([]byte{0}, 64)...), false)
	g.cache("lzma/alone-bad-props", "a legacy .lzma header with properties byte 0xff", dr("lzma"),
		append([]byte{0xff, 0, 0, 0x80, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, bytes.Repeat([]byte{0}, 64)...), false)

	g.cache("lz4/content-size-64mb", "an LZ4 frame declaring 64 MiB of content holding one small block", dr("lz4"),
		lz4Crafted(true, 64<<20, 7, []lz4Block{{raw: true, data: validPickle()}}), false)
	g.cache("lz4/block-size-over-max", "an LZ4 block whose size field exceeds the frame's 64 KiB maximum", dr("lz4"),
		lz4Crafted(false, 0, 4, []lz4Block{{size: 0x7fffff00, data: []byte("abc")}}), false)
	g.cache("lz4/uncompressed-2gb", "an uncompressed LZ4 block claiming 2 GiB", dr("lz4"),
		lz4Crafted(false, 0, 7, []lz4Block{{raw: true, size: 0x7fffffff, data: []byte("abc")}}), false)
	g.cache("lz4/bad-offset", "an LZ4 sequence whose match offset points before the output", dr("lz4"),
		lz4Crafted(false, 0, 4, []lz4Block{{data: []byte{0x1f, 'a', 0xff, 0xff, 0xff}}}), false)
	g.cache("lz4/bad-header-checksum", "an LZ4 frame descriptor with a wrong checksum", dr("lz4"), func() []byte {
		b := lz4Frame(validPickle(), lz4.Block64Kb)
		b[14] ^= 0xff // magic 4, FLG, BD, content size 8: HC is byte 14
		return b
	}(), false)
	g.cache("lz4/legacy-magic", "the legacy LZ4 frame magic (lz4.frame refuses it)", dr("lz4"),
		append([]byte{0x02, 0x21, 0x4c, 0x18, 0xff, 0xff, 0xff, 0x7f}, "abc"...), false)
	g.cache("lz4/skippable-4gb", "an LZ4 skippable frame claiming 4 GiB", dr("lz4"),
		[]byte{0x50, 0x2a, 0x4d, 0x18, 0xff, 0xff, 0xff, 0xff, 1, 2, 3}, false)

	g.cache("zstd/window-2tb", "a zstd frame header declaring the largest window (2^41 + 7·2^38 bytes)", dr("zstd"),
		append([]byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, 0xff}, zstdRLEBlock(true, 16)...), false)
	g.cache("zstd/content-size-2^60", "a single-segment zstd frame declaring 2^60 bytes of content", dr("zstd"), func() []byte {
		b := []byte{0x28, 0xb5, 0x2f, 0xfd, 0xe0}
		b = binary.LittleEndian.AppendUint64(b, 1<<60)
		return append(b, zstdRLEBlock(true, 16)...)
	}(), false)
	g.cache("zstd/content-size-64mb", "a single-segment zstd frame declaring 64 MiB and holding 16 bytes", dr("zstd"), func() []byte {
		b := []byte{0x28, 0xb5, 0x2f, 0xfd, 0xa0}
		b = binary.LittleEndian.AppendUint32(b, 64<<20)
		return append(b, zstdRLEBlock(true, 16)...)
	}(), false)
	g.cache("zstd/rle-over-window", "a zstd RLE block larger than the 128 KiB block maximum", dr("zstd"),
		append([]byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x88}, zstdRLEBlock(true, 1<<21-1)...), false)
	g.cache("zstd/dictionary", "a zstd frame that needs dictionary 0xffffffff", dr("zstd"),
		append([]byte{0x28, 0xb5, 0x2f, 0xfd, 0x03, 0x88, 0xff, 0xff, 0xff, 0xff}, zstdRLEBlock(true, 16)...), false)
	g.cache("zstd/reserved-bit", "a zstd frame header with the reserved bit set", dr("zstd"),
		append([]byte{0x28, 0xb5, 0x2f, 0xfd, 0x08, 0x88}, zstdRLEBlock(true, 16)...), false)
	g.cache("zstd/skippable-4gb", "a zstd skippable frame claiming 4 GiB", dr("zstd"),
		[]byte{0x50, 0x2a, 0x4d, 0x18, 0xff, 0xff, 0xff, 0xff, 1, 2, 3}, false)
	g.cache("zstd/truncated", "a zstd frame cut in half", dr("zstd"), func() []byte {
		z := zstdFrame(validPickle())
		return z[:len(z)/2]
	}(), false)
	g.cache("zstd/no-last-block", "zstd RLE blocks without a last block", dr("zstd"),
		append([]byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x88}, zstdRLEBlock(false, 16)...), false)

	// Every compressor over data that decompresses to a hostile pickle.
	osSystem := inDict(func(p *pk) { p.global("os", "system").str("id").op(pTuple1, pReduce) })
	osSystem = append(osSystem, bytes.Repeat([]byte{0}, 120)...) // past every threshold; ignored after STOP
	for _, c := range []struct {
		comp string
		v    []byte
	}{
		{"zlib", zlibLevel(osSystem, 6)}, {"gzip", gzipBytes(osSystem)}, {"lzma", xzBytes(osSystem)},
		{"lz4", lz4Frame(osSystem, lz4.Block64Kb)}, {"zstd", zstdFrame(osSystem)},
	} {
		g.cache("compressed-pickle/"+c.comp+"-os.system", c.comp+" of a pickle calling os.system", dr(c.comp), c.v, false)
	}
	// Python's int() accepts these for Django's and django-redis's int fast
	// path; the huge ones it refuses (4300 digits).
	for _, f := range []CacheFormat{{Format: "django-redis"}, {Format: "django"}} {
		fn := f.Format
		g.cache("int/"+fn+"/10e100000", "10^100000 as decimal text (Python's int() refuses > 4300 digits)", f,
			[]byte("1"+strings.Repeat("0", 100000)), false)
		g.cache("int/"+fn+"/4301-digits", "an int of 4301 digits", f, []byte("1"+strings.Repeat("0", 4300)), false)
		g.cache("int/"+fn+"/underscores-1mb", "1 MiB of digits with underscores between them", f,
			[]byte("1"+strings.Repeat("_0", 1<<19)), false)
		g.cache("int/"+fn+"/small-int", "a plain int (valid, but not a session dict)", f, []byte("42"), false)
		g.cache("int/"+fn+"/double-underscore", "1__0 (Python refuses)", f, []byte("1__0"), false)
	}
	// pymemcache: the item flags choose the decoder (CLI only: memcached
	// is not among the stores this test plants into).
	for _, c := range []struct {
		name, what string
		flags      uint32
		v          []byte
	}{
		{"pickle-os-system", "flags 1 (pickle) over a pickle calling os.system", 1, osSystem},
		{"pickle-memo-bomb", "flags 1 over a memo-amplification pickle", 1, memoBomb()},
		{"text-invalid-utf8", "flags 0 (text) over bytes that are not UTF-8", 0, []byte{0xff, 0xfe, 0xfd}},
		{"int-100k-digits", "flags 2 (int) over 100 001 digits", 2, []byte("1" + strings.Repeat("0", 100000))},
		{"long-100k-digits", "flags 4 (long) over 100 001 digits", 4, []byte("1" + strings.Repeat("0", 100000))},
		{"int-garbage", "flags 2 (int) over letters", 2, []byte("twelve")},
		{"unknown-flags", "flags 0x40 (no serializer uses it)", 0x40, validPickle()},
		{"all-flags", "flags 0xffffffff", 0xffffffff, validPickle()},
		{"zlib-flag-bomb", "flags 8|1 (pylibmc zlib + pickle) over a zlib bomb", 9, zlibLevel(pb, 9)},
	} {
		fl := c.flags
		g.cache("pymemcache/"+c.name, c.what, CacheFormat{Format: "pymemcache", Flags: &fl}, c.v, false)
	}
}

func memoBomb() []byte {
	p := pkl(4).op(pEmptyDict).str("x").op(pEmptyList, pMemoize)
	for i := 0; i < 60; i++ {
		p.op(pEmptyList, pMark, pBinGet, byte(i), pBinGet, byte(i), pAppends, pMemoize)
	}
	return p.op(pSetItem, pStop).bytes()
}

// cacheSerializers: django-redis's JSON and msgpack serializers.
func (g *gen) cacheSerializers() {
	js := func(name, what, v string) {
		g.cache("cache-json/"+name, what, CacheFormat{Format: "django-redis", Serializer: "json"}, []byte(v), false)
	}
	js("nested-100k", "arrays nested 100 000 deep", strings.Repeat("[", 100000)+strings.Repeat("]", 100000))
	js("int-10e100000", "an int of 100 001 digits in a dict", `{"a": 1`+strings.Repeat("0", 100000)+`}`)
	js("invalid-utf8", "bytes that are not UTF-8 (json.loads(bytes.decode()) fails)", "{\"a\": \"\xff\xfe\"}")
	js("list", "a list, not a dict", `[1, 2, 3]`)
	js("truncated", "a truncated object", `{"a": `)
	js("lone-surrogate-top", "a lone surrogate string at the top level", `"\udc00"`)
	js("zlib-bomb-as-json", "zlib bomb bytes given to the JSON serializer (no compressor)", string(zlibLevel(g.zeros[:10<<20], 9)))
	g.cache("cache-json/zlib-bomb", "a zlib bomb of JSON whitespace, django-redis json + zlib",
		CacheFormat{Format: "django-redis", Serializer: "json", Compressor: "zlib"}, zlibLevel(bytes.Repeat([]byte(" "), bombSize), 9), false)

	mp := func(name, what string, v []byte) {
		g.cache("cache-msgpack/"+name, what, CacheFormat{Format: "django-redis", Serializer: "msgpack"}, v, false)
	}
	mp("array32-4g", "array32 claiming 2^32-1 elements", []byte{0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0})
	mp("map32-4g", "map32 claiming 2^32-1 pairs", []byte{0xdf, 0xff, 0xff, 0xff, 0xff, 0xc0, 0xc0})
	mp("str32-4g", "str32 claiming 4 GiB", []byte{0xdb, 0xff, 0xff, 0xff, 0xff, 'a'})
	mp("bin32-64mb", "bin32 claiming 64 MiB", append([]byte{0xc6, 0x04, 0, 0, 0}, "abc"...))
	mp("ext32-4g", "ext32 claiming 4 GiB", []byte{0xc9, 0xff, 0xff, 0xff, 0xff, 0x01, 'a'})
	mp("nested-100k", "fixarray of one element nested 100 000 deep", append(bytes.Repeat([]byte{0x91}, 100000), 0xc0))
	mp("nested-maps-100k", "fixmap nested 100 000 deep", append(bytes.Repeat([]byte{0x81, 0xa1, 'a'}, 100000), 0xc0))
	mp("timestamp-bad", "ext -1 (timestamp) with a 5-byte body", []byte{0xc7, 5, 0xff, 1, 2, 3, 4, 5})
	mp("never-used", "the never-used byte 0xc1", []byte{0xc1})
	mp("map-list-key", "a map whose key is an array (unhashable in Python)", []byte{0x81, 0x91, 0x01, 0x02})
	mp("list", "an array, not a map", []byte{0x93, 1, 2, 3})
	mp("truncated-map", "a map of 15 pairs holding one", []byte{0x8f, 0xa1, 'a', 0x01})
	mp("int-uint64", "a map with a uint64 key and a str value invalid UTF-8", []byte{0x81, 0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xa2, 0xff, 0xfe})
}

// --- format helpers ------------------------------------------------------

// zstdRLEBlock returns a zstd block header of an RLE block of n copies of
// one zero byte (RFC 8878 §3.1.1.2).
func zstdRLEBlock(last bool, n int) []byte {
	h := uint32(1) << 1 // Block_Type RLE
	if last {
		h |= 1
	}
	h |= uint32(n) << 3
	return []byte{byte(h), byte(h >> 8), byte(h >> 16), 0}
}

// zstdRLEBomb returns one zstd frame (window 128 MiB, content size
// unknown) of n RLE blocks of 128 KiB zeros.
func zstdRLEBomb(n int) []byte {
	b := []byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, 17 << 3} // window log 27
	for i := 0; i < n; i++ {
		b = append(b, zstdRLEBlock(i == n-1, 128<<10)...)
	}
	return b
}

type lz4Block struct {
	raw  bool   // the uncompressed flag
	size uint32 // the size field; 0 means len(data)
	data []byte
}

// lz4Crafted writes an LZ4 frame by hand (lz4 frame format 1.6.x):
// independent blocks, no checksums, an optional content size, block
// maximum code bdCode (4 = 64 KiB … 7 = 4 MiB), then the blocks and the end
// mark.
func lz4Crafted(withSize bool, size uint64, bdCode byte, blocks []lz4Block) []byte {
	b := []byte{0x04, 0x22, 0x4d, 0x18}
	flg := byte(0x40 | 0x20) // version 01, independent blocks
	if withSize {
		flg |= 0x08
	}
	desc := []byte{flg, bdCode << 4}
	if withSize {
		desc = binary.LittleEndian.AppendUint64(desc, size)
	}
	b = append(b, desc...)
	b = append(b, byte(xxh32(desc)>>8))
	for _, bl := range blocks {
		n := bl.size
		if n == 0 {
			n = uint32(len(bl.data))
		}
		if bl.raw {
			n |= 1 << 31
		}
		b = binary.LittleEndian.AppendUint32(b, n)
		b = append(b, bl.data...)
	}
	return append(b, 0, 0, 0, 0)
}

// xxh32 is XXH32 with seed 0 for inputs under 16 bytes (the LZ4 frame
// descriptor's header checksum), from the xxHash specification.
func xxh32(in []byte) uint32 {
	const (
		p1 uint32 = 2654435761
		p2 uint32 = 2246822519
		p3 uint32 = 3266489917
		p4 uint32 = 668265263
		p5 uint32 = 374761393
	)
	if len(in) >= 16 {
		panic("xxh32: short inputs only")
	}
	h := p5 + uint32(len(in))
	for len(in) >= 4 {
		h += binary.LittleEndian.Uint32(in) * p3
		h = bits.RotateLeft32(h, 17) * p4
		in = in[4:]
	}
	for _, c := range in {
		h += uint32(c) * p5
		h = bits.RotateLeft32(h, 11) * p1
	}
	h ^= h >> 15
	h *= p2
	h ^= h >> 13
	h *= p3
	h ^= h >> 16
	return h
}

// xzStreamHeader is the .xz stream header with the CRC32 check.
func xzStreamHeader() []byte {
	b := []byte{0xfd, '7', 'z', 'X', 'Z', 0, 0, 1}
	return binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE([]byte{0, 1}))
}

func xzVarint(b []byte, n uint64) []byte {
	for n >= 0x80 {
		b = append(b, byte(n)|0x80)
		n >>= 7
	}
	return append(b, byte(n))
}

// xzBlockHeader returns a block header with the given flags and filter
// records (each: id, properties), padded and checksummed (xz format §3.1).
func xzBlockHeader(uncompressed uint64, filters [][2][]byte) []byte {
	body := []byte{0, byte(len(filters) - 1)}
	if uncompressed > 0 {
		body[1] |= 0x80
		body = xzVarint(body, uncompressed)
	}
	for _, f := range filters {
		body = append(body, f[0]...)
		body = xzVarint(body, uint64(len(f[1])))
		body = append(body, f[1]...)
	}
	for (len(body)+4)%4 != 0 {
		body = append(body, 0)
	}
	body[0] = byte((len(body)+4)/4 - 1)
	return binary.LittleEndian.AppendUint32(body, crc32.ChecksumIEEE(body))
}

// xzHugeDict: LZMA2 with dictionary property 40 (4 GiB − 1) and a declared
// uncompressed size of 2^60, then one stored chunk of one byte.
func xzHugeDict() []byte {
	b := xzStreamHeader()
	b = append(b, xzBlockHeader(1<<60, [][2][]byte{{{0x21}, {40}}})...)
	b = append(b, 0x01, 0x00, 0x00, 'x', 0x00) // stored chunk (dict reset), 1 byte; end of LZMA2
	return append(b, bytes.Repeat([]byte{0}, 32)...)
}

// xzBCJ: an x86 BCJ filter before LZMA2.
func xzBCJ() []byte {
	b := xzStreamHeader()
	b = append(b, xzBlockHeader(0, [][2][]byte{{{0x04}, {}}, {{0x21}, {16}}})...)
	b = append(b, 0x01, 0x00, 0x00, 'x', 0x00)
	return append(b, bytes.Repeat([]byte{0}, 32)...)
}
