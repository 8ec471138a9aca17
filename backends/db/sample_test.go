package db_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/djsession/djsession/backends/db"
	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/pickle/py"
)

// sampleManifest is testdata/djangoproject/sample_db.json, written by
// make_sample_db.py together with testdata/django.sqlite3.
type sampleManifest struct {
	SecretKey string `json:"secret_key"`
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

// TestSampleDatabase reads the committed database Django 3.2 wrote.
func TestSampleDatabase(t *testing.T) {
	root := filepath.Join("..", "..", "testdata")
	raw, err := os.ReadFile(filepath.Join(root, "djangoproject", "sample_db.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m sampleManifest
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs(filepath.Join(root, "django.sqlite3"))
	if err != nil {
		t.Fatal(err)
	}
	s := django.DefaultSettings(m.SecretKey)
	now := time.Unix(m.Now, 0)
	s.Clock = func() time.Time { return now }
	st, err := db.Open("sqlite:///"+abs+"?mode=ro", s)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	listed := map[string]django.Info{}
	if err := st.List(ctx, func(in django.Info) error { listed[in.SessionKey] = in; return nil }); err != nil {
		t.Fatal(err)
	}
	if len(listed) != len(m.Sessions) {
		t.Errorf("listed %d sessions, the manifest has %d", len(listed), len(m.Sessions))
	}
	for _, want := range m.Sessions {
		data, found, err := st.Load(ctx, want.SessionKey)
		if err != nil {
			t.Fatal(err)
		}
		if found != want.LiveAtNow {
			t.Errorf("%s: found %v, want %v", want.Name, found, want.LiveAtNow)
		}
		in := listed[want.SessionKey]
		if in.Data == nil {
			t.Errorf("%s: not decoded by List", want.Name)
			continue
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, want.Data); err != nil {
			t.Fatal(err)
		}
		got, _ := py.NormalJSON(py.DictOf(in.Data))
		if !bytes.Equal(got, compact.Bytes()) {
			t.Errorf("%s: data %s, want %s", want.Name, got, compact.Bytes())
		}
		if found {
			again, _ := py.NormalJSON(py.DictOf(data))
			if !bytes.Equal(again, got) {
				t.Errorf("%s: Load and List disagree: %s / %s", want.Name, again, got)
			}
		}
		exp, err := django.ParseISODateTime(want.ExpireDate, time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		if !in.ExpireDate.Equal(exp) {
			t.Errorf("%s: expire_date %v, want %v", want.Name, in.ExpireDate, exp)
		}
	}
}
