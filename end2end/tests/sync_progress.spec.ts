import { test, expect } from "@playwright/test";
import { enableDefender, hydrated, setSimFaults, signIn } from "./helpers";

// Sync now with its live progress: the bar on the integration page and the badge in the top
// bar of every open page, both gone once the run ends, and the journal has its outcome.


test("Sync now shows its progress live, on this page and another, then its outcome", async ({ page, context }) => {
  test.setTimeout(120_000);
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await signIn(page);
  await enableDefender(page);
  // A slower Defender (every answer 400 ms late), so the run lasts long enough to watch.
  await setSimFaults({ delay_ms: 400 });
  try {
    const other = await context.newPage();
    await other.goto("/endpoints");
    await hydrated(other);
    await page.goto("/configuration/integrations/microsoft-defender");
    await hydrated(page);
    const runs = page.getByRole("table", { name: "Sync runs" }).locator("tbody > tr");
    await expect(runs.first()).toBeVisible();
    const newestBefore = await runs.first().locator("time").first().getAttribute("datetime");

    await page.getByRole("button", { name: "Sync now" }).click();
    const progress = page.getByTestId("sync-progress");
    await expect(progress).toBeVisible();
    await expect(progress.getByRole("progressbar", { name: "Sync progress" })).toBeVisible();
    await expect(progress).toContainText("pages:");
    await expect(page.getByTestId("sync-badge")).toContainText("Syncing Defender…");
    // The other page learns of it from the server's event stream, without a reload.
    await expect(other.getByTestId("sync-badge")).toContainText("Syncing Defender…");

    await expect(progress).toBeHidden({ timeout: 60_000 });
    await expect(page.getByTestId("sync-badge")).toBeHidden();
    await expect(other.getByTestId("sync-badge")).toBeHidden();
    await page.reload();
    await hydrated(page);
    await expect(runs.first()).toBeVisible();
    // A new run heads the journal (it lists the latest 50, so its length says nothing).
    expect(await runs.first().locator("time").first().getAttribute("datetime")).not.toBe(newestBefore);
    await expect(runs.first().locator("> td").nth(1)).toHaveText("sync now");
    await expect(runs.first().locator("> td").nth(2)).toHaveText("Succeeded");
    await other.close();
  } finally {
    await setSimFaults({});
  }
  expect(errors).toEqual([]);
});
