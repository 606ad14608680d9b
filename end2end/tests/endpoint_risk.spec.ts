import { test, expect, APIRequestContext } from "@playwright/test";
import { demoTenant, enableDefender, hydrated, signIn, simulatorApi, simUrl } from "./helpers";

async function allPages(api: APIRequestContext, url: string): Promise<any[]> {
  const items: any[] = [];
  let next: string | undefined = url;
  while (next) {
    const page: any = await (await api.get(next)).json();
    items.push(...page.value);
    next = page["@odata.nextLink"];
  }
  return items;
}

test("a High endpoint's Microsoft Defender subtab matches the simulator", async ({ page }) => {
  test.setTimeout(90_000);
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await signIn(page);

  await enableDefender(page);

  await page.goto("/endpoints");
  await hydrated(page);
  await page.getByLabel("Risk").selectOption("High");
  await page.getByLabel("Source").selectOption("defender");
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(/risk=High/);
  const rows = page.locator("table.endpoint-table tbody tr");
  await expect(rows.first()).toBeVisible();
  for (const badge of await rows.locator("td:first-child .risk-badge").all()) {
    await expect(badge).toHaveText("High");
  }
  await rows.first().locator("td").nth(2).getByRole("link").click();
  await expect(page).toHaveURL(/\/endpoints\/\d+$/);

  await page.getByRole("link", { name: "Risk", exact: true }).click();
  await expect(page.getByRole("region", { name: "Risk assessments" })).toBeVisible();
  // The syncs recorded its risk; the newest change is the level the list shows. (Other specs
  // share this server and may have synced before, so the number of changes is not known here.)
  const history = page.getByTestId("risk-history").locator("tbody tr");
  await expect(history.first().locator(".risk-badge")).toHaveText("High");
  await page.getByRole("link", { name: "Microsoft Defender", exact: true }).click();
  await expect(page).toHaveURL(/tab=risk&sub=defender/);
  const panel = page.getByRole("region", { name: "Microsoft Defender" });

  const overview = await panel.getByRole("link", { name: "Overview in Microsoft Defender" }).getAttribute("href");
  const machineId = /machines\/v2\/([0-9a-f]{40})\/overview\?tid=/.exec(overview ?? "")?.[1];
  expect(machineId, `overview link ${overview}`).toBeTruthy();
  const portal = `https://security.microsoft.com/machines/v2/${machineId}`;
  expect(overview).toBe(`${portal}/overview?tid=${demoTenant.tenantId}`);
  await expect(panel.getByRole("link", { name: "Alerts in Microsoft Defender" })).toHaveAttribute(
    "href",
    `${portal}/alerts?tid=${demoTenant.tenantId}`,
  );

  const api = await simulatorApi();
  const vulns = await allPages(api, `${simUrl}/api/machines/${machineId}/vulnerabilities`);
  const cves = new Set(vulns.map((v) => v.id));
  const count = panel.getByTestId("vulnerability-count").getByRole("link");
  await expect(count).toHaveText(`${cves.size} vulnerabilities`);
  await expect(count).toHaveAttribute("href", `${portal}/vulnerabilities?tid=${demoTenant.tenantId}`);

  const mostSevere = panel.getByTestId("most-severe-vulnerability");
  if (cves.size > 0) {
    const cveLink = mostSevere.getByRole("link").first();
    const cve = (await cveLink.textContent())!.trim();
    expect(cves.has(cve), `${cve} is one of the machine's CVEs`).toBe(true);
    await expect(cveLink).toHaveAttribute(
      "href",
      `https://security.microsoft.com/vulnerabilities/vulnerability/${cve}/overview?tid=${demoTenant.tenantId}`,
    );
    const severest = ["Critical", "High", "Medium", "Low"].find((s) => vulns.some((v) => v.severity === s));
    const shown = vulns.find((v) => v.id === cve);
    expect(["Critical", "High", "Medium", "Low"].indexOf(shown.severity)).toBeLessThanOrEqual(
      ["Critical", "High", "Medium", "Low"].indexOf(severest!),
    );
  } else {
    await expect(mostSevere).toContainText("no vulnerabilities");
  }
  const levels = ["None", "Low", "Medium", "High", "Critical"];
  const exposure = await panel.getByTestId("exposure-risk-level").locator(".risk-badge").getAttribute("data-risk");
  const alertLevel = await panel.getByTestId("alert-risk-level").locator(".risk-badge").getAttribute("data-risk");
  expect(levels).toContain(exposure);
  expect(levels).toContain(alertLevel);

  // The alert Risk Level follows the most severe active alert the simulator holds.
  const alerts = (await allPages(api, `${simUrl}/api/alerts`)).filter(
    (a) => a.machineId === machineId && a.status !== "Resolved",
  );
  const alertRank: Record<string, string> = { High: "High", Medium: "Medium", Low: "Low", Informational: "Low", UnSpecified: "Low" };
  const expected = alerts.length === 0 ? "None" : alerts.map((a) => alertRank[a.severity] ?? "Medium")
    .sort((a, b) => levels.indexOf(b) - levels.indexOf(a))[0];
  expect(alertLevel).toBe(expected);
  // Links lead to the Defender portal, or to this console's page of one of its CVEs.
  for (const link of await panel.getByRole("link").all()) {
    expect(await link.getAttribute("href")).toMatch(
      /^(https:\/\/security\.microsoft\.com\/|\/vulnerabilities\?cve=CVE-\d+-\d+$)/,
    );
  }

  // The Software subtab: one row per product and version the machine's rows name, each with
  // its weaknesses there and Defender's tenant-wide facts about the product.
  await page.getByRole("navigation", { name: "Risk sections" }).getByRole("link", { name: "Software", exact: true }).click();
  await expect(page).toHaveURL(/tab=risk&sub=software/);
  const software = page.getByRole("region", { name: "Software" });
  const rowsOfMachine = await allPages(
    api,
    `${simUrl}/api/vulnerabilities/machinesVulnerabilities?$filter=${encodeURIComponent(`machineId eq '${machineId}'`)}`,
  );
  expect(rowsOfMachine.length > 0, "rows exactly when the machine has CVEs").toBe(cves.size > 0);
  expect(new Set(rowsOfMachine.map((r) => r.cveId))).toEqual(cves);
  const products = new Map<string, Set<string>>();
  for (const r of rowsOfMachine) {
    const key = `${r.productVendor}-_-${r.productName}`.toLowerCase() + ` ${r.productVersion}`;
    products.set(key, (products.get(key) ?? new Set()).add(r.cveId));
  }
  const shown = software.locator("tbody tr");
  await expect(shown).toHaveCount(products.size);
  for (const row of await shown.all()) {
    const id = (await row.getAttribute("data-software"))!;
    const version = (await row.locator("td").nth(2).textContent())!.trim();
    const cvesHere = products.get(`${id} ${version === "—" ? "" : version}`);
    expect(cvesHere, `${id} ${version} is one of the machine's products`).toBeTruthy();
    await expect(row.locator("td").nth(3).getByRole("link")).toHaveCount(cvesHere!.size);
    const facts: any = await (await api.get(`${simUrl}/api/Software/${id}`)).json();
    await expect(row.getByTestId("software-tenant")).toContainText(`${facts.exposedMachines} exposed devices`);
  }
  for (const link of await software.getByRole("link").all()) {
    expect(await link.getAttribute("href")).toMatch(/^\/vulnerabilities\?cve=CVE-\d+-\d+$/);
  }
  expect(errors).toEqual([]);
});
