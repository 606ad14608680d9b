import { test, expect, Page } from "@playwright/test";
import { demoTenant, enableDefender, setSimFaults, signIn, windowsMachine } from "./helpers";

// The console's forms from server-rendered HTML alone: each posts, the server answers with the
// page again, and that page says what happened.
test.use({ javaScriptEnabled: false });


/** The journal's newest run: when it started (the stored value), why, and how it ended. */
async function newestRun(page: Page): Promise<string> {
  await page.goto("/configuration/integrations/microsoft-defender");
  const row = page.getByRole("table", { name: "Sync runs" }).locator("tbody > tr").first();
  const started = await row.locator("td").first().locator("time").getAttribute("datetime");
  const cells = await row.locator("> td").allTextContents();
  return `${started} ${cells[1]} ${cells[2]}`;
}

test("the Defender settings save, disable, test and enable again, and Sync now adds a run", async ({ page }) => {
  test.setTimeout(120_000);
  await signIn(page);
  await enableDefender(page);

  // Disable: the state says so after the post comes back.
  await page.goto("/configuration/integrations/microsoft-defender");
  await page.getByLabel("Enabled (sync now, then every hour)").uncheck();
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page).toHaveURL(/\/configuration\/integrations\/microsoft-defender\??$/);
  await expect(page.getByTestId("integration-state")).toHaveText("Disabled");
  await expect(page.getByLabel("Tenant ID")).toHaveValue(demoTenant.tenantId);
  await expect(page.getByTestId("secret-state")).toContainText("A secret is set");

  // Test Connection posts the form's values to the test; the page it returns to has the report.
  await page.getByRole("button", { name: "Test Connection" }).click();
  await expect(page).toHaveURL(/\/configuration\/integrations\/microsoft-defender\??$/);
  const report = page.getByRole("region", { name: "Connection test report" });
  await expect(report.getByRole("heading", { name: "Connection test passed" })).toBeVisible();
  await expect(report.getByRole("listitem").filter({ hasText: "Token obtained" })).toContainText("Passed");
  // Shown once: the next visit has none.
  await page.reload();
  await expect(page.getByRole("region", { name: "Connection test report" })).toHaveCount(0);

  // Enable again (the secret left empty keeps the stored one): a sync starts and succeeds.
  const disabled = await newestRun(page);
  await page.getByLabel("Enabled (sync now, then every hour)").check();
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page).toHaveURL(/\/configuration\/integrations\/microsoft-defender\??$/);
  await expect
    .poll(async () => {
      const now = await newestRun(page);
      return now !== disabled && now.endsWith(" enabled Succeeded");
    }, { timeout: 60_000 })
    .toBe(true);

  // Sync now: a new run heads the journal, for that reason, and succeeds.
  const before = await newestRun(page);
  await page.getByRole("button", { name: "Sync now" }).click();
  await expect(page).toHaveURL(/\/configuration\/integrations\/microsoft-defender\??$/);
  await expect
    .poll(async () => {
      const now = await newestRun(page);
      return now !== before && now.endsWith(" sync now Succeeded");
    }, { timeout: 60_000 })
    .toBe(true);
});

test("Re-model all endpoints posts and the page reports the run", async ({ page }) => {
  test.setTimeout(90_000);
  await signIn(page);
  await enableDefender(page);
  await page.goto("/configuration/profiles");
  await page.getByRole("button", { name: "Re-model all endpoints" }).click();
  await expect(page).toHaveURL(/\/configuration\/profiles\??$/);
  const total = (await (await page.request.post("/api/profiles/remodel_progress")).json()).total;
  await expect(page.getByTestId("last-remodel")).toContainText(`${total} endpoints re-modelled`);
});

test("a machine action is sent, named to confirm, and cancelled", async ({ page }) => {
  test.setTimeout(120_000);
  await signIn(page);
  await enableDefender(page);
  // The last such machine: machine_actions.spec.ts counts the history of the first.
  const machine = await windowsMachine("last");
  // Picked up and never finished: open until cancelled.
  await setSimFaults({ action_outcome: "NeverTerminal" });
  try {
    await page.goto(`/endpoints?q=${encodeURIComponent(machine.name)}&source=defender`);
    await page.locator("table.endpoint-table tbody tr").first().locator("td:nth-child(4) a").click();
    await expect(page).toHaveURL(/\/endpoints\/\d+$/);
    const summaryUrl = page.url();
    // The post comes back to the same page (the server's redirect may add an empty query).
    const back = new RegExp(`^${summaryUrl.replace(/[.?]/g, "\\$&")}\\??$`);

    const panel = page.getByRole("region", { name: "Microsoft Defender actions" });
    await panel.locator("summary", { hasText: "Isolate Machine" }).click();
    const form = panel.locator("details[open] form");
    await form.locator("select[name=scope]").selectOption("Selective");
    await form.locator("textarea[name=comment]").fill("Isolated from a browser without JavaScript");
    await form.locator("input[name=confirm]").fill(machine.name);
    await form.getByRole("button", { name: "Send: Isolate Machine" }).click();
    await expect(page).toHaveURL(back);
    const latest = panel.getByTestId("action-history").locator("tbody tr").first();
    await expect(latest).toHaveAttribute("data-kind", "Isolate");

    // Without JavaScript the page shows what the server knew; reload until Defender has it.
    await expect
      .poll(async () => {
        await page.reload();
        return latest.getByTestId("action-status").textContent();
      }, { timeout: 20_000 })
      .toBe("In progress");
    await latest.locator("summary", { hasText: "Cancel" }).click();
    await latest.getByLabel("Reason").fill("Wrong device");
    await latest.getByRole("button", { name: "Send cancellation" }).click();
    await expect(page).toHaveURL(back);
    await expect(latest.getByTestId("action-status")).toHaveText("Cancelled");

    await page.goto("/configuration/audit-log");
    await expect(page.locator("tr", { hasText: "action.isolate" }).filter({ hasText: "Isolated from a browser without JavaScript" })).toHaveCount(1);
    await expect(page.locator("tr", { hasText: "action.cancel" }).filter({ hasText: "Wrong device" })).toHaveCount(1);
  } finally {
    await setSimFaults({});
  }
});

test("the dashboard's device-group scope and the list's filters work as plain GET forms", async ({ page }) => {
  test.setTimeout(90_000);
  await signIn(page);
  await enableDefender(page);
  await page.goto("/");
  await page.getByLabel("Device group").selectOption("Engineering");
  await page.getByRole("button", { name: "Show" }).click();
  await expect(page).toHaveURL(/\/\?group=Engineering$/);
  await expect(page.getByTestId("dashboard-scope")).toContainText("Endpoints of the device group Engineering");

  await page.goto("/endpoints");
  await page.getByLabel("Device group").selectOption("Engineering");
  await page.getByLabel("Risk").selectOption("High");
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(/risk=High/);
  await expect(page).toHaveURL(/group=Engineering/);
  const rows = page.locator("table.endpoint-table tbody tr");
  const n = await rows.count();
  for (let i = 0; i < n; i++) {
    await expect(rows.nth(i).locator("td").first()).toHaveText("High");
    await expect(rows.nth(i).locator("td").nth(9)).toContainText("Engineering");
  }
});
