package file

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/django/storetest"
	"github.com/djsession/djsession/pickle/py"
	"github.com/djsession/djsession/signing"
)

func newStore(t *testing.T, s *django.Settings) *Store {
	t.Helper()
	s.SessionFilePath = t.TempDir()
	st, err := New(s)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		New: func(t *testing.T, s *django.Settings) django.Store { return newStore(t, s) },
	})
}

func TestMissingFolderIsImproperlyConfigured(t *testing.T) {
	s := django.DefaultSettings("k")
	s.SessionFilePath = filepath.Join(t.TempDir(), "nope")
	if _, err := New(s); err == nil {
		t.Fatal("a missing SESSION_FILE_PATH must be refused")
	}
}

func TestFileLayout(t *testing.T) {
	s, _ := storetest.Settings()
	st := newStore(t, s)
	sess := django.NewSession(context.Background(), st, s, "")
	sess.Set("a", py.Int(1))
	if err := sess.Save(false); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(st.Dir(), "sessionid"+sess.SessionKey())
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600 as mkstemp makes", fi.Mode().Perm())
	}
	if !fi.ModTime().Equal(s.Now()) {
		t.Errorf("mtime %v, want the settings clock %v", fi.ModTime(), s.Now())
	}
	content, _ := os.ReadFile(path)
	codec, _ := django.NewCodec(s)
	d, err := codec.Decode(string(content))
	if err != nil || d.Len() != 1 {
		t.Fatalf("file content is not session_data: %v", err)
	}
	entries, _ := os.ReadDir(st.Dir())
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

func TestHostileKeysNeverBecomePaths(t *testing.T) {
	s, _ := storetest.Settings()
	st := newStore(t, s)
	outside := filepath.Join(filepath.Dir(st.Dir()), "victim")
	os.WriteFile(outside, []byte("x"), 0o600)
	for _, key := range []string{"../victim", "..%2fvictim", "ABCDEFGHIJ", "abc/def/ghi", "abcdefgh\x00", strings.Repeat("a", 8) + "/.."} {
		if _, found, err := st.Load(context.Background(), key); found || err != nil {
			t.Errorf("Load(%q) = %v, %v", key, found, err)
		}
		if err := st.Save(context.Background(), &django.Record{SessionKey: key, Data: py.NewDict(0)}, true); err == nil {
			t.Errorf("Save(%q) accepted", key)
		}
		if err := st.Delete(context.Background(), key); err != nil {
			t.Errorf("Delete(%q): %v", key, err)
		}
	}
	if _, err := os.Stat(outside); err != nil {
		t.Fatal("a hostile key reached a file outside the folder")
	}
}

func TestCorruptAndEmptyFilesAreNotFound(t *testing.T) {
	s, _ := storetest.Settings()
	st := newStore(t, s)
	for name, content := range map[string]string{
		"empty":    "",
		"garbage":  "not session data",
		"tampered": "eyJhIjoxfQ:1r31eq:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	} {
		key, _ := django.NewSessionKey()
		os.WriteFile(filepath.Join(st.Dir(), "sessionid"+key), []byte(content), 0o600)
		if d, found, err := st.Load(context.Background(), key); found || err != nil {
			t.Errorf("%s: Load = %v, %v, %v", name, d, found, err)
		}
		// Django loads {} and keeps the key (spec §3.9.4); a save then
		// overwrites the file in place.
		if _, state, err := st.LoadState(context.Background(), key); state != django.LoadCorrupt || err != nil {
			t.Errorf("%s: LoadState = %v, %v", name, state, err)
		}
		sess := django.NewSession(context.Background(), st, s, key)
		if sess.SessionKey() != key || sess.IsEmpty() || sess.Data().Len() != 0 {
			t.Errorf("%s: session key %q, empty %v", name, sess.SessionKey(), sess.IsEmpty())
		}
		sess.Set("b", py.Int(2))
		if err := sess.Save(false); err != nil || sess.SessionKey() != key {
			t.Fatalf("%s: save: %v, key %q", name, err, sess.SessionKey())
		}
		if d, found, err := st.Load(context.Background(), key); !found || err != nil || !d.Has(py.Str("b")) {
			t.Errorf("%s: after the save: %v, %v, %v", name, d, found, err)
		}
	}
}

// TestVerifiedUndecodableFileIsMissing: a file whose data verifies but is
// not a session dict is reported missing, never overwritten in place.
func TestVerifiedUndecodableFileIsMissing(t *testing.T) {
	s, _ := storetest.Settings()
	st := newStore(t, s)
	signer, err := signing.NewTimestampSigner([]byte(s.SecretKey), &signing.Options{Salt: s.KeySalt(), Clock: s.Clock})
	if err != nil {
		t.Fatal(err)
	}
	list, err := signer.SignObject(py.NewList(py.Int(1)), true)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := django.NewSessionKey()
	if err := os.WriteFile(filepath.Join(st.Dir(), "sessionid"+key), []byte(list), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, state, err := st.LoadState(context.Background(), key); state != django.LoadMissing || err != nil {
		t.Fatalf("LoadState = %v, %v", state, err)
	}
	if sess := django.NewSession(context.Background(), st, s, key); sess.Data().Len() != 0 || sess.SessionKey() != "" {
		t.Fatalf("session kept key %q", sess.SessionKey())
	}
}

func TestIntExpiryNeverExpiresFile(t *testing.T) {
	// Django's quirk (spec §3.9.4): get_expiry_age returns an int
	// _session_expiry unchanged, so the file backend never expires it.
	s, clock := storetest.Settings()
	st := newStore(t, s)
	sess := django.NewSession(context.Background(), st, s, "")
	sess.SetExpirySeconds(60)
	if err := sess.Save(false); err != nil {
		t.Fatal(err)
	}
	clock.Advance(30 * 24 * time.Hour)
	if _, found, _ := st.Load(context.Background(), sess.SessionKey()); !found {
		t.Error("an int expiry file session expired; Django keeps it")
	}
	sess.SetExpiryAt(s.Now().Add(time.Minute))
	if err := sess.Save(false); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Minute)
	if _, found, _ := st.Load(context.Background(), sess.SessionKey()); found {
		t.Error("a past ISO expiry must expire the file session")
	}
	if ok, _ := st.Exists(context.Background(), sess.SessionKey()); ok {
		t.Error("loading an expired file session deletes it, as Django does")
	}
}

func TestReadOnlyFolderFailsCleanly(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root ignores folder permissions")
	}
	s, _ := storetest.Settings()
	st := newStore(t, s)
	os.Chmod(st.Dir(), 0o500)
	defer os.Chmod(st.Dir(), 0o700)
	sess := django.NewSession(context.Background(), st, s, "")
	sess.Set("a", py.Int(1))
	if err := sess.Save(false); err == nil {
		t.Fatal("saving into a read-only folder must fail")
	}
}

func TestOldCorruptFilesAreCleared(t *testing.T) {
	s, clock := storetest.Settings()
	st := newStore(t, s)
	key, _ := django.NewSessionKey()
	path := filepath.Join(st.Dir(), "sessionid"+key)
	os.WriteFile(path, []byte("garbage"), 0o600)
	os.Chtimes(path, s.Now(), s.Now())
	if err := st.ClearExpired(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal("a fresh corrupt file was removed; Django keeps it until its mtime age passes")
	}
	clock.Advance(time.Duration(django.DefaultSessionCookieAge+1) * time.Second)
	if err := st.ClearExpired(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err == nil {
		t.Error("an old corrupt file survived clear_expired; Django deletes it")
	}
}
