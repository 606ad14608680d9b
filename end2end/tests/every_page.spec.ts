import { test, expect, Page } from "@playwright/test";
import { enableDefender, hydrated, signIn } from "./helpers";

// Every page of the console, opened as an administrator on a synced tenant: no console error,
// no uncaught exception, no failed or refused request, and the page hydrates.

/** Records what went wrong on the page from now on. */
function watch(page: Page): string[] {
  const problems: string[] = [];
  page.on("pageerror", (e) => problems.push(`exception: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console: ${m.text()}`);
  });
  page.on("requestfailed", (r) => {
    // The browser itself cancels the sync status stream of the page being left, and a
    // second fetch of the wasm the page has already compiled (its preload); the page is
    // checked to hydrate below. Any other failure is the console's.
    const path = new URL(r.url()).pathname;
    const cancelled =
      r.failure()?.errorText === "net::ERR_ABORTED" && (path === "/api/sync/events" || path.startsWith("/pkg/"));
    if (!cancelled) problems.push(`failed: ${r.method()} ${path} ${r.failure()?.errorText}`);
  });
  page.on("response", (r) => {
    if (r.status() >= 400) problems.push(`${r.status()}: ${r.request().method()} ${r.url()}`);
  });
  return problems;
}

/** The id of the riskiest onboarded endpoint Defender knows (at level `risk`, or any when empty). */
async function onboardedEndpoint(page: Page, risk: string): Promise<number> {
  const found = await page.request.post("/api/endpoints/list", {
    form: {
      "query[q]": "",
      "query[risk]": risk,
      "query[profile]": "",
      "query[source]": "defender",
      "query[onboarding]": "Onboarded",
      "query[sort]": "risk",
      "query[dir]": "desc",
      "query[page]": "1",
      "query[page_size]": "1",
    },
  });
  expect(found.status()).toBe(200);
  return (await found.json()).rows[0].id;
}

/** Opens each page in turn and fails on the first one that does not load cleanly. */
async function visitAll(page: Page, pages: string[]) {
  for (const path of pages) {
    await test.step(path, async () => {
      const problems = watch(page);
      const response = await page.goto(path);
      expect(response?.status(), path).toBe(200);
      await hydrated(page);
      await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
      // The page's own requests after hydration (resources, polls) get their answers.
      await page.waitForLoadState("networkidle");
      page.removeAllListeners("pageerror");
      page.removeAllListeners("console");
      page.removeAllListeners("requestfailed");
      page.removeAllListeners("response");
      expect(problems, path).toEqual([]);
    });
  }
}

test("every page loads and hydrates with no console error or failed request", async ({ page }) => {
  test.setTimeout(120_000);
  await signIn(page);
  await enableDefender(page);

  // Real ids for the pages that need one: an endpoint known to Defender, the signed-in admin.
  const endpoint = await onboardedEndpoint(page, "High");
  const me = await (await page.request.post("/api/auth/me")).json();

  const pages = [
    "/",
    "/?group=Engineering",
    "/endpoints",
    "/endpoints?risk=High&sort=hostname&dir=asc",
    "/endpoints/import",
    `/endpoints/${endpoint}`,
    `/endpoints/${endpoint}?tab=risk`,
    `/endpoints/${endpoint}?tab=risk&sub=defender`,
    `/endpoints/${endpoint}?tab=risk&sub=software`,
    "/vulnerabilities",
    "/software",
    "/configuration/integrations",
    "/configuration/integrations/microsoft-defender",
    "/configuration/profiles",
    "/configuration/sensors",
    "/configuration/users",
    `/configuration/users/${me.id}`,
    "/configuration/audit-log",
    "/account",
    "/account/password",
  ];
  await visitAll(page, pages);
});

test("every page an Analyst may open loads with no console error or failed request", async ({ page, browser }) => {
  test.setTimeout(120_000);
  await signIn(page);
  await enableDefender(page);
  const created = await page.request.post("/api/users/create", {
    form: { username: "e2e-every-page-analyst", password: "analyst-password-1", role: "Analyst" },
  });
  expect(created.status()).toBe(200);
  const endpoint = await onboardedEndpoint(page, "");

  const context = await browser.newContext();
  const analyst = await context.newPage();
  await signIn(analyst, "e2e-every-page-analyst", "analyst-password-1");
  await expect(analyst).not.toHaveURL(/\/login/);
  // Read only: no administration in the menu, and the pages an Analyst can reach.
  const nav = analyst.getByRole("navigation", { name: "Main" });
  await expect(nav.getByRole("link", { name: "Users" })).toHaveCount(0);
  await visitAll(analyst, [
    "/",
    "/endpoints",
    `/endpoints/${endpoint}`,
    `/endpoints/${endpoint}?tab=risk&sub=defender`,
    `/endpoints/${endpoint}?tab=risk&sub=software`,
    "/vulnerabilities",
    "/software",
    "/configuration/integrations",
    "/configuration/integrations/microsoft-defender",
    "/configuration/profiles",
    "/account",
  ]);
  await context.close();
});
