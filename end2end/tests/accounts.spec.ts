// Accounts without JavaScript (issue 19): an administrator invites, the invitee accepts in
// a browser of their own and is signed in; a password change in one browser signs the
// other out. A fresh invitee each run, so the demo accounts other specs use stay as seeded.
import { expect, test, type Browser, type Page } from "@playwright/test";
import { DEMO, signIn } from "./helpers";

/** A new browser context (its own cookies): another person, or another device. */
async function freshPage(browser: Browser): Promise<Page> {
  const context = await browser.newContext({ javaScriptEnabled: false });
  return context.newPage();
}

async function invite(page: Page): Promise<string> {
  await signIn(page, DEMO.admin.email);
  await page.goto("/admin/users");
  await page.getByTestId("invite-form").getByRole("button", { name: "Make invitation link" }).click();
  const link = (await page.getByTestId("new-link").textContent())?.trim() ?? "";
  expect(link).toMatch(/^\/invite\/[A-Za-z0-9_-]{43}$/);
  return link;
}

async function accept(page: Page, link: string, email: string, password: string) {
  await page.goto(link);
  const form = page.getByTestId("invite-form");
  await form.getByLabel("Email").fill(email);
  await form.getByLabel("Your name").fill("Invitee");
  await form.getByLabel("Password", { exact: true }).fill(password);
  await form.getByRole("button", { name: "Create my account" }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByTestId("who")).toHaveText("Invitee");
}

test("an administrator invites and the invitee is signed in by accepting", async ({ page, browser }) => {
  const link = await invite(page);
  const invitee = await freshPage(browser);
  await accept(invitee, link, `invitee-${Date.now()}@example.org`, "invitee password 1");
  // The link worked once.
  const other = await freshPage(browser);
  await other.goto(link);
  await expect(other.getByRole("alert")).toContainText("already used");
});

test("a password change in one browser signs the other out", async ({ page, browser }) => {
  const link = await invite(page);
  const email = `changer-${Date.now()}@example.org`;
  const laptop = await freshPage(browser);
  await accept(laptop, link, email, "first password 1");
  const phone = await freshPage(browser);
  await signIn(phone, email, "first password 1");

  await laptop.goto("/account");
  await expect(laptop.getByTestId("sessions").locator("li")).toHaveCount(2);
  const form = laptop.getByTestId("password-form");
  await form.getByLabel("Current password").fill("first password 1");
  await form.getByLabel("New password").fill("second password 2");
  await form.getByRole("button", { name: "Change password" }).click();
  await expect(laptop.getByTestId("account-notice")).toHaveText("Password changed. Other sessions signed out: 1.");

  await phone.goto("/account");
  await expect(phone).toHaveURL(/\/login\?next=\/account$/);
  await laptop.goto("/account");
  await expect(laptop.getByTestId("sessions").locator("li")).toHaveCount(1);
});
