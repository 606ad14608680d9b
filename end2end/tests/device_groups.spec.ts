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

test("the dashboard of one device group counts its endpoints and leads to them", async ({ page }) => {
  test.setTimeout(90_000);
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await signIn(page);
  await enableDefender(page);

  await page.goto("/");
  await hydrated(page);
  // The last 30 days of every endpoint: today's row first, recorded by the sync just run.
  const today = new Date().toISOString().slice(0, 10);
  const trend = page.getByTestId("risk-trend").locator("tbody tr");
  await expect(trend.first().locator("td").first()).toHaveText(today);
  const todays = (await trend.first().locator("td").allTextContents()).slice(2).map(Number);
  expect(todays.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  await page.getByLabel("Device group").selectOption("Engineering");
  await page.getByRole("button", { name: "Show" }).click();
  await expect(page).toHaveURL(/\/\?group=Engineering$/);
  const scope = page.getByTestId("dashboard-scope");
  await expect(scope).toContainText("Endpoints of the device group Engineering");
  const total = Number(/: (\d+) in all/.exec((await scope.textContent()) ?? "")?.[1]);
  const values = (await page.locator(".risk-chart .chart-value").allTextContents()).map(Number);
  expect(values.reduce((a, b) => a + b, 0)).toBe(total);
  expect(total).toBeGreaterThan(0);

  // The biggest bar opens the list of exactly those endpoints.
  const biggest = values.indexOf(Math.max(...values));
  await page.locator(".risk-chart a").nth(biggest).click();
  await expect(page).toHaveURL(/\/endpoints\?risk=\w+&group=Engineering$/);
  const rows = page.locator("table.endpoint-table tbody tr");
  await expect(rows).toHaveCount(Math.min(values[biggest], 50));
  for (const cell of await rows.locator("td:nth-child(10)").all()) {
    await expect(cell).toContainText("Engineering");
  }
  expect(errors).toEqual([]);
});

test("the Vulnerabilities page of one device group counts its endpoints per CVE", async ({ page }) => {
  test.setTimeout(90_000);
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await signIn(page);
  await enableDefender(page);

  await page.goto("/vulnerabilities");
  await hydrated(page);
  await page.getByLabel("Device group").selectOption("Engineering");
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(/group=Engineering/);
  await expect(page.getByRole("columnheader", { name: /Endpoints in group/ })).toBeVisible();
  const cves = page.locator("table.cve-table tbody tr");
  await expect(cves.first()).toBeVisible();
  const id = (await cves.first().locator("td").first().innerText()).trim();
  const inGroup = Number((await cves.first().locator("td").nth(5).innerText()).trim());
  expect(inGroup).toBeGreaterThan(0);

  // The CVE opens on the same group: exactly that many endpoints, each in it.
  await cves.first().getByRole("link", { name: id }).click();
  await expect(page).toHaveURL(new RegExp(`cve=${id}.*group=Engineering`));
  await expect(page.getByTestId("affected-count")).toContainText(`${inGroup} endpoints`);
  for (const cell of await page.locator("table.affected-table tbody tr td:nth-child(7)").all()) {
    await expect(cell).toHaveText("Engineering");
  }
  expect(errors).toEqual([]);
});
