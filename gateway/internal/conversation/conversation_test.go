package conversation

import "testing"

func TestIDIsSymmetricAndStable(t *testing.T) {
	first := ID("peroxo_pj_1", "alice", "bob")
	if second := ID("peroxo_pj_1", "bob", "alice"); second != first {
		t.Errorf("ID(bob, alice) = %s, want %s", second, first)
	}
	if again := ID("peroxo_pj_1", "alice", "bob"); again != first {
		t.Errorf("second call = %s, want %s", again, first)
	}
	if len(first) != 36 {
		t.Errorf("ID = %q, want a hyphenated UUID", first)
	}
}

func TestIDSeparatesInputs(t *testing.T) {
	inputs := [][3]string{
		{"p", "alice", "bob"},
		{"q", "alice", "bob"},
		{"p", "alice", "bobb"},
		{"p", "a:1:b", "c"},
		{"p", "a", "1:bc"},
		{"p1:a", "b", "c"},
		{"p", "1:a1:b", "c"},
		{"p", "", "x"},
	}
	seen := make(map[string][3]string)
	for _, input := range inputs {
		id := ID(input[0], input[1], input[2])
		if other, ok := seen[id]; ok {
			t.Errorf("inputs %q and %q share id %s", other, input, id)
		}
		seen[id] = input
	}
}
