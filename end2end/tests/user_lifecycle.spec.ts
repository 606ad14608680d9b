import { test, expect, Page, Browser } from "@playwright/test";
import { hydrated, signIn } from "./helpers";

/** Opens an account's page from Configuration > Users. */
async function openUser(page: Page, username: string, withJs: boolean) {
  await page.goto("/configuration/users");
  if (withJs) await hydrated(page);
  await page.getByRole("link", { name: username, exact: true }).click();
  await expect(page.getByRole("heading", { name: `User ${username}` })).toBeVisible();
  if (withJs) await hydrated(page);
}

async function addUser(page: Page, username: string, password: string, withJs: boolean) {
  await page.goto("/configuration/users");
  if (withJs) await hydrated(page);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByLabel("Role").selectOption("Analyst");
  await page.getByRole("button", { name: "Add user" }).click();
  if (withJs) {
    await expect(page.getByRole("status")).toHaveText(`Added ${username}.`);
  }
  await page.goto("/configuration/users");
  await expect(page.getByRole("link", { name: username, exact: true })).toBeVisible();
}

/** A second browser for the managed user, so the administrator stays signed in. */
async function asUser(browser: Browser, withJs: boolean) {
  const context = await browser.newContext({ javaScriptEnabled: withJs });
  return context.newPage();
}

/** The whole lifecycle: role, temporary password, forced change, sessions, disable, delete. */
async function lifecycle(page: Page, browser: Browser, withJs: boolean) {
  const username = withJs ? "e2e-lifecycle" : "e2e-lifecycle-nojs";
  await signIn(page);
  await addUser(page, username, "first-password-1", withJs);

  await openUser(page, username, withJs);
  await page.getByRole("combobox", { name: "Role" }).selectOption("Operator");
  await page.getByRole("button", { name: "Change role" }).click();
  await expect(page.getByRole("definition").filter({ hasText: "Operator" })).toBeVisible();

  await page.getByLabel("Temporary password").fill("temporary-password-1");
  await page.getByRole("button", { name: "Reset password" }).click();
  await expect(page.getByText("Must change password", { exact: true })).toBeVisible();

  // The user signs in with the temporary password and is held at the change page.
  const user = await asUser(browser, withJs);
  await signIn(user, username, "temporary-password-1");
  await expect(user).toHaveURL(/\/account\/password$/);
  await expect(user.getByRole("note")).toContainText("Choose your own before you continue.");
  await user.goto("/endpoints");
  await expect(user).toHaveURL(/\/account\/password$/);
  if (withJs) await hydrated(user);
  await user.getByLabel("Current password").fill("temporary-password-1");
  await user.getByLabel("New password", { exact: true }).fill("users-own-password-1");
  await user.getByLabel("Repeat the new password").fill("users-own-password-1");
  await user.getByRole("button", { name: "Change password" }).click();
  await expect(user).toHaveURL(/\/account\?changed=password$/);
  await expect(user.getByRole("status")).toContainText("Your password was changed.");
  await expect(user.getByRole("cell", { name: "This session" })).toBeVisible();
  await user.goto("/endpoints");
  await expect(user.getByRole("heading", { name: "Endpoints", exact: true })).toBeVisible();

  // Disabling signs the user out at once.
  await openUser(page, username, withJs);
  await page.getByRole("button", { name: "Disable" }).click();
  await expect(page.getByText("Disabled", { exact: true })).toBeVisible();
  await user.goto("/endpoints");
  await expect(user).toHaveURL(/\/login\?next=/);
  await signIn(user, username, "users-own-password-1");
  await expect(user.getByRole("alert")).toHaveText("Wrong username or password.");

  await page.getByLabel("Username to confirm").fill(username);
  await page.getByRole("button", { name: "Delete user" }).click();
  await expect(page).toHaveURL(/\/configuration\/users$/);
  await expect(page.getByRole("link", { name: username, exact: true })).toHaveCount(0);
  await user.context().close();
}

test.describe("with JavaScript", () => {
  test("an administrator manages an account through its lifecycle", async ({ page, browser }) => {
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await lifecycle(page, browser, true);
    expect(errors).toEqual([]);
  });

  test("the account page lists this session and signs out everywhere", async ({ page }) => {
    await signIn(page);
    await page.getByTestId("current-user").click();
    await expect(page.getByRole("heading", { name: "Your account" })).toBeVisible();
    await expect(page.getByRole("cell", { name: "This session" })).toBeVisible();
    await page.getByRole("button", { name: "Sign out everywhere" }).click();
    await expect(page).toHaveURL(/\/login$/);
    await page.goto("/account");
    await expect(page).toHaveURL(/\/login\?next=/);
  });
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("the same lifecycle works from server-rendered HTML alone", async ({ page, browser }) => {
    await lifecycle(page, browser, false);
  });
});
