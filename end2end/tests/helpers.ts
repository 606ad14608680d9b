import { expect, Page } from "@playwright/test";
import { adminPassword } from "../playwright.config";

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
