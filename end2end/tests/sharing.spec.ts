// A meter shared within a household, as the member it is shared with sees it: in the
// list and on its page, marked as shared, with no control that would change it, and
// its write routes refused. The demo household shares Ada's "Home fibre" with Ben to view.
import { expect, test } from "@playwright/test";
import { DEMO, signIn } from "./helpers";

test("a viewer sees the shared meter read-only, and its write routes refuse", async ({ page }) => {
  await signIn(page, DEMO.member.email);
  await page.goto("/meters");
  const shared = page.locator(".meter-item", { hasText: "Home fibre" });
  await expect(shared.locator(".badge.shared")).toHaveText("shared by Ada");
  await shared.getByRole("link", { name: "Home fibre" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toContainText("Home fibre");
  await expect(page.locator(".notice.shared")).toHaveText("Shared by Ada: you can view it.");
  // The history chart and the export are there; nothing that changes the meter is.
  await expect(page.getByRole("heading", { name: "History" })).toBeVisible();
  await expect(page.getByRole("link", { name: "All readings as CSV" })).toBeVisible();
  for (const control of ["Save reading", "Save changes", "Archive this meter", "Save sharing"]) {
    await expect(page.getByRole("button", { name: control })).toHaveCount(0);
  }
  await expect(page.getByText("Add a reading")).toHaveCount(0);

  // Its write routes refuse the viewer, whatever the page shows.
  const id = page.url().split("/meters/")[1];
  const origin = new URL(page.url()).origin;
  const reading = await page.request.post(`/api/v1/readings`, {
    data: { meter_id: Number(id), value: 1, timestamp: new Date().toISOString() },
    headers: { origin },
  });
  expect(reading.status()).toBe(403);
  const rename = await page.request.patch(`/api/v1/meters/${id}`, { data: { name: "Mine" }, headers: { origin } });
  expect(rename.status()).toBe(403);
  const archive = await page.request.post(`/meters/${id}/archive`, { form: { x: "1" }, headers: { origin }, maxRedirects: 0 });
  expect(archive.status()).toBe(403);

  // The outlook lists it too, marked as Ada's.
  await page.goto("/");
  await expect(page.getByTestId("quota-card").filter({ hasText: "Home fibre" })).toContainText("Ada");
});

test("the owner sees who the meter is shared with and can change it", async ({ page }) => {
  await signIn(page, DEMO.admin.email);
  await page.goto("/meters");
  await page.getByRole("link", { name: "Home fibre" }).click();
  const sharing = page.locator("#sharing");
  await sharing.locator("summary").click();
  await expect(sharing.getByLabel("Everyone in your household")).toHaveValue("viewer");
  await expect(sharing.getByLabel("Ben")).toHaveValue("none");
});
