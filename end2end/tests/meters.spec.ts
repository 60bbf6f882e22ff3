// Meters, readings by hand and tokens, as a visitor without JavaScript uses them.
import { expect, test } from "@playwright/test";
import { DEMO, signIn } from "./helpers";

test("a meter is added through the form, with messages for what is wrong", async ({ page }) => {
  await signIn(page, DEMO.member.email);
  await page.getByRole("link", { name: "Meters" }).click();
  await page.getByRole("link", { name: "Add a meter" }).click();
  await page.getByLabel("Name").fill("Work phone");
  await page.getByLabel("Unit").fill("MB");
  await page.getByLabel("Amount per period").fill("lots");
  await page.getByRole("button", { name: "Add meter" }).click();
  await expect(page.locator(".field-error").first()).toHaveText("must be a number");
  await expect(page.getByLabel("Name")).toHaveValue("Work phone");
  await page.getByLabel("Amount per period").fill("20480");
  await page.getByRole("button", { name: "Add meter" }).click();
  await expect(page.getByRole("status").and(page.locator(".notice"))).toHaveText("Meter saved.");
  await expect(page.getByRole("heading", { level: 1 })).toContainText("Work phone");
});

test("a reading typed in by hand shows up in the meter's recent days", async ({ page }) => {
  await signIn(page, DEMO.member.email);
  await page.goto("/meters");
  await page.getByRole("link", { name: "Bedroom" }).click();
  const form = page.getByTestId("reading-form");
  await form.getByLabel("Value").fill("19.75");
  await form.getByRole("button", { name: "Save reading" }).click();
  await expect(page.getByRole("status").and(page.locator(".notice"))).toHaveText("Reading saved.");
  await expect(page.getByRole("table").first()).toContainText("19.8");
});

test("an API token is shown once, then only by its prefix", async ({ page }) => {
  await signIn(page, DEMO.member.email);
  await page.goto("/settings/tokens");
  const form = page.getByTestId("token-form");
  await form.getByLabel("Name").fill("home router");
  await form.getByLabel("Mobile data").check();
  await form.getByRole("button", { name: "Create token" }).click();
  const secret = await page.getByTestId("new-token").textContent();
  expect(secret).toMatch(/^hr_[A-Za-z0-9_-]{43}$/);
  await page.goto("/settings/tokens");
  await expect(page.getByTestId("new-token")).toHaveCount(0);
  await expect(page.locator("body")).not.toContainText(secret ?? "");
  await expect(page.locator(".token-list").getByText("home router")).toBeVisible();
});
