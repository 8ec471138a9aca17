// Package zlibfloor times the C libraries that bound how fast a session's
// compressed payload can be inflated and deflated: the system zlib (the
// library CPython's zlib module links, so Django's own floor) and
// libdeflate (the fastest widely used DEFLATE library), next to this
// project's signing/pyzlib, on the same bytes in the same run.
//
// It exists to make the performance goals' floor measurable (spec §2.6:
// session_data is zlib level 6 when that is shorter). Its tests also check
// that pyzlib.Compress writes exactly the bytes the C zlib writes.
//
// The code needs cgo and the C headers, so it is built only with the
// zlibfloor build tag:
//
//	apt-get install -y zlib1g-dev libdeflate-dev
//	go test -tags zlibfloor ./bench/zlibfloor/                   # identity tests
//	go test -tags zlibfloor -run '^$' -bench . -count 5 ./bench/zlibfloor/
//
// Without the tag the package is empty.
package zlibfloor
