// The notifications page's two bits of behaviour, loaded by that page alone so that the
// WebAssembly every page downloads does not carry them (SPEC S9's 200 KB budget):
//
// - "Mark read" and "Mark all read" are plain form posts. Offline, the post is kept in the
//   same queue `ui::offline` keeps readings in (localStorage "headroom.queue", entries of
//   `QueuedReading`'s JSON shape with `action` and `fields`), the page shows it read at
//   once, and the AppStatus island sends it when the browser is online again.
// - "Notify this device" subscribes the browser's push manager with the server's VAPID key
//   and posts the subscription to /api/v1/push/subscriptions. It needs a service worker,
//   so the button is shown only where one can run.

const QUEUE_KEY = "headroom.queue";
const SUBSCRIBE_TIMEOUT_MS = 15000;

function newKey() {
  return `${Date.now().toString(16)}-${Math.floor(Math.random() * 1e15).toString(16)}`;
}

function enqueue(entry) {
  let queue = [];
  try {
    queue = JSON.parse(localStorage.getItem(QUEUE_KEY) || "[]");
  } catch {
    queue = [];
  }
  if (!Array.isArray(queue)) queue = [];
  queue.push(entry);
  localStorage.setItem(QUEUE_KEY, JSON.stringify(queue));
}

function unmark(item) {
  item.classList.remove("unread");
  const form = item.querySelector("form");
  if (form) form.hidden = true;
}

function inbox(root) {
  const viewer = Number(root.dataset.viewer || 0);
  const note = root.querySelector("[data-testid=inbox-queued]");
  root.addEventListener("submit", (ev) => {
    if (navigator.onLine) return;
    const form = ev.target;
    const action = form.getAttribute("action");
    if (!action) return;
    ev.preventDefault();
    const fields = [];
    const upTo = form.querySelector("input[name=up_to]");
    if (upTo) fields.push(["up_to", upTo.value]);
    enqueue({
      key: newKey(),
      user: viewer,
      meter_id: 0,
      value: "",
      timestamp: "",
      at: Math.floor(Date.now() / 1000),
      action,
      fields,
    });
    if (action.endsWith("/read-all")) {
      root.querySelectorAll(".notifications li.unread").forEach(unmark);
      form.hidden = true;
    } else {
      const item = form.closest("li");
      if (item) unmark(item);
    }
    if (note) {
      note.textContent = "You are offline: marked read on this device; it is sent when you are back online.";
      note.hidden = false;
    }
  });
  root.dataset.hydrated = "true";
}

function unbase64url(text) {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const raw = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

async function subscribe(key) {
  const unsupported =
    "This browser cannot receive push messages (on iPhone and iPad: add Headroom to the home screen first).";
  if (!("serviceWorker" in navigator) || !("Notification" in window)) throw new Error(unsupported);
  const permission = await Notification.requestPermission();
  if (permission !== "granted") {
    throw new Error("Notifications are blocked for this site: allow them in the browser's site settings.");
  }
  const registration = await navigator.serviceWorker.ready;
  if (!registration.pushManager) throw new Error(unsupported);
  let serverKey;
  try {
    serverKey = unbase64url(key);
  } catch {
    throw new Error("The server's key is unreadable.");
  }
  // A browser that cannot reach its push service may not answer for minutes: give up
  // after a while and say so, rather than leave the button waiting.
  const tooLong = new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), SUBSCRIBE_TIMEOUT_MS));
  let subscription;
  try {
    subscription = await Promise.race([
      registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: serverKey }),
      tooLong,
    ]);
  } catch (e) {
    throw new Error(
      e.message === "timeout"
        ? "The browser's push service did not answer: try again later."
        : "The browser's push service refused to subscribe this device.",
    );
  }
  let response;
  try {
    response = await fetch("/api/v1/push/subscriptions", {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(subscription),
    });
  } catch {
    throw new Error("Headroom could not be reached: try again when online.");
  }
  if (response.status !== 201) throw new Error("Headroom refused this subscription.");
}

function push(root) {
  const button = root.querySelector("button");
  const note = root.querySelector("[role=status]");
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await subscribe(root.dataset.key || "");
      note.textContent = "This device will be notified. Reload to see it listed.";
    } catch (e) {
      note.textContent = e.message;
    }
    note.hidden = false;
    button.disabled = false;
  });
  root.hidden = false;
}

for (const root of document.querySelectorAll("[data-testid=inbox]")) inbox(root);
for (const root of document.querySelectorAll("[data-testid=push-subscribe]")) push(root);
