import { test, expect } from "@playwright/test";
import { enableDefender, hydrated, signIn, simulatorApi, simUrl } from "./helpers";

// The Summary's Hardware and network panel shows what advanced hunting reports for the
// device's representative machine: every adapter of its latest report, MACs in the console's
// one form, addresses with their prefix, and the device's model.
test("the Summary shows the device's adapters and hardware as advanced hunting reports them", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await signIn(page);
  await enableDefender(page);

  await page.goto("/endpoints?source=defender");
  await hydrated(page);
  const rows = page.locator("table.endpoint-table tbody tr");
  await expect(rows.first()).toBeVisible();
  await rows.first().locator("td").nth(2).getByRole("link").click();
  await expect(page).toHaveURL(/\/endpoints\/\d+$/);
  await hydrated(page);

  const representative = page.locator("tr.representative td.mono").first();
  const machineId = /[0-9a-f]{40}/.exec(await representative.innerText())?.[0];
  expect(machineId).toBeTruthy();

  const api = await simulatorApi();
  const answer = await api.post(`${simUrl}/api/advancedqueries/run`, {
    data: {
      Query:
        `DeviceNetworkInfo | where DeviceId startswith "${machineId}" ` +
        "| summarize arg_max(Timestamp, *) by DeviceId, NetworkAdapterName " +
        "| project NetworkAdapterName, MacAddress",
    },
  });
  expect(answer.status(), await answer.text()).toBe(200);
  const served: { NetworkAdapterName: string; MacAddress: string }[] = (await answer.json()).Results;
  expect(served.length).toBeGreaterThan(0);

  const panel = page.getByRole("region", { name: "Hardware and network" });
  const adapters = panel.getByRole("table", { name: "Network adapters" }).locator("tbody tr");
  await expect(adapters).toHaveCount(served.length);
  for (const a of served) {
    const row = adapters.filter({ has: page.locator("td:first-child", { hasText: a.NetworkAdapterName }) });
    await expect(row).toHaveCount(1);
    // 00-15-5D-… as Defender writes it; 00:15:5D:… as the console does everywhere.
    const mac = /^[0-9A-F]{2}(-[0-9A-F]{2}){5}$/.test(a.MacAddress) && a.MacAddress !== "00-00-00-00-00-00"
      ? a.MacAddress.replaceAll("-", ":")
      : "—";
    await expect(row.locator("td").nth(3)).toHaveText(mac);
  }
  await expect(panel.getByTestId("device-facts")).toContainText("Device type");
  expect(errors).toEqual([]);
});
