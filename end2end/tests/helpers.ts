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
}
