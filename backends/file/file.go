// Package file is Django's file session backend
// (django.contrib.sessions.backends.file, spec §3.9.4): one file per
// session in SESSION_FILE_PATH, named SESSION_COOKIE_NAME + session_key,
// holding session_data; expiry computed from the stored _session_expiry or
// the file's modification time.
//
// Writes are atomic: the data goes to a temporary file in the same folder,
// is synced, and is renamed over the session file, so a crash never leaves a
// torn session. Only keys made of [a-z0-9] ever become paths.
package file

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/pickle/py"
)

// MaxFileSize bounds how much of a session file is read: a larger file is
// not found (and never overwritten in place). Django reads any size.
const MaxFileSize = 16 << 20

// Store is the file backend. It is safe for concurrent use.
type Store struct {
	dir      string
	settings *django.Settings
	codec    *django.Codec
}

var _ django.Store = (*Store)(nil)

// New returns the store for settings.SessionFilePath (the OS temp dir when
// empty, as Django's tempfile.gettempdir()). The folder must exist, as
// Django requires (ImproperlyConfigured otherwise).
func New(settings *django.Settings) (*Store, error) {
	codec, err := django.NewCodec(settings)
	if err != nil {
		return nil, err
	}
	dir := settings.SessionFilePath
	if dir == "" {
		dir = os.TempDir()
	}
	fi, err := os.Stat(dir)
	if err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("%w: the session storage path %q doesn't exist", django.ErrImproperlyConfigured, dir)
	}
	return &Store{dir: dir, settings: settings, codec: codec}, nil
}

// Dir returns the session folder.
func (s *Store) Dir() string { return s.dir }

// maxFileName is the longest file name (SESSION_COOKIE_NAME + key) the
// store looks for: NAME_MAX on Linux, macOS and the BSDs, and the limit of
// NTFS. A longer name fails to open with ENAMETOOLONG, which Django's load()
// reads as no session (an OSError); a cookie value must not turn it into a
// store error.
const maxFileName = 255

// path returns the file of key, or false for a key that must not become a
// path (Django's InvalidSessionKey) or cannot name a file.
func (s *Store) path(key string) (string, bool) {
	if !django.IsFileSafeKey(key) || len(s.settings.SessionCookieName)+len(key) > maxFileName {
		return "", false
	}
	return filepath.Join(s.dir, s.settings.SessionCookieName+key), true
}

// fileState is what read found in a session file.
type fileState uint8

const (
	// fileMissing: no file, one over MaxFileSize, or one whose verified
	// data we cannot decode (a bound of ours, or a pickle we refuse): not
	// found, and never overwritten in place, since Django may read it.
	fileMissing fileState = iota
	fileLive
	// fileExpired: present but past its age; Load and ClearExpired delete it.
	fileExpired
	// fileCorrupt: empty (Django's placeholder), or failing verification
	// (tampered, another SECRET_KEY) within its age by mtime: Django loads
	// {} and keeps the key.
	fileCorrupt
)

// read returns the session data in a file (for fileLive, and for
// fileExpired when it decoded), its expiry date and what the file is.
func (s *Store) read(path string) (data *py.Dict, expire time.Time, state fileState, err error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, time.Time{}, fileMissing, nil
		}
		return nil, time.Time{}, fileMissing, fmt.Errorf("file sessions: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, time.Time{}, fileMissing, fmt.Errorf("file sessions: %w", err)
	}
	content, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, time.Time{}, fileMissing, fmt.Errorf("file sessions: %w", err)
	}
	if len(content) == 0 {
		// Django skips decoding and the expiry check for an empty file
		// (the placeholder a must-create save opens first): {} with the
		// key kept.
		return nil, time.Time{}, fileCorrupt, nil
	}
	if len(content) > MaxFileSize {
		return nil, time.Time{}, fileMissing, nil
	}
	now := s.settings.Now()
	byMtime := fi.ModTime().Add(time.Duration(cookieAge(s.settings)) * time.Second)
	data, err = s.codec.Decode(string(content))
	if err != nil {
		// Django decodes a corrupt file to {} and then expires it by its
		// mtime like any other (spec §3.9.4).
		if django.ExpiryAge(s.settings, now, py.FromTime(byMtime, true, py.UTC)) <= 0 {
			return nil, byMtime, fileExpired, nil
		}
		if django.CorruptOrMissing(err) == django.LoadCorrupt {
			return nil, byMtime, fileCorrupt, nil
		}
		return nil, byMtime, fileMissing, nil
	}
	exp, _ := data.GetStr(django.ExpiryKey)
	if exp.Truthy() {
		// Django's quirk kept: an int _session_expiry is returned as is by
		// get_expiry_age, so such a file never expires by this check.
		expire = django.ExpiryDate(s.settings, now, exp)
		if django.ExpiryAge(s.settings, now, exp) <= 0 {
			return data, expire, fileExpired, nil
		}
		return data, expire, fileLive, nil
	}
	if django.ExpiryAge(s.settings, now, py.FromTime(byMtime, true, py.UTC)) <= 0 {
		return data, byMtime, fileExpired, nil
	}
	return data, byMtime, fileLive, nil
}

func cookieAge(s *django.Settings) int {
	if s.SessionCookieAge == 0 {
		return django.DefaultSessionCookieAge
	}
	return s.SessionCookieAge
}

// Load reads the session of key. An expired session's file is deleted, as
// Django's load() deletes it. LoadState tells a corrupt file from a
// missing one.
func (s *Store) Load(ctx context.Context, key string) (*py.Dict, bool, error) {
	d, state, err := s.LoadState(ctx, key)
	return d, state == django.LoadFound, err
}

// LoadState is Load that reports an empty file, or one that fails
// verification within its age, as django.LoadCorrupt: Session then loads
// it empty and keeps the key, as Django does. (Django also answers an
// expired file by saving a new empty session under a fresh key and setting
// its cookie; we report it missing, so a new key is made only when the
// session is saved.)
func (s *Store) LoadState(ctx context.Context, key string) (*py.Dict, django.LoadState, error) {
	if err := ctx.Err(); err != nil {
		return nil, django.LoadMissing, err
	}
	path, ok := s.path(key)
	if !ok {
		return nil, django.LoadMissing, nil
	}
	data, _, state, err := s.read(path)
	if err != nil {
		return nil, django.LoadMissing, err
	}
	switch state {
	case fileLive:
		return data, django.LoadFound, nil
	case fileCorrupt:
		return nil, django.LoadCorrupt, nil
	case fileExpired:
		_ = os.Remove(path)
	}
	return nil, django.LoadMissing, nil
}

// Exists reports whether the session file exists.
func (s *Store) Exists(ctx context.Context, key string) (bool, error) {
	path, ok := s.path(key)
	if !ok {
		return false, nil
	}
	_, err := os.Stat(path)
	if err == nil {
		return true, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return false, fmt.Errorf("file sessions: %w", err)
}

// Save writes rec. A must-create save claims the name with an exclusive
// create first (Django's O_CREAT|O_EXCL placeholder); a plain save requires
// the file to exist. The content is then written to a temporary file in the
// same folder, synced, stamped with the settings clock and renamed over the
// session file.
func (s *Store) Save(ctx context.Context, rec *django.Record, mustCreate bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	path, ok := s.path(rec.SessionKey)
	if !ok {
		return fmt.Errorf("file sessions: invalid characters in session key")
	}
	content, err := s.codec.Encode(rec.Data)
	if err != nil {
		return err
	}
	flags := os.O_WRONLY
	if mustCreate {
		flags |= os.O_CREATE | os.O_EXCL
	}
	placeholder, err := os.OpenFile(path, flags, 0o600)
	switch {
	case err == nil:
		placeholder.Close()
	case mustCreate && errors.Is(err, fs.ErrExist):
		return django.ErrCreateConflict
	case !mustCreate && errors.Is(err, fs.ErrNotExist):
		return django.ErrUpdateMissing
	default:
		return fmt.Errorf("file sessions: %w", err)
	}
	if err := s.writeAtomic(path, content); err != nil {
		if mustCreate {
			// Do not leave the empty placeholder behind.
			_ = os.Remove(path)
		}
		return err
	}
	return nil
}

func (s *Store) writeAtomic(path, content string) error {
	tmp, err := os.CreateTemp(s.dir, filepath.Base(path)+"_out_")
	if err != nil {
		return fmt.Errorf("file sessions: %w", err)
	}
	name := tmp.Name()
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(name)
		}
	}()
	if _, err := tmp.WriteString(content); err != nil {
		return fmt.Errorf("file sessions: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("file sessions: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("file sessions: %w", err)
	}
	// The expiry of a file session runs from its mtime: stamp it with the
	// settings clock so a fixed clock (tests, --now) governs it too.
	now := s.settings.Now()
	if err := os.Chtimes(name, now, now); err != nil {
		return fmt.Errorf("file sessions: %w", err)
	}
	// Swap the new content in only while the session file still exists
	// (Linux's RENAME_EXCHANGE), so a delete (logout) racing this save is
	// not undone by it — a window Django's plain rename has. Elsewhere, or
	// on a file system without the flag, rename as Django does.
	swapped, err := exchange(name, path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return django.ErrUpdateMissing
	case err != nil:
		return fmt.Errorf("file sessions: %w", err)
	case swapped:
		// name now holds the previous content.
		os.Remove(name)
	default:
		if err := os.Rename(name, path); err != nil {
			return fmt.Errorf("file sessions: %w", err)
		}
	}
	ok = true
	return nil
}

// Delete removes the session file; a missing one is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	path, ok := s.path(key)
	if !ok {
		return nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("file sessions: %w", err)
	}
	return nil
}

// ClearExpired deletes the expired session files, as Django's
// clear_expired() does by loading each one.
func (s *Store) ClearExpired(ctx context.Context) error {
	return s.each(ctx, func(key, path string) error {
		_, _, state, err := s.read(path)
		if err != nil {
			return err
		}
		if state == fileExpired {
			if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("file sessions: %w", err)
			}
		}
		return nil
	})
}

// List calls fn for each session file, decoding it. Expired sessions are
// listed too, with their expiry date; undecodable ones have nil Data.
func (s *Store) List(ctx context.Context, fn func(django.Info) error) error {
	return s.each(ctx, func(key, path string) error {
		data, expire, _, err := s.read(path)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		return fn(django.Info{SessionKey: key, ExpireDate: expire, Data: data})
	})
}

// each walks the folder's session files (names starting with the cookie
// name whose rest is a valid key; temporary files fail that test).
func (s *Store) each(ctx context.Context, fn func(key, path string) error) error {
	d, err := os.Open(s.dir)
	if err != nil {
		return fmt.Errorf("file sessions: %w", err)
	}
	defer d.Close()
	prefix := s.settings.SessionCookieName
	for {
		names, err := d.Readdirnames(256)
		for _, n := range names {
			if err := ctx.Err(); err != nil {
				return err
			}
			key, ok := strings.CutPrefix(n, prefix)
			if !ok || !django.IsFileSafeKey(key) || !django.IsValidKey(key) {
				continue
			}
			if err := fn(key, filepath.Join(s.dir, n)); err != nil {
				return err
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("file sessions: %w", err)
		}
	}
}
