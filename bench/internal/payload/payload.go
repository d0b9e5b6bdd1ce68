// Package payload encodes what the load generator puts into a message's
// content and client_message_id, so a receiver can tell which sender sent
// it, its sequence number and when it was due, without shared state.
//
// A message's content is ASCII and needs no JSON escaping:
//
//	pxb1 <run> m <sender> <seq> <due unix ns> [padding]
//	pxb1 <run> p <sender>                        (warm-up probe)
//
// run is a random 32-bit id in hex, so a run ignores traffic from another.
package payload

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
)

// Kind separates measured messages from warm-up probes.
type Kind byte

// Kinds of content.
const (
	KindMessage Kind = 'm'
	KindProbe   Kind = 'p'
)

const prefix = "pxb1 "

// Content is the decoded content of one generated message.
type Content struct {
	Run    uint32
	Kind   Kind
	Sender int
	Seq    int64
	DueNS  int64 // Unix time in nanoseconds when the message was due
}

// ErrForeign marks content that the load generator did not write.
var ErrForeign = errors.New("content not written by the load generator")

// AppendContent appends the content of c to dst, padded with 'x' to at
// least size bytes.
func AppendContent(dst []byte, c Content, size int) []byte {
	begin := len(dst)
	dst = append(dst, prefix...)
	dst = appendHex32(dst, c.Run)
	dst = append(dst, ' ', byte(c.Kind), ' ')
	dst = strconv.AppendInt(dst, int64(c.Sender), 10)
	if c.Kind == KindMessage {
		dst = append(dst, ' ')
		dst = strconv.AppendInt(dst, c.Seq, 10)
		dst = append(dst, ' ')
		dst = strconv.AppendInt(dst, c.DueNS, 10)
	}
	if pad := size - (len(dst) - begin); pad > 0 {
		dst = append(dst, ' ')
		for range pad - 1 {
			dst = append(dst, 'x')
		}
	}
	return dst
}

// ParseContent decodes content written by [AppendContent] without
// allocating, because receivers call it once per delivery. It returns
// [ErrForeign] for content of any other origin.
func ParseContent(content []byte) (Content, error) {
	rest, ok := bytes.CutPrefix(content, []byte(prefix))
	if !ok {
		return Content{}, ErrForeign
	}
	var fields [5][]byte
	count := 0
	for count < len(fields) && len(rest) > 0 {
		field, tail, _ := bytes.Cut(rest, []byte{' '})
		fields[count], rest = field, tail
		count++
	}
	if count < 3 || len(fields[1]) != 1 {
		return Content{}, ErrForeign
	}

	run, ok := parseHex32(fields[0])
	if !ok {
		return Content{}, fmt.Errorf("parse run id %q: %w", fields[0], ErrForeign)
	}
	c := Content{Run: run, Kind: Kind(fields[1][0])}
	sender, ok := parseDecimal(fields[2])
	if !ok || sender > math.MaxInt32 {
		return Content{}, fmt.Errorf("parse sender %q: %w", fields[2], ErrForeign)
	}
	c.Sender = int(sender)
	switch c.Kind {
	case KindProbe:
		return c, nil
	case KindMessage:
		if count < 5 {
			return Content{}, fmt.Errorf("parse message content: %w", ErrForeign)
		}
		if c.Seq, ok = parseDecimal(fields[3]); !ok {
			return Content{}, fmt.Errorf("parse sequence %q: %w", fields[3], ErrForeign)
		}
		if c.DueNS, ok = parseDecimal(fields[4]); !ok {
			return Content{}, fmt.Errorf("parse due time %q: %w", fields[4], ErrForeign)
		}
		return c, nil
	default:
		return Content{}, fmt.Errorf("parse kind %q: %w", fields[1], ErrForeign)
	}
}

// parseDecimal parses a non-negative decimal int64.
func parseDecimal(digits []byte) (int64, bool) {
	if len(digits) == 0 {
		return 0, false
	}
	var value int64
	for _, digit := range digits {
		if digit < '0' || digit > '9' {
			return 0, false
		}
		next := int64(digit - '0')
		if value > (math.MaxInt64-next)/10 {
			return 0, false
		}
		value = value*10 + next
	}
	return value, true
}

// parseHex32 parses exactly eight lowercase hexadecimal digits.
func parseHex32(digits []byte) (uint32, bool) {
	if len(digits) != 8 {
		return 0, false
	}
	var value uint32
	for _, digit := range digits {
		switch {
		case digit >= '0' && digit <= '9':
			value = value<<4 | uint32(digit-'0')
		case digit >= 'a' && digit <= 'f':
			value = value<<4 | uint32(digit-'a'+10)
		default:
			return 0, false
		}
	}
	return value, true
}

// ClientMessageID returns a version 8 (custom) UUID in hyphenated form that
// encodes run, kind, sender and seq, so an acknowledgement can be matched
// to its message without a lookup table. sender must be below 2^28 and seq
// below 2^48.
func ClientMessageID(run uint32, kind Kind, sender int, seq int64) string {
	kindBits := uint64(0)
	if kind == KindProbe {
		kindBits = 1
	}
	s := uint64(sender)
	return fmt.Sprintf("%08x-%04x-8%03x-%04x-%012x",
		run, (s>>12)&0xffff, s&0xfff, 0x8000|kindBits, uint64(seq)&0xffffffffffff)
}

// ParseClientMessageID decodes an id made by [ClientMessageID]. It returns
// [ErrForeign] for any other id.
func ParseClientMessageID(id string) (Content, error) {
	var run, senderHigh, senderLow, variant uint32
	var seq uint64
	if len(id) != 36 {
		return Content{}, ErrForeign
	}
	_, err := fmt.Sscanf(id, "%08x-%04x-8%03x-%04x-%012x",
		&run, &senderHigh, &senderLow, &variant, &seq)
	if err != nil || variant&0xc000 != 0x8000 {
		return Content{}, ErrForeign
	}
	c := Content{
		Run:    run,
		Kind:   KindMessage,
		Sender: int(senderHigh)<<12 | int(senderLow),
		Seq:    int64(seq),
	}
	if variant&1 == 1 {
		c.Kind = KindProbe
	}
	return c, nil
}

func appendHex32(dst []byte, v uint32) []byte {
	const digits = "0123456789abcdef"
	for shift := 28; shift >= 0; shift -= 4 {
		dst = append(dst, digits[(v>>shift)&0xf])
	}
	return dst
}
