// Headroom's service worker. The server fills in VERSION and PRECACHE from the build's own
// output when it starts (server/http/routes/pwa.rs), so the list cannot drift from the
// files a page asks for. Strategies:
//   - hashed app shell (/pkg/*) and icons: precached, cache-first;
//   - the outlook (/): stale-while-revalidate; a copy older than a minute is answered at
//     once and the page is told to reload when the fresh one has arrived;
//   - other pages and JSON GETs: network-first with a short timeout, falling back to the
//     last good copy;
//   - everything else (writes, /health, /sw.js, cross-origin): the network, untouched.
// Web Push: a message (JSON from server/service/push.rs: title, body, tag, url) is shown
// as a notification; its tag is the meter's topic, so a newer one about the same meter
// replaces the one on screen. A tap focuses an open Headroom window on its url, or opens
// one.
// Caches are named by version; activating a version deletes the others.
const VERSION = "__VERSION__";
const PRECACHE = __PRECACHE__;
const SHELL = `headroom-${VERSION}-shell`;
const PAGES = `headroom-${VERSION}-pages`;
const DATA = `headroom-${VERSION}-data`;
const NETWORK_TIMEOUT_MS = 3000;
const STALE_AFTER_MS = 60_000;
const FETCHED_AT = "x-headroom-fetched-at";

// A write makes the cached outlook suspect: the next visit waits for the network.
let outlookDirty = false;
let lastRefreshNotice = 0;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL).then((cache) => cache.addAll(PRECACHE)));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      const keep = [SHELL, PAGES, DATA];
      for (const name of await caches.keys()) {
        if (name.startsWith("headroom-") && !keep.includes(name)) await caches.delete(name);
      }
      // The outlook cached by the previous version names its files; fetch it anew so the
      // app keeps working offline after an update.
      await refresh(new Request("/", { credentials: "same-origin" })).catch(() => {});
      await self.clients.claim();
    })(),
  );
});

self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "skip-waiting") self.skipWaiting();
  // Back online: the page reloads and wants the server's outlook, not the cached one.
  if (event.data && event.data.type === "outlook-dirty") outlookDirty = true;
  if (event.data && event.data.type === "version" && event.ports[0]) event.ports[0].postMessage(VERSION);
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method !== "GET") {
    outlookDirty = true;
    return;
  }
  const path = url.pathname;
  if (path === "/sw.js" || path.startsWith("/health") || path.startsWith("/__test/")) return;
  if (path.startsWith("/pkg/") || PRECACHE.includes(path)) {
    event.respondWith(cacheFirst(request));
  } else if (request.mode === "navigate" && path === "/") {
    event.respondWith(outlook(event));
  } else if (request.mode === "navigate") {
    event.respondWith(networkFirst(request, PAGES).then((r) => r || offlinePage()));
  } else if (path.startsWith("/api/") && !url.searchParams.has("download")) {
    event.respondWith(networkFirst(request, DATA).then((r) => r || Response.error()));
  }
});

async function cacheFirst(request) {
  const hit = await caches.match(request, { ignoreSearch: true });
  if (hit) return hit;
  const response = await fetch(request);
  if (response.ok) (await caches.open(SHELL)).put(request, response.clone());
  return response;
}

// Fetches and keeps a good copy (a 200 that was not a redirect to the sign-in page),
// stamped with when it was fetched.
async function refresh(request, cacheName = PAGES) {
  const response = await fetch(request);
  if (response.ok && !response.redirected && response.type === "basic") {
    const headers = new Headers(response.headers);
    headers.set(FETCHED_AT, String(Date.now()));
    // The body below is already decoded.
    headers.delete("content-encoding");
    headers.delete("content-length");
    const body = await response.clone().blob();
    await (await caches.open(cacheName)).put(
      request.url,
      new Response(body, { status: response.status, statusText: response.statusText, headers }),
    );
  }
  return response;
}

async function networkFirst(request, cacheName) {
  const network = refresh(request, cacheName);
  const timeout = new Promise((resolve) => setTimeout(resolve, NETWORK_TIMEOUT_MS));
  try {
    const winner = await Promise.race([network, timeout]);
    if (winner) return winner;
  } catch {
    // offline or unreachable: the cached copy below
  }
  const cached = await caches.match(request.url, { cacheName });
  if (cached) return cached;
  return network.catch(() => null);
}

async function outlook(event) {
  const request = event.request;
  const cached = await caches.match(request.url, { cacheName: PAGES });
  if (!cached || outlookDirty) {
    outlookDirty = false;
    return (await networkFirst(request, PAGES)) || offlinePage();
  }
  const age = Date.now() - Number(cached.headers.get(FETCHED_AT) || 0);
  const revalidate = refresh(request).then(async (response) => {
    const now = Date.now();
    if (!response.ok || response.redirected || age < STALE_AFTER_MS || now - lastRefreshNotice < 10_000) return;
    lastRefreshNotice = now;
    const client = await self.clients.get(event.resultingClientId);
    if (client) client.postMessage({ type: "outlook-refreshed" });
  });
  event.waitUntil(revalidate.catch(() => {}));
  return cached;
}

function offlinePage() {
  const html = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Offline · Headroom</title></head>
<body><main><h1>You are offline</h1><p>This page was not saved on this device.
<a href="/">Today's outlook</a> is.</p></main></body></html>`;
  return new Response(html, {
    status: 503,
    headers: { "content-type": "text/html; charset=utf-8", "content-security-policy": "default-src 'none'" },
  });
}

self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    data = { body: event.data ? event.data.text() : "" };
  }
  const title = data.title || "Headroom";
  event.waitUntil(
    self.registration.showNotification(title, {
      body: data.body || "",
      tag: data.tag || "headroom",
      icon: "/icons/icon-192.png",
      badge: "/icons/icon-192.png",
      requireInteraction: Boolean(data.urgent),
      data: { url: data.url || "/notifications" },
    }),
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const raw = (event.notification.data && event.notification.data.url) || "/notifications";
  // Only a path of this app: never a URL from elsewhere.
  const path = raw.startsWith("/") && !raw.startsWith("//") ? raw : "/notifications";
  const target = new URL(path, self.location.origin).href;
  event.waitUntil(
    (async () => {
      const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
      for (const client of windows) {
        if (new URL(client.url).origin === self.location.origin && "focus" in client) {
          await client.focus();
          if ("navigate" in client) await client.navigate(target);
          return;
        }
      }
      await self.clients.openWindow(target);
    })(),
  );
});
