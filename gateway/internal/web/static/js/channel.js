// Messages of one conversation or room, deduplicated by message id.

import { compareIds } from "./protocol.js";

/**
 * Message is one message as the page shows it. id is the server's message
 * id, empty while an outgoing message waits for its acknowledgement.
 * clientId is set on messages this page sent and on stored messages whose
 * history entry carries it. status is "sending", "persisted", "failed" or
 * "received".
 */
export class Message {
  constructor({ id = "", clientId = "", from, content, timestamp = 0, status, reason = "" }) {
    this.id = id;
    this.clientId = clientId;
    this.from = from;
    this.content = content;
    this.timestamp = timestamp;
    this.status = status;
    this.reason = reason;
    this.createdAt = Date.now();
  }
}

/**
 * Channel is a direct conversation ("dm") or a room ("room") with the
 * messages the page holds for it. Messages are keyed by server id, and
 * outgoing ones by client id until their acknowledgement arrives, so the
 * same message never appears twice whatever order acks, live frames and
 * history pages come in.
 */
export class Channel {
  constructor(kind, id, peer = "") {
    this.kind = kind;
    this.id = id;
    this.peer = peer;
    this.key = channelKey(kind, id);
    /** @type {Map<string, Message>} server id -> message */
    this.stored = new Map();
    /** @type {Map<string, Message>} client id -> message without server id */
    this.pending = new Map();
    /** Largest server id held, live or from history. */
    this.lastSeenId = "";
    /**
     * Largest server id that a history response returned, so it is known
     * to be stored. Syncs start here and not at lastSeenId, because a
     * message delivered live may not be projected into history yet, and
     * the history service rejects a cursor it does not store.
     */
    this.syncFromId = "";
    /** Cursor of the next older page; empty before the first page. */
    this.olderCursor = "";
    /** Whether older history exists; null until the first page arrived. */
    this.hasMore = null;
    /** Requests waiting for this channel's history, sent one at a time. */
    this.historyQueue = [];
    /** The history request in flight, or null. */
    this.historyInFlight = null;
    /** Whether the gateway confirmed JoinRoom on the current connection. */
    this.joined = false;
    /** Room members on the gateway node, from RoomJoined. */
    this.members = [];
    /** Last message from the conversation list, before any page loads. */
    this.summary = null;
    this.unread = 0;
    this.error = "";
    this.historyError = "";
  }

  /** Reports whether the first history page has arrived. */
  get loaded() {
    return this.hasMore !== null;
  }

  /** Adds an outgoing message that waits for its acknowledgement. */
  addPending(clientId, from, content) {
    const message = new Message({ clientId, from, content, status: "sending" });
    this.pending.set(clientId, message);
    return message;
  }

  /**
   * Adds a message the server delivered or returned from history. It
   * returns false when the message was already held. A stored message
   * whose client id matches a pending one replaces it.
   */
  addStored({ id, clientId = "", from, content, timestamp }, status = "received") {
    if (!id || this.stored.has(id)) {
      return false;
    }
    const waiting = clientId ? this.pending.get(clientId) : undefined;
    let message;
    if (waiting) {
      this.pending.delete(clientId);
      waiting.id = id;
      waiting.timestamp = timestamp;
      waiting.status = "persisted";
      waiting.reason = "";
      message = waiting;
    } else {
      message = new Message({ id, clientId, from, content, timestamp, status });
    }
    this.stored.set(id, message);
    if (!this.lastSeenId || compareIds(id, this.lastSeenId) > 0) {
      this.lastSeenId = id;
    }
    return true;
  }

  /**
   * Applies a MessageAck to the pending message with clientId. It returns
   * false when this channel has no such message.
   */
  applyAck(clientId, messageId, timestamp, status, reason) {
    const message = this.pending.get(clientId);
    if (!message) {
      const stored = messageId ? this.stored.get(messageId) : undefined;
      return stored !== undefined && stored.clientId === clientId;
    }
    if (status === "failed") {
      message.status = "failed";
      message.reason = reason;
      return true;
    }
    this.pending.delete(clientId);
    if (this.stored.has(messageId)) {
      // The live copy of this message arrived before its acknowledgement.
      const live = this.stored.get(messageId);
      live.clientId = clientId;
      live.status = "persisted";
      return true;
    }
    message.id = messageId;
    message.timestamp = timestamp;
    message.status = "persisted";
    message.reason = "";
    this.stored.set(messageId, message);
    if (!this.lastSeenId || compareIds(messageId, this.lastSeenId) > 0) {
      this.lastSeenId = messageId;
    }
    return true;
  }

  /** Records that a history response returned the message with id. */
  noteStored(id) {
    if (!this.syncFromId || compareIds(id, this.syncFromId) > 0) {
      this.syncFromId = id;
    }
  }

  /** Returns the outgoing messages that still wait for an acknowledgement. */
  unacknowledged() {
    return [...this.pending.values()].filter((m) => m.status === "sending");
  }

  /** Returns the messages in display order: stored by id, then pending. */
  ordered() {
    const stored = [...this.stored.values()].sort((a, b) => compareIds(a.id, b.id));
    const pending = [...this.pending.values()].sort((a, b) => a.createdAt - b.createdAt);
    return stored.concat(pending);
  }

  /** Returns the newest message, or undefined. */
  newest() {
    const all = this.ordered();
    return all[all.length - 1];
  }
}

/** Returns the map key of a channel. */
export function channelKey(kind, id) {
  return `${kind}:${id}`;
}
