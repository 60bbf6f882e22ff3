// The chart explorer without JavaScript: the server draws the range in the address as SVG,
// and ranges, the custom range form and compare links are plain links and forms.
import { expect, test } from "@playwright/test";
import { DEMO, signIn } from "./helpers";

test("the explorer reads and switches ranges without JavaScript", async ({ page }) => {
  await signIn(page, DEMO.admin.email);
  await page.goto("/meters");
  await page.getByRole("link", { name: "Living room" }).click();
  const history = page.locator("#explorer");
  await expect(history.getByRole("heading", { name: "History" })).toBeVisible();
  const chart = history.locator(".explorer-chart");
  // The last 24 hours by default, from 15-minute rollups, with an accessible summary.
  await expect(chart).toHaveAttribute("data-tier", "quarter_hour");
  await expect(chart.locator("svg.plot")).toHaveAttribute("aria-label", /Living room: from .* columns from [\d,]+ readings/);
  await expect(chart.locator("path.line")).toHaveCount(1);
  await expect(history.getByTestId("resolution")).toContainText("exact low and high per column");
  await expect(chart.locator("rect.normal")).toHaveCount(1);

  // A preset is a link: a page load, kept in the address.
  await history.getByRole("link", { name: "1y", exact: true }).click();
  await expect(page).toHaveURL(/\?range=1y#explorer$/);
  await expect(page.locator("#explorer .explorer-chart")).toHaveAttribute("data-tier", "day");
  await expect(page.locator("#explorer").getByRole("link", { name: "1y", exact: true })).toHaveAttribute("aria-current", "true");

  // A custom range through the form, read in the meter's timezone.
  const form = page.locator("#explorer form.custom-range");
  const today = new Date();
  const weekAgo = new Date(today.getTime() - 7 * 86_400_000);
  await form.getByLabel("From").fill(weekAgo.toISOString().slice(0, 10));
  await form.getByLabel("to").fill(today.toISOString().slice(0, 10));
  await form.getByRole("button", { name: "Show" }).click();
  await expect(page).toHaveURL(/from=\d{4}-\d\d-\d\d&to=\d{4}-\d\d-\d\d/);
  await expect(page.locator("#explorer .explorer-chart")).toHaveAttribute("data-tier", /quarter_hour|hour/);

  // A bad range says why and shows the default instead of an error page.
  await page.goto(page.url().replace(/\?.*$/, "?range=2w"));
  await expect(page.locator("#explorer .notice.error")).toContainText("range");
  await expect(page.locator("#explorer .explorer-chart")).toHaveAttribute("data-tier", "quarter_hour");
});

test("a quota meter's chart carries its budget line, cap and projection", async ({ page }) => {
  await signIn(page, DEMO.admin.email);
  await page.goto("/meters");
  await page.getByRole("link", { name: "Electricity" }).click();
  await page.locator("#explorer").getByRole("link", { name: "30d", exact: true }).click();
  const chart = page.locator("#explorer .explorer-chart");
  await expect(chart.locator("line.budget")).toHaveCount(1);
  await expect(chart.locator("line.cap")).toHaveCount(1);
  await expect(chart.locator("line.projection")).toHaveCount(1);
  await expect(chart.locator("line.today")).toHaveCount(1);
  await expect(chart.locator("line.period")).not.toHaveCount(0);
  await expect(chart.locator(".legend")).toContainText("quota");
});
