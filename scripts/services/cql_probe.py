#!/usr/bin/env python3
"""Run one CQL query against a Cassandra node and print release_version.

Usage: cql_probe.py HOST PORT

Speaks native protocol v4 with the standard library only (no driver): STARTUP,
then QUERY "SELECT release_version FROM system.local". Exits 0 and prints the
version when the node serves queries, or exits 1 with the reason. An open port
alone is not enough, because Cassandra binds the native port before it is ready.
"""

import socket
import struct
import sys

PROTOCOL_VERSION = 4
OPCODE_ERROR = 0x00
OPCODE_STARTUP = 0x01
OPCODE_READY = 0x02
OPCODE_QUERY = 0x07
OPCODE_RESULT = 0x08
RESULT_KIND_ROWS = 0x0002
CONSISTENCY_ONE = 0x0001
FLAG_GLOBAL_TABLES_SPEC = 0x0001
FLAG_HAS_MORE_PAGES = 0x0002
HEADER = struct.Struct(">BBhBi")


def encode_string(value):
    data = value.encode()
    return struct.pack(">H", len(data)) + data


def encode_frame(stream, opcode, body):
    return HEADER.pack(PROTOCOL_VERSION, 0, stream, opcode, len(body)) + body


def recv_exact(sock, size):
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("connection closed by the server")
        data += chunk
    return data


def read_frame(sock):
    _, _, _, opcode, length = HEADER.unpack(recv_exact(sock, HEADER.size))
    body = recv_exact(sock, length)
    if opcode == OPCODE_ERROR:
        code, = struct.unpack_from(">i", body, 0)
        message_length, = struct.unpack_from(">H", body, 4)
        message = body[6:6 + message_length].decode(errors="replace")
        raise RuntimeError(f"server error {code:#06x}: {message}")
    return opcode, body


class Reader:
    def __init__(self, body):
        self.body = body
        self.offset = 0

    def int(self):
        value, = struct.unpack_from(">i", self.body, self.offset)
        self.offset += 4
        return value

    def short(self):
        value, = struct.unpack_from(">H", self.body, self.offset)
        self.offset += 2
        return value

    def string(self):
        length = self.short()
        value = self.body[self.offset:self.offset + length].decode()
        self.offset += length
        return value

    def bytes(self):
        length = self.int()
        if length < 0:
            return None
        value = self.body[self.offset:self.offset + length]
        self.offset += length
        return value


def first_text_cell(body):
    """Return the first cell of a Rows result whose columns are all text."""
    reader = Reader(body)
    kind = reader.int()
    if kind != RESULT_KIND_ROWS:
        raise RuntimeError(f"expected a Rows result, got kind {kind}")
    flags = reader.int()
    column_count = reader.int()
    if flags & FLAG_HAS_MORE_PAGES:
        reader.bytes()
    if flags & FLAG_GLOBAL_TABLES_SPEC:
        reader.string()
        reader.string()
    for _ in range(column_count):
        if not flags & FLAG_GLOBAL_TABLES_SPEC:
            reader.string()
            reader.string()
        reader.string()
        reader.short()  # type id; text columns carry no type parameters
    if reader.int() < 1:
        raise RuntimeError("query returned no rows")
    cell = reader.bytes()
    return "" if cell is None else cell.decode()


def probe(host, port):
    with socket.create_connection((host, port), timeout=5) as sock:
        startup = struct.pack(">H", 1) + encode_string("CQL_VERSION") + encode_string("3.0.0")
        sock.sendall(encode_frame(1, OPCODE_STARTUP, startup))
        opcode, _ = read_frame(sock)
        if opcode != OPCODE_READY:
            raise RuntimeError(f"STARTUP: expected READY, got opcode {opcode:#04x}")

        query = "SELECT release_version FROM system.local".encode()
        body = struct.pack(">i", len(query)) + query + struct.pack(">HB", CONSISTENCY_ONE, 0)
        sock.sendall(encode_frame(2, OPCODE_QUERY, body))
        opcode, body = read_frame(sock)
        if opcode != OPCODE_RESULT:
            raise RuntimeError(f"QUERY: expected RESULT, got opcode {opcode:#04x}")
        return first_text_cell(body)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    host, port = sys.argv[1], int(sys.argv[2])
    try:
        print(probe(host, port))
    except (OSError, RuntimeError, struct.error) as error:
        print(f"CQL probe of {host}:{port} failed: {error}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
