// Package conversation derives the id of the direct conversation between
// two users of a project. The id is computed, never stored, so every
// gateway node returns the same id without coordination.
package conversation

import (
	"strconv"

	"github.com/google/uuid"
)

// namespace is the UUIDv5 namespace of conversation ids. Changing it
// changes every conversation id, so it is fixed forever.
var namespace = uuid.MustParse("6f1c1f0e-4b59-4d8e-9a55-2f0c8f3a7c11")

// ID returns the conversation id of users a and b in project: a UUIDv5
// over the project and the sorted pair. Each part is prefixed with its
// byte length, so no two different (project, pair) inputs share a name
// even when ids contain the separator. ID(p, a, b) == ID(p, b, a).
func ID(project, a, b string) string {
	if b < a {
		a, b = b, a
	}
	name := make([]byte, 0, len(project)+len(a)+len(b)+16)
	for _, part := range []string{project, a, b} {
		name = strconv.AppendInt(name, int64(len(part)), 10)
		name = append(name, ':')
		name = append(name, part...)
	}
	return uuid.NewSHA1(namespace, name).String()
}
