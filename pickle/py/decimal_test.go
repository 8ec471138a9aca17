package py

import (
	"encoding/json"
	"errors"
	"math/rand"
	"strings"
	"testing"
)

// decimalCases: input -> str(Decimal(input)) as CPython 3.11.2 printed it
// ("" = InvalidOperation). TestDecimalAgainstCPython re-checks them live.
var decimalCases = []struct{ in, want string }{
	{"1.50", "1.50"}, {"1e3", "1E+3"}, {"0.000001", "0.000001"}, {"0.0000001", "1E-7"}, {"-0", "-0"},
	{"inf", "Infinity"}, {"nan", "NaN"}, {"-0.00", "-0.00"}, {"123E-8", "0.00000123"}, {"12300", "12300"},
	{"1.23E+5", "1.23E+5"}, {"1.2e-5", "0.000012"}, {"12E-7", "0.0000012"}, {"0E+2", "0E+2"}, {"0.00E+10", "0E+8"},
	{"0e5", "0E+5"}, {"0e-7", "0E-7"}, {"-0E-3", "-0.000"}, {"00.00100", "0.00100"}, {"00000000001", "1"},
	{".5", "0.5"}, {"5.", "5"}, {"+.5e-3", "0.0005"}, {"5.e1", "5E+1"}, {"1E-0", "1"},
	{"1__0", "10"}, {"_1", "1"}, {"1_", "1"}, {"1_.0", "1.0"}, {"1e1_0", "1E+10"}, {"1e_10", "1E+10"},
	{"-_1", "-1"}, {"_-1", "-1"}, {"1e+_5", "1E+5"}, {"n_an", "NaN"}, {"In_f", "Infinity"}, {"I_nfinity", "Infinity"},
	{" 1 ", "1"}, {"\t1\n", "1"}, {"\x1c1", "1"}, {"\u00a01", "1"}, {"\u30001", "1"}, {"\u0085 1 \u2028", "1"}, {"1_ ", "1"},
	{"+inf", "Infinity"}, {"-INFINITY", "-Infinity"}, {"InFiNiTy", "Infinity"}, {"-nan", "-NaN"}, {"+sNaN", "sNaN"},
	{"snan0012", "sNaN12"}, {"nan00", "NaN"}, {"NaN_1", "NaN1"}, {"NaN1_2", "NaN12"}, {"Infinity_", "Infinity"},
	{"١٢٣", "123"}, {"１２３", "123"}, {"𝟏𝟐", "12"}, {"٣e٢", "3E+2"}, {"1.٢", "1.2"}, {"NaN٣", "NaN3"}, {"١_٢", "12"},
	{"1e000000000000000000000000005", "1E+5"}, {"1e-000000000000000000000000005", "0.00001"},
	{"1e999999999999999999", "1E+999999999999999999"}, {"0.1e1000000000000000000", "1E+999999999999999999"},
	{"100e-1000000000000000000", "1.00E-999999999999999998"}, {"1e-1999999999999999997", "1E-1999999999999999997"},
	{"0e999999999999999999", "0E+999999999999999999"}, {"0.0e999999999999999999", "0E+999999999999999998"},
	{"1e9999999999999999999", ""}, {"1e-9999999999999999999", ""}, {"12e999999999999999999", ""},
	{"1e1000000000000000000", ""}, {"1e-1999999999999999998", ""}, {"0e1000000000000000000", ""},
	{"1 0", ""}, {"infinit", ""}, {"nan 1", ""}, {".", ""}, {"", ""}, {"-", ""}, {"1e", ""}, {"1e+", ""}, {"e5", ""},
	{"_ 1", ""}, {"_", ""}, {"__", ""}, {"infinity0", ""}, {"nan.", ""}, {"nanE1", ""}, {"-.E1", ""}, {"1\x00", ""},
	{"1,0", ""}, {"0x10", ""}, {"1.5e2.3", ""}, {"+-1", ""}, {"1\xff", ""}, {"１٢x", ""},
}

func TestParseDecimal(t *testing.T) {
	for _, c := range decimalCases {
		v, err := ParseDecimal(c.in)
		if c.want == "" {
			if !errors.Is(err, ErrInvalidDecimal) {
				t.Errorf("ParseDecimal(%q) = %s, %v; want ErrInvalidDecimal", c.in, v, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseDecimal(%q): %v", c.in, err)
			continue
		}
		if got, ok := v.Decimal(); !ok || got != c.want {
			t.Errorf("ParseDecimal(%q) = %q, want %q", c.in, got, c.want)
		}
		// str(Decimal(str(d))) == str(d).
		if again, err := ParseDecimal(c.want); err != nil || again.s != c.want {
			t.Errorf("ParseDecimal(%q) not stable: %v %v", c.want, again, err)
		}
	}
}

// TestDecimalIsZero: bool(Decimal(x)) is False exactly for zeros, whatever
// the sign and exponent; NaN and Infinity are true (CPython's __bool__).
func TestDecimalIsZero(t *testing.T) {
	for in, zero := range map[string]bool{
		"0": true, "-0": true, "0.000": true, "-0.00": true, "0E+8": true, "0E-7": true,
		"1": false, "0.001": false, "1E-7": false, "NaN": false, "-sNaN": false, "Infinity": false, "-Infinity": false,
	} {
		v := must(ParseDecimal(in))
		if got := decimalIsZero(v.s); got != zero {
			t.Errorf("decimalIsZero(%q) = %v", in, got)
		}
		if v.Truthy() == zero {
			t.Errorf("Truthy(Decimal(%q)) = %v", in, v.Truthy())
		}
	}
}

// randomDecimalText builds strings near the Decimal grammar.
func randomDecimalText(r *rand.Rand) string {
	parts := []string{"0", "1", "9", "00", "5", "123", "0001", ".", ".", "e", "E", "+", "-", "_", " ", "nan", "NaN",
		"sNaN", "inf", "Infinity", "i", "x", "٣", "１", "\u00a0", "0000000000", "99999999999999999999", "e-", "E+"}
	var b strings.Builder
	if r.Intn(3) == 0 {
		b.WriteString([]string{"-", "+", " "}[r.Intn(3)])
	}
	for range 1 + r.Intn(6) {
		b.WriteString(parts[r.Intn(len(parts))])
	}
	return b.String()
}

func TestDecimalAgainstCPython(t *testing.T) {
	var ins []string
	for _, c := range decimalCases {
		if strings.ToValidUTF8(c.in, "") == c.in { // JSON carries valid UTF-8 only
			ins = append(ins, c.in)
		}
	}
	r := rand.New(rand.NewSource(2))
	for range 4000 {
		ins = append(ins, randomDecimalText(r))
	}
	reqs := make([]any, len(ins))
	for i, s := range ins {
		reqs[i] = map[string]any{"op": "decimal", "s": s}
	}
	answers := runOracle(t, reqs)
	ok := 0
	for i, s := range ins {
		var a struct {
			OK  bool   `json:"ok"`
			Str string `json:"str"`
		}
		if err := json.Unmarshal(answers[i], &a); err != nil {
			t.Fatal(err)
		}
		v, err := ParseDecimal(s)
		switch {
		case !a.OK && err == nil:
			t.Errorf("ParseDecimal(%q) = %s; Python refuses it", s, v)
		case a.OK && err != nil:
			t.Errorf("ParseDecimal(%q): %v; Python gives %q", s, err, a.Str)
		case a.OK && v.s != a.Str:
			t.Errorf("ParseDecimal(%q) = %q; Python gives %q", s, v.s, a.Str)
		case a.OK:
			ok++
		}
	}
	t.Logf("%d inputs, %d accepted by both with the same text, the rest refused by both", len(ins), ok)
}

// TestUnicodeDigitSpaces checks the tables ParseDecimal relies on against
// CPython: every Nd digit converts, and Python's whitespace set.
func TestUnicodeDigitSpaces(t *testing.T) {
	if _, ok := unicodeDigit('٩'); !ok {
		t.Fatal("U+0669 not a digit")
	}
	for r, want := range map[rune]byte{'0': 0, '9': 9, '٣': 3, '０': 0, '９': 9, 0x1D7CE: 0, 0x1D7D8: 0, 0x1D7FF: 9, 0x1D7E1: 9} {
		if d, ok := unicodeDigit(r); !ok || d != want {
			t.Errorf("unicodeDigit(%U) = %d, %v; want %d", r, d, ok, want)
		}
	}
	for _, r := range []rune{'a', '²', 'Ⅻ', '_', 0xD800} {
		if _, ok := unicodeDigit(r); ok {
			t.Errorf("unicodeDigit(%U) should fail", r)
		}
	}
	// Python 3.11: ''.join(c for c in map(chr, range(0x110000)) if c.isspace())
	want := "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
	var got []rune
	for r := rune(0); r < 0x110000; r++ {
		if pyIsSpace(r) {
			got = append(got, r)
		}
	}
	if string(got) != want {
		t.Errorf("pyIsSpace set = %q, want %q", string(got), want)
	}
}

// FuzzParseDecimal: no panic, and what is accepted is stable under
// ParseDecimal(str(d)).
func FuzzParseDecimal(f *testing.F) {
	for _, c := range decimalCases {
		f.Add(c.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseDecimal(s)
		if err != nil {
			return
		}
		again, err := ParseDecimal(v.s)
		if err != nil || again.s != v.s {
			t.Fatalf("ParseDecimal(%q) = %q, then %q, %v", s, v.s, again.s, err)
		}
	})
}
