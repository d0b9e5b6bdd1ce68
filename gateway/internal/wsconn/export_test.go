package wsconn

import "net"

// NewForTest wraps an established connection, such as one end of a
// net.Pipe, without a handshake.
func NewForTest(conn net.Conn, settings Settings) *Conn {
	return newConn(conn, conn, settings)
}
