// The WebSocket to the gateway, reopened after every loss with exponential
// backoff and full jitter.

/** Backoff before the first retry; it doubles per failed attempt. */
const BASE_DELAY_MS = 500;
/** Maximum backoff ceiling. */
const MAX_DELAY_MS = 15000;
/**
 * A connection that stays open this long counts as healthy and resets the
 * backoff. One that drops sooner keeps growing it, so a server that
 * accepts and then closes at once is not hammered.
 */
const STABLE_AFTER_MS = 10000;

/**
 * Returns the delay before retry number attempt (0-based): a uniformly
 * random value between 0 and min(MAX, BASE * 2^attempt), the "full jitter"
 * scheme, which spreads reconnecting clients after a server restart.
 */
export function backoffDelay(attempt, random = Math.random) {
  const ceiling = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}

/**
 * Connection owns one WebSocket at a time. State changes and frames go to
 * the callbacks; send returns false while no socket is open, and the
 * caller keeps what it could not send.
 */
export class Connection {
  /**
   * @param {object} options
   * @param {(attempt: number) => Promise<{url: string, protocols: string[]}|null>}
   *   options.target returns the URL and subprotocols of the next attempt,
   *   or null to stop (for example without a valid token). attempt counts
   *   the failed attempts since the last stable connection.
   * @param {(text: string) => void} options.onFrame
   * @param {(state: string, detail: object) => void} options.onState
   *   state is "connecting", "online", "offline" or "stopped"
   */
  constructor({ target, onFrame, onState }) {
    this.target = target;
    this.onFrame = onFrame;
    this.onState = onState;
    this.socket = null;
    this.attempt = 0;
    this.retryTimer = 0;
    this.stableTimer = 0;
    this.stopped = true;
    this.retryAt = 0;
  }

  /** Opens the connection. Calling it while running does nothing. */
  start() {
    if (!this.stopped) return;
    this.stopped = false;
    this.attempt = 0;
    this.open();
  }

  /** Closes the socket and cancels retries. Idempotent. */
  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.stableTimer);
    if (this.socket) {
      const socket = this.socket;
      this.socket = null;
      socket.close(1000, "signed out");
    }
    this.onState("stopped", {});
  }

  /** Skips the rest of the current backoff wait. */
  retryNow() {
    if (this.stopped || this.socket) return;
    clearTimeout(this.retryTimer);
    this.open();
  }

  /** Sends one text frame; returns false when no socket is open. */
  send(text) {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) {
      return false;
    }
    this.socket.send(text);
    return true;
  }

  /** Reports whether a socket is open. */
  get online() {
    return this.socket !== null && this.socket.readyState === WebSocket.OPEN;
  }

  async open() {
    this.onState("connecting", { attempt: this.attempt });
    let target;
    try {
      target = await this.target(this.attempt);
    } catch (error) {
      this.scheduleRetry({ reason: String(error.message || error) });
      return;
    }
    if (this.stopped) return;
    if (target === null) {
      this.stop();
      return;
    }
    const socket = new WebSocket(target.url, target.protocols);
    this.socket = socket;
    socket.addEventListener("open", () => {
      if (this.socket !== socket) return;
      this.stableTimer = setTimeout(() => {
        this.attempt = 0;
      }, STABLE_AFTER_MS);
      this.onState("online", {});
    });
    socket.addEventListener("message", (event) => {
      if (this.socket !== socket || typeof event.data !== "string") return;
      this.onFrame(event.data);
    });
    socket.addEventListener("close", (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      clearTimeout(this.stableTimer);
      if (this.stopped) return;
      this.scheduleRetry({ code: event.code, reason: event.reason });
    });
    // An error event is always followed by a close event, which retries.
  }

  scheduleRetry(detail) {
    const delay = backoffDelay(this.attempt);
    this.attempt += 1;
    this.retryAt = Date.now() + delay;
    this.onState("offline", { ...detail, retryAt: this.retryAt });
    this.retryTimer = setTimeout(() => this.open(), delay);
  }
}
