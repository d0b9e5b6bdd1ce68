module github.com/peroxo/peroxo/e2e

go 1.26.7

require (
	connectrpc.com/connect v1.21.1
	github.com/coder/websocket v1.8.15
	github.com/google/uuid v1.6.0
	github.com/nats-io/nats.go v1.56.0
	github.com/peroxo/peroxo/platform v0.0.0
	github.com/peroxo/peroxo/schemas v0.0.0
	google.golang.org/protobuf v1.36.12
)

require (
	github.com/klauspost/compress v1.20.1 // indirect
	github.com/nats-io/nkeys v0.4.16 // indirect
	github.com/nats-io/nuid v1.0.1 // indirect
	golang.org/x/crypto v0.57.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
)

replace github.com/peroxo/peroxo/platform => ../platform

replace github.com/peroxo/peroxo/schemas => ../schemas
