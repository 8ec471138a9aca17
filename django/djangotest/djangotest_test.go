package djangotest

import (
	"encoding/json"
	"testing"
)

// TestBatch writes a session with Django and reads it back in the same
// process (an in-memory SQLite database lives as long as the process).
func TestBatch(t *testing.T) {
	env := Env{"DJANGO_SECRET_KEY": "djangotest-key", "DATABASE_URL": "sqlite://:memory:"}
	res := Batch(t, env,
		Op{Name: "migrate"},
		Op{Name: "write", Params: map[string]any{"data": map[string]any{"k": "ü", "t": map[string]any{"$tuple": []int{1, 2}}}}},
		Op{Name: "no_such_op"},
	)
	if err := res[0].Err(); err != nil {
		t.Fatal(err)
	}
	var w struct {
		SessionKey string          `json:"session_key"`
		Data       json.RawMessage `json:"data"`
	}
	if err := res[1].Decode(&w); err != nil {
		t.Fatal(err)
	}
	// Normal form: a tuple is an array, non-ASCII stays UTF-8.
	if string(w.Data) != `{"k":"ü","t":[1,2]}` || len(w.SessionKey) != 32 {
		t.Fatalf("write: %s", res[1])
	}
	if res[2].Err() == nil {
		t.Fatal("an unknown operation must report an error")
	}
}

func TestSnippet(t *testing.T) {
	got := Snippet(t, Env{"USE_TZ": "0"}, "result = [settings.USE_TZ, input]", map[string]any{"$decimal": "1.50"})
	if string(got) != `[false,"1.50"]` {
		t.Fatalf("got %s", got)
	}
}

func TestEnvWith(t *testing.T) {
	a := Env{"A": "1"}
	b := a.With("B", "2", "A", "3")
	if a["A"] != "1" || b["A"] != "3" || b["B"] != "2" {
		t.Fatalf("%v %v", a, b)
	}
}

// TestViews runs the project's JSON views (for the HTTP end-to-end tests)
// through Django's test client: login, session data, change-password
// keeps the session (update_session_auth_hash), logout, a wrong password.
func TestViews(t *testing.T) {
	code := `
from django.core.management import call_command
from django.test import Client
from djs import get_or_create_user
call_command("migrate", verbosity=0)
get_or_create_user("carol", "pw1")
c = Client()
out = []
out.append(c.post("/login/", {"username": "carol", "password": "pw1"}).json()["authenticated"])
out.append(c.get("/whoami/").json()["username"])
out.append(c.post("/session/", data='{"set": {"k": "v"}}', content_type="application/json").json()["data"]["k"])
out.append(c.post("/change-password/", {"password": "pw2"}).json()["authenticated"])
out.append(c.get("/whoami/").json()["authenticated"])
out.append(c.post("/logout/").json()["ok"])
out.append(c.get("/whoami/").json()["authenticated"])
out.append(c.post("/login/", {"username": "carol", "password": "pw1"}).status_code)
result = out
`
	got := Snippet(t, Env{"DATABASE_URL": "sqlite://:memory:"}, code, nil)
	if string(got) != `[true,"carol","v",true,true,true,false,401]` {
		t.Fatalf("got %s", got)
	}
}
