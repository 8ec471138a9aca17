package file

import (
	"errors"
	"io/fs"

	"golang.org/x/sys/unix"
)

// exchange atomically swaps the files tmp and path. It reports false (and
// no error) when the file system cannot, and fs.ErrNotExist when path is
// gone.
func exchange(tmp, path string) (bool, error) {
	err := unix.Renameat2(unix.AT_FDCWD, tmp, unix.AT_FDCWD, path, unix.RENAME_EXCHANGE)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, unix.ENOENT):
		return false, fs.ErrNotExist
	case errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENOSYS), errors.Is(err, unix.EOPNOTSUPP):
		return false, nil
	}
	return false, err
}
