import { test, expect, Page } from "@playwright/test";
import { admin, hydrated, signIn } from "./helpers";

/** The walking-skeleton journey: sign in, see the shell, visit pages, sign out. */
async function journey(page: Page, withJs: boolean) {
  await page.goto("/endpoints");
  await expect(page).toHaveURL(/\/login\?next=%2Fendpoints|\/login\?next=\/endpoints/);
  await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();

  await signIn(page);
  await expect(page).toHaveURL(/\/$/);
  if (withJs) await hydrated(page);
  await expect(page.getByTestId("current-user")).toHaveText(admin.username);
  await expect(page.getByRole("heading", { name: "Dashboard", exact: true })).toBeVisible();
  const nav = page.getByRole("navigation", { name: "Main" });

  await nav.getByRole("link", { name: "Integrations" }).click();
  await expect(page).toHaveURL(/\/configuration\/integrations$/);
  await expect(page.getByRole("heading", { name: "Integrations", exact: true })).toBeVisible();
  await expect(page.getByRole("cell", { name: "Microsoft Defender for Endpoint" })).toBeVisible();

  await nav.getByRole("link", { name: "Endpoints" }).click();
  await expect(page).toHaveURL(/\/endpoints$/);
  await expect(page.getByRole("heading", { name: "Endpoints", exact: true })).toBeVisible();

  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto("/configuration/integrations");
  await expect(page).toHaveURL(/\/login\?next=/);
}

test.describe("with JavaScript", () => {
  test("sign in, see the shell, visit pages, sign out", async ({ page }) => {
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    // The Content-Security-Policy allows the hydration script by its nonce only: a blocked
    // script or style would show up here as a console error.
    const blocked: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error" && /Content Security Policy/i.test(m.text())) blocked.push(m.text());
    });
    const response = await page.goto("/login");
    expect(response?.headers()["content-security-policy"]).toContain("'wasm-unsafe-eval'");
    await journey(page, true);
    expect(errors).toEqual([]);
    expect(blocked).toEqual([]);
  });

  test("a wrong password is refused with a message", async ({ page }) => {
    await signIn(page, admin.username, "not-the-password");
    await expect(page.getByRole("alert")).toHaveText("Wrong username or password.");
    await expect(page).toHaveURL(/\/login\?error=invalid/);
  });

  test("unknown routes show the 404 page with status 404", async ({ page }) => {
    await signIn(page);
    await expect(page.getByTestId("current-user")).toBeVisible();
    const response = await page.goto("/no/such/page");
    expect(response?.status()).toBe(404);
    await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
  });
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("the same journey works from server-rendered HTML alone", async ({ page }) => {
    await journey(page, false);
  });
});
