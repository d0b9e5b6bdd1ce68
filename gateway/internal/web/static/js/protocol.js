// Frames of the gateway's WebSocket protocol. Every frame is a JSON object
// with exactly one key, the message type, whose value contains the fields.

/** Encodes a client frame. */
export function encodeFrame(type, fields) {
  return JSON.stringify({ [type]: fields });
}

/**
 * Decodes a server frame into {type, body}. Throws on anything that is not
 * an object with exactly one key.
 */
export function decodeFrame(text) {
  const value = JSON.parse(text);
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new Error("frame is not a JSON object");
  }
  const keys = Object.keys(value);
  if (keys.length !== 1) {
    throw new Error(`frame has ${keys.length} keys, expected 1`);
  }
  return { type: keys[0], body: value[keys[0]] ?? {} };
}

/**
 * Returns a random hyphenated UUID (version 4). crypto.randomUUID exists
 * only in secure contexts, so a page served over plain HTTP from a LAN
 * address falls back to getRandomValues, which exists everywhere.
 */
export function newUUID() {
  if (typeof crypto.randomUUID === "function") {
    return crypto.randomUUID();
  }
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0"));
  return [
    hex.slice(0, 4).join(""),
    hex.slice(4, 6).join(""),
    hex.slice(6, 8).join(""),
    hex.slice(8, 10).join(""),
    hex.slice(10, 16).join(""),
  ].join("-");
}

/** Page size of history requests; the server's maximum is larger. */
export const HISTORY_PAGE = 50;

/** Client frame builders, one per request type. */
export const request = {
  sendDirectMessage(projectId, conversationId, to, content, clientMessageId) {
    return encodeFrame("SendDirectMessage", {
      conversation_id: conversationId,
      to: { project_id: projectId, user_id: to },
      content,
      client_message_id: clientMessageId,
    });
  },
  joinRoom(roomId) {
    return encodeFrame("JoinRoom", { room_id: roomId });
  },
  leaveRoom(roomId) {
    return encodeFrame("LeaveRoom", { room_id: roomId });
  },
  roomMessage(roomId, from, content, clientMessageId) {
    // In RoomMessage, message_id is the client's id for the message.
    return encodeFrame("RoomMessage", {
      room_id: roomId,
      from,
      content,
      message_id: clientMessageId,
    });
  },
  getPaginatedMessages(projectId, conversationId, beforeId) {
    return encodeFrame("GetPaginatedMessages", {
      project_id: projectId,
      conversation_id: conversationId,
      message_id: beforeId,
      limit: HISTORY_PAGE,
    });
  },
  syncMessages(projectId, conversationId, afterId) {
    return encodeFrame("SyncMessages", {
      project_id: projectId,
      conversation_id: conversationId,
      message_id: afterId,
    });
  },
  getRoomHistory(roomId, beforeId) {
    return encodeFrame("GetRoomHistory", {
      room_id: roomId,
      message_id: beforeId,
      limit: HISTORY_PAGE,
    });
  },
  getConversations() {
    return encodeFrame("GetConversations", {});
  },
  getOnlineUsers() {
    return encodeFrame("GetOnlineUsers", {});
  },
  refreshToken(token) {
    return encodeFrame("RefreshToken", { token });
  },
};

/**
 * Converts a MessageAck status ("Persisted" or {"Failed": reason}) into
 * {status, reason}.
 */
export function ackStatus(status) {
  if (status === "Persisted") {
    return { status: "persisted", reason: "" };
  }
  if (status && typeof status === "object" && "Failed" in status) {
    return { status: "failed", reason: String(status.Failed) };
  }
  return { status: "failed", reason: `unknown status ${JSON.stringify(status)}` };
}

/**
 * Compares two server message ids. They are UUIDv7, whose hyphenated form
 * sorts in creation order as a plain string.
 */
export function compareIds(a, b) {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}
