package django

import (
	"context"
	"errors"
	"fmt"

	"github.com/djsession/djsession/pickle/py"
)

// Session is one request's session, as Django's request.session: a dict
// loaded lazily from a Store, with modified/accessed tracking, expiry rules
// and the key operations of SessionBase (spec §3.3–3.4).
//
// A Session is request-scoped and not safe for concurrent use. It keeps the
// context it was created with for its lazy load, as http.Request does.
type Session struct {
	ctx      context.Context
	store    Store
	settings *Settings

	key      string   // "" is Django's None
	data     *py.Dict // nil until loaded
	loadErr  error    // why the lazy load failed
	corrupt  bool     // the load found a record that fails verification
	accessed bool
	modified bool
}

// NewSession returns the session for key (the cookie value; "" for none).
// A key shorter than 8 characters is dropped, as Django drops it
// (spec §3.2). Nothing is read from the store until the data is used.
func NewSession(ctx context.Context, store Store, settings *Settings, key string) *Session {
	if ctx == nil {
		ctx = context.Background()
	}
	s := &Session{ctx: ctx, store: store, settings: settings}
	s.setKey(key)
	return s
}

func (s *Session) setKey(key string) {
	if IsValidKey(key) {
		s.key = key
	} else {
		s.key = ""
	}
}

// SessionKey returns the session key, "" when there is none (Django's None).
func (s *Session) SessionKey() string { return s.key }

// Settings returns the settings the session was made with.
func (s *Session) Settings() *Settings { return s.settings }

// Store returns the session's store.
func (s *Session) Store() Store { return s.store }

// Accessed reports whether the data was read or written (Django's
// session.accessed).
func (s *Session) Accessed() bool { return s.accessed }

// Modified reports whether the data changed and must be saved (Django's
// session.modified). SetModified lets a caller mark an in-place change to a
// mutable value, as Django code sets request.session.modified = True.
func (s *Session) Modified() bool { return s.modified }

// SetModified sets the modified flag.
func (s *Session) SetModified(m bool) { s.modified = m }

// Err returns the store error that made the lazy load fail, if any. After
// such a failure the session looks empty and Save refuses to run, so a
// session that could not be read is never overwritten.
func (s *Session) Err() error { return s.loadErr }

// Corrupt reports whether the load found a record under the key that fails
// verification (tampered, or written with another SECRET_KEY): Django logs
// "Session data corrupted" to django.security.SuspiciousSession then. Only
// StateLoader stores (db, file, cached_db) tell; it is false before the
// session is loaded.
func (s *Session) Corrupt() bool { return s.corrupt }

// Load reads the session from the store now (Django's load()): a missing or
// expired session becomes empty and loses its key, so the next save creates
// a fresh one (Django never adopts an unknown key). A record that is there
// but does not decode (tampered, another SECRET_KEY) becomes empty too; it
// keeps its key when the store is a StateLoader (db, file, cached_db, as in
// Django), so the next save overwrites it, and loses it otherwise. It
// returns only store failures.
func (s *Session) Load() error {
	s.data = nil
	s.loadErr = nil
	s.corrupt = false
	s.dict()
	return s.loadErr
}

// dict returns the session data, loading it on first use (Django's
// _get_session).
func (s *Session) dict() *py.Dict {
	s.accessed = true
	if s.data != nil {
		return s.data
	}
	if s.key == "" {
		s.data = py.NewDict(0)
		return s.data
	}
	var (
		d     *py.Dict
		state LoadState
		err   error
	)
	if sl, ok := s.store.(StateLoader); ok {
		d, state, err = sl.LoadState(s.ctx, s.key)
	} else {
		var found bool
		d, found, err = s.store.Load(s.ctx, s.key)
		if found {
			state = LoadFound
		}
	}
	switch {
	case err != nil:
		s.loadErr = err
		s.data = py.NewDict(0)
	case state == LoadCorrupt:
		// Django's db, file and cached_db backends: decode() gives {} and
		// the key stays (spec §3.6).
		s.corrupt = true
		s.data = py.NewDict(0)
	case state != LoadFound || d == nil:
		s.key = ""
		s.data = py.NewDict(0)
	default:
		s.data = d
	}
	return s.data
}

// Data returns the session dict, loading it if needed. Changing it directly
// does not mark the session modified; use Set and Delete, or SetModified.
func (s *Session) Data() *py.Dict { return s.dict() }

// Get returns the value under key.
func (s *Session) Get(key string) (py.Value, bool) { return s.dict().GetStr(key) }

// GetStr returns the str stored under key; ok is false when it is missing or
// not a str.
func (s *Session) GetStr(key string) (string, bool) {
	v, ok := s.Get(key)
	if !ok {
		return "", false
	}
	return v.Str()
}

// Has reports whether key is in the session.
func (s *Session) Has(key string) bool { return s.dict().Has(py.Str(key)) }

// Set stores v under key and marks the session modified.
func (s *Session) Set(key string, v py.Value) {
	s.dict().SetStr(key, v)
	s.modified = true
}

// Delete removes key and marks the session modified. As Django's
// session.pop(key, None), it does nothing when key is absent.
func (s *Session) Delete(key string) bool {
	if s.dict().DeleteStr(key) {
		s.modified = true
		return true
	}
	return false
}

// Keys returns the keys in insertion order.
func (s *Session) Keys() []string {
	d := s.dict()
	out := make([]string, 0, d.Len())
	for _, e := range d.Entries() {
		k, _ := e.Key.Str()
		out = append(out, k)
	}
	return out
}

// Clear empties the data but keeps the key (Django's clear()).
func (s *Session) Clear() {
	s.data = py.NewDict(0)
	s.loadErr = nil
	s.accessed = true
	s.modified = true
}

// IsEmpty reports Django's is_empty(): no key and no data.
func (s *Session) IsEmpty() bool {
	return s.key == "" && (s.data == nil || s.data.Len() == 0)
}

// SetTestCookie stores Django's test cookie value.
func (s *Session) SetTestCookie() { s.Set(TestCookieName, py.Str(TestCookieVal)) }

// TestCookieWorked reports whether the test cookie value came back.
func (s *Session) TestCookieWorked() bool {
	v, _ := s.GetStr(TestCookieName)
	return v == TestCookieVal
}

// DeleteTestCookie removes the test cookie value.
func (s *Session) DeleteTestCookie() { s.Delete(TestCookieName) }

// record builds what the store writes: the data and its expiry.
func (s *Session) record(data *py.Dict) *Record {
	now := s.settings.Now()
	exp, _ := data.GetStr(ExpiryKey)
	return &Record{
		SessionKey: s.key,
		Data:       data,
		ExpireDate: ExpiryDate(s.settings, now, exp),
		ExpiryAge:  ExpiryAge(s.settings, now, exp),
	}
}

// Save writes the session (Django's save(must_create)). Without a key it
// creates a new session. It refuses to run after a failed load.
// ErrUpdateMissing means the record vanished meanwhile (Django's
// UpdateError).
func (s *Session) Save(mustCreate bool) error {
	return s.save(s.ctx, mustCreate)
}

func (s *Session) save(ctx context.Context, mustCreate bool) error {
	if s.loadErr != nil {
		return fmt.Errorf("django: not saving a session that failed to load: %w", s.loadErr)
	}
	if s.key == "" {
		return s.Create()
	}
	data := s.data
	if data == nil {
		if mustCreate {
			data = py.NewDict(0)
		} else {
			data = s.dict()
		}
	}
	rec := s.record(data)
	if err := s.store.Save(ctx, rec, mustCreate); err != nil {
		return err
	}
	s.key = rec.SessionKey
	return nil
}

// Create stores the current data under a fresh key, retrying on a key
// collision (Django's create()), and marks the session modified.
func (s *Session) Create() error {
	if s.loadErr != nil {
		return fmt.Errorf("django: not saving a session that failed to load: %w", s.loadErr)
	}
	for range MaxCreateAttempts {
		key, err := NewSessionKey()
		if err != nil {
			return err
		}
		s.key = key
		err = s.save(s.ctx, true)
		if errors.Is(err, ErrCreateConflict) {
			continue
		}
		if err != nil {
			s.key = ""
			return err
		}
		s.modified = true
		return nil
	}
	s.key = ""
	return ErrCreateFailed
}

// CycleKey moves the data to a new key and deletes the old record
// (Django's cycle_key()), as login does against session fixation.
func (s *Session) CycleKey() error {
	data := s.dict()
	if s.loadErr != nil {
		return s.loadErr
	}
	old := s.key
	if err := s.Create(); err != nil {
		return err
	}
	s.data = data
	if old != "" && old != s.key {
		return s.store.Delete(s.ctx, old)
	}
	return nil
}

// Flush empties the session, deletes its record and drops the key
// (Django's flush()), as logout does.
func (s *Session) Flush() error {
	s.Clear()
	old := s.key
	s.key = ""
	if old != "" {
		return s.store.Delete(s.ctx, old)
	}
	return nil
}

// DeleteRecord deletes the stored record of the session's key without
// touching the in-memory data (Django's delete()).
func (s *Session) DeleteRecord() error {
	if s.key == "" {
		return nil
	}
	return s.store.Delete(s.ctx, s.key)
}
