// The installable app (SPEC S9): manifest, service worker, the outlook offline, readings
// queued offline and replayed, and the "update ready" prompt of a new deploy.
import { expect, test, type Page } from "@playwright/test";
import { DEMO, signIn } from "./helpers";

/** Waits until a service worker controls the page and has cached the outlook. */
async function controlled(page: Page) {
  await page.waitForFunction(async () => {
    await navigator.serviceWorker.ready;
    return navigator.serviceWorker.controller !== null;
  });
}

/** The controlling worker's version (it answers a `version` message on a port). */
async function workerVersion(page: Page): Promise<string> {
  return page.evaluate(
    () =>
      new Promise<string>((resolve) => {
        const channel = new MessageChannel();
        channel.port1.onmessage = (e) => resolve(e.data);
        navigator.serviceWorker.controller!.postMessage({ type: "version" }, [channel.port2]);
      }),
  );
}

/** Width and height from a PNG's IHDR chunk. */
function pngSize(bytes: Buffer) {
  expect(bytes.subarray(1, 4).toString()).toBe("PNG");
  return `${bytes.readUInt32BE(16)}x${bytes.readUInt32BE(20)}`;
}

test("the manifest is served, valid, and its icons are real PNGs of the stated sizes", async ({ page, request }) => {
  const res = await request.get("/manifest.webmanifest");
  expect(res.status()).toBe(200);
  expect(res.headers()["content-type"]).toBe("application/manifest+json");
  const m = await res.json();
  expect(m).toMatchObject({ name: expect.any(String), short_name: "Headroom", display: "standalone", start_url: "/", scope: "/" });
  expect(m.theme_color).toMatch(/^#[0-9a-f]{6}$/);
  expect(m.background_color).toMatch(/^#[0-9a-f]{6}$/);
  const pngs = m.icons.filter((i: { type: string }) => i.type === "image/png");
  expect(pngs.map((i: { sizes: string }) => i.sizes)).toEqual(expect.arrayContaining(["192x192", "512x512"]));
  expect(pngs.some((i: { purpose?: string }) => i.purpose === "maskable")).toBe(true);
  for (const icon of pngs) {
    const img = await request.get(icon.src);
    expect(img.headers()["content-type"]).toBe("image/png");
    expect(pngSize(await img.body())).toBe(icon.sizes);
  }
  // Pages link it, with the Apple touch icon beside.
  await page.goto("/login");
  await expect(page.locator('link[rel="manifest"]')).toHaveAttribute("href", "/manifest.webmanifest");
  const apple = await request.get((await page.locator('link[rel="apple-touch-icon"]').getAttribute("href"))!);
  expect(pngSize(await apple.body())).toBe("180x180");
});

test("the service worker controls the page after the first visit and precaches the build's files", async ({ page, request }) => {
  await signIn(page, DEMO.member.email);
  await controlled(page);
  await page.reload();
  expect(await page.evaluate(() => navigator.serviceWorker.controller?.scriptURL)).toMatch(/\/sw\.js$/);
  // Every file the page loads from /pkg/ is in the precache, and nothing that does not exist.
  const sw = await request.get("/sw.js");
  expect(sw.headers()["content-type"]).toContain("javascript");
  const list: string[] = JSON.parse(/const PRECACHE = (\[.*\]);/.exec(await sw.text())![1]);
  const loaded = await page.evaluate(() =>
    performance.getEntriesByType("resource").map((e) => new URL(e.name).pathname).filter((p) => p.startsWith("/pkg/")),
  );
  expect(loaded.length).toBeGreaterThan(0);
  for (const path of loaded) expect(list).toContain(path);
  for (const path of list) expect((await request.get(path)).status()).toBe(200);
});

test("offline, a reload shows the last outlook with its banner; back online it refreshes by itself", async ({ page, context }) => {
  await signIn(page, DEMO.member.email);
  await expect(page.locator(".board[data-hydrated=true]")).toBeVisible();
  await controlled(page);
  await page.reload();
  await expect(page.locator(".board[data-hydrated=true]")).toBeVisible();
  const saved = await page.evaluate(() => JSON.parse(localStorage.getItem("headroom.outlook") ?? "null"));
  expect(saved?.board?.meters?.length).toBeGreaterThan(0);

  await context.setOffline(true);
  await page.reload();
  const banner = page.getByTestId("offline-banner");
  await expect(banner).toHaveText(/^Offline — as of \d\d:\d\d$/);
  await expect(page.getByRole("heading", { level: 1 })).toContainText("Today");
  await expect(page.getByTestId("quota-card").first()).toBeVisible();

  await context.setOffline(false);
  await expect(banner).toBeHidden();
  await expect(page.locator(".board[data-hydrated=true]")).toBeVisible();
});

test("a reading taken offline is queued and replayed once online, without duplicates", async ({ page, context }) => {
  await signIn(page, DEMO.member.email);
  await controlled(page);
  await page.goto("/meters");
  await page.locator('main a[href^="/meters/"]:not([href="/meters/new"])').first().click();
  await expect(page.getByTestId("reading-form")).toBeVisible();
  const meterId = /\/meters\/(\d+)/.exec(page.url())![1];
  await page.waitForFunction(() => document.querySelector("leptos-island") !== null);

  await context.setOffline(true);
  await page.reload();
  await expect(page.getByTestId("reading-form")).toBeVisible();
  // A value no other run has used (the server may be reused between runs).
  const value = `${1000 + (Date.now() % 9000)}.25`;
  await page.getByLabel(/Used so far this period|Value/).fill(value);
  await page.getByRole("button", { name: "Save reading" }).click();
  await expect(page.getByTestId("reading-queued")).toContainText("saved on this device");
  const queue = await page.evaluate(() => JSON.parse(localStorage.getItem("headroom.queue") ?? "[]"));
  expect(queue).toHaveLength(1);
  // The same reading queued twice (say, from two tabs) must still land once.
  await page.evaluate(() => {
    const q = JSON.parse(localStorage.getItem("headroom.queue")!);
    q.push({ ...q[0], key: `${q[0].key}-copy` });
    localStorage.setItem("headroom.queue", JSON.stringify(q));
  });

  await context.setOffline(false);
  await expect(page.getByTestId("replayed")).toHaveText("Sent 2 readings saved offline.");
  expect(await page.evaluate(() => localStorage.getItem("headroom.queue"))).toBeNull();
  const at = queue[0].at as number;
  const day = new Date(at * 1000).toISOString().slice(0, 10);
  const res = await page.request.get(`/api/v1/meters/${meterId}/readings?format=csv&from=${day}`);
  expect(res.status()).toBe(200);
  const rows = (await res.text()).split("\n").filter((line) => line.includes(`,${value},`));
  expect(rows).toHaveLength(1);
});

test("a new deploy installs in the background and offers to reload", async ({ page }) => {
  await signIn(page, DEMO.member.email);
  await controlled(page);
  const before = await workerVersion(page);
  await expect(page.getByTestId("update-ready")).toBeHidden();

  expect((await page.request.post("/__test/sw-version")).status()).toBe(200);
  await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())!.update());
  const prompt = page.getByTestId("update-ready");
  await expect(prompt).toContainText("Update ready");
  await Promise.all([page.waitForEvent("load"), prompt.getByRole("button", { name: "Reload" }).click()]);
  await controlled(page);
  await expect(page.getByTestId("update-ready")).toBeHidden();
  expect(await workerVersion(page)).not.toBe(before);
  // The old version's caches are gone.
  const names = await page.evaluate(() => caches.keys());
  expect(names.some((n) => n.includes(before))).toBe(false);
});

test("signing out forgets the offline outlook", async ({ page }) => {
  await signIn(page, DEMO.member.email);
  await expect(page.locator(".board[data-hydrated=true]")).toBeVisible();
  await controlled(page);
  expect(await page.evaluate(() => localStorage.getItem("headroom.outlook"))).not.toBeNull();
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login/);
  expect(await page.evaluate(() => localStorage.getItem("headroom.outlook"))).toBeNull();
  expect(await page.evaluate(async () => (await caches.match("/")) === undefined)).toBe(true);
});
