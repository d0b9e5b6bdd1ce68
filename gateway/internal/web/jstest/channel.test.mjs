// Unit tests of the client's message bookkeeping, run by node --test.
import assert from "node:assert/strict";
import { test } from "node:test";

import { Channel } from "../static/js/channel.js";

const stored = (id, content, extra = {}) =>
  ({ id, from: "bob", content, timestamp: 1000, ...extra });

test("stored message added once", () => {
  const channel = new Channel("dm", "c1", "bob");
  assert.equal(channel.addStored(stored("0001", "hi")), true);
  assert.equal(channel.addStored(stored("0001", "hi")), false);
  assert.equal(channel.ordered().length, 1);
  assert.equal(channel.lastSeenId, "0001");
});

test("messages ordered by id", () => {
  const channel = new Channel("room", "lobby");
  channel.addStored(stored("0003", "c"));
  channel.addStored(stored("0001", "a"));
  channel.addStored(stored("0002", "b"));
  assert.deepEqual(channel.ordered().map((m) => m.content), ["a", "b", "c"]);
  assert.equal(channel.lastSeenId, "0003");
});

test("ack turns pending into stored", () => {
  const channel = new Channel("dm", "c1", "bob");
  channel.addPending("client-1", "alice", "hello");
  assert.equal(channel.unacknowledged().length, 1);
  assert.equal(channel.applyAck("client-1", "0005", 2000, "persisted", ""), true);
  const [message] = channel.ordered();
  assert.equal(message.id, "0005");
  assert.equal(message.status, "persisted");
  assert.equal(channel.unacknowledged().length, 0);
  assert.equal(channel.lastSeenId, "0005");
});

test("live copy before ack shown once", () => {
  const channel = new Channel("room", "lobby");
  channel.addPending("client-1", "alice", "hello");
  channel.addStored(stored("0005", "hello", { from: "alice" }));
  channel.applyAck("client-1", "0005", 2000, "persisted", "");
  const messages = channel.ordered();
  assert.equal(messages.length, 1);
  assert.equal(messages[0].status, "persisted");
  assert.equal(messages[0].clientId, "client-1");
});

test("history entry with client id replaces pending", () => {
  const channel = new Channel("dm", "c1", "bob");
  channel.addPending("client-1", "alice", "hello");
  channel.addStored(stored("0005", "hello", { from: "alice", clientId: "client-1" }));
  const messages = channel.ordered();
  assert.equal(messages.length, 1);
  assert.equal(messages[0].id, "0005");
  assert.equal(messages[0].status, "persisted");
  // The late ack of the resend finds the message already stored.
  assert.equal(channel.applyAck("client-1", "0005", 2000, "persisted", ""), true);
  assert.equal(channel.ordered().length, 1);
});

test("failed ack keeps message with reason", () => {
  const channel = new Channel("dm", "c1", "bob");
  channel.addPending("client-1", "alice", "hello");
  channel.applyAck("client-1", "", 0, "failed", "event log unavailable");
  const [message] = channel.ordered();
  assert.equal(message.status, "failed");
  assert.equal(message.reason, "event log unavailable");
  assert.equal(channel.unacknowledged().length, 0);
});

test("sync starts at newest stored id", () => {
  const channel = new Channel("dm", "c1", "bob");
  channel.addStored(stored("0001", "from history"));
  channel.noteStored("0001");
  channel.addStored(stored("0002", "live, maybe not projected yet"));
  assert.equal(channel.syncFromId, "0001");
  assert.equal(channel.lastSeenId, "0002");
  channel.noteStored("0000");
  assert.equal(channel.syncFromId, "0001");
});

test("pending messages after stored ones", () => {
  const channel = new Channel("dm", "c1", "bob");
  channel.addPending("client-1", "alice", "pending");
  channel.addStored(stored("0009", "stored"));
  assert.deepEqual(channel.ordered().map((m) => m.content), ["stored", "pending"]);
});
