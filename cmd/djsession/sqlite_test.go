package main

import (
	"database/sql"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	_ "github.com/mattn/go-sqlite3" // the sqlite3 driver, to plant a corrupt row
)

// Tests of the store commands on the db engine over SQLite: a copy of
// testdata/django.sqlite3, the database Django 3.2 wrote with
// testdata/djangoproject/make_sample_db.py (its manifest, sample_db.json,
// lists the sessions and the secret key).

// sampleDB is testdata/djangoproject/sample_db.json.
type sampleDB struct {
	SecretKey string `json:"secret_key"`
	T0        int64  `json:"t0"`
	Now       int64  `json:"now"`
	Sessions  []struct {
		Name        string          `json:"name"`
		SessionKey  string          `json:"session_key"`
		Data        json.RawMessage `json:"data"`
		SessionData string          `json:"session_data"`
		ExpireDate  string          `json:"expire_date"`
		LiveAtNow   bool            `json:"live_at_now"`
	} `json:"sessions"`
}

// copySampleDB copies the sample database into a temporary folder and
// returns its path, the manifest and the env that points the binary at it.
// It skips while the db engine is not registered in backends.Open.
func copySampleDB(t *testing.T) (string, *sampleDB, []string) {
	t.Helper()
	src := filepath.Join("..", "..", "testdata", "django.sqlite3")
	data, err := os.ReadFile(src)
	if err != nil {
		t.Skipf("no sample database yet: %v", err)
	}
	raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "djangoproject", "sample_db.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m sampleDB
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "django.sqlite3")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"DJANGO_SECRET_KEY=" + m.SecretKey, "SESSION_ENGINE=db", "DATABASE_URL=sqlite:///" + path}
	if _, errOut, code := runCLI(t, []string{"ls"}, env, ""); code != 0 {
		if strings.Contains(errOut, "not available in this build") {
			t.Skipf("the db engine is not registered in backends.Open yet: %s", errOut)
		}
		t.Fatalf("ls on the sample database: exit %d: %s", code, errOut)
	}
	return path, &m, env
}

func TestSQLiteSampleDB(t *testing.T) {
	path, m, env := copySampleDB(t)
	now := "--now=" + jsonInt(m.Now)
	byName := map[string]int{}
	want := map[string]lsEntry{}
	for i, s := range m.Sessions {
		byName[s.Name] = i
		e := lsEntry{SessionKey: s.SessionKey, ExpireDate: strp(s.ExpireDate)}
		var d map[string]any
		if err := json.Unmarshal(s.Data, &d); err != nil {
			t.Fatal(err)
		}
		if uid, ok := d["_auth_user_id"].(string); ok {
			e.UserID = strp(uid)
		}
		want[s.SessionKey] = e
	}
	if len(m.Sessions) < 3 {
		t.Fatalf("sample_db.json lists %d sessions", len(m.Sessions))
	}
	if got := lsJSON(t, env, now); !reflect.DeepEqual(got, want) {
		t.Fatalf("ls:\n got %+v\nwant %+v", got, want)
	}
	for _, s := range m.Sessions {
		args := []string{"get", s.SessionKey, now}
		if s.LiveAtNow {
			expectDecodedEnv(t, env, args, "", s.Data)
		} else {
			cliCase{args: args, env: env, code: 1, stderr: "no such session"}.check(t)
		}
		// The stored session_data decodes whatever its expiry.
		expectDecoded(t, []string{"decode", "--secret-key=" + m.SecretKey, s.SessionData}, "", s.Data)
	}

	// set keeps the row and moves expire_date as Django's save() does.
	anon := m.Sessions[byName["anonymous"]].SessionKey
	out, _ := storeRun(t, env, "", 0, "set", anon, `{"theme":"light"}`, now)
	if !sameJSON([]byte(out), []byte(`{"session_key":"`+anon+`","expire_date":"2023-11-28T22:14:20+00:00","user_id":null}`)) {
		t.Fatalf("set printed %q", out)
	}
	cliCase{args: []string{"get", anon, now}, env: env, stdout: `{"theme":"light"}` + "\n"}.check(t)
	expired := m.Sessions[byName["expired"]].SessionKey
	storeRun(t, env, "", 1, "set", expired, `{}`, now)

	// A row that does not decode is listed as corrupt.
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO django_session (session_key, session_data, expire_date) VALUES (?, ?, ?)`,
		"corruptcorruptcorruptcorrupt0000", "not:session:data", "2030-01-01 00:00:00"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	got := lsJSON(t, env, now)
	if e := got["corruptcorruptcorruptcorrupt0000"]; !e.Corrupt || e.UserID != nil || e.ExpireDate == nil ||
		*e.ExpireDate != "2030-01-01T00:00:00+00:00" {
		t.Fatalf("corrupt row: %+v", e)
	}
	// get and whoami say why, and exit 1 as for no session.
	for _, cmd := range []string{"get", "whoami"} {
		if _, errOut := storeRun(t, env, "", 1, cmd, "corruptcorruptcorruptcorrupt0000", now); !strings.Contains(errOut, "session data corrupted") {
			t.Errorf("%s of a corrupt row: stderr %q", cmd, errOut)
		}
	}

	// clearsessions deletes the expired row only; rm deletes one row.
	storeRun(t, env, "", 0, "clearsessions", now)
	got = lsJSON(t, env, now)
	if _, ok := got[expired]; ok || len(got) != len(m.Sessions) {
		t.Fatalf("after clearsessions: %+v", got)
	}
	storeRun(t, env, "", 0, "rm", "corruptcorruptcorruptcorrupt0000")
	storeRun(t, env, "", 1, "rm", "corruptcorruptcorruptcorrupt0000")
	storeRun(t, env, "", 1, "rm", expired)

	// create adds a row; Django reads it below.
	key := createSession(t, env, `{"_auth_user_id":"1","made_by":"djsession"}`)
	cliCase{args: []string{"get", key}, env: env, stdout: `{"_auth_user_id":"1","made_by":"djsession"}` + "\n"}.check(t)
	if got := lsJSON(t, env); got[key].UserID == nil || *got[key].UserID != "1" {
		t.Fatalf("ls after create: %+v", got[key])
	}

	// Django 3.2 reads the row we wrote, and writes one we read.
	py := requirePython(t, "django")
	script := `import json, sys
from django.conf import settings
settings.configure(SECRET_KEY=sys.argv[1], USE_TZ=True, TIME_ZONE="UTC",
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": sys.argv[2]}},
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "django.contrib.sessions"])
import django
django.setup()
from django.contrib.sessions.backends.db import SessionStore
s = SessionStore(session_key=sys.argv[3])
print(json.dumps(dict(s.load())))
n = SessionStore()
n["made_by"] = "django"
n["n"] = [1, 2.5, None]
n.create()
print(n.session_key)`
	cmd := exec.Command(py, "-c", script, m.SecretKey, path, key)
	cmd.Dir = t.TempDir()
	pyOut, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("django: %v\n%s", err, pyOut)
	}
	lines := strings.Split(strings.TrimSpace(string(pyOut)), "\n")
	if len(lines) != 2 || !sameJSON([]byte(lines[0]), []byte(`{"_auth_user_id":"1","made_by":"djsession"}`)) {
		t.Fatalf("Django read %q", pyOut)
	}
	cliCase{args: []string{"get", lines[1]}, env: env, stdout: `{"made_by":"django","n":[1,2.5,null]}` + "\n"}.check(t)
}

func jsonInt(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
