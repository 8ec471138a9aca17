package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/djsession/djsession/django/djangotest"
)

// TestAuthCommandsWithDjango: logins Django 3.2's login() made are verified
// by whoami; logins made by our login command are accepted by Django's
// get_user(); a changed password, an inactive user, a deleted user, a
// wrong backend and a forged hash are refused with their reason; logout
// ends the session for Django too.
func TestAuthCommandsWithDjango(t *testing.T) {
	djangotest.Require(t)
	dir := t.TempDir()
	const secret = "django-insecure-cli-auth-0123456789"
	dbURL := "sqlite:///" + filepath.Join(dir, "auth.sqlite3")
	env := djangotest.Env{"DJANGO_SECRET_KEY": secret, "DATABASE_URL": dbURL}
	res := djangotest.MustBatch(t, env,
		djangotest.Op{Name: "migrate"},
		djangotest.Op{Name: "login", Params: map[string]any{"username": "alice", "password": "pw-alice", "data": map[string]any{"cart": 1}}},
		djangotest.Op{Name: "login", Params: map[string]any{"username": "bob", "password": "pw-bob"}},
		djangotest.Op{Name: "login", Params: map[string]any{"username": "carol", "password": "pw-carol"}},
		djangotest.Op{Name: "login", Params: map[string]any{"username": "dave", "password": "pw-dave"}},
	)
	var logins []struct {
		SessionKey string `json:"session_key"`
		UserID     any    `json:"user_id"`
	}
	for _, r := range res[1:] {
		var l struct {
			SessionKey string `json:"session_key"`
			UserID     any    `json:"user_id"`
		}
		if err := r.Decode(&l); err != nil {
			t.Fatal(err)
		}
		logins = append(logins, l)
	}
	cli := []string{"DJANGO_SECRET_KEY=" + secret, "DATABASE_URL=" + dbURL}
	whoami := func(key string, extra ...string) map[string]any {
		t.Helper()
		out, errOut, code := runCLI(t, append([]string{"whoami", key}, extra...), cli, "")
		if code != 0 {
			t.Fatalf("whoami exit %d: %s", code, errOut)
		}
		var v map[string]any
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		return v
	}
	// Django's logins verify.
	for i, l := range logins {
		v := whoami(l.SessionKey)
		if v["authenticated"] != true || v["backend"] != "django.contrib.auth.backends.ModelBackend" {
			t.Fatalf("Django login %d: %v", i, v)
		}
	}
	// Refusals, each made by Django itself.
	djangotest.MustBatch(t, env,
		djangotest.Op{Name: "set_password", Params: map[string]any{"username": "bob", "password": "changed"}},
		djangotest.Op{Name: "eval", Params: map[string]any{"code": `
from django.contrib.auth.models import User
User.objects.filter(username="carol").update(is_active=False)
User.objects.filter(username="dave").delete()
result = True`}},
	)
	for i, want := range []string{"", "auth hash does not match", "user is inactive", "no such user"} {
		if i == 0 {
			continue
		}
		v := whoami(logins[i].SessionKey)
		if v["authenticated"] != false || !strings.Contains(v["reason"].(string), want) {
			t.Errorf("session %d: %v, want refused by %q", i, v, want)
		}
		if v["user_id"] == nil {
			t.Errorf("session %d: whoami must print the stored user id even when refused", i)
		}
	}
	// A forged hash and a wrong backend, written with our own set command.
	forged := `{"_auth_user_id":"1","_auth_user_backend":"django.contrib.auth.backends.ModelBackend","_auth_user_hash":"` + strings.Repeat("0", 64) + `"}`
	key, errOut, code := runCLI(t, []string{"create", forged}, cli, "")
	if code != 0 {
		t.Fatal(errOut)
	}
	if v := whoami(strings.TrimSpace(key)); v["authenticated"] != false || !strings.Contains(v["reason"].(string), "does not match") {
		t.Errorf("forged hash: %v", v)
	}
	aliceHash := ""
	{
		out, _, _ := runCLI(t, []string{"get", logins[0].SessionKey}, cli, "")
		var d map[string]any
		json.Unmarshal([]byte(out), &d)
		aliceHash, _ = d["_auth_user_hash"].(string)
	}
	wrongBackend := `{"_auth_user_id":"1","_auth_user_backend":"myapp.backends.Other","_auth_user_hash":"` + aliceHash + `"}`
	key, _, _ = runCLI(t, []string{"create", wrongBackend}, cli, "")
	if v := whoami(strings.TrimSpace(key)); v["authenticated"] != false || !strings.Contains(v["reason"].(string), "AUTHENTICATION_BACKENDS") {
		t.Errorf("wrong backend: %v", v)
	}
	// Our login is accepted by Django's get_user(); our logout ends it.
	out, errOut, code := runCLI(t, []string{"login", "1"}, cli, "")
	if code != 0 {
		t.Fatal(errOut)
	}
	var mine struct {
		SessionKey string `json:"session_key"`
		UserID     string `json:"user_id"`
	}
	json.Unmarshal([]byte(out), &mine)
	if mine.UserID != "1" || len(mine.SessionKey) != 32 {
		t.Fatalf("login printed %s", out)
	}
	check := djangotest.MustBatch(t, env, djangotest.Op{Name: "get_user", Params: map[string]any{"session_key": mine.SessionKey}})
	var gu struct {
		Authenticated bool   `json:"authenticated"`
		Username      string `json:"username"`
	}
	check[0].Decode(&gu)
	if !gu.Authenticated || gu.Username != "alice" {
		t.Fatalf("Django's get_user on our login: %+v", gu)
	}
	if _, errOut, code := runCLI(t, []string{"logout", mine.SessionKey}, cli, ""); code != 0 {
		t.Fatal(errOut)
	}
	check = djangotest.MustBatch(t, env, djangotest.Op{Name: "get_user", Params: map[string]any{"session_key": mine.SessionKey}})
	check[0].Decode(&gu)
	if gu.Authenticated {
		t.Error("Django still sees the session we logged out")
	}
	if _, _, code := runCLI(t, []string{"logout", mine.SessionKey}, cli, ""); code != 1 {
		t.Errorf("logout of a missing session: exit %d, want 1", code)
	}
	if _, _, code := runCLI(t, []string{"login", "999"}, cli, ""); code != 1 {
		t.Errorf("login of a missing user: exit %d, want 1", code)
	}
	if _, _, code := runCLI(t, []string{"whoami", "nosuchsession0000000000000000000"}, cli, ""); code != 1 {
		t.Errorf("whoami of a missing session: exit %d, want 1", code)
	}
}
