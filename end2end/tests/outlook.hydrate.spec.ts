// The outlook once its island has hydrated: the precision toggle is live only then.
import { expect, test } from "@playwright/test";
import { mkdirSync } from "node:fs";
import { DEMO, signIn } from "./helpers";

const SCREENSHOTS = "screenshots";

test("the precision toggle does nothing before hydration and works after it", async ({ browser }) => {
  // Without JavaScript the button is inert HTML: the figures stay compact.
  const noJs = await browser.newContext({ javaScriptEnabled: false });
  const plain = await noJs.newPage();
  await signIn(plain, DEMO.admin.email);
  const plainUsed = plain.getByTestId("quota-card").first().getByTestId("used");
  const before = await plainUsed.textContent();
  await plain.getByTestId("precision-toggle").click();
  await expect(plainUsed).toHaveText(before ?? "");
  await expect(plain.locator("[data-hydrated]")).toHaveCount(0);
  await noJs.close();

  // With the WebAssembly loaded, the same click switches to exact figures and back.
  const live = await browser.newContext();
  const page = await live.newPage();
  await signIn(page, DEMO.admin.email);
  await expect(page.locator(".board[data-hydrated=true]")).toBeVisible();
  const used = page.getByTestId("quota-card").first().getByTestId("used");
  await expect(used).toHaveText(/ (GB|TB)$/);
  const toggle = page.getByTestId("precision-toggle");
  await expect(toggle).toHaveAttribute("aria-pressed", "false");
  await toggle.click();
  await expect(toggle).toHaveAttribute("aria-pressed", "true");
  await expect(used).toHaveText(/^[\d\u202f]+(\.\d)? MB$/);
  await toggle.click();
  await expect(used).toHaveText(/ (GB|TB)$/);
  await live.close();
});

test("screenshots of the outlook at phone and desktop widths", async ({ browser }) => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  for (const width of [390, 1280]) {
    const context = await browser.newContext({ viewport: { width, height: width < 600 ? 844 : 900 } });
    const page = await context.newPage();
    await signIn(page, DEMO.admin.email);
    await expect(page.locator(".board[data-hydrated=true]")).toBeVisible();
    // Nothing may overflow sideways on a phone.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: `${SCREENSHOTS}/outlook-${width}.png`, fullPage: true });
    await context.close();
  }
});

test("the page makes no request that the Content-Security-Policy blocks", async ({ page }) => {
  const violations: string[] = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") violations.push(msg.text());
  });
  await signIn(page, DEMO.member.email);
  await expect(page.locator(".board[data-hydrated=true]")).toBeVisible();
  expect(violations).toEqual([]);
});
