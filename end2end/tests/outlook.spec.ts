// The outlook as the server renders it: the figures are there before any script runs.
import { expect, test } from "@playwright/test";
import { DEMO, signIn } from "./helpers";

test("the outlook shows the primary meter's used, remaining and today's budget", async ({ page }) => {
  await signIn(page, DEMO.admin.email);
  const primary = page.getByTestId("quota-card").first();
  await expect(primary.getByRole("heading", { name: "Home fibre" })).toBeVisible();
  await expect(primary.getByTestId("daily-budget")).toHaveText(/^\d[\d.]* (MB|GB|TB)$/);
  await expect(primary.getByTestId("used")).toHaveText(/^\d[\d.]* (MB|GB|TB)$/);
  await expect(primary.getByTestId("remaining")).toHaveText(/^\d[\d.]* (MB|GB|TB)$/);
  await expect(primary.getByText(/days? left|last day of this period/)).toBeVisible();
});

test("unknown addresses get a real 404 page", async ({ page }) => {
  const res = await page.goto("/no/such/page");
  expect(res?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Nothing here" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Go to today's outlook" })).toBeVisible();
});
