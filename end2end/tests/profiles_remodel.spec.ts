import { test, expect } from "@playwright/test";
import { enableDefender, hydrated, signIn } from "./helpers";

// Configuration > Profiles: a full re-model from the button, the button back and the progress
// bar gone once it ends, and the outcome naming every endpoint the list holds.
test("Re-model all endpoints re-models every endpoint and says so", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await signIn(page);
  await enableDefender(page);
  await page.goto("/endpoints");
  const total = Number(/ of (\d+) endpoints/.exec(await page.getByTestId("endpoint-count").innerText())![1]);

  await page.goto("/configuration/profiles");
  await hydrated(page);
  const button = page.getByRole("button", { name: /Re-model/ });
  await expect(button).toHaveText("Re-model all endpoints");
  await button.click();
  const done = page.getByRole("status").filter({ hasText: /^Re-modelled \d+ endpoints in \d+ ms\.$/ });
  await expect(done).toBeVisible({ timeout: 30_000 });
  expect(Number(/Re-modelled (\d+)/.exec(await done.innerText())![1])).toBe(total);
  await expect(button).toBeEnabled();
  await expect(button).toHaveText("Re-model all endpoints");
  // The progress bar is only there while it runs.
  await expect(page.getByLabel("Re-model progress")).toHaveCount(0);
  expect(errors).toEqual([]);
});
