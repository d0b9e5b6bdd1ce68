// Unit tests of frame encoding and reconnect timing, run by node --test.
import assert from "node:assert/strict";
import { test } from "node:test";

import { backoffDelay } from "../static/js/connection.js";
import {
  ackStatus,
  compareIds,
  decodeFrame,
  encodeFrame,
  newUUID,
  request,
} from "../static/js/protocol.js";

test("frame has one key", () => {
  assert.equal(encodeFrame("JoinRoom", { room_id: "lobby" }), '{"JoinRoom":{"room_id":"lobby"}}');
  assert.deepEqual(decodeFrame('{"RoomLeft":{"room_id":"x"}}'),
    { type: "RoomLeft", body: { room_id: "x" } });
});

test("malformed frames rejected", () => {
  for (const text of ["[]", "null", "1", '{"a":{},"b":{}}', "{}", "not json"]) {
    assert.throws(() => decodeFrame(text), undefined, text);
  }
});

test("send frame shape", () => {
  const frame = JSON.parse(request.sendDirectMessage("pj", "conv", "bob", "hi", "cid"));
  assert.deepEqual(frame, {
    SendDirectMessage: {
      conversation_id: "conv",
      to: { project_id: "pj", user_id: "bob" },
      content: "hi",
      client_message_id: "cid",
    },
  });
  const room = JSON.parse(request.roomMessage("lobby", "alice", "hey", "cid"));
  assert.deepEqual(room, {
    RoomMessage: { room_id: "lobby", from: "alice", content: "hey", message_id: "cid" },
  });
});

test("ack status decoded", () => {
  assert.deepEqual(ackStatus("Persisted"), { status: "persisted", reason: "" });
  assert.deepEqual(ackStatus({ Failed: "timeout" }), { status: "failed", reason: "timeout" });
  assert.equal(ackStatus("Other").status, "failed");
});

test("uuid is hyphenated version 4", () => {
  const pattern = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  for (let i = 0; i < 100; i++) {
    assert.match(newUUID(), pattern);
  }
});

test("uuidv7 ids compare by time", () => {
  const older = "01900000-0000-7000-8000-000000000000";
  const newer = "01900000-0001-7000-8000-000000000000";
  assert.equal(compareIds(older, newer), -1);
  assert.equal(compareIds(newer, older), 1);
  assert.equal(compareIds(older, older), 0);
});

test("backoff uses full jitter up to a ceiling", () => {
  const ceilings = [500, 1000, 2000, 4000, 8000, 15000, 15000];
  ceilings.forEach((ceiling, attempt) => {
    assert.equal(backoffDelay(attempt, () => 0), 0);
    assert.equal(backoffDelay(attempt, () => 0.999999), ceiling - 1);
  });
  assert.equal(backoffDelay(1000, () => 0.5), 7500);
});
