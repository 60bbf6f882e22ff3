// Sign-in and sign-out work as plain HTML forms: this project runs with JavaScript off.
import { expect, test } from "@playwright/test";
import { DEMO, signIn } from "./helpers";

test("signed-out visitors land on the sign-in page", async ({ page }) => {
  await page.goto("/");
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
});

test("a wrong password gets one clear message that does not say which part was wrong", async ({ page }) => {
  await page.goto("/login");
  await page.getByLabel("Email").fill(DEMO.member.email);
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toHaveText("Email or password is incorrect.");
  await expect(page).toHaveURL(/error=invalid/);
});

test("sign in shows the outlook, sign out ends the session", async ({ page, context }) => {
  await signIn(page, DEMO.member.email);
  await expect(page.getByTestId("who")).toHaveText(DEMO.member.name);
  const cookie = (await context.cookies()).find((c) => c.name === "headroom_session");
  expect(cookie?.httpOnly).toBe(true);
  expect(cookie?.sameSite).toBe("Lax");

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login\?signed_out=1$/);
  await expect(page.getByRole("status").and(page.locator(".notice"))).toHaveText("You are signed out.");
  await page.goto("/");
  await expect(page).toHaveURL(/\/login$/);
});
