import { test, expect } from "@playwright/test";
import { enableDefender, hydrated, signIn } from "./helpers";

test("the Software page finds a product and every device running it", async ({ page }) => {
  test.setTimeout(90_000);
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await signIn(page);
  await enableDefender(page);

  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Software" }).click();
  await expect(page).toHaveURL(/\/software$/);
  await hydrated(page);
  await expect(page.getByTestId("software-count")).toContainText(/of \d+ products/);

  // Search by vendor: every row is that vendor's (or names it).
  const products = page.locator("table.software-list tbody tr");
  const vendor = (await products.first().locator("td").nth(1).innerText()).trim();
  await page.getByLabel("Software").fill(vendor.toUpperCase());
  await page.getByRole("button", { name: "Search" }).click();
  await expect(page).toHaveURL(new RegExp(`q=${vendor.toUpperCase()}`));
  await expect(products.first()).toBeVisible();
  const count = await products.count();
  for (let i = 0; i < count; i++) {
    const row = (await products.nth(i).innerText()).toLowerCase();
    expect(row).toContain(vendor.toLowerCase());
  }

  // Open the first: its facts, when Defender listed its devices, and the devices.
  const name = (await products.first().locator("td").first().innerText()).trim();
  await products.first().getByRole("link", { name }).click();
  await expect(page).toHaveURL(/software=/);
  const detail = page.getByTestId("software-detail");
  await expect(detail.getByRole("heading", { name })).toBeVisible();
  await expect(page.getByTestId("software-read")).toContainText("Devices as Microsoft Defender listed them on");
  await expect(page.getByTestId("software-note")).toHaveCount(0);
  const devices = page.locator("table.software-devices tbody tr");
  await expect(devices.first()).toBeVisible();
  await expect(page.getByTestId("device-count")).toContainText(/\d+ devices, \d+ of them endpoints/);
  await expect(page.getByRole("link", { name: "Export CSV" })).toHaveAttribute("href", /^\/api\/software\/export\.csv\?software=/);

  // Narrowed to the first row's device group, every row is in it.
  const group = (await devices.first().locator("td").nth(7).innerText()).trim();
  await page.getByLabel("Device group").selectOption(group);
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(/group=/);
  await expect(devices.first()).toBeVisible();
  const inGroup = await devices.count();
  for (let i = 0; i < inGroup; i++) {
    await expect(devices.nth(i).locator("td").nth(7)).toHaveText(group);
  }

  // The CSV has a line per device of the group, every page of them.
  const total = Number((await page.getByTestId("device-count").innerText()).match(/^(\d+) devices/)![1]);
  expect(total).toBeGreaterThanOrEqual(inGroup);
  const csvHref = await page.getByRole("link", { name: "Export CSV" }).getAttribute("href");
  expect(csvHref).toContain("group=");
  const csv = await page.request.get(csvHref!);
  expect(csv.status()).toBe(200);
  const lines = (await csv.text()).trim().split(/\r?\n/);
  expect(lines.length).toBe(total + 1);

  // Back to the search, or on to a device's Summary.
  await page.getByRole("link", { name: "← All software" }).click();
  await expect(page).toHaveURL(/q=/);
  await expect(page).not.toHaveURL(/software=/);
  await page.goBack();
  await expect(devices.first()).toBeVisible();
  await devices.first().locator("td").nth(1).getByRole("link").click();
  await expect(page).toHaveURL(/\/endpoints\/\d+$/);
  expect(errors).toEqual([]);
});
