// DOM rendering. Functions here read the page state and update elements;
// they never send frames.

/** Returns the element with id, failing loudly when the page lacks it. */
export function element(id) {
  const found = document.getElementById(id);
  if (!found) throw new Error(`page has no element #${id}`);
  return found;
}

/** Creates an element with a class and text. */
function make(tag, className = "", text = "") {
  const created = document.createElement(tag);
  if (className) created.className = className;
  if (text) created.textContent = text;
  return created;
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, {
  month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
});

/** Formats a timestamp in ms: time only for today, date and time otherwise. */
export function formatTime(timestamp) {
  if (!timestamp) return "";
  const date = new Date(timestamp);
  const today = new Date();
  return date.toDateString() === today.toDateString()
    ? timeFormat.format(date)
    : dateTimeFormat.format(date);
}

/** Returns the text of a message status for the sender. */
function statusText(message) {
  switch (message.status) {
    case "sending":
      return "Sending…";
    case "persisted":
      return "Sent";
    case "failed":
      return `Failed: ${message.reason}`;
    default:
      return "";
  }
}

/**
 * Renders the messages of channel into the list, reusing the element of
 * each message across renders so focus and selection survive.
 * scrollHint is "bottom" to stick to the newest message, "older" when a
 * page was prepended above, or "" to keep the reader's position.
 */
export function renderMessages(view, channel, userId, onRetry) {
  const scroller = element("message-scroller");
  const list = element("message-list");
  const atBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 48;
  const fromBottom = scroller.scrollHeight - scroller.scrollTop;
  const firstBefore = list.firstElementChild?.dataset.key ?? "";

  const elements = [];
  const keep = new Map();
  for (const message of channel.ordered()) {
    const key = message.id ? `id:${message.id}` : `client:${message.clientId}`;
    const previousKey = message.clientId ? `client:${message.clientId}` : "";
    let item = view.messageElements.get(key) ??
      (previousKey ? view.messageElements.get(previousKey) : undefined);
    if (!item) {
      item = buildMessage(message, userId, onRetry);
    }
    updateMessage(item, message, key);
    keep.set(key, item);
    elements.push(item);
  }
  view.messageElements = keep;
  list.replaceChildren(...elements);

  const firstAfter = list.firstElementChild?.dataset.key ?? "";
  if (atBottom && firstAfter === firstBefore) {
    scroller.scrollTop = scroller.scrollHeight;
  } else if (firstAfter !== firstBefore && !atBottom) {
    // Older messages were added above: keep the same message in view.
    scroller.scrollTop = scroller.scrollHeight - fromBottom;
  } else if (atBottom) {
    scroller.scrollTop = scroller.scrollHeight;
  }
}

function buildMessage(message, userId, onRetry) {
  const item = make("li", "message");
  if (message.from === userId) item.classList.add("mine");
  const meta = make("div", "meta");
  meta.append(make("span", "author", message.from), make("time", "time"));
  const body = make("p", "content", message.content);
  const status = make("p", "status");
  const text = make("span", "status-text");
  const retry = make("button", "quiet retry", "Retry");
  retry.type = "button";
  retry.hidden = true;
  retry.addEventListener("click", () => onRetry(item.dataset.clientId));
  status.append(text, retry);
  item.append(meta, body, status);
  return item;
}

function updateMessage(item, message, key) {
  item.dataset.key = key;
  if (message.id) item.dataset.messageId = message.id;
  if (message.clientId) item.dataset.clientId = message.clientId;
  item.dataset.status = message.status;
  const time = item.querySelector("time");
  if (message.timestamp) {
    time.dateTime = new Date(message.timestamp).toISOString();
    time.textContent = formatTime(message.timestamp);
  }
  const status = item.querySelector(".status");
  const text = statusText(message);
  status.hidden = text === "";
  item.querySelector(".status-text").textContent = text;
  item.querySelector(".retry").hidden = message.status !== "failed";
}

/**
 * Updates list to hold one item per key, in order, reusing the item of a
 * key across renders. Reused items keep their identity and place, so
 * focus, hover and pointers held by assistive tools or automation stay
 * valid while presence and previews change many times a second.
 */
function syncList(list, keys, create, update) {
  const existing = new Map();
  for (const item of list.children) existing.set(item.dataset.key, item);
  const items = keys.map((key, index) => {
    let item = existing.get(key);
    if (!item) {
      item = create(key);
      item.dataset.key = key;
    }
    update(item, index);
    return item;
  });
  const current = [...list.children];
  const unchanged = current.length === items.length &&
    current.every((item, index) => item === items[index]);
  if (unchanged) return;
  // Moving an element blurs it, so focus is put back after a reorder.
  const focused = list.contains(document.activeElement) ? document.activeElement : null;
  list.replaceChildren(...items);
  if (focused?.isConnected) focused.focus();
}

/** Creates a list item with a button that calls onOpen(key). */
function channelItem(key, onOpen) {
  const item = make("li");
  const button = make("button", "channel");
  button.type = "button";
  button.addEventListener("click", () => onOpen(key));
  item.append(button);
  return item;
}

/**
 * Renders a list of channel buttons. Each entry is {key, title, preview,
 * time, unread, online, active}.
 */
export function renderChannelList(listId, emptyId, entries, onOpen) {
  element(emptyId).hidden = entries.length > 0;
  syncList(element(listId), entries.map((entry) => entry.key),
    (key) => channelItem(key, onOpen),
    (item, index) => fillChannelButton(item.firstElementChild, entries[index]));
}

function fillChannelButton(button, entry) {
  if (entry.active) {
    button.setAttribute("aria-current", "true");
  } else {
    button.removeAttribute("aria-current");
  }
  const title = make("span", "channel-title");
  if (entry.online !== undefined) {
    const dot = make("span", entry.online ? "presence online" : "presence");
    dot.title = entry.online ? "online" : "offline";
    title.append(dot);
  }
  title.append(make("span", "channel-name", entry.title));
  if (entry.online !== undefined) {
    title.append(make("span", "visually-hidden", entry.online ? " (online)" : " (offline)"));
  }
  if (entry.unread > 0) {
    title.append(make("span", "badge", String(entry.unread)));
    title.append(make("span", "visually-hidden", " unread"));
  }
  const detail = make("span", "channel-detail");
  detail.append(make("span", "preview", entry.preview));
  if (entry.time) detail.append(make("span", "channel-time", entry.time));
  button.replaceChildren(title, detail);
}

/** Renders the online users, each a button that opens a DM. */
export function renderOnline(users, userId, onOpen) {
  const sorted = [...users].sort();
  syncList(element("online-list"), sorted,
    (user) => {
      const item = channelItem(user, onOpen);
      item.dataset.user = user;
      return item;
    },
    (item, index) => {
      const user = sorted[index];
      const button = item.firstElementChild;
      const title = make("span", "channel-title");
      title.append(make("span", "presence online"));
      title.append(make("span", "channel-name", user === userId ? `${user} (you)` : user));
      button.replaceChildren(title);
      button.setAttribute("aria-label", `Message ${user}`);
    });
}
