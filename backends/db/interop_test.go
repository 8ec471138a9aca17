package db

// Interop with real Django 3.2 (testdata/djangoproject) on SQLite,
// PostgreSQL and MariaDB, with USE_TZ true and false: Django writes, we
// read; we write, Django reads. One Python process per batch.

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/djsession/djsession/backends/testenv"
	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/django/djangotest"
	"github.com/djsession/djsession/pickle/py"
)

const interopSecret = "django-insecure-djsession-interop-key"

// tzCase is a time zone case with the db interop tests' Django settings.
type tzCase struct{ testenv.TZCase }

func tzCases(t *testing.T) []tzCase {
	var cases []tzCase
	for _, tc := range testenv.TZCases(t) {
		cases = append(cases, tzCase{tc})
	}
	return cases
}

func (tc tzCase) env(databaseURL string) djangotest.Env {
	return djangotest.Env{
		"DJANGO_SECRET_KEY": interopSecret,
		"DATABASE_URL":      databaseURL,
		"SESSION_ENGINE":    "db",
		"USE_TZ":            tc.PyBool(),
		"TIME_ZONE":         tc.Zone,
	}
}

func (tc tzCase) settings() *django.Settings {
	s := django.DefaultSettings(interopSecret)
	tc.Apply(s)
	return s
}

// parseDjangoTime reads the isoformat() of a datetime Django read back
// from the row: aware (UTC) with USE_TZ, naive local time without.
func (tc tzCase) parseDjangoTime(t *testing.T, iso string) time.Time {
	t.Helper()
	loc := time.UTC
	if !tc.UseTZ {
		loc = tc.Loc
	}
	tm, err := django.ParseISODateTime(iso, loc)
	if err != nil {
		t.Fatalf("Django's expire_date %q: %v", iso, err)
	}
	if tc.UseTZ && !strings.HasSuffix(iso, "+00:00") {
		t.Errorf("with USE_TZ Django read back %q, want an aware UTC datetime", iso)
	}
	return tm
}

type djangoWritten struct {
	SessionKey string          `json:"session_key"`
	Data       json.RawMessage `json:"data"`
	UserID     string          `json:"user_id"`
	Row        struct {
		SessionData string `json:"session_data"`
		ExpireDate  string `json:"expire_date"`
	} `json:"row"`
}

type djangoRead struct {
	Data     json.RawMessage `json:"data"`
	Survived bool            `json:"survived"`
	Exists   bool            `json:"exists"`
	Row      *struct {
		SessionData string `json:"session_data"`
		ExpireDate  string `json:"expire_date"`
	} `json:"row"`
}

func op(name string, kv ...any) djangotest.Op {
	p := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		p[kv[i].(string)] = kv[i+1]
	}
	return djangotest.Op{Name: name, Params: p}
}

// rawJSON parses a JSON literal for djs.py's params.
func rawJSON(s string) json.RawMessage { return json.RawMessage(s) }

// sameJSON compares our normal form of data with Django's, byte for byte
// (key order, float repr and escapes included).
func sameJSON(t *testing.T, what string, got *py.Dict, want json.RawMessage) {
	t.Helper()
	g, err := py.NormalJSON(py.DictOf(got))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if string(g) != string(want) {
		t.Errorf("%s:\n got  %s\n want %s", what, g, want)
	}
}

func TestInteropDjango(t *testing.T) {
	djangotest.Require(t)
	cases := tzCases(t)
	for _, d := range testenv.Databases {
		t.Run(d.Name, func(t *testing.T) {
			u := d.URL(t)
			djangotest.MustBatch(t, cases[0].env(u), op("migrate"))
			for _, tc := range cases {
				t.Run(tc.Name, func(t *testing.T) {
					t.Run("DjangoWrites", func(t *testing.T) { djangoWritesWeRead(t, u, tc) })
					t.Run("WeWrite", func(t *testing.T) { weWriteDjangoReads(t, u, tc) })
				})
			}
		})
	}
}

// rawExpireDate returns the expire_date column as the database holds it,
// as text: exactly what Django wrote on SQLite, the naive datetime(6) on
// MySQL.
func rawExpireDate(t *testing.T, st *Store, key string) string {
	t.Helper()
	var expr string
	switch st.dialect {
	case SQLite:
		expr = "CAST(expire_date AS TEXT)"
	case MySQL:
		expr = "CAST(expire_date AS CHAR)"
	default:
		expr = "CAST(expire_date AT TIME ZONE 'UTC' AS TEXT)"
	}
	var s string
	q := "SELECT " + expr + " FROM django_session WHERE session_key = " + st.dialect.Placeholder(1)
	if err := st.db.QueryRow(q, key).Scan(&s); err != nil {
		t.Fatalf("raw expire_date: %v", err)
	}
	return s
}

// wantRawExpireDate is how each database shows an expire_date Django
// wrote for instant e: Python's str() of the naive datetime on SQLite (no
// fraction when the microseconds are zero), datetime(6)'s six digits on
// MySQL, PostgreSQL's timestamp text in UTC (fraction trimmed).
func wantRawExpireDate(st *Store, e time.Time) string {
	w := naiveWall(e, st.loc)
	switch st.dialect {
	case SQLite:
		return string(appendSQLiteDateTime(nil, w))
	case MySQL:
		return w.Format("2006-01-02 15:04:05.000000")
	default:
		return e.UTC().Format("2006-01-02 15:04:05.999999")
	}
}

func djangoWritesWeRead(t *testing.T, u string, tc tzCase) {
	big := strings.Repeat("session data compresses well. ", 400)
	ops := []djangotest.Op{
		op("write", "data", rawJSON(`{"plain":"value","n":1,"f":0.1,"none":null,"list":[1,"two",true]}`)),
		op("write", "data", rawJSON(`{"unicode":"ünïcödé ✓ 🎉 \u2028","ключ":"значение"}`)),
		op("write", "data", rawJSON(`{"short":"lived"}`), "set_expiry", 600),
		op("write", "data", rawJSON(`{"expired":true}`), "set_expiry", -30),
		op("write", "data", rawJSON(`{"at_browser_close":1}`), "set_expiry", 0),
		op("write", "data", map[string]any{"big": big, "more": []int{1, 2, 3}}),
		op("login", "username", "alice-"+tc.Name, "password", "pw-alice", "data", rawJSON(`{"cart":[1,2]}`)),
	}
	res := djangotest.MustBatch(t, tc.env(u), ops...)
	written := make([]djangoWritten, len(res))
	for i, r := range res {
		written[i] = djangotest.MustDecode[djangoWritten](t, r)
	}
	expired := 3

	st, err := Open(u, tc.settings())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	exps := map[string]time.Time{}
	if err := st.List(ctx, func(in django.Info) error { exps[in.SessionKey] = in.ExpireDate; return nil }); err != nil {
		t.Fatal(err)
	}
	for i, w := range written {
		data, found, err := st.Load(ctx, w.SessionKey)
		if err != nil {
			t.Fatalf("session %d: %v", i, err)
		}
		if i == expired {
			if found {
				t.Errorf("session %d: expired session (set_expiry(-30)) was found", i)
			}
			if ok, err := st.Exists(ctx, w.SessionKey); !ok || err != nil {
				t.Errorf("session %d: the expired row should exist until cleared: %v %v", i, ok, err)
			}
		} else {
			if !found {
				t.Fatalf("session %d (%s): not found", i, w.Data)
			}
			sameJSON(t, fmt.Sprintf("session %d data", i), data, w.Data)
		}
		want := tc.parseDjangoTime(t, w.Row.ExpireDate)
		if got := exps[w.SessionKey]; !got.Equal(want) {
			t.Errorf("session %d: expire_date read as %v, Django reads %s", i, got, w.Row.ExpireDate)
		}
		if raw, wantRaw := rawExpireDate(t, st, w.SessionKey), wantRawExpireDate(st, want); raw != wantRaw {
			t.Errorf("session %d: stored expire_date %q, we would write %q", i, raw, wantRaw)
		}
	}
	if !strings.HasPrefix(written[5].Row.SessionData, ".") {
		t.Errorf("the big session was not compressed: %.30s", written[5].Row.SessionData)
	}
	login := written[6]
	data, _, _ := st.Load(ctx, login.SessionKey)
	if uid, _ := data.GetStr(django.AuthUserIDKey); !uid.Equal(py.Str(login.UserID)) {
		t.Errorf("login session user id %s, want %q", uid.Repr(), login.UserID)
	}
	// Our clear_expired removes Django's expired row and only it.
	if err := st.ClearExpired(ctx); err != nil {
		t.Fatal(err)
	}
	for i, w := range written {
		ok, err := st.Exists(ctx, w.SessionKey)
		if err != nil {
			t.Fatal(err)
		}
		if ok == (i == expired) {
			t.Errorf("after ClearExpired session %d exists=%v", i, ok)
		}
	}
}

// goSession is a session we write, and what Django must make of it.
type goSession struct {
	name    string
	data    string // JSON of the dict
	expiry  func(s *django.Session, now time.Time)
	live    bool
	wantExp func(now time.Time) time.Time
}

func weWriteDjangoReads(t *testing.T, u string, tc tzCase) {
	s := tc.settings()
	// A fixed clock near the real one: Django compares with its own
	// time.time(), our expected expire_date needs a known "now".
	now := time.Now().Truncate(time.Microsecond).Add(-time.Second)
	s.Clock = func() time.Time { return now }
	age := time.Duration(s.SessionCookieAge) * time.Second
	def := func(now time.Time) time.Time { return now.Add(age) }

	// The login session Django wrote, copied under a key of ours: Django's
	// get_user must accept it.
	login := djangotest.MustDecode[djangoWritten](t, djangotest.MustBatch(t, tc.env(u),
		op("login", "username", "bob-"+tc.Name, "password", "pw-bob"))[0])

	big := py.NewDict(2)
	big.SetStr("big", py.Str(strings.Repeat("ours compresses too. ", 500)))
	big.SetStr("n", py.Int(7))
	bigJSON, _ := py.EncodeJSON(py.DictOf(big))
	in2h := now.Add(2 * time.Hour).Add(123456 * time.Microsecond)
	ago := now.Add(-time.Hour)
	sessions := []goSession{
		{name: "plain", data: `{"plain":"value","n":42,"f":1.5,"l":[1,"x",null,true],"d":{"nested":{}}}`, live: true, wantExp: def},
		{name: "unicode", data: `{"ünï":"cödé ✓ 🎉 \u2028","emoji":"\ud83d\ude00"}`, live: true, wantExp: def},
		{name: "expiry_int", data: `{"a":1}`, live: true,
			expiry:  func(ss *django.Session, _ time.Time) { ss.SetExpirySeconds(600) },
			wantExp: func(now time.Time) time.Time { return now.Add(600 * time.Second) }},
		{name: "expiry_iso", data: `{"a":2}`, live: true,
			expiry:  func(ss *django.Session, _ time.Time) { ss.SetExpiryAt(in2h) },
			wantExp: func(time.Time) time.Time { return in2h }},
		{name: "expiry_iso_past", data: `{"a":3}`, live: false,
			expiry:  func(ss *django.Session, _ time.Time) { ss.SetExpiryAt(ago) },
			wantExp: func(time.Time) time.Time { return ago }},
		{name: "expiry_int_negative", data: `{"a":4}`, live: false,
			expiry:  func(ss *django.Session, _ time.Time) { ss.SetExpirySeconds(-60) },
			wantExp: func(now time.Time) time.Time { return now.Add(-60 * time.Second) }},
		{name: "big", data: string(bigJSON), live: true, wantExp: def},
		{name: "login", data: string(login.Data), live: true, wantExp: def},
	}

	st, err := Open(u, s)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	keys := make([]string, len(sessions))
	wantData := make([][]byte, len(sessions))
	var ops []djangotest.Op
	for i, gs := range sessions {
		v, err := py.DecodeJSONUTF8([]byte(gs.data))
		if err != nil {
			t.Fatalf("%s: %v", gs.name, err)
		}
		d, _ := v.Dict()
		sess := django.NewSession(ctx, st, s, "")
		for _, e := range d.Entries() {
			k, _ := e.Key.Str()
			sess.Set(k, e.Value)
		}
		if gs.expiry != nil {
			gs.expiry(sess, now)
		}
		if err := sess.Save(false); err != nil {
			t.Fatalf("%s: %v", gs.name, err)
		}
		keys[i] = sess.SessionKey()
		if raw, want := rawExpireDate(t, st, keys[i]), wantRawExpireDate(st, gs.wantExp(now)); raw != want {
			t.Errorf("%s: we stored expire_date %q, Django would store %q", gs.name, raw, want)
		}
		wantData[i], _ = py.NormalJSON(py.DictOf(sess.Data()))
		ops = append(ops, op("read", "session_key", keys[i]))
	}
	ops = append(ops, op("get_user", "session_key", keys[len(keys)-1]), op("clearsessions"))
	for _, k := range keys {
		ops = append(ops, op("exists", "session_key", k))
	}
	res := djangotest.MustBatch(t, tc.env(u), ops...)

	for i, gs := range sessions {
		r := djangotest.MustDecode[djangoRead](t, res[i])
		if r.Row == nil {
			t.Fatalf("%s: Django sees no row", gs.name)
		}
		if got, want := tc.parseDjangoTime(t, r.Row.ExpireDate), gs.wantExp(now); !got.Equal(want) {
			t.Errorf("%s: Django reads expire_date %s, we meant %v", gs.name, r.Row.ExpireDate, want)
		}
		if r.Survived != gs.live {
			t.Errorf("%s: Django's load kept the key: %v, want %v", gs.name, r.Survived, gs.live)
		}
		if !gs.live {
			if string(r.Data) != "{}" {
				t.Errorf("%s: Django loaded an expired session: %s", gs.name, r.Data)
			}
			continue
		}
		if string(r.Data) != string(wantData[i]) {
			t.Errorf("%s: Django loaded\n %s\nwe wrote\n %s", gs.name, r.Data, wantData[i])
		}
	}
	if sd := djangotest.MustDecode[djangoRead](t, res[6]).Row.SessionData; !strings.HasPrefix(sd, ".") {
		t.Errorf("our big session was not compressed: %.30s", sd)
	}
	var who struct {
		UserID        *string `json:"user_id"`
		Authenticated bool    `json:"authenticated"`
	}
	if err := res[len(sessions)].Decode(&who); err != nil {
		t.Fatal(err)
	}
	if !who.Authenticated || who.UserID == nil || *who.UserID != login.UserID {
		t.Errorf("Django's get_user on our copy of a login session: %s", res[len(sessions)])
	}
	// Django's clearsessions removed exactly our expired rows.
	for i, gs := range sessions {
		var e struct{ Exists bool }
		if err := res[len(sessions)+2+i].Decode(&e); err != nil {
			t.Fatal(err)
		}
		if e.Exists != gs.live {
			t.Errorf("%s: after Django's clearsessions exists=%v, want %v", gs.name, e.Exists, gs.live)
		}
	}
}

// TestInteropCorruptRowKeepsKey: for a row that does not verify (written
// with another SECRET_KEY), a missing row and an expired one, Django's
// load() and our Session agree on whether the key is kept and on the data
// (spec §3.6, §3.9.1): Django keeps the key of the corrupt row with {},
// and drops the other two.
func TestInteropCorruptRowKeepsKey(t *testing.T) {
	djangotest.Require(t)
	tc := tzCases(t)[0]
	for _, d := range testenv.Databases {
		t.Run(d.Name, func(t *testing.T) {
			u := d.URL(t)
			djangotest.MustBatch(t, tc.env(u), op("migrate"))
			s := tc.settings()
			other := *s
			other.SecretKey = "another-secret-key-for-this-test"
			ctx := context.Background()
			write := func(settings *django.Settings, expiry int) string {
				st, err := Open(u, settings)
				if err != nil {
					t.Fatal(err)
				}
				defer st.Close()
				sess := django.NewSession(ctx, st, settings, "")
				sess.Set("a", py.Int(1))
				if expiry != 0 {
					sess.SetExpirySeconds(expiry)
				}
				if err := sess.Save(false); err != nil {
					t.Fatal(err)
				}
				return sess.SessionKey()
			}
			cases := []struct {
				name     string
				key      string
				wantKept bool
			}{
				{"corrupt", write(&other, 0), true},
				{"missing", "nosuchsessionkey0000000000000000", false},
				{"expired", write(s, -60), false},
			}
			var ops []djangotest.Op
			for _, c := range cases {
				ops = append(ops, op("read", "session_key", c.key))
			}
			res := djangotest.MustBatch(t, tc.env(u), ops...)
			st, err := Open(u, s)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			for i, c := range cases {
				dj := djangotest.MustDecode[djangoRead](t, res[i])
				if dj.Survived != c.wantKept || string(dj.Data) != "{}" {
					t.Fatalf("%s: Django kept the key: %v, data %s (the test expects kept=%v, {})", c.name, dj.Survived, dj.Data, c.wantKept)
				}
				sess := django.NewSession(ctx, st, s, c.key)
				if n := sess.Data().Len(); n != 0 {
					t.Errorf("%s: we loaded %d items, Django {}", c.name, n)
				}
				if kept := sess.SessionKey() == c.key; kept != dj.Survived {
					t.Errorf("%s: we kept the key: %v, Django: %v", c.name, kept, dj.Survived)
				}
			}
		})
	}
}

// TestInteropPickledExpiryDatetime: with the pickle serializer,
// SetExpiryIn stores the datetime itself, which Django 3.2 (like every
// Django ≤ 4.0) computes the expiry from; the ISO string of Django 4.1+
// would make its get_expiry_age return a str.
func TestInteropPickledExpiryDatetime(t *testing.T) {
	djangotest.Require(t)
	for _, tc := range tzCases(t) {
		t.Run(tc.Name, func(t *testing.T) {
			u := testenv.SQLiteURL(t)
			env := tc.env(u)
			env["SESSION_SERIALIZER"] = "pickle"
			djangotest.MustBatch(t, env, op("migrate"))
			s := tc.settings()
			s.SessionSerializer = django.PickleSerializer{}
			st, err := Open(u, s)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			sess := django.NewSession(context.Background(), st, s, "")
			sess.Set("a", py.Int(1))
			sess.SetExpiryIn(2*time.Hour + 30*time.Second)
			if err := sess.Save(false); err != nil {
				t.Fatal(err)
			}
			want := sess.GetExpiryDate()
			res := djangotest.MustBatch(t, env, op("eval", "input", sess.SessionKey(), "code",
				"s = session_store(input)\ns.load()\nresult = [type(s.get('_session_expiry')).__name__, s.get_expiry_age(), s.get_expiry_date().isoformat()]"))
			var r struct {
				Result []json.RawMessage `json:"result"`
			}
			if err := json.Unmarshal(res[0], &r); err != nil || len(r.Result) != 3 {
				t.Fatalf("Django's answer %s: %v", res[0], err)
			}
			var typ, iso string
			var age int
			_ = json.Unmarshal(r.Result[0], &typ)
			_ = json.Unmarshal(r.Result[1], &age)
			_ = json.Unmarshal(r.Result[2], &iso)
			if typ != "datetime" {
				t.Errorf("Django reads _session_expiry as %s, want datetime", typ)
			}
			if age < 7200 || age > 7230 {
				t.Errorf("Django's get_expiry_age() = %d, want about 7230", age)
			}
			if got := tc.parseDjangoTime(t, iso); !got.Equal(want) {
				t.Errorf("Django's get_expiry_date() = %s, we stored %v", iso, want)
			}
		})
	}
}
