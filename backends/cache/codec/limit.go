package codec

import (
	"fmt"
	"io"
)

// readLimited reads r to EOF into a buffer that never grows past limit+1
// bytes. More than limit bytes of output is ErrTooLarge. Read errors are
// returned as they are (unwrapped) so callers can classify them.
func readLimited(r io.Reader, limit int) ([]byte, error) {
	size := 512
	if size > limit+1 {
		size = limit + 1
	}
	return appendLimited(make([]byte, 0, size), r, limit)
}

// appendLimited is readLimited appending to buf: the limit is on the length
// of the result, buf included, so that gzip's members (and anything else
// read in pieces) share one buffer and one bound.
func appendLimited(buf []byte, r io.Reader, limit int) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			if len(buf) > limit {
				return nil, fmt.Errorf("%w (more than %d bytes)", ErrTooLarge, limit)
			}
			n := 2 * cap(buf)
			if n < 512 {
				n = 512
			}
			if n > limit+1 {
				n = limit + 1
			}
			nb := make([]byte, len(buf), n)
			copy(nb, buf)
			buf = nb
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err != nil {
			if err == io.EOF {
				if len(buf) > limit {
					return nil, fmt.Errorf("%w (more than %d bytes)", ErrTooLarge, limit)
				}
				return buf, nil
			}
			return nil, err
		}
		if len(buf) > limit {
			return nil, fmt.Errorf("%w (more than %d bytes)", ErrTooLarge, limit)
		}
	}
}
