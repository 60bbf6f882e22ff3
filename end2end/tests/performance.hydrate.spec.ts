// The performance center: admins see the overview with its score and live charts; members
// are turned away with 403. Also a phone-width screenshot of the overview.
import { expect, test } from "@playwright/test";
import { mkdirSync } from "node:fs";
import { DEMO, signIn } from "./helpers";

test("an admin sees the performance overview with a score", async ({ page }) => {
  await signIn(page, DEMO.admin.email);
  const res = await page.goto("/admin/performance");
  expect(res?.status()).toBe(200);
  const score = page.getByTestId("health-score");
  await expect(score).toBeVisible();
  await expect(score).toHaveText(/^\d{1,3}$/);
  await expect(page.getByTestId("components")).toContainText("response time");
  await expect(page.getByTestId("perf-live")).toBeVisible();
  for (const section of ["Routes", "Queries", "Cache", "SSR & assets", "System"]) {
    await page.getByRole("navigation", { name: "Performance sections" }).getByRole("link", { name: section }).click();
    await expect(page.getByRole("heading", { level: 1, name: "Performance" })).toBeVisible();
  }
});

test("a member gets 403", async ({ page }) => {
  await signIn(page, DEMO.member.email);
  const res = await page.goto("/admin/performance");
  expect(res?.status()).toBe(403);
  await expect(page.getByRole("alert")).toContainText("administrators");
});

test("screenshot of the overview at phone width", async ({ browser }) => {
  mkdirSync("screenshots", { recursive: true });
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  await signIn(page, DEMO.admin.email);
  await page.goto("/admin/performance");
  await expect(page.getByTestId("health-score")).toBeVisible();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
  expect(overflow).toBe(false);
  await page.screenshot({ path: "screenshots/performance-390.png", fullPage: true });
  await context.close();
});

test("at 320 px every link of an admin's main navigation is on screen", async ({ browser }) => {
  const context = await browser.newContext({ viewport: { width: 320, height: 640 } });
  const page = await context.newPage();
  await signIn(page, DEMO.admin.email);
  await page.goto("/admin/performance");
  const links = page.getByRole("navigation", { name: "Main" }).getByRole("link");
  expect(await links.count()).toBeGreaterThanOrEqual(5);
  const offscreen = await links.evaluateAll((els) =>
    els.filter((a) => a.getBoundingClientRect().right > window.innerWidth).map((a) => a.textContent),
  );
  expect(offscreen).toEqual([]);
  await context.close();
});
