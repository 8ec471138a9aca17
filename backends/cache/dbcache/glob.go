package dbcache

import "strings"

// globMatch reports whether key matches the Redis glob pattern, as Redis's
// stringmatchlen does it (case-sensitive, byte by byte): "*" matches any
// run of bytes, "?" any one byte, "[...]" one byte of a set ("^" first
// negates it, "a-z" is a range, either way round, "\" escapes the next
// byte, and a set left open ends with the pattern), and "\x" outside a set
// is x itself. A "\" ending the pattern is itself. A "*" is retried
// from the last one only (the classic two-pointer algorithm), so a pattern
// full of stars costs O(len(pattern)×len(key)), never exponential time.
func globMatch(pattern, key string) bool {
	p, k := 0, 0
	star, starKey := -1, 0
	for k < len(key) {
		if p < len(pattern) {
			switch pattern[p] {
			case '*':
				for p < len(pattern) && pattern[p] == '*' {
					p++
				}
				if p == len(pattern) {
					return true
				}
				star, starKey = p, k
				continue
			default:
				if next, ok := matchOne(pattern, p, key[k]); ok {
					p, k = next, k+1
					continue
				}
			}
		}
		if star < 0 {
			return false
		}
		starKey++
		p, k = star, starKey
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// matchOne matches the single-byte element of pattern at p (not a star)
// against c: it returns the index after the element and whether c matches.
func matchOne(pattern string, p int, c byte) (next int, ok bool) {
	switch pattern[p] {
	case '?':
		return p + 1, true
	case '\\':
		if p+1 < len(pattern) {
			return p + 2, pattern[p+1] == c
		}
		return p + 1, c == '\\'
	case '[':
		return matchSet(pattern, p+1, c)
	}
	return p + 1, pattern[p] == c
}

// matchSet matches c against the set starting at pattern[p] (just after
// "["), returning the index after its "]" (or the pattern's end).
func matchSet(pattern string, p int, c byte) (next int, ok bool) {
	not := p < len(pattern) && pattern[p] == '^'
	if not {
		p++
	}
	match := false
	for p < len(pattern) && pattern[p] != ']' {
		switch {
		case pattern[p] == '\\' && p+1 < len(pattern):
			if pattern[p+1] == c {
				match = true
			}
			p += 2
		case p+2 < len(pattern) && pattern[p+1] == '-':
			lo, hi := pattern[p], pattern[p+2]
			if lo > hi {
				lo, hi = hi, lo
			}
			if c >= lo && c <= hi {
				match = true
			}
			p += 3
		default:
			if pattern[p] == c {
				match = true
			}
			p++
		}
	}
	if p < len(pattern) {
		p++ // the closing "]"
	}
	return p, match != not
}

// literalPrefix returns the text every key matching pattern starts with:
// the pattern up to its first wildcard, with the escapes codec.MakePattern
// writes ("[*]", "[?]", "[[]": a set of one byte) and "\x" read as the
// byte they stand for. It may be shorter than the longest such prefix,
// never longer; Scan narrows the rows it reads with it and matches the
// whole pattern with globMatch.
func literalPrefix(pattern string) string {
	var b strings.Builder
	for i := 0; i < len(pattern); {
		switch c := pattern[i]; c {
		case '*', '?':
			return b.String()
		case '\\':
			if i+1 >= len(pattern) {
				b.WriteByte('\\')
				return b.String()
			}
			b.WriteByte(pattern[i+1])
			i += 2
		case '[':
			// Only a set of exactly one plain byte is a literal.
			if i+2 < len(pattern) && pattern[i+2] == ']' && pattern[i+1] != '^' && pattern[i+1] != '\\' && pattern[i+1] != ']' {
				b.WriteByte(pattern[i+1])
				i += 3
				continue
			}
			return b.String()
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}
