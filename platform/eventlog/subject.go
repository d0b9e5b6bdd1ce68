package eventlog

import (
	"encoding/base64"
	"fmt"
	"strings"
)

// Subject layout of the chat stream. Every subject carries the project, so
// a subscription or a filter can never match another tenant's events.
//
//	chat.<project>.dm.<recipient>.<sender>   one event per direct message
//	chat.<project>.room.<room>               one event per room message
//
// A direct message carries both users, so the nodes of the recipient's
// sessions and of the sender's other sessions both receive the one event
// the stream stores.
const (
	// SubjectRoot is the first token of every chat event subject.
	SubjectRoot = "chat"
	// AllSubjects matches every chat event; the stream captures it.
	AllSubjects = SubjectRoot + ".>"
)

// DirectSubject returns the subject of a direct message.
func DirectSubject(project, recipient, sender string) string {
	return SubjectRoot + "." + EncodeToken(project) + ".dm." +
		EncodeToken(recipient) + "." + EncodeToken(sender)
}

// RoomSubject returns the subject of a room message.
func RoomSubject(project, room string) string {
	return SubjectRoot + "." + EncodeToken(project) + ".room." + EncodeToken(room)
}

// UserSubjects returns the two subjects that match every direct message a
// user receives or sends.
func UserSubjects(project, user string) (received, sent string) {
	prefix := SubjectRoot + "." + EncodeToken(project) + ".dm."
	return prefix + EncodeToken(user) + ".*", prefix + "*." + EncodeToken(user)
}

// ProjectSubjects returns the subject filter of every event of one project.
func ProjectSubjects(project string) string {
	return SubjectRoot + "." + EncodeToken(project) + ".>"
}

// encodedMarker starts every encoded token. It cannot start a plain token,
// so decoding is unambiguous.
const encodedMarker = "~"

// EncodeToken maps an id to a NATS subject token, reversibly. Ids made only
// of ASCII letters, digits, '-' and '_' stay as they are, which keeps
// subjects readable. Any other id, including one with '.', '*', '>',
// whitespace or non-ASCII characters, becomes "~" plus its unpadded
// base64url form, whose alphabet is subject-safe.
func EncodeToken(id string) string {
	if id != "" && isPlainToken(id) {
		return id
	}
	return encodedMarker + base64.RawURLEncoding.EncodeToString([]byte(id))
}

// DecodeToken reverses [EncodeToken].
func DecodeToken(token string) (string, error) {
	encoded, found := strings.CutPrefix(token, encodedMarker)
	if !found {
		if token == "" || !isPlainToken(token) {
			return "", fmt.Errorf("decode subject token %q: not produced by EncodeToken", token)
		}
		return token, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(encoded)
	if err != nil {
		return "", fmt.Errorf("decode subject token %q: %w", token, err)
	}
	return string(raw), nil
}

func isPlainToken(id string) bool {
	for i := 0; i < len(id); i++ {
		c := id[i]
		plain := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '-' || c == '_'
		if !plain {
			return false
		}
	}
	return true
}
