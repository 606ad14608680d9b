import { test, expect } from "@playwright/test";
import { enableDefender, hydrated, signIn } from "./helpers";

test("the Vulnerabilities page finds a CVE and every endpoint it affects", async ({ page }) => {
  test.setTimeout(90_000);
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await signIn(page);
  await enableDefender(page);

  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Vulnerabilities" }).click();
  await expect(page).toHaveURL(/\/vulnerabilities$/);
  await hydrated(page);
  await expect(page.getByTestId("cve-count")).toContainText(/of \d+ CVEs/);

  // Critical ones with a public exploit: every row says so.
  await page.getByLabel("Severity").selectOption("Critical");
  await page.getByLabel("Exploit").selectOption("public");
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(/severity=Critical/);
  await expect(page).toHaveURL(/exploit=public/);
  const cves = page.locator("table.cve-table tbody tr");
  await expect(cves.first()).toBeVisible();
  const count = await cves.count();
  for (let i = 0; i < count; i++) {
    await expect(cves.nth(i).locator("td").nth(2)).toHaveText("Critical");
    await expect(cves.nth(i).locator("td").nth(4)).toContainText("public exploit");
  }

  // Open the first: its facts, its Defender page, and the endpoints it affects.
  const id = (await cves.first().locator("td").first().innerText()).trim();
  await cves.first().getByRole("link", { name: id }).click();
  await expect(page).toHaveURL(new RegExp(`cve=${id}`));
  const detail = page.getByTestId("cve-detail");
  await expect(detail.getByRole("heading", { name: id })).toBeVisible();
  await expect(detail.getByRole("link", { name: "Open in Microsoft Defender" })).toHaveAttribute(
    "href",
    new RegExp(`^https://security\\.microsoft\\.com/vulnerabilities/vulnerability/${id}/overview\\?tid=`),
  );
  const affected = page.locator("table.affected-table tbody tr");
  await expect(affected.first()).toBeVisible();
  await expect(page.getByTestId("affected-count")).toContainText(/\d+ endpoints/);
  await expect(page.getByRole("link", { name: "Export CSV" })).toHaveAttribute("href", `/api/vulnerabilities/export.csv?cve=${id}`);

  // Narrowed to the first row's device group, every row is in it.
  const group = (await affected.first().locator("td").nth(6).innerText()).trim();
  await page.getByLabel("Device group").selectOption(group);
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(/group=/);
  await expect(affected.first()).toBeVisible();
  const inGroup = await affected.count();
  for (let i = 0; i < inGroup; i++) {
    await expect(affected.nth(i).locator("td").nth(6)).toHaveText(group);
  }

  // Back to the list with its filters; or on to an endpoint's Summary.
  await page.getByRole("link", { name: "← All vulnerabilities" }).click();
  await expect(page).toHaveURL(/severity=Critical/);
  await expect(page).not.toHaveURL(/cve=/);
  await page.goBack();
  await expect(affected.first()).toBeVisible();
  await affected.first().locator("td").nth(1).getByRole("link").click();
  await expect(page).toHaveURL(/\/endpoints\/\d+$/);
  expect(errors).toEqual([]);
});
