// Notifications in the app (SPEC S5): readings that cross 80 % of a quota put the unread
// badge up on every page; a notification marked read offline is shown read at once and
// the mark reaches the server once the browser is back online.
import { expect, test } from "@playwright/test";
import { DEMO, signIn } from "./helpers";

test("crossing 80 % puts the badge up; marking read works offline, then online", async ({ page, context }) => {
  await signIn(page, DEMO.member.email);
  const origin = new URL(page.url()).origin;
  const badge = page.getByTestId("unread-badge");
  const count = async () => ((await badge.count()) ? Number(await badge.textContent()) : 0);
  const before = await count();

  const name = `Hotspot ${Date.now()}`;
  const created = await page.request.post("/api/v1/meters", {
    data: { kind: "quota", name, unit: "MB", quota: 1000, reset_rule: "monthly:1", timezone: "UTC" },
    headers: { origin },
  });
  expect(created.status(), await created.text()).toBe(201);
  const meter = (await created.json()).id;
  const at = (msAgo: number) => new Date(Date.now() - msAgo).toISOString();
  for (const [value, ago] of [[0, 120_000], [850, 60_000]]) {
    const res = await page.request.post("/api/v1/readings", {
      data: { meter_id: meter, value, timestamp: at(ago) },
      headers: { origin },
    });
    expect(res.ok(), await res.text()).toBe(true);
  }

  // Any page shows the badge once the rules have run (in the background, within half a
  // second of the write); the 80 % notification is among the new ones.
  await expect(async () => {
    await page.goto("/meters");
    expect(await count()).toBeGreaterThan(before);
  }).toPass({ timeout: 10_000 });
  await expect(badge).toBeVisible();
  await page.getByTestId("notifications-link").click();
  await expect(page).toHaveURL(/\/notifications$/);
  const item = page.locator(".notifications li", { hasText: `${name}: 80 % of the quota used` });
  await expect(item).toHaveClass(/unread/);
  await expect(page.getByTestId("inbox")).toHaveAttribute("data-hydrated", "true");

  await context.setOffline(true);
  await item.getByRole("button", { name: "Mark read" }).click();
  await expect(page.getByTestId("inbox-queued")).toContainText("marked read on this device");
  await expect(item).not.toHaveClass(/unread/);

  await context.setOffline(false);
  await expect(page.getByTestId("replayed")).toContainText("Sent 1 change(s) made offline.");
  await page.reload();
  const again = page.locator(".notifications li", { hasText: `${name}: 80 % of the quota used` });
  await expect(again).not.toHaveClass(/unread/);
  await expect(again.getByRole("button", { name: "Mark read" })).toHaveCount(0);
});

test("the notifications page offers Web Push on this device and says how it went", async ({ page, context }) => {
  await signIn(page, DEMO.member.email);
  await context.grantPermissions(["notifications"]);
  await page.goto("/notifications");
  const push = page.getByTestId("push-subscribe");
  // Hidden in the server's HTML; the page's script shows it where push can work.
  await expect(push).toBeVisible();
  await push.getByRole("button", { name: "Notify this device" }).click();
  // Headless Chromium here has no push service to reach, so the browser refuses; what
  // matters is that the page says so instead of failing silently.
  await expect(push.getByRole("status")).not.toBeEmpty();
  await expect(push.getByRole("button", { name: "Notify this device" })).toBeEnabled();
});

test("without JavaScript the page lists notifications and its forms work", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await signIn(page, DEMO.member.email);
  await page.goto("/notifications");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Notifications");
  await page.getByLabel("From").fill("22:00");
  await page.getByLabel("Until").fill("07:00");
  await page.getByRole("button", { name: "Save quiet hours" }).click();
  await expect(page.getByLabel("From")).toHaveValue("22:00");
  await page.getByLabel("Address").fill("ftp://example.org/hook");
  await page.getByRole("button", { name: "Save webhook" }).click();
  await expect(page.locator(".field-error")).toContainText("only http:// and https://");
  await expect(page.getByTestId("push-subscribe")).toBeHidden();
  await context.close();
});
