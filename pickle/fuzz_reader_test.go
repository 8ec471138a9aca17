package pickle

import (
	"strings"
	"testing"

	"github.com/djsession/djsession/pickle/py"
)

// rdFuzzSeeds are hand-made hostile seeds, in addition to every pickle of
// the CPython corpus (testdata/reader/corpus.jsonl).
var rdFuzzSeeds = []string{
	"", ".", "\xff", "\x80\x05\xff.", "(K\x01d.", "}(K\x01u.", "\x80\x02\x8a\x00.",
	"\x80\x04\x8f(C\x01a\x90.", "\x80\x04\x8f(]\x90.", "]q\x00h\x00a.",
	"cos\nsystem\n(S'id'\ntR.", "\x80\x04\x8c\x02os\x94\x8c\x06system\x94Nh\x00h\x01\x93.",
	"(S'id'\nios\nsystem\n.", "cbuiltins\ngetattr\n(czoneinfo\nZoneInfo\nS'clear_cache'\ntR)R.",
	"\x80\x04\x8d" + u64(1<<62) + ".", "\x80\x04\x95" + u64(1) + "K\x01.",
	"Pfoo\n.", "\x80\x05\x97.", "V\\u12\n.", "S'\\x4'\n.", "(V\\u0041\nX\x06\x00\x00\x00\\u0041l.",
	"\x80\x02cuuid\nUUID\n)\x81}X\x03\x00\x00\x00intJ\xff\xff\xff\xffsb.",
	"ccopy_reg\n_reconstructor\n(cuuid\nUUID\nc__builtin__\nobject\nNtR}X\x03\x00\x00\x00intK\x05sb.",
	"c__builtin__\nset\n((lI1\naI2\natR.", "\x80\x02c__builtin__\nbytes\n)R.",
	string(rdDAG(12)), ")" + strings.Repeat("\x85", 300) + ".",
	// Text numbers, memo indices, shapes and sharing the single pass handles.
	"I010\n.", "I+1\n.", "I1_000\n.", "L0x_fL\n.", "F-nan\n.", "F1.5\x00x\n.", "K\x01p 0 \ng+0\n.",
	"K\x05r\xff\xff\x00\x00j\xff\xff\x00\x00.", "\x80\x04K\x01q\x05K\x02\x94h\x01.",
	"(iuuid\nUUID\n(dS'int'\nI5\nsb.", "(cuuid\nUUID\no}S'int'\nI7\nsb.",
	"]q\x00h\x00\x85a.", "]q\x00]q\x01]q\x02h\x01h\x02a0h\x00h\x01a0h\x00.",
	rdLevels(12) + "}h\x0cNs.", rdLevels(12) + "(h\x0c\x91.",
	"\x80\x04\x8f(K\x03K\x01\x90(K\x02K\x01\x90.", "\x80\x02]K\x00K\x05s.", "]Nb.",
	"\x80\x04\x8c\x0bcollections\x8c\x0bOrderedDict\x93)R(C\x01kK\x01C\x01jK\x02u.",
}

// FuzzLoads: Loads never panics, not even internally (the recover at its
// boundary would report "internal error"); every error wraps exactly one
// sentinel; a loaded value can be printed and loads the same way twice.
// FuzzLoadsGopickle (reader_oracle_test.go) compares values with gopickle.
func FuzzLoads(f *testing.F) {
	for _, c := range rdCommittedCorpus(f) {
		f.Add(c.data(f))
	}
	for _, s := range rdFuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Loads(data)
		if err != nil {
			if s := rdSentinel(err); s == nil {
				t.Fatalf("error %q wraps no single sentinel", err)
			}
			if strings.Contains(err.Error(), "internal error") {
				t.Fatalf("the reader panicked: %v", err)
			}
			return
		}
		r := v.Repr()
		_, _ = py.NormalJSON(v)
		v2, err := Loads(data)
		if err != nil {
			t.Fatalf("second load failed: %v", err)
		}
		if r2 := v2.Repr(); r2 != r {
			t.Fatalf("not deterministic: %.200s vs %.200s", r, r2)
		}
	})
}
