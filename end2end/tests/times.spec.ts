import { test, expect, Page } from "@playwright/test";
import { enableDefender, hydrated, signIn } from "./helpers";

// Every time the console shows is one <time> element: the viewer's local time to the minute
// with how long ago it was, the exact UTC time on hover, the stored value in `datetime`.
// Asia/Kolkata (UTC+05:30, no summer time) makes a wrong zone or a dropped half hour visible.
const zone = "Asia/Kolkata";

/** `YYYY-MM-DD HH:MM` of an instant in `timeZone`, as Intl computes it (not our code). */
function calendar(iso: string, timeZone: string): string {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).formatToParts(new Date(iso));
  const get = (type: string) => parts.find((p) => p.type === type)!.value;
  return `${get("year")}-${get("month")}-${get("day")} ${get("hour")}:${get("minute")}`;
}

/** `YYYY-MM-DD HH:MM:SS UTC`. */
function utcExact(iso: string): string {
  return new Date(iso).toISOString().slice(0, 19).replace("T", " ") + " UTC";
}

async function firstLastSeen(page: Page) {
  await page.goto("/endpoints?source=defender");
  const cell = page.locator("table.endpoint-table tbody tr").first().locator("time");
  await expect(cell).toHaveCount(1);
  return cell;
}

test.describe("with JavaScript, in the viewer's zone", () => {
  test.use({ timezoneId: zone });

  test("times read as local time with how long ago, the exact UTC time on hover", async ({ page }) => {
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await signIn(page);
    await enableDefender(page);
    const time = await firstLastSeen(page);
    await hydrated(page);
    const iso = (await time.getAttribute("datetime"))!;
    expect(Number.isNaN(Date.parse(iso))).toBe(false);
    await expect(time).toHaveText(new RegExp(`^${calendar(iso, zone)} · (just now|\\d+ (minute|hour|day|month|year)s? ago)$`));
    await expect(time).toHaveAttribute("title", utcExact(iso));

    // The next scheduled sync is still to come.
    await page.goto("/configuration/integrations/microsoft-defender");
    await hydrated(page);
    const next = page.locator("dt", { hasText: "Next sync" }).locator("xpath=following-sibling::dd[1]").locator("time");
    await expect(next).toHaveText(/ · in (\d+ minutes?|1 hour)$/);
    expect(errors).toEqual([]);
  });
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false, timezoneId: zone });

  test("the server's page says UTC, since it cannot know the viewer's zone", async ({ page }) => {
    await signIn(page);
    await enableDefender(page);
    const time = await firstLastSeen(page);
    const iso = (await time.getAttribute("datetime"))!;
    await expect(time).toHaveText(new RegExp(`^${calendar(iso, "UTC")} UTC · `));
    await expect(time).toHaveAttribute("title", utcExact(iso));
  });
});
