import { test, expect } from "@playwright/test";
import { enableDefender, hydrated, signIn } from "./helpers";

// Sync now from the integration page, and the journal it adds to: after a full first sync,
// the next run reads only what Defender changed (alerts since the latest one stored, the
// machine-vulnerability change feed), and the journal says so in its own words.
test.describe("sync journal", () => {
  test("Sync now adds a run that lists only Defender's changes, and the journal says from when", async ({ page }) => {
    await signIn(page);
    await enableDefender(page);
    await page.goto("/configuration/integrations/microsoft-defender");
    await hydrated(page);
    const runs = page.getByRole("table", { name: "Sync runs" }).locator("tbody tr");
    // The journal streams in after the shell: wait for the run enableDefender waited for.
    await expect(runs.first()).toBeVisible();
    const before = await runs.count();
    expect(before).toBeGreaterThan(0);

    await page.getByRole("button", { name: "Sync now" }).click();
    await expect(page.getByRole("status").filter({ hasText: "Sync started." })).toBeVisible();
    // The journal shows the run from its start (Running); reload until it has finished.
    await expect
      .poll(async () => {
        await page.reload();
        await hydrated(page);
        await expect(runs.first()).toBeVisible();
        return [await runs.count(), await runs.first().locator("td").nth(2).innerText()];
      }, { timeout: 30_000 })
      .toEqual([before + 1, "Succeeded"]);
    const newest = runs.first();
    await expect(newest.getByTestId("alerts-listed")).toHaveText(/^\d+ changed since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    await expect(newest.getByTestId("vulnerability-changes")).toHaveText(
      /^\+0 \/ −0 from the change feed since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
    );
    // The oldest run listed everything: a plain count, no "since".
    await expect(runs.last().getByTestId("alerts-listed")).toHaveText(/^\d+$/);
  });
});
