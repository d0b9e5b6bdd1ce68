package secret

import (
	"strings"
	"testing"
)

func TestRandomUsesOnlyAlphabet(t *testing.T) {
	for _, alphabet := range []string{LowerAlphanumerics, Alphanumerics} {
		value, err := Random(alphabet, 500)
		if err != nil {
			t.Fatal(err)
		}
		if len(value) != 500 {
			t.Fatalf("len = %d, want 500", len(value))
		}
		if !HasForm(value, "", 500, alphabet) {
			t.Errorf("value %q has a character outside %q", value, alphabet)
		}
	}
}

func TestRandomIsRoughlyUniform(t *testing.T) {
	// 62 symbols, 62,000 draws: each count is binomial with mean 1000 and
	// standard deviation about 31; 850..1150 is nearly five deviations.
	value, err := Random(Alphanumerics, 62_000)
	if err != nil {
		t.Fatal(err)
	}
	for _, symbol := range Alphanumerics {
		count := strings.Count(value, string(symbol))
		if count < 850 || count > 1150 {
			t.Errorf("symbol %q drawn %d times, want about 1000", symbol, count)
		}
	}
}

func TestHasForm(t *testing.T) {
	tests := []struct {
		value string
		want  bool
	}{
		{"px_abc1", true},
		{"px_abc", false},
		{"px_abc12", false},
		{"py_abc1", false},
		{"px_ab-1", false},
		{"", false},
	}
	for _, test := range tests {
		if got := HasForm(test.value, "px_", 4, LowerAlphanumerics); got != test.want {
			t.Errorf("HasForm(%q) = %v, want %v", test.value, got, test.want)
		}
	}
}

func TestHashIsStableHex(t *testing.T) {
	a, b := Hash("pxtok_x"), Hash("pxtok_x")
	if !EqualHash(a, b) || len(a) != 64 {
		t.Fatalf("Hash gave %q and %q", a, b)
	}
	if EqualHash(a, Hash("pxtok_y")) {
		t.Fatal("different credentials hash equal")
	}
}
