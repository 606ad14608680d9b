import { test, expect, Page } from "@playwright/test";
import { admin, enableDefender, hydrated, signIn } from "./helpers";

// Keyboard only: no click anywhere below. Each step presses keys and checks where the focus is,
// as a person who cannot use a mouse would find it.

/** Presses Tab until the focused element matches, at most `limit` times; fails otherwise. */
async function tabTo(page: Page, matches: (el: { tag: string; text: string; label: string }) => boolean, limit = 40) {
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press("Tab");
    const el = await page.evaluate(() => {
      const a = document.activeElement as HTMLElement | null;
      return {
        tag: a?.tagName.toLowerCase() ?? "",
        text: (a?.textContent ?? "").trim(),
        label: a?.getAttribute("aria-label") ?? (a as HTMLInputElement | null)?.labels?.[0]?.textContent?.trim() ?? "",
      };
    });
    if (matches(el)) return;
  }
  throw new Error("Tab never reached the element");
}

/** The focused element has a visible focus ring (an outline the stylesheet gives it). */
async function focusRingShown(page: Page) {
  const outline = await page.evaluate(() => {
    const s = getComputedStyle(document.activeElement!);
    return { style: s.outlineStyle, width: parseFloat(s.outlineWidth) };
  });
  expect(outline.style).not.toBe("none");
  expect(outline.width).toBeGreaterThanOrEqual(2);
}

test("sign in, skip to the page, move through the menu and filter the list, by keyboard alone", async ({ page }) => {
  test.setTimeout(90_000);
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto("/login");
  await hydrated(page);
  // The username field has the focus from the start.
  await expect(page.getByLabel("Username")).toBeFocused();
  await page.keyboard.type(admin.username);
  await page.keyboard.press("Tab");
  await expect(page.getByLabel("Password")).toBeFocused();
  await page.keyboard.type(admin.password);
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/$/);
  // Endpoints to filter (through the API: this test is about the keyboard, not the settings).
  await enableDefender(page);
  await page.goto("/");
  await hydrated(page);

  // The first Tab reaches the skip link; Enter moves the focus to the page itself.
  await page.keyboard.press("Tab");
  const skip = page.getByRole("link", { name: "Skip to main content" });
  await expect(skip).toBeFocused();
  await expect(skip).toBeVisible();
  await focusRingShown(page);
  await page.keyboard.press("Enter");
  await expect(page.locator("main")).toBeFocused();

  // From the top again: the menu's Endpoints link, then Enter opens the list.
  await page.goto("/");
  await hydrated(page);
  await tabTo(page, (el) => el.tag === "a" && el.text === "Endpoints");
  await focusRingShown(page);
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/endpoints$/);
  await hydrated(page);

  // The filter form: type a search, choose a risk level with the arrow keys, submit with Enter.
  await tabTo(page, (el) => el.tag === "input" && /Search/i.test(el.label));
  await page.keyboard.type("ws-");
  await tabTo(page, (el) => el.tag === "select" && /Risk/i.test(el.label));
  await page.keyboard.press("ArrowDown");
  const risk = await page.getByLabel("Risk").inputValue();
  expect(risk).not.toBe("");
  await tabTo(page, (el) => el.tag === "button" && el.text === "Apply");
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(new RegExp(`q=ws-.*risk=${risk}|risk=${risk}.*q=ws-`));
  expect(errors).toEqual([]);
});

test("an endpoint's Summary and its tabs open from the keyboard", async ({ page }) => {
  test.setTimeout(90_000);
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await signIn(page);
  await enableDefender(page);
  // Hostnames descending: the first row has one (no hostname sorts last).
  await page.goto("/endpoints?source=defender&sort=hostname&dir=desc");
  await hydrated(page);
  const first = page.locator("table.endpoint-table tbody tr").first().locator("td:nth-child(4) a");
  const name = ((await first.textContent()) ?? "").trim();
  expect(name).not.toBe("");
  await tabTo(page, (el) => el.tag === "a" && el.text === name, 80);
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/endpoints\/\d+$/);
  await hydrated(page);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(name);
  await tabTo(page, (el) => el.tag === "a" && el.text === "Risk");
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/tab=risk/);
  await tabTo(page, (el) => el.tag === "a" && el.text === "Microsoft Defender");
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/sub=defender/);
  await expect(page.getByRole("region", { name: "Microsoft Defender" })).toBeVisible();
  expect(errors).toEqual([]);
});
