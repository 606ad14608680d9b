import { test, expect } from "@playwright/test";
import { enableDefender, hydrated, signIn } from "./helpers";

test("the endpoint list filters by Defender device group and tag", async ({ page }) => {
  test.setTimeout(90_000);
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await signIn(page);
  await enableDefender(page);

  await page.goto("/endpoints");
  await hydrated(page);
  const groups = await page.getByLabel("Device group").locator("option").allTextContents();
  expect(groups).toContain("Engineering");
  await page.getByLabel("Device group").selectOption("Engineering");
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(/group=Engineering/);
  const rows = page.locator("table.endpoint-table tbody tr");
  await expect(rows.first()).toBeVisible();
  const count = await rows.count();
  for (let i = 0; i < count; i++) {
    await expect(rows.nth(i).locator("td").nth(9)).toContainText("Engineering");
  }

  // One of them on its Summary: the machine's group there too.
  await rows.first().getByRole("link").first().click();
  await expect(page).toHaveURL(/\/endpoints\/\d+$/);
  await expect(page.getByRole("region", { name: "Sources" }).getByRole("cell", { name: "Engineering" }).first()).toBeVisible();

  // A tag narrows the list the same way; each row shows it.
  await page.goto("/endpoints?tag=crown-jewel");
  await hydrated(page);
  await expect(page.getByLabel("Tag")).toHaveValue("crown-jewel");
  const tagged = page.locator("table.endpoint-table tbody tr");
  await expect(tagged.first()).toBeVisible();
  const tagCount = await tagged.count();
  for (let i = 0; i < tagCount; i++) {
    await expect(tagged.nth(i).locator("td").nth(9).locator(".tag", { hasText: "crown-jewel" })).toBeVisible();
  }
  expect(errors).toEqual([]);
});
