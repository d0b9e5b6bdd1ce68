// The web client: signs in, keeps one WebSocket to the gateway, and shows
// direct conversations and rooms. Only this module changes the page state.

import { Channel, channelKey } from "./channel.js";
import { Connection } from "./connection.js";
import { ackStatus, compareIds, decodeFrame, newUUID, request } from "./protocol.js";
import {
  Session,
  fetchClientConfig,
  fetchConversationId,
  fetchDevToken,
  tokenRejected,
  takeFragmentCredentials,
  webSocketProtocols,
  webSocketURL,
} from "./session.js";
import {
  element,
  formatTime,
  renderChannelList,
  renderMessages,
  renderOnline,
} from "./view.js";

/** Renew a development token this long before it expires. */
const RENEW_BEFORE_MS = 60000;
/** Ask for a new pasted token this long before the current one expires. */
const WARN_BEFORE_MS = 120000;
/**
 * Delays after a reconnect at which open channels are synced again. The
 * consumer projects the event log into history asynchronously, so a
 * message sent during the outage may reach history only after the first
 * sync. The later syncs pick it up, and deduplication makes them harmless.
 */
const FOLLOW_UP_SYNC_MS = [2000, 8000];
const VIEW_KEY = "peroxo.view";
/** Retries of a history request that failed for a temporary reason. */
const HISTORY_RETRIES = 3;
/** Delay before the first history retry; it doubles per retry. */
const HISTORY_RETRY_BASE_MS = 1000;
/** Failed connection attempts after which the token itself is checked. */
const CHECK_TOKEN_AFTER_ATTEMPTS = 3;

const state = {
  devMode: false,
  /** @type {Session|null} */
  session: null,
  /** @type {Connection|null} */
  connection: null,
  /** @type {Map<string, Channel>} */
  channels: new Map(),
  activeKey: "",
  /** Direct conversations from the last ConversationList. */
  conversations: [],
  online: new Set(),
  /** client message id -> channel key, to route acks and errors. */
  outgoing: new Map(),
  /** Requests without an id in flight, oldest first: {type, key}. */
  inFlight: [],
  renewTimer: 0,
  offlineTicker: 0,
  followUpTimers: [],
};

/** Per-render state of the message list. */
const view = { messageElements: new Map() };

// ---------------------------------------------------------------------------
// Start-up and sign-in

async function start() {
  bindControls();
  try {
    const config = await fetchClientConfig();
    state.devMode = config.dev_mode === true;
  } catch (error) {
    showSignInError(`Could not read the page settings: ${error.message}`);
  }
  element("dev-sign-in").hidden = !state.devMode;

  const fromFragment = takeFragmentCredentials();
  if (fromFragment) {
    if (fromFragment.projectId && fromFragment.userId) {
      beginSession(new Session(fromFragment));
      return;
    }
    element("token-input").value = fromFragment.token;
    element("project-input").value = fromFragment.projectId;
    element("user-input").value = fromFragment.userId;
    showSignIn("The link has a token; enter the missing project id or user id.");
    return;
  }
  const saved = Session.load();
  if (saved && !(saved.expired() && !saved.dev)) {
    beginSession(saved);
    return;
  }
  showSignIn(saved ? "Your token expired. Sign in again." : "");
}

function showSignIn(message = "") {
  element("sign-in").hidden = false;
  element("app").hidden = true;
  element("identity").hidden = true;
  showSignInError(message);
  const first = state.devMode ? element("dev-user") : element("token-input");
  first.focus();
}

function showSignInError(message) {
  element("sign-in-error").textContent = message;
}

async function signInDev(event) {
  event.preventDefault();
  const userId = element("dev-user").value.trim();
  if (!userId) return;
  const button = event.submitter;
  if (button) button.disabled = true;
  try {
    beginSession(await fetchDevToken(userId));
  } catch (error) {
    showSignInError(error.message);
  } finally {
    if (button) button.disabled = false;
  }
}

function signInToken(event) {
  event.preventDefault();
  const session = new Session({
    token: element("token-input").value.trim(),
    projectId: element("project-input").value.trim(),
    userId: element("user-input").value.trim(),
  });
  element("token-input").value = "";
  beginSession(session);
}

function beginSession(session) {
  state.session = session;
  session.save();
  element("sign-in").hidden = true;
  element("app").hidden = false;
  element("identity").hidden = false;
  element("whoami").textContent = session.userId;
  restoreView();
  scheduleRenewal();
  state.connection = new Connection({
    target: nextSocketTarget,
    onFrame: handleFrame,
    onState: handleConnectionState,
  });
  state.connection.start();
  renderAll();
  element("dm-peer").focus();
}

function signOut() {
  state.connection?.stop();
  state.connection = null;
  clearTimeout(state.renewTimer);
  Session.clear();
  sessionStorage.removeItem(VIEW_KEY);
  state.session = null;
  state.channels.clear();
  state.activeKey = "";
  state.conversations = [];
  state.online.clear();
  state.outgoing.clear();
  state.inFlight = [];
  view.messageElements.clear();
  element("message-list").replaceChildren();
  element("token-banner").hidden = true;
  showSignIn("Signed out.");
}

/**
 * Returns the URL and subprotocols of the next connection attempt. An
 * expired development token is renewed first, and an expired pasted token
 * ends the session. A browser does not expose why a handshake failed, so
 * after repeated failures the token is checked over HTTP, where a rejected
 * token gets 401.
 */
async function nextSocketTarget(attempt) {
  const session = state.session;
  if (!session) return null;
  if (attempt >= CHECK_TOKEN_AFTER_ATTEMPTS && !session.expired() &&
      await tokenRejected(session)) {
    session.expiresAt = Date.now();
  }
  if (session.expired()) {
    if (!session.dev) {
      signOut();
      showSignInError("Your token expired. Sign in again.");
      return null;
    }
    const renewed = await fetchDevToken(session.userId);
    adoptToken(renewed.token, renewed.expiresAt);
  }
  return { url: webSocketURL(), protocols: webSocketProtocols(state.session.token) };
}

function adoptToken(token, expiresAt) {
  state.session.token = token;
  state.session.expiresAt = expiresAt;
  state.session.save();
  scheduleRenewal();
}

/** Keeps the token fresh: renews development tokens, warns otherwise. */
function scheduleRenewal() {
  clearTimeout(state.renewTimer);
  const session = state.session;
  if (!session || !session.expiresAt) return;
  const lead = session.dev ? RENEW_BEFORE_MS : WARN_BEFORE_MS;
  const wait = Math.max(1000, session.expiresAt - lead - Date.now());
  state.renewTimer = setTimeout(session.dev ? renewDevToken : warnTokenExpiry, wait);
}

async function renewDevToken() {
  const session = state.session;
  if (!session) return;
  try {
    const renewed = await fetchDevToken(session.userId);
    adoptToken(renewed.token, renewed.expiresAt);
    state.connection?.send(request.refreshToken(renewed.token));
  } catch (error) {
    element("chat-error").textContent = `Could not renew the token: ${error.message}`;
    state.renewTimer = setTimeout(renewDevToken, 10000);
  }
}

function warnTokenExpiry() {
  element("token-banner").hidden = false;
}

function submitRenewedToken(event) {
  event.preventDefault();
  const input = element("token-renew-input");
  const token = input.value.trim();
  if (!token || !state.session) return;
  input.value = "";
  state.session.token = token;
  state.session.expiresAt = 0;
  state.session.save();
  if (!send(request.refreshToken(token), "RefreshToken", "")) {
    // The next connection uses the new token.
    element("token-banner").hidden = true;
  }
}

// ---------------------------------------------------------------------------
// Connection state

function handleConnectionState(connectionState, detail) {
  for (const timer of state.followUpTimers) clearTimeout(timer);
  state.followUpTimers = [];
  const status = element("connection-status");
  status.dataset.state = connectionState;
  clearInterval(state.offlineTicker);
  const banner = element("offline-banner");
  switch (connectionState) {
    case "connecting":
      status.textContent = "Connecting…";
      break;
    case "online":
      status.textContent = "Online";
      banner.hidden = true;
      resumeAfterConnect();
      break;
    case "offline": {
      status.textContent = "Offline";
      banner.hidden = false;
      const closeReason = detail.reason ? ` (${detail.reason})` : "";
      const tick = () => {
        const seconds = Math.max(0, Math.ceil((detail.retryAt - Date.now()) / 1000));
        element("offline-text").textContent =
          `Offline${closeReason}. Reconnecting in ${seconds} s; ` +
          "messages you send now go out once the connection is back.";
      };
      tick();
      state.offlineTicker = setInterval(tick, 1000);
      if (detail.code === 4001) expireSessionOnClose();
      break;
    }
    default:
      status.textContent = "Not connected";
      banner.hidden = true;
  }
  renderComposer();
}

/** Handles close code 4001 (token expired). */
function expireSessionOnClose() {
  if (!state.session) return;
  // An expired development token is renewed by the next attempt.
  state.session.expiresAt = Math.min(state.session.expiresAt || Date.now(), Date.now());
  state.session.save();
}

/**
 * Restores everything a new connection lacks: the conversation list,
 * presence, room memberships, messages missed while offline and outgoing
 * messages without an acknowledgement, which go out again with the same
 * client_message_id so the server stores each once.
 */
function resumeAfterConnect() {
  state.inFlight = [];
  for (const channel of state.channels.values()) {
    channel.historyInFlight = null;
    channel.historyQueue = [];
  }
  send(request.getConversations(), "GetConversations", "");
  send(request.getOnlineUsers(), "GetOnlineUsers", "");
  for (const channel of state.channels.values()) {
    if (channel.kind === "room") {
      channel.joined = false;
      send(request.joinRoom(channel.id), "JoinRoom", channel.key);
      continue;
    }
    if (channel.loaded) {
      queueHistory(channel, { type: "sync", cursor: channel.syncFromId });
    } else if (channel.key === state.activeKey) {
      queueHistory(channel, { type: "older", cursor: "" });
    }
    resendPending(channel);
  }
  state.followUpTimers = FOLLOW_UP_SYNC_MS.map((delay) => setTimeout(syncOpenChannels, delay));
}

/** Requests what each loaded channel may have missed since its newest message. */
function syncOpenChannels() {
  for (const channel of state.channels.values()) {
    if (!channel.loaded) continue;
    if (channel.kind === "dm") {
      queueHistory(channel, { type: "sync", cursor: channel.syncFromId });
    } else if (channel.joined) {
      queueHistory(channel, { type: "catchup", cursor: "", since: channel.lastSeenId });
    }
  }
}

function resendPending(channel) {
  for (const message of channel.unacknowledged()) {
    sendMessageFrame(channel, message);
  }
}

/**
 * Sends a frame and records the request type and channel, so an Error
 * frame, which names only the request type, can be matched to it. It
 * returns false while offline.
 */
function send(text, type, key) {
  if (!state.connection || !state.connection.send(text)) return false;
  if (type) state.inFlight.push({ type, key });
  return true;
}

/** Removes and returns the oldest request of type in flight. */
function settle(type, key) {
  const index = state.inFlight.findIndex(
    (entry) => entry.type === type && (key === undefined || entry.key === key));
  if (index < 0) return undefined;
  return state.inFlight.splice(index, 1)[0];
}

// ---------------------------------------------------------------------------
// Server frames

const frameHandlers = {
  DirectMessage: onDirectMessage,
  RoomMessage: onRoomMessage,
  MessageAck: onMessageAck,
  Presence: onPresence,
  OnlineUsers: onOnlineUsers,
  ConversationList: onConversationList,
  ChatHistoryResponse: (body) => onHistory("dm", body.conversation_id, body, "older"),
  SyncMessagesResponse: (body) => onHistory("dm", body.conversation_id, body, "sync"),
  RoomHistoryResponse: (body) => onHistory("room", body.room_id, body, "room"),
  RoomJoined: onRoomJoined,
  RoomLeft: onRoomLeft,
  TokenRefreshed: onTokenRefreshed,
  Error: onError,
};

function handleFrame(text) {
  let frame;
  try {
    frame = decodeFrame(text);
  } catch (error) {
    console.warn("ignored a malformed frame", error);
    return;
  }
  const handler = frameHandlers[frame.type];
  if (!handler) {
    console.info("ignored a frame of unknown type", frame.type);
    return;
  }
  handler(frame.body);
}

function onDirectMessage(body) {
  const me = state.session.userId;
  const peer = body.from === me ? body.to : body.from;
  const channel = ensureChannel("dm", body.conversation_id, peer);
  deliver(channel, body.server_message_id, body);
}

function onRoomMessage(body) {
  const channel = state.channels.get(channelKey("room", body.room_id));
  if (!channel) return;
  deliver(channel, body.message_id, body);
}

/** Adds a live message to channel and updates the page unless it is a copy. */
function deliver(channel, id, { from, content, timestamp }) {
  if (!channel.addStored({ id, from, content, timestamp })) return;
  if (channel.key !== state.activeKey && from !== state.session.userId) {
    channel.unread += 1;
  }
  if (channel.key === state.activeKey) renderChat();
  renderSidebar();
}

function onMessageAck(body) {
  const key = state.outgoing.get(body.client_message_id);
  const channel = key ? state.channels.get(key) : undefined;
  if (!channel) return;
  const { status, reason } = ackStatus(body.status);
  channel.applyAck(body.client_message_id, body.message_id, body.timestamp, status, reason);
  if (status === "persisted") state.outgoing.delete(body.client_message_id);
  if (channel.key === state.activeKey) renderChat();
  renderSidebar();
}

function onPresence(body) {
  if (body.status === "Online") {
    state.online.add(body.user);
  } else {
    state.online.delete(body.user);
  }
  renderSidebar();
  renderChatHeader();
}

function onOnlineUsers(body) {
  settle("GetOnlineUsers");
  state.online = new Set(body.users ?? []);
  element("online-error").textContent = "";
  renderSidebar();
  renderChatHeader();
}

function onConversationList(body) {
  settle("GetConversations");
  element("conversations-error").textContent = "";
  state.conversations = body.conversations ?? [];
  for (const summary of state.conversations) {
    const channel = ensureChannel("dm", summary.conversation_id, summary.peer);
    channel.summary = summary.last_message ?? null;
  }
  renderSidebar();
}

/**
 * Applies a history page. For rooms one response type serves both paging
 * and the catch-up after a reconnect, so the channel's request in flight
 * decides what the page means.
 */
function onHistory(kind, id, body, purpose) {
  const channel = state.channels.get(channelKey(kind, id));
  const requestType = {
    older: "GetPaginatedMessages",
    sync: "SyncMessages",
    room: "GetRoomHistory",
  }[purpose];
  settle(requestType, channel?.key);
  if (!channel) return;
  const current = channel.historyInFlight;
  channel.historyInFlight = null;
  channel.historyError = "";
  const messages = body.messages ?? [];
  let reachedKnown = false;
  for (const stored of messages) {
    channel.noteStored(stored.message_id);
    if (current?.type === "catchup" && current.since &&
        compareIds(stored.message_id, current.since) <= 0) {
      reachedKnown = true;
    }
    channel.addStored({
      id: stored.message_id,
      clientId: stored.client_message_id ?? "",
      from: stored.from,
      content: stored.content,
      timestamp: stored.timestamp,
    }, stored.from === state.session.userId ? "persisted" : "received");
  }
  const nextCursor = body.has_more ? body.next_cursor ?? "" : "";
  if (current?.type === "sync") {
    if (body.has_more && nextCursor) {
      channel.historyQueue.unshift({ type: "sync", cursor: nextCursor });
    }
  } else if (current?.type === "catchup") {
    if (body.has_more && nextCursor && !reachedKnown) {
      channel.historyQueue.unshift({ type: "catchup", cursor: nextCursor, since: current.since });
    }
  } else if (current?.type === "older") {
    channel.hasMore = Boolean(body.has_more);
    channel.olderCursor = nextCursor;
  }
  pumpHistory(channel);
  if (channel.key === state.activeKey) renderChat();
  renderSidebar();
}

function onRoomJoined(body) {
  settle("JoinRoom", channelKey("room", body.room_id));
  const channel = ensureChannel("room", body.room_id);
  channel.joined = true;
  channel.members = body.members ?? [];
  channel.error = "";
  if (!channel.loaded) {
    queueHistory(channel, { type: "older", cursor: "" });
  } else {
    queueHistory(channel, { type: "catchup", cursor: "", since: channel.lastSeenId });
  }
  resendPending(channel);
  saveView();
  renderSidebar();
  if (channel.key === state.activeKey) renderChat();
}

function onRoomLeft(body) {
  settle("LeaveRoom", channelKey("room", body.room_id));
  const key = channelKey("room", body.room_id);
  state.channels.delete(key);
  if (state.activeKey === key) state.activeKey = "";
  saveView();
  renderAll();
}

function onTokenRefreshed(body) {
  settle("RefreshToken");
  element("token-banner").hidden = true;
  element("token-banner-error").textContent = "";
  if (state.session && body.expires_at) {
    state.session.expiresAt = Number(body.expires_at);
    state.session.save();
    scheduleRenewal();
  }
}

/** Shows an Error frame next to the control or message it belongs to. */
function onError(body) {
  const text = `${body.message} (code ${body.code})`;
  if (body.client_message_id) {
    const key = state.outgoing.get(body.client_message_id);
    const channel = key ? state.channels.get(key) : undefined;
    if (channel) {
      channel.applyAck(body.client_message_id, "", 0, "failed", text);
      if (channel.key === state.activeKey) renderChat();
      return;
    }
  }
  const entry = settle(body.request);
  const channel = entry?.key ? state.channels.get(entry.key) : undefined;
  switch (body.request) {
    case "GetPaginatedMessages":
    case "SyncMessages":
    case "GetRoomHistory":
      if (channel) {
        retryOrReportHistory(channel, body.code, text);
        return;
      }
      break;
    case "JoinRoom":
      if (channel) {
        channel.error = `Could not join: ${text}`;
        if (!channel.loaded && channel.key !== state.activeKey) {
          state.channels.delete(channel.key);
          element("join-room-error").textContent = `Could not join ${channel.id}: ${text}`;
          saveView();
        }
        renderAll();
        return;
      }
      break;
    case "LeaveRoom":
      if (channel) {
        channel.error = `Could not leave: ${text}`;
        renderAll();
        return;
      }
      break;
    case "GetConversations":
      element("conversations-error").textContent = `Could not list conversations: ${text}`;
      return;
    case "GetOnlineUsers":
      element("online-error").textContent = `Could not list online users: ${text}`;
      return;
    case "RefreshToken":
      element("token-banner").hidden = false;
      element("token-banner-error").textContent = `Token rejected: ${text}`;
      return;
    default:
      break;
  }
  element("chat-error").textContent = `${body.request || "Request"} failed: ${text}`;
}

// ---------------------------------------------------------------------------
// Channels, history and sending

/**
 * Handles a failed history request. Limits (3xxx) and server failures
 * (5xxx) are temporary, so the request is retried with backoff a few times
 * before the error is shown. Other errors are shown at once.
 */
function retryOrReportHistory(channel, code, text) {
  const failed = channel.historyInFlight;
  channel.historyInFlight = null;
  const retries = failed?.retries ?? 0;
  const temporary = (code >= 3000 && code < 4000) || code >= 5000;
  if (failed && temporary && retries < HISTORY_RETRIES) {
    const delay = HISTORY_RETRY_BASE_MS * 2 ** retries;
    setTimeout(() => queueHistory(channel, { ...failed, retries: retries + 1 }), delay);
  } else {
    channel.historyError = `Could not load messages: ${text}`;
  }
  if (channel.key === state.activeKey) renderChat();
  pumpHistory(channel);
}

function ensureChannel(kind, id, peer = "") {
  const key = channelKey(kind, id);
  let channel = state.channels.get(key);
  if (!channel) {
    channel = new Channel(kind, id, peer);
    state.channels.set(key, channel);
  } else if (peer && !channel.peer) {
    channel.peer = peer;
  }
  return channel;
}

/** Queues a history request for channel; one is in flight at a time. */
function queueHistory(channel, task) {
  const queued = channel.historyQueue.some(
    (other) => other.type === task.type && other.cursor === task.cursor);
  if (queued) return;
  channel.historyQueue.push(task);
  pumpHistory(channel);
}

function pumpHistory(channel) {
  if (channel.historyInFlight || channel.historyQueue.length === 0) return;
  if (!state.connection?.online) return;
  const task = channel.historyQueue.shift();
  let text;
  let type;
  if (channel.kind === "dm") {
    const project = state.session.projectId;
    if (task.type === "sync") {
      text = request.syncMessages(project, channel.id, task.cursor);
      type = "SyncMessages";
    } else {
      text = request.getPaginatedMessages(project, channel.id, task.cursor);
      type = "GetPaginatedMessages";
    }
  } else {
    text = request.getRoomHistory(channel.id, task.cursor);
    type = "GetRoomHistory";
  }
  if (send(text, type, channel.key)) {
    channel.historyInFlight = task;
  } else {
    channel.historyQueue.unshift(task);
  }
  if (channel.key === state.activeKey) renderHistoryStatus(channel);
}

function loadOlder() {
  const channel = state.channels.get(state.activeKey);
  if (!channel || !channel.hasMore || channel.historyInFlight) return;
  if (channel.historyQueue.some((task) => task.type === "older")) return;
  queueHistory(channel, { type: "older", cursor: channel.olderCursor });
}

function sendMessageFrame(channel, message) {
  const session = state.session;
  const text = channel.kind === "dm"
    ? request.sendDirectMessage(session.projectId, channel.id, channel.peer,
      message.content, message.clientId)
    : request.roomMessage(channel.id, session.userId, message.content, message.clientId);
  if (channel.kind === "room" && !channel.joined) return false;
  return state.connection?.send(text) ?? false;
}

function submitMessage(event) {
  event.preventDefault();
  const channel = state.channels.get(state.activeKey);
  const input = element("composer-input");
  const content = input.value.trim();
  if (!channel || !content) return;
  const clientId = newUUID();
  const message = channel.addPending(clientId, state.session.userId, content);
  state.outgoing.set(clientId, channel.key);
  input.value = "";
  sendMessageFrame(channel, message);
  renderChat();
  renderSidebar();
}

function retryMessage(clientId) {
  const key = state.outgoing.get(clientId);
  const channel = key ? state.channels.get(key) : undefined;
  const failed = channel?.pending.get(clientId);
  if (!failed) return;
  // The same client id again: a message whose write failed may still have
  // been delivered live, and the gateway retries the write under the
  // message id it already gave it, so recipients get no second copy.
  failed.status = "sending";
  failed.reason = "";
  sendMessageFrame(channel, failed);
  renderChat();
  element("composer-input").focus();
}

async function openDirect(peer) {
  const errorLine = element("open-dm-error");
  errorLine.textContent = "";
  const existing = [...state.channels.values()].find(
    (channel) => channel.kind === "dm" && channel.peer === peer);
  if (existing) {
    activate(existing.key);
    return true;
  }
  try {
    const conversationId = await fetchConversationId(state.session, peer);
    const channel = ensureChannel("dm", conversationId, peer);
    activate(channel.key);
    return true;
  } catch (error) {
    errorLine.textContent = `Could not open a conversation with ${peer}: ${error.message}`;
    return false;
  }
}

function joinRoom(roomId) {
  element("join-room-error").textContent = "";
  const channel = ensureChannel("room", roomId);
  if (!channel.joined) {
    send(request.joinRoom(roomId), "JoinRoom", channel.key);
  }
  activate(channel.key);
}

function leaveActiveRoom() {
  const channel = state.channels.get(state.activeKey);
  if (!channel || channel.kind !== "room") return;
  // A room that is not joined on this connection (offline, or the join
  // failed) is only forgotten, so it is not joined again on reconnect.
  if (!channel.joined || !send(request.leaveRoom(channel.id), "LeaveRoom", channel.key)) {
    onRoomLeft({ room_id: channel.id });
  }
}

function activate(key) {
  const channel = state.channels.get(key);
  if (!channel) return;
  if (state.activeKey !== key) {
    view.messageElements.clear();
    element("message-list").replaceChildren();
  }
  state.activeKey = key;
  channel.unread = 0;
  element("chat-error").textContent = "";
  if (!channel.loaded && !channel.historyInFlight && channel.historyQueue.length === 0 &&
      (channel.kind === "dm" || channel.joined)) {
    queueHistory(channel, { type: "older", cursor: "" });
  }
  saveView();
  renderAll();
  const scroller = element("message-scroller");
  scroller.scrollTop = scroller.scrollHeight;
  element("composer-input").focus();
}

/** Stores the open channels so a reload reopens them. */
function saveView() {
  const channels = [...state.channels.values()]
    .filter((channel) => channel.kind === "room" || channel.key === state.activeKey)
    .map((channel) => ({ kind: channel.kind, id: channel.id, peer: channel.peer }));
  sessionStorage.setItem(VIEW_KEY, JSON.stringify({ channels, active: state.activeKey }));
}

function restoreView() {
  let saved;
  try {
    saved = JSON.parse(sessionStorage.getItem(VIEW_KEY) ?? "null");
  } catch {
    saved = null;
  }
  if (!saved) return;
  for (const entry of saved.channels ?? []) {
    ensureChannel(entry.kind, entry.id, entry.peer);
  }
  if (state.channels.has(saved.active)) state.activeKey = saved.active;
}

// ---------------------------------------------------------------------------
// Rendering

function renderAll() {
  renderSidebar();
  renderChat();
}

function previewOf(message) {
  if (!message) return "";
  const who = message.from === state.session.userId ? "You: " : "";
  return who + message.content;
}

function renderSidebar() {
  if (!state.session) return;
  const dms = [...state.channels.values()].filter((channel) => channel.kind === "dm");
  const entries = dms.map((channel) => {
    const newest = channel.newest() ?? channel.summary ?? null;
    return {
      key: channel.key,
      title: channel.peer || channel.id,
      preview: previewOf(newest),
      time: newest?.timestamp ? formatTime(newest.timestamp) : "",
      sortKey: newest?.timestamp ?? 0,
      unread: channel.unread,
      online: state.online.has(channel.peer),
      active: channel.key === state.activeKey,
    };
  });
  entries.sort((a, b) => b.sortKey - a.sortKey);
  renderChannelList("conversation-list", "conversations-empty", entries, activate);

  const rooms = [...state.channels.values()]
    .filter((channel) => channel.kind === "room")
    .map((channel) => {
      const newest = channel.newest();
      return {
        key: channel.key,
        title: `# ${channel.id}`,
        preview: channel.error || (channel.joined ? previewOf(newest) : "Joining…"),
        time: newest?.timestamp ? formatTime(newest.timestamp) : "",
        unread: channel.unread,
        active: channel.key === state.activeKey,
      };
    });
  renderChannelList("room-list", "rooms-empty", rooms, activate);
  renderOnline(state.online, state.session.userId, openDirect);
}

function renderChatHeader() {
  const channel = state.channels.get(state.activeKey);
  const title = element("chat-title");
  const subtitle = element("chat-subtitle");
  const leave = element("leave-room");
  if (!channel) {
    title.textContent = "No conversation open";
    subtitle.textContent = "Pick a conversation, message a user or join a room.";
    leave.hidden = true;
    return;
  }
  if (channel.kind === "dm") {
    title.textContent = channel.peer || channel.id;
    subtitle.textContent = state.online.has(channel.peer) ? "Online" : "Offline";
    subtitle.dataset.presence = state.online.has(channel.peer) ? "online" : "offline";
    leave.hidden = true;
  } else {
    title.textContent = `# ${channel.id}`;
    const members = channel.members?.length ?? 0;
    subtitle.textContent = channel.joined
      ? `Room · ${members} member${members === 1 ? "" : "s"} here`
      : "Room · joining…";
    delete subtitle.dataset.presence;
    leave.hidden = false;
  }
}

function renderHistoryStatus(channel) {
  const status = element("history-status");
  const older = element("load-older");
  if (channel.historyError) {
    status.textContent = channel.historyError;
  } else if (channel.historyInFlight) {
    status.textContent = channel.historyInFlight.type === "older"
      ? "Loading messages…" : "Catching up…";
  } else if (channel.loaded && !channel.hasMore) {
    status.textContent = "Start of the conversation.";
  } else {
    status.textContent = "";
  }
  older.hidden = !channel.hasMore;
  older.disabled = Boolean(channel.historyInFlight);
}

function renderChat() {
  if (!state.session) return;
  renderChatHeader();
  const channel = state.channels.get(state.activeKey);
  if (!channel) {
    element("message-list").replaceChildren();
    element("history-status").textContent = "";
    element("load-older").hidden = true;
    renderComposer();
    return;
  }
  if (channel.error) element("chat-error").textContent = channel.error;
  renderMessages(view, channel, state.session.userId, retryMessage);
  renderHistoryStatus(channel);
  renderComposer();
}

function renderComposer() {
  const channel = state.channels.get(state.activeKey);
  const enabled = Boolean(channel);
  element("composer-input").disabled = !enabled;
  element("send-button").disabled = !enabled;
}

// ---------------------------------------------------------------------------
// Controls

function bindControls() {
  element("dev-sign-in").addEventListener("submit", signInDev);
  element("token-sign-in").addEventListener("submit", signInToken);
  element("sign-out").addEventListener("click", signOut);
  element("retry-now").addEventListener("click", () => state.connection?.retryNow());
  element("token-banner").addEventListener("submit", submitRenewedToken);
  window.addEventListener("online", () => state.connection?.retryNow());

  element("open-dm").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = element("dm-peer");
    const peer = input.value.trim();
    if (peer && await openDirect(peer)) input.value = "";
  });
  element("join-room").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = element("room-name");
    const roomId = input.value.trim();
    if (!roomId) return;
    input.value = "";
    joinRoom(roomId);
  });
  element("leave-room").addEventListener("click", leaveActiveRoom);

  element("load-older").addEventListener("click", loadOlder);
  element("message-scroller").addEventListener("scroll", (event) => {
    if (event.currentTarget.scrollTop < 80) loadOlder();
  }, { passive: true });
  bindComposer();
}

/**
 * Makes Enter send and Shift+Enter start a new line. Some input paths (for
 * example keys injected through the DevTools protocol) deliver the line
 * break separately from the keydown, so it is dropped until the keyup.
 */
function bindComposer() {
  element("composer").addEventListener("submit", submitMessage);
  let sentByEnter = false;
  const input = element("composer-input");
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      sentByEnter = true;
      element("composer").requestSubmit();
    }
  });
  input.addEventListener("beforeinput", (event) => {
    if (sentByEnter && event.inputType === "insertLineBreak") event.preventDefault();
  });
  input.addEventListener("keyup", () => {
    sentByEnter = false;
  });
}

start();
