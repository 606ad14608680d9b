import { test, expect, Page } from "@playwright/test";
import { readFile } from "node:fs/promises";
import { enableDefender, hydrated, signIn } from "./helpers";

// The endpoint list as an admin works it: filter, sort by a column and back, page through,
// and export what the filters select. Its state lives in the URL, so each step is a link or a
// GET form, and the count line ("1–20 of 187 endpoints") is what the steps are checked by.

const rows = (page: Page) => page.locator("table.endpoint-table tbody tr");

/** (first, last, total) of the count line. */
async function counted(page: Page): Promise<[number, number, number]> {
  const text = await page.getByTestId("endpoint-count").innerText();
  const m = /^(\d+)–(\d+) of (\d+) endpoints$/.exec(text.trim());
  expect(m, text).not.toBeNull();
  return [Number(m![1]), Number(m![2]), Number(m![3])];
}

test.beforeEach(async ({ page }) => {
  await signIn(page);
  await enableDefender(page);
});

test("filters narrow the list and the count, and Clear brings every endpoint back", async ({ page }) => {
  await page.goto("/endpoints");
  await hydrated(page);
  const [, , all] = await counted(page);
  expect(all).toBeGreaterThan(50);

  await page.getByLabel("Source").selectOption("defender");
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(/source=defender/);
  const [, , fromDefender] = await counted(page);
  expect(fromDefender).toBeLessThanOrEqual(all);
  for (const sources of await rows(page).locator("td:nth-child(8)").allInnerTexts()) {
    expect(sources).toContain("Defender");
  }

  // A risk level on top of it: every row shown has that level.
  const level = (await rows(page).first().locator("td").first().innerText()).trim();
  await page.getByLabel("Risk").selectOption(level);
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(new RegExp(`risk=${level}`));
  const [, , both] = await counted(page);
  expect(both).toBeGreaterThan(0);
  expect(both).toBeLessThanOrEqual(fromDefender);
  for (const risk of await rows(page).locator("td:first-child").allInnerTexts()) {
    expect(risk.trim()).toBe(level);
  }

  // A search nothing matches says so instead of showing an empty table.
  await page.getByLabel("Search").fill("no-such-host-anywhere");
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page.getByTestId("endpoint-count")).toHaveText("No endpoint matches these filters.");
  await expect(rows(page)).toHaveCount(0);

  await page.getByRole("link", { name: "Clear" }).click();
  await expect(page).toHaveURL(/\/endpoints$/);
  expect((await counted(page))[2]).toBe(all);
});

test("a column header sorts by it, descending first, and again ascending", async ({ page }) => {
  await page.goto("/endpoints?source=defender&page_size=100");
  await hydrated(page);
  const header = page.getByRole("columnheader", { name: "MAC", exact: true });
  await expect(header).toHaveAttribute("aria-sort", "none");
  const macs = async () =>
    (await rows(page).locator("td:nth-child(2)").allInnerTexts()).map((t) => t.trim()).filter((t) => t !== "");

  await header.getByRole("link").click();
  // Descending is the default direction, so its URL leaves `dir` out.
  await expect(page).toHaveURL(/sort=mac(&|$)/);
  expect(page.url()).not.toContain("dir=asc");
  await expect(header).toHaveAttribute("aria-sort", "descending");
  const down = await macs();
  expect(down.length).toBeGreaterThan(10);
  expect(down).toEqual([...down].sort().reverse());

  await header.getByRole("link").click();
  await expect(page).toHaveURL(/sort=mac&dir=asc/);
  await expect(header).toHaveAttribute("aria-sort", "ascending");
  const up = await macs();
  expect(up).toEqual([...up].sort());
  expect(up[0]).not.toBe(down[0]);
});

test("Next and Previous page through the list without losing or repeating a row", async ({ page }) => {
  await page.goto("/endpoints?sort=mac&dir=asc&page_size=20");
  await hydrated(page);
  const [first, last, total] = await counted(page);
  expect([first, last]).toEqual([1, 20]);
  await expect(rows(page)).toHaveCount(20);
  const ids = async () => rows(page).locator("a[href^='/endpoints/']").evaluateAll((links) =>
    [...new Set(links.map((a) => a.getAttribute("href")))]);
  const one = await ids();

  const pager = page.getByRole("navigation", { name: "Pages" });
  await expect(pager.getByRole("link", { name: "Previous" })).toHaveCount(0);
  await pager.getByRole("link", { name: "Next" }).click();
  await expect(page).toHaveURL(/page=2/);
  expect(await counted(page)).toEqual([21, Math.min(40, total), total]);
  const two = await ids();
  expect(two.filter((id) => one.includes(id))).toEqual([]);

  await pager.getByRole("link", { name: "Previous" }).click();
  await expect(page).toHaveURL(/page=1|\/endpoints\?sort=mac&dir=asc&page_size=20$/);
  expect(await ids()).toEqual(one);
});

test("Export CSV downloads every endpoint the filters select, not only the page shown", async ({ page }) => {
  await page.goto("/endpoints?source=defender&page_size=20");
  await hydrated(page);
  const [, , total] = await counted(page);
  expect(total).toBeGreaterThan(20);
  const download = page.waitForEvent("download");
  await page.getByRole("link", { name: "Export CSV" }).click();
  const file = await download;
  expect(file.suggestedFilename()).toBe("endpoints.csv");
  const lines = (await readFile((await file.path())!, "utf8")).trimEnd().split(/\r?\n/);
  expect(lines[0]).toMatch(/^risk,mac,ip,hostname,/);
  expect(lines.length - 1).toBe(total);
});
