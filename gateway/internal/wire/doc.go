// Package wire defines the JSON frames of the WebSocket protocol: strict
// decoders for client frames, encoders for server frames, and the registry
// of error and close codes. Every frame is an object with exactly one key,
// the message type, whose value holds the fields (serde's "externally
// tagged" form, which existing PerOXO clients speak). The package holds no
// state and is safe for concurrent use.
package wire
