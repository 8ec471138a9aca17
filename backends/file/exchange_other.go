//go:build !linux

package file

// exchange is unsupported here: the caller renames, as Django does.
func exchange(tmp, path string) (bool, error) { return false, nil }
