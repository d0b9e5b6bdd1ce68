// Sign-in state: the user token and who it belongs to. The token is kept in
// sessionStorage, so it survives a reload of this tab but not the tab, and
// it is only ever sent to the gateway that served this page.

const STORAGE_KEY = "peroxo.session";
/** Requests of a development token before a 503 is shown as an error. */
const DEV_TOKEN_ATTEMPTS = 10;

/**
 * Session is a signed-in user. expiresAt is in milliseconds since the Unix
 * epoch, or 0 when unknown. dev marks a token from the gateway's
 * development endpoint, which the page may renew by itself.
 */
export class Session {
  constructor({ token, projectId, userId, expiresAt = 0, dev = false }) {
    this.token = token;
    this.projectId = projectId;
    this.userId = userId;
    this.expiresAt = expiresAt;
    this.dev = dev;
  }

  /** Reports whether the token is known to have expired. */
  expired(now = Date.now()) {
    return this.expiresAt > 0 && this.expiresAt <= now;
  }

  save() {
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify(this));
  }

  static load() {
    const text = sessionStorage.getItem(STORAGE_KEY);
    if (!text) return null;
    try {
      const fields = JSON.parse(text);
      if (!fields.token || !fields.projectId || !fields.userId) return null;
      return new Session(fields);
    } catch {
      return null;
    }
  }

  static clear() {
    sessionStorage.removeItem(STORAGE_KEY);
  }
}

/**
 * Reads #token=...&project=...&user=... from the page's URL and removes the
 * fragment from the address bar and history, so the token does not linger
 * there. It returns the fields found, or null.
 */
export function takeFragmentCredentials() {
  const fragment = location.hash.startsWith("#") ? location.hash.slice(1) : "";
  if (!fragment) return null;
  const params = new URLSearchParams(fragment);
  const token = params.get("token");
  if (!token) return null;
  history.replaceState(null, "", location.pathname + location.search);
  return {
    token,
    projectId: params.get("project") ?? params.get("project_id") ?? "",
    userId: params.get("user") ?? params.get("user_id") ?? "",
    expiresAt: parseExpiry(params.get("expires_at")),
  };
}

/**
 * Converts an expiry given as milliseconds, seconds or an RFC 3339 string
 * into milliseconds since the epoch; 0 when absent or unreadable.
 */
export function parseExpiry(value) {
  if (value === null || value === undefined || value === "") return 0;
  if (typeof value === "number" || /^\d+$/.test(String(value))) {
    const number = Number(value);
    // Values below 10^12 cannot be milliseconds of this century.
    return number < 1e12 ? number * 1000 : number;
  }
  const parsed = Date.parse(String(value));
  return Number.isNaN(parsed) ? 0 : parsed;
}

/** Reads the page's settings from the gateway (development mode). */
export async function fetchClientConfig() {
  const response = await fetch("config.json", { cache: "no-store" });
  if (!response.ok) {
    throw new Error(`GET config.json: HTTP ${response.status}`);
  }
  return response.json();
}

/** Requests a development token for userId from POST /dev/token. */
export async function fetchDevToken(userId) {
  let response;
  for (let attempt = 0; ; attempt++) {
    response = await fetch("dev/token", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ user_id: userId }),
    });
    // 503 means the gateway is still creating its development project.
    if (response.status !== 503 || attempt >= DEV_TOKEN_ATTEMPTS - 1) break;
    const retryAfter = Number(response.headers.get("Retry-After")) || 1;
    await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000));
  }
  if (!response.ok) {
    throw await responseError("development sign-in", response);
  }
  const body = await response.json();
  if (!body.user_token || !body.project_id) {
    throw new Error("development sign-in returned no user_token or project_id");
  }
  return new Session({
    token: body.user_token,
    projectId: body.project_id,
    userId,
    expiresAt: parseExpiry(body.expires_at),
    dev: true,
  });
}

/**
 * Fetches the id of the direct conversation between the session's user
 * and peer from GET /conversations.
 */
export async function fetchConversationId(session, peer) {
  const response = await requestConversation(session, peer);
  if (!response.ok) {
    throw await responseError("conversation lookup", response);
  }
  const body = await response.json();
  if (!body.conversation_id) {
    throw new Error("conversation lookup returned no conversation_id");
  }
  return body.conversation_id;
}

/**
 * Reports whether the gateway rejects the session's token (HTTP 401 from
 * GET /conversations). Other failures, such as a gateway that is down,
 * report false.
 */
export async function tokenRejected(session) {
  try {
    const response = await requestConversation(session, session.userId);
    return response.status === 401;
  } catch {
    return false;
  }
}

/** Sends GET /conversations for the session's user and peer. */
function requestConversation(session, peer) {
  const query = new URLSearchParams({
    project_id: session.projectId,
    user_id_1: session.userId,
    user_id_2: peer,
  });
  return fetch(`conversations?${query}`, {
    headers: { Authorization: `Bearer ${session.token}` },
    cache: "no-store",
  });
}

/** Returns the WebSocket URL of the gateway that served this page. */
export function webSocketURL() {
  const url = new URL("ws", location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  return url.toString();
}

/**
 * Returns the subprotocols that carry token in the handshake. The gateway
 * selects "peroxo.v1" and reads the token from "bearer.<token>", which
 * keeps the token out of URLs and so out of access logs.
 */
export function webSocketProtocols(token) {
  return ["peroxo.v1", `bearer.${token}`];
}

/**
 * Returns an Error describing a failed response, with the gateway's
 * {"error": "..."} message when the body has one.
 */
async function responseError(what, response) {
  let detail = "";
  try {
    const text = (await response.text()).trim();
    try {
      detail = JSON.parse(text).error ?? text;
    } catch {
      detail = text;
    }
  } catch {
    detail = "";
  }
  return new Error(`${what} failed: HTTP ${response.status}` + (detail ? `: ${detail}` : ""));
}
