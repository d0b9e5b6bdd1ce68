// Package e2e holds the system tests. They build the service binaries of
// this workspace and run them as separate processes in temporary
// directories. Above all they check that no message acknowledged as
// persisted is lost or stored twice, whatever process dies on the way.
package e2e
