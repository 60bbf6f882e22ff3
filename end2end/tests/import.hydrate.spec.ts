// An uploaded CSV imports in the background; the page follows its progress live.
import { expect, test } from "@playwright/test";
import { DEMO, signIn } from "./helpers";

function legacyCsv(rows: number): string {
  const lines = ["timestamp,total_used_mb,remaining_mb,collection_status,api_response_time_ms"];
  const start = Date.now() - rows * 600_000;
  for (let i = 0; i < rows; i++) {
    const ts = new Date(start + i * 600_000).toISOString().replace(/\.\d{3}Z$/, "Z");
    lines.push(`${ts},${i * 10},${51200 - i * 10},SUCCESS,150`);
  }
  return lines.join("\n") + "\n";
}

test("an upload imports in the background and the progress bar follows it", async ({ page }) => {
  await signIn(page, DEMO.member.email);
  await page.goto("/meters");
  await page.getByRole("link", { name: "Mobile data" }).click();
  await page.locator("#import > summary").click();
  const form = page.getByTestId("import-form");
  await form.getByLabel("CSV file").setInputFiles({
    name: "phone-export.csv",
    mimeType: "text/csv",
    buffer: Buffer.from(legacyCsv(4000)),
  });
  await form.getByRole("button", { name: "Import" }).click();
  const progress = page.getByTestId("import-progress").filter({ hasText: "phone-export.csv" });
  // The island keeps asking until the server says it is done; no reload needed.
  await expect(progress).toHaveAttribute("data-status", "done", { timeout: 20_000 });
  await expect(progress).toContainText("4000 readings imported");
});

test("screenshots of the meter pages on a phone", async ({ browser }) => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  await signIn(page, DEMO.admin.email);
  await page.goto("/meters");
  await page.screenshot({ path: "screenshots/meters-390.png", fullPage: true });
  await page.getByRole("link", { name: "Home fibre" }).click();
  await expect(page.getByRole("heading", { name: "Recent days" })).toBeVisible();
  await page.screenshot({ path: "screenshots/meter-390.png", fullPage: true });
  // Wide tables scroll inside their box; the page itself never scrolls sideways.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await page.goto("/settings/tokens");
  await page.screenshot({ path: "screenshots/tokens-390.png", fullPage: true });
  await context.close();
});
