package payload

import (
	"errors"
	"strings"
	"testing"
)

func TestContentRoundTrip(t *testing.T) {
	cases := []struct {
		name string
		in   Content
		size int
	}{
		{"message", Content{Run: 0xdeadbeef, Kind: KindMessage, Sender: 42, Seq: 7, DueNS: 1764858000123456789}, 0},
		{"padded message", Content{Run: 1, Kind: KindMessage, Sender: 0, Seq: 0, DueNS: 5}, 256},
		{"probe", Content{Run: 0xffffffff, Kind: KindProbe, Sender: 9999}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			content := AppendContent(nil, tc.in, tc.size)
			if len(content) < tc.size {
				t.Errorf("len(content) = %d, want at least %d", len(content), tc.size)
			}
			got, err := ParseContent(content)
			if err != nil {
				t.Fatalf("ParseContent(%q): %v", content, err)
			}
			if got != tc.in {
				t.Errorf("ParseContent(%q) = %+v, want %+v", content, got, tc.in)
			}
		})
	}
}

func TestParseContentRejectsForeign(t *testing.T) {
	for _, content := range []string{
		"hello",
		"pxb1 ",
		"pxb1 zz m 1 2 3",
		"pxb1 0000000a q 1",
		"pxb1 0000000a m 1 2",
		"pxb1 0000000a m -1 2 3",
		"pxb1 0000000a m 1 x 3",
		"pxb1 0000000a m 1 2 99999999999999999999",
		"pxb1 0000000A m 1 2 3",
	} {
		if _, err := ParseContent([]byte(content)); !errors.Is(err, ErrForeign) {
			t.Errorf("ParseContent(%q) error = %v, want ErrForeign", content, err)
		}
	}
}

func TestClientMessageIDRoundTrip(t *testing.T) {
	cases := []Content{
		{Run: 0x12345678, Kind: KindMessage, Sender: 0, Seq: 0},
		{Run: 0xffffffff, Kind: KindMessage, Sender: 1<<28 - 1, Seq: 1<<48 - 1},
		{Run: 7, Kind: KindProbe, Sender: 4097, Seq: 3},
	}
	for _, want := range cases {
		id := ClientMessageID(want.Run, want.Kind, want.Sender, want.Seq)
		if len(id) != 36 || strings.Count(id, "-") != 4 {
			t.Errorf("ClientMessageID = %q, want a hyphenated UUID", id)
		}
		if id[14] != '8' {
			t.Errorf("ClientMessageID = %q, want version 8", id)
		}
		got, err := ParseClientMessageID(id)
		if err != nil {
			t.Fatalf("ParseClientMessageID(%q): %v", id, err)
		}
		if got != want {
			t.Errorf("ParseClientMessageID(%q) = %+v, want %+v", id, got, want)
		}
	}
}

func TestParseClientMessageIDRejectsForeign(t *testing.T) {
	for _, id := range []string{
		"",
		"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
		"not-a-uuid-at-all-not-a-uuid-at-all!",
	} {
		if _, err := ParseClientMessageID(id); !errors.Is(err, ErrForeign) {
			t.Errorf("ParseClientMessageID(%q) error = %v, want ErrForeign", id, err)
		}
	}
}
