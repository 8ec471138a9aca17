package faulttest_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/djsession/djsession/backends/file"
	"github.com/djsession/djsession/django"
)

// mountTmpfs mounts a tmpfs with opts on dir and unmounts it when the test
// ends (before dir is removed). Where mounting is not permitted the test
// is skipped with the reason, even with DJSESSION_REQUIRE_SERVICES=1:
// mounting is a property of the sandbox, not a service CI can start.
func mountTmpfs(t *testing.T, dir, opts string) {
	t.Helper()
	if _, err := exec.LookPath("mount"); err != nil {
		t.Skipf("no mount command (%v): this fault needs a tmpfs; skipped even with DJSESSION_REQUIRE_SERVICES=1", err)
	}
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", opts, "faulttest", dir).CombinedOutput()
	if err != nil {
		t.Skipf("cannot mount a tmpfs here (%v: %s): this fault needs root and a sandbox that permits "+
			"mount; skipped even with DJSESSION_REQUIRE_SERVICES=1", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s; detaching it lazily", dir, err, out)
			_ = exec.Command("umount", "-l", dir).Run()
		}
	})
}

// permissionsBind reports whether a folder without write permission stops
// this process (not so for root, or with CAP_DAC_OVERRIDE).
func permissionsBind(t *testing.T) bool {
	d := t.TempDir()
	if err := os.Chmod(d, 0o500); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(d, 0o700)
	f, err := os.Create(filepath.Join(d, "probe"))
	if err != nil {
		return true
	}
	f.Close()
	os.Remove(f.Name())
	return false
}

// fileFixture is a file store in dir with a logged-in session and a kept
// one, and the bytes of their files.
type fileFixture struct {
	dir        string
	s          *django.Settings
	st         *file.Store
	ops        storeOps
	a          *app
	user, kept string
	files      map[string][]byte // file name → content
}

func newFileFixture(t *testing.T, dir string) *fileFixture {
	t.Helper()
	s := settings()
	s.SessionFilePath = dir
	st, err := file.New(s)
	if err != nil {
		t.Fatal(err)
	}
	f := &fileFixture{dir: dir, s: s, st: st, ops: storeOps{st: st, ctx: testCtx(t)}, a: newApp(t, st, s)}
	f.user = f.a.login(t)
	f.kept = newKey(t)
	if r := f.ops.save(versioned(f.kept, 0), true); r.err != nil {
		t.Fatalf("healthy: %s", r)
	}
	f.files = map[string][]byte{}
	for _, k := range []string{f.user, f.kept} {
		name := s.SessionCookieName + k
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || len(b) == 0 {
			t.Fatalf("session file %s: %v (%d bytes)", name, err, len(b))
		}
		f.files[name] = b
	}
	return f
}

// checkIntact checks the session files hold what they held, and that the
// folder holds nothing else but extra (no temporary file, no placeholder).
func (f *fileFixture) checkIntact(t *testing.T, extra ...string) {
	t.Helper()
	for name, want := range f.files {
		if got, err := os.ReadFile(filepath.Join(f.dir, name)); err != nil || string(got) != string(want) {
			t.Errorf("%s changed: %q, %v; want %q", name, got, err, want)
		}
	}
	entries, err := os.ReadDir(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if _, ok := f.files[e.Name()]; !ok && !slices.Contains(extra, e.Name()) {
			t.Errorf("left behind in the session folder: %s", e.Name())
		}
	}
}

// checkFaulty runs what every unwritable folder must answer: saves fail
// with an error (not a conflict or a missing session), nothing changes on
// disk, Load still works, reads over HTTP still see the user, and writes
// over HTTP are a 500 without a cookie (Django's exception).
func (f *fileFixture) checkFaulty(t *testing.T, cause error, extra ...string) {
	t.Helper()
	fresh := newKey(t)
	for _, r := range []result{f.ops.save(versioned(f.kept, 1), false), f.ops.save(versioned(fresh, 1), true)} {
		switch {
		case r.err == nil:
			t.Errorf("unwritable folder: %s succeeded", r)
		case errors.Is(r.err, django.ErrUpdateMissing), errors.Is(r.err, django.ErrCreateConflict):
			t.Errorf("unwritable folder: a store failure reported as a session state: %s", r)
		case cause != nil && !errors.Is(r.err, cause):
			t.Errorf("unwritable folder: want an error wrapping %v: %s", cause, r)
		}
	}
	f.checkIntact(t, extra...)
	checkVersion(t, f.ops, f.kept, 0, 0)
	if r := f.ops.exists(f.kept); r.err != nil || !r.found {
		t.Errorf("unwritable folder: %s", r)
	}
	if r := f.ops.load(fresh); r.err != nil || r.found {
		t.Errorf("unwritable folder: a failed create left a session: %s", r)
	}
	wantUser(t, f.a.get("/whoami", f.user), "1")
	for _, key := range []string{f.user, ""} {
		if r := f.a.get("/touch?v=x", key); r.err != nil || r.status != 500 || r.cookie != nil {
			t.Errorf("unwritable folder: /touch (cookie %v): want 500 without Set-Cookie, got %s", key != "", r)
		}
	}
	f.checkIntact(t, extra...)
}

// TestFileReadOnlyFolder: the session folder becomes read-only. As root,
// where chmod does not bind, the folder is a tmpfs remounted read-only.
func TestFileReadOnlyFolder(t *testing.T) {
	requireFaults(t)
	dir := t.TempDir()
	var readOnly func()
	var cause error
	if permissionsBind(t) {
		readOnly = func() {
			if err := os.Chmod(dir, 0o500); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Chmod(dir, 0o700) })
		}
		cause = os.ErrPermission
	} else {
		// Root: permissions do not bind, a read-only mount does.
		mountTmpfs(t, dir, "size=1m,mode=0700")
		readOnly = func() {
			if out, err := exec.Command("mount", "-o", "remount,ro", dir).CombinedOutput(); err != nil {
				t.Skipf("cannot remount the tmpfs read-only (%v: %s); skipped even with DJSESSION_REQUIRE_SERVICES=1", err, out)
			}
		}
		cause = syscall.EROFS
	}
	f := newFileFixture(t, dir)
	readOnly()
	f.checkFaulty(t, cause)
	if r := f.ops.delete(f.kept); r.err == nil {
		t.Errorf("read-only folder: %s succeeded", r)
	}
	f.checkIntact(t)
}

// TestFileFullFolder: the session folder's filesystem (a 64 KiB tmpfs) is
// full; once space is freed, saving works again.
func TestFileFullFolder(t *testing.T) {
	requireFaults(t)
	dir := t.TempDir()
	mountTmpfs(t, dir, "size=64k,mode=0700")
	f := newFileFixture(t, dir)

	// Fill the filesystem: 4 KiB at a time, bounded.
	const filler = "filler"
	fill, err := os.Create(filepath.Join(dir, filler))
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 4096)
	full := false
	for range 64 {
		if _, err := fill.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling the tmpfs: %v", err)
			}
			full = true
			break
		}
	}
	fill.Close()
	if !full {
		t.Fatal("a 64 KiB tmpfs took 256 KiB without ENOSPC")
	}

	f.checkFaulty(t, syscall.ENOSPC, filler)

	// Space again: the same store saves.
	if err := os.Remove(filepath.Join(dir, filler)); err != nil {
		t.Fatal(err)
	}
	if r := f.ops.save(versioned(f.kept, 2), false); r.err != nil {
		t.Fatalf("space freed: %s", r)
	}
	checkVersion(t, f.ops, f.kept, 2, 2)
	if r := f.a.get("/touch?v=y", f.user); r.err != nil || r.status != 200 || r.cookie == nil || r.cookie.Value != f.user {
		t.Errorf("space freed: /touch: want 200 with the session cookie, got %s", r)
	}
}
