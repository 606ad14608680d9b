import { test, expect, request } from "@playwright/test";
import { hydrated, signIn } from "./helpers";

// Configuration > Sensors: an administrator creates a sensor token, sees its value once, a
// sensor pushes an observation with it (the endpoint appears, the token's "Last used" is
// set), the token is revoked and refused from then on, and the audit log has both steps.
test("a sensor token is created, used, revoked and refused, and the audit log says so", async ({ page, baseURL }) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  const name = `e2e-branch-${Date.now()}`;
  const mac = "00:1B:21:E2:E0:01";
  await signIn(page);
  await page.goto("/configuration/sensors");
  await hydrated(page);
  await page.getByLabel("Name").fill(name);
  await page.getByRole("button", { name: "Create token" }).click();
  const notice = page.getByRole("status").filter({ hasText: "Copy it now" });
  await expect(notice).toContainText(name);
  const token = await notice.getByLabel("Token").inputValue();
  // `eat_` and 32 random bytes in hex (server/src/endpoints/tokens.rs).
  expect(token).toMatch(/^eat_[0-9a-f]{64}$/);

  // A sensor has no session: only the token.
  const sensor = await request.newContext({ baseURL });
  const push = () =>
    sensor.post("/api/ingest/sensor", {
      headers: { Authorization: `Bearer ${token}` },
      data: { sensor: name, observations: [{ mac, ip: "10.77.0.9", hostname: "sensor-seen-1" }] },
    });
  const accepted = await push();
  expect(accepted.status(), await accepted.text()).toBe(200);
  await page.goto(`/endpoints?q=${encodeURIComponent(mac)}`);
  await expect(page.getByTestId("endpoint-count")).toHaveText("1–1 of 1 endpoints");

  await page.goto("/configuration/sensors");
  await hydrated(page);
  const row = page.locator("tr", { has: page.locator("td:first-child", { hasText: name }) });
  await expect(row.locator("td").nth(3).locator("time")).toHaveCount(1);
  await expect(row).toContainText("Active");
  await row.getByRole("button", { name: `Revoke ${name}` }).click();
  await expect(row).toContainText("Revoked");
  await expect(row.getByRole("button", { name: `Revoke ${name}` })).toHaveCount(0);
  const refused = await push();
  expect(refused.status()).toBe(401);

  await page.goto("/configuration/audit-log");
  const entries = page.locator("tr", { hasText: name });
  await expect(entries.filter({ hasText: "api_token.create" })).toHaveCount(1);
  await expect(entries.filter({ hasText: "api_token.revoke" })).toHaveCount(1);
  expect(errors).toEqual([]);
  await sensor.dispose();
});
