package django

import (
	"context"
	"errors"
	"time"

	"github.com/djsession/djsession/pickle/py"
	"github.com/djsession/djsession/signing"
)

// Errors a Store returns from Save, which Session turns into Django's
// behaviour (spec §3.9, §3.12).
var (
	// ErrCreateConflict is Django's CreateError: a must-create save found the
	// key taken. Session.Create retries with a fresh key.
	ErrCreateConflict = errors.New("django: session key already exists")
	// ErrUpdateMissing is Django's UpdateError: a plain save found no record
	// to update (it expired, or a concurrent request deleted it). The
	// middleware answers it as Django's SessionInterrupted.
	ErrUpdateMissing = errors.New("django: session was deleted before the request completed")
	// ErrNotSupported is returned by operations a backend cannot do, such as
	// listing or clearing signed-cookie sessions, which live in browsers.
	ErrNotSupported = errors.New("django: not supported by this session engine")
)

// Record is what a Session hands its Store to save.
type Record struct {
	// SessionKey is the key to write. A store whose key is the data itself
	// (signed cookies) replaces it with the new key.
	SessionKey string
	// Data is the session dict. Stores must not keep or modify it after
	// Save returns (encode it, or copy it).
	Data *py.Dict
	// ExpireDate is get_expiry_date() at save time: the database
	// backend's expire_date.
	ExpireDate time.Time
	// ExpiryAge is get_expiry_age() at save time in seconds: the cache
	// backends' timeout. It may be zero or negative for an expiry in the past.
	ExpiryAge int
}

// Info describes one stored session for listing.
type Info struct {
	SessionKey string
	// ExpireDate is when the store will consider the session expired; the
	// zero Time when the store does not know it without loading it.
	ExpireDate time.Time
	// Data is the decoded session, or nil when it could not be decoded
	// (tampered, or written with another SECRET_KEY).
	Data *py.Dict
}

// Store is the persistence half of a Django SessionStore: one
// implementation per SESSION_ENGINE under backends/. It holds no per-request
// state and is safe for concurrent use.
//
// The contract follows Django's (spec §3.9): a session that is missing,
// expired or tampered with is "not found" (found == false, err == nil), never
// an error; an error means the store itself failed (a server down, a
// timeout), and callers must not treat it as an empty session they may
// overwrite. Stores that can tell a tampered record from a missing one
// also implement StateLoader, through which Session keeps a tampered
// record's key as Django does.
type Store interface {
	// Load returns the session data stored under key.
	Load(ctx context.Context, key string) (data *py.Dict, found bool, err error)
	// Exists reports whether a record with key exists (expired ones count
	// where the backend cannot tell, as in Django).
	Exists(ctx context.Context, key string) (bool, error)
	// Save writes rec. With mustCreate it only inserts and returns
	// ErrCreateConflict when the key is taken; otherwise it only updates
	// and returns ErrUpdateMissing when there is nothing to update.
	Save(ctx context.Context, rec *Record, mustCreate bool) error
	// Delete removes the record under key; a missing record is not an
	// error.
	Delete(ctx context.Context, key string) error
	// ClearExpired removes expired records (Django's clear_expired); a
	// no-op for stores that expire records themselves.
	ClearExpired(ctx context.Context) error
	// List calls fn for each stored session, streaming (never loading the
	// whole store at once). Returning an error from fn stops the listing
	// and List returns that error. Stores that cannot list return
	// ErrNotSupported.
	List(ctx context.Context, fn func(Info) error) error
}

// LoadState is what a load found under a key.
type LoadState uint8

const (
	// LoadMissing: no live record (none, or expired): Django drops the key.
	LoadMissing LoadState = iota
	// LoadFound: a live record whose data decoded.
	LoadFound
	// LoadCorrupt: a live record whose data does not decode (tampered, or
	// written with another SECRET_KEY). Django's db, file and cached_db
	// backends load it as an empty session and keep the key, so a later
	// save overwrites the record in place and the cookie is left alone
	// (spec §3.6, §3.9.1, §3.9.4).
	LoadCorrupt
)

// String returns "missing", "found" or "corrupt".
func (s LoadState) String() string {
	switch s {
	case LoadFound:
		return "found"
	case LoadCorrupt:
		return "corrupt"
	default:
		return "missing"
	}
}

// CorruptOrMissing classifies a stored record whose data Codec.Decode
// refused. Data that fails verification (tampered, another SECRET_KEY) is
// LoadCorrupt: Django loads it as {} and a later save overwrites it. Data
// that verified but that we cannot decode (over a bound of ours, a pickle
// we refuse) is LoadMissing, so that it is never overwritten in place:
// Django may read it.
func CorruptOrMissing(decodeErr error) LoadState {
	if errors.Is(decodeErr, signing.ErrBadSignature) {
		return LoadCorrupt
	}
	return LoadMissing
}

// StateLoader is implemented by stores that can tell a live record whose
// data does not decode from a missing one: the db, file and cached_db
// backends. Session uses it to keep the key of a corrupt record with empty
// data, as Django does; with other stores (the cache backends, where Django
// drops the key too, and signed cookies) a corrupt record is a missing one.
// Store.Load of such a store reports LoadCorrupt as not found.
type StateLoader interface {
	// LoadState returns the data under key and what was found. data is
	// non-nil only with LoadFound.
	LoadState(ctx context.Context, key string) (data *py.Dict, state LoadState, err error)
}

// MaxCreateAttempts bounds Session.Create's retries on key collisions.
// Django's database backend loops forever and its cache backend tries
// 10,000 times; with 36³² possible keys a second collision in a row means a
// broken store, so we stop much sooner.
const MaxCreateAttempts = 100

// ErrCreateFailed is returned when no fresh key could be stored in
// MaxCreateAttempts tries.
var ErrCreateFailed = errors.New("django: unable to create a new session key; the store may be unavailable")
