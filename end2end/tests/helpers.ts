import { expect, type Page } from "@playwright/test";

/** The demo data seeded on first start (see src/server/demo.rs). */
export const DEMO = {
  admin: { email: "ada@headroom.demo", name: "Ada" },
  member: { email: "ben@headroom.demo", name: "Ben" },
  password: "headroom-demo",
};

/** Signs in through the real form and waits for the outlook. */
export async function signIn(page: Page, email: string, password = DEMO.password) {
  await page.goto("/login");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/$/);
}
