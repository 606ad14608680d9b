import { expect, Page, APIRequestContext, request as playwrightRequest } from "@playwright/test";
import { adminPassword, simPort } from "../playwright.config";

export const admin = { username: "admin", password: adminPassword };

/** Waits until the wasm has hydrated the page (App sets the marker in an Effect). */
export async function hydrated(page: Page) {
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
}

/** Signs in through the login form, by label and role like a person would. */
export async function signIn(page: Page, username = admin.username, password = admin.password) {
  await page.goto("/login");
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  // The form posts and the server redirects; wait for that to land before the next step.
  await page.waitForURL((url) => url.pathname !== "/login" || url.search.includes("error="));
}

/** The simulator's demo tenant (server/src/sim/config.rs: DEMO_*), as `defender-sim` prints it. */
export const demoTenant = {
  tenantId: "6f1c2d3e-4a5b-4c6d-8e7f-90a1b2c3d4e5",
  clientId: "0c6b8f2e-5d4a-4b3c-9e1f-a2b3c4d5e6f7",
  secret: "sim~DemoSecretValue.0123456789abcdefghij",
};

export const simUrl = `http://127.0.0.1:${simPort}`;

/** Configures and enables the demo tenant (saving again starts a sync), then waits until a
 * sync has finished successfully. */
export async function enableDefender(page: Page) {
  const saved = await page.request.post("/api/integrations/defender/save", {
    form: {
      tenant_id: demoTenant.tenantId,
      client_id: demoTenant.clientId,
      client_secret: demoTenant.secret,
      cloud: "commercial",
      custom_login_url: simUrl,
      custom_api_url: simUrl,
      enabled: "on",
    },
  });
  expect(saved.status()).toBe(200);
  await expect
    .poll(async () => (await (await page.request.post("/api/integrations/defender/get")).json()).last_sync_outcome, {
      timeout: 60_000,
    })
    .toBe("Succeeded");
}

/** Reads the simulator directly, as Defender's API, to check what the console shows. */
export async function simulatorApi(): Promise<APIRequestContext> {
  const ctx = await playwrightRequest.newContext();
  const token = await ctx.post(`${simUrl}/${demoTenant.tenantId}/oauth2/v2.0/token`, {
    form: {
      grant_type: "client_credentials",
      client_id: demoTenant.clientId,
      client_secret: demoTenant.secret,
      scope: "https://api.securitycenter.microsoft.com/.default",
    },
  });
  const { access_token } = await token.json();
  return playwrightRequest.newContext({ extraHTTPHeaders: { Authorization: `Bearer ${access_token}` } });
}


/** Sets the simulator's faults (`{}` clears them). */
export async function setSimFaults(faults: object) {
  const ctx = await playwrightRequest.newContext();
  const res = await ctx.post(`${simUrl}/_sim/faults`, { data: faults });
  expect(res.status()).toBe(200);
  await ctx.dispose();
}

/** An onboarded, healthy Windows 11 machine as the simulator's own API lists it: the first
 * such machine, or the last (for tests that must not add to the first one's action history,
 * which machine_actions.spec.ts counts). */
export async function windowsMachine(which: "first" | "last" = "first"): Promise<{ id: string; name: string }> {
  const api = await simulatorApi();
  const res = await api.get(`${simUrl}/api/machines?$top=500`);
  const machines: any[] = (await res.json()).value;
  await api.dispose();
  const candidates = machines.filter(
    (m) =>
      m.onboardingStatus === "Onboarded" &&
      m.healthStatus === "Active" &&
      m.osPlatform === "Windows11" &&
      !m.isPotentialDuplication &&
      m.computerDnsName,
  );
  const m = which === "first" ? candidates[0] : candidates[candidates.length - 1];
  expect(m, "the demo tenant has an onboarded Windows 11 machine").toBeTruthy();
  return { id: m.id, name: m.computerDnsName };
}
