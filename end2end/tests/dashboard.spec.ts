import { test, expect, Page } from "@playwright/test";
import { enableDefender, hydrated, setSimFaults, signIn, windowsMachine } from "./helpers";

// The dashboard: every count leads to exactly the endpoints it counts, the riskiest endpoints
// are the list's first rows by risk, and a machine action shows there while it is open, until
// it is cancelled (with the audit log saying who sent and who cancelled it).


/** The list's total for a query string, as the page shows it ("1–50 of N endpoints"). */
async function listTotal(page: Page, href: string): Promise<number> {
  await page.goto(href);
  await hydrated(page);
  const text = (await page.getByTestId("endpoint-count").textContent()) ?? "";
  const total = /of (\d+) endpoints/.exec(text)?.[1];
  return total === undefined ? 0 : Number(total);
}

test("coverage counts and the riskiest endpoints lead to exactly what they count", async ({ page }) => {
  test.setTimeout(120_000);
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await signIn(page);
  await enableDefender(page);

  await page.goto("/");
  await hydrated(page);
  const coverage = page.getByTestId("coverage-table");
  await expect(coverage).toBeVisible();
  const links = await coverage.locator("tbody a").evaluateAll((as) =>
    as.map((a) => ({ href: a.getAttribute("href")!, n: Number(a.textContent) })),
  );
  // The demo tenant has Defender-only machines in several onboarding states.
  expect(links.filter((l) => l.href.includes("source=defender_only")).length).toBeGreaterThan(0);
  let sum = 0;
  for (const { href, n } of links) {
    expect(await listTotal(page, href), href).toBe(n);
    sum += n;
  }
  // Every endpoint is in exactly one cell.
  expect(sum).toBe(await listTotal(page, "/endpoints"));

  // The riskiest endpoints: the list sorted by risk shows the same ones first.
  await page.goto("/");
  await hydrated(page);
  const top = page.getByTestId("top-risky").locator("tbody tr");
  const shown = await top.count();
  expect(shown).toBe(10);
  const names = await top.locator("td:nth-child(2)").allTextContents();
  const levels = await top.locator("td:nth-child(1)").allTextContents();
  await page.getByRole("link", { name: "Every endpoint by risk" }).click();
  await expect(page).toHaveURL(/\/endpoints\?sort=risk&dir=desc$/);
  const rows = page.locator("table.endpoint-table tbody tr");
  await expect(rows.first()).toBeVisible();
  for (let i = 0; i < shown; i++) {
    await expect(rows.nth(i)).toContainText(names[i]);
    await expect(rows.nth(i)).toContainText(levels[i]);
  }

  // One of them opens its Summary, at the same risk level.
  await page.goto("/");
  await hydrated(page);
  await top.first().getByRole("link").click();
  await expect(page).toHaveURL(/\/endpoints\/\d+$/);
  await expect(page.getByRole("heading", { level: 1 })).toContainText(names[0]);
  expect(errors).toEqual([]);
});

test("an open action shows on the dashboard until it is cancelled, and the audit log has both", async ({ page }) => {
  test.setTimeout(120_000);
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await signIn(page);
  await enableDefender(page);

  // A scan the device starts and never finishes, so it stays open until cancelled.
  // The last such machine: machine_actions.spec.ts counts the history of the first.
  const machine = await windowsMachine("last");
  await setSimFaults({ action_outcome: "NeverTerminal" });
  try {
    await page.goto(`/endpoints?q=${encodeURIComponent(machine.name)}&source=defender`);
    await hydrated(page);
    await page.locator("table.endpoint-table tbody tr").first().getByRole("link").first().click();
    await expect(page).toHaveURL(/\/endpoints\/\d+$/);
    await hydrated(page);
    const summaryUrl = page.url();

    await page.goto("/");
    await hydrated(page);
    await expect(page.getByTestId("open-actions")).toHaveText("No machine action is open.");

    await page.goto(summaryUrl);
    await hydrated(page);
    const panel = page.getByRole("region", { name: "Microsoft Defender actions" });
    await panel.locator("summary", { hasText: "Run Scan" }).click();
    const form = panel.locator("details[open] form");
    await form.locator("select[name=scope]").selectOption("Quick");
    await form.locator("textarea[name=comment]").fill("Scan while we look at the alert");
    await form.getByRole("button", { name: "Send: Run Scan" }).click();
    const latest = panel.getByTestId("action-history").locator("tbody tr").first();
    await expect(latest.getByTestId("action-status")).toHaveText("In progress", { timeout: 15_000 });

    // The dashboard lists it, by the endpoint's name, leading back to it.
    await page.goto("/");
    await hydrated(page);
    const open = page.getByRole("region", { name: "Open actions" });
    await expect(page.getByTestId("open-actions")).toHaveText("1 open.");
    const row = open.locator("tbody tr");
    await expect(row).toHaveCount(1);
    await expect(row).toContainText("Run Scan");
    await expect(row).toContainText("In progress");
    await expect(row).toContainText("admin");
    await row.getByRole("link", { name: machine.name }).click();
    await expect(page).toHaveURL(summaryUrl);
    await hydrated(page);

    // Cancel it with a reason: Defender says Cancelled, and the dashboard has nothing open.
    await latest.locator("summary", { hasText: "Cancel" }).click();
    await latest.getByLabel("Reason").fill("Alert was a false positive");
    await latest.getByRole("button", { name: "Send cancellation" }).click();
    await expect(latest.getByTestId("action-status")).toHaveText("Cancelled", { timeout: 15_000 });
    await page.goto("/");
    await hydrated(page);
    await expect(page.getByTestId("open-actions")).toHaveText("No machine action is open.");

    await page.goto("/configuration/audit-log");
    await expect(page.locator("tr", { hasText: "action.scan" }).filter({ hasText: "Scan while we look at the alert" })).toHaveCount(1);
    await expect(page.locator("tr", { hasText: "action.cancel" }).filter({ hasText: "Alert was a false positive" })).toHaveCount(1);
  } finally {
    await setSimFaults({});
  }
  expect(errors).toEqual([]);
});
