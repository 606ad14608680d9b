import { test, expect, Page } from "@playwright/test";
import { enableDefender, hydrated, signIn } from "./helpers";

// Disabling the integration removes Defender's ⇋ profiles and keeps every endpoint; enabling it
// again syncs and brings them back. Through the settings page, as an administrator would.

/** The list's total and the profile names it offers. */
async function listState(page: Page): Promise<{ total: number; profiles: string[]; shown: string[] }> {
  await page.goto("/endpoints?page_size=500");
  await hydrated(page);
  const text = (await page.getByTestId("endpoint-count").textContent()) ?? "";
  const total = Number(/of (\d+) endpoints/.exec(text)?.[1] ?? 0);
  const profiles = (await page.getByLabel("Profile").locator("option").allTextContents()).slice(1);
  const shown = await page.locator("table.endpoint-table tbody tr td:nth-child(6)").allTextContents();
  return { total, profiles, shown };
}

async function setEnabled(page: Page, enabled: boolean) {
  await page.goto("/configuration/integrations/microsoft-defender");
  await hydrated(page);
  const box = page.getByLabel("Enabled (sync now, then every hour)");
  await box.setChecked(enabled);
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Saved." })).toBeVisible();
}

test("disabling the integration removes the ⇋ profiles and keeps the endpoints; enabling brings them back", async ({ page }) => {
  test.setTimeout(120_000);
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await signIn(page);
  await enableDefender(page);

  const before = await listState(page);
  expect(before.total).toBeGreaterThan(0);
  expect(before.total).toBeLessThanOrEqual(500);
  const dynamic = before.profiles.filter((p) => p.startsWith("⇋ "));
  expect(dynamic.length).toBeGreaterThan(0);
  expect(before.shown.filter((p) => p.includes("⇋")).length).toBeGreaterThan(0);

  await setEnabled(page, false);
  await expect(page.getByTestId("integration-state")).toHaveText("Disabled");
  const off = await listState(page);
  expect(off.total).toBe(before.total);
  expect(off.profiles.filter((p) => p.startsWith("⇋ "))).toEqual([]);
  expect(off.shown.filter((p) => p.includes("⇋"))).toEqual([]);
  // The re-model gave standard profiles: some endpoints have one.
  expect(off.shown.filter((p) => p !== "Unprofiled").length).toBeGreaterThan(0);
  // Sync now is refused while it is off.
  const refused = await page.request.post("/api/sync/now");
  expect(refused.status()).toBe(409);

  await page.goto("/configuration/audit-log");
  await expect(page.locator("tr", { hasText: "profiles.remodel" }).filter({ hasText: `${before.total} endpoints re-modelled` }).first()).toBeVisible();
  await expect(page.locator("tr", { hasText: "disabled" }).first()).toBeVisible();

  await setEnabled(page, true);
  await expect
    .poll(async () => (await (await page.request.post("/api/integrations/defender/get")).json()).last_sync_outcome, {
      timeout: 60_000,
    })
    .toBe("Succeeded");
  await expect
    .poll(async () => (await listState(page)).profiles.filter((p) => p.startsWith("⇋ ")).sort(), { timeout: 30_000 })
    .toEqual([...dynamic].sort());
  expect((await listState(page)).total).toBe(before.total);
  expect(errors).toEqual([]);
});
