import { test, expect, Page } from "@playwright/test";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { hydrated, signIn } from "./helpers";

// Endpoints > Import with the real nmap reports the server's own tests use: a good one adds
// its hosts and says how many, a damaged one is refused whole with the reason and changes
// nothing. The form is a plain multipart post, so it works the same without JavaScript.

const fixtures = path.join(__dirname, "../../server/tests/fixtures/nmap");

/** Each `<host>` block of a report and the MAC nmap saw for it, if any. */
async function hostsOf(file: string): Promise<(string | null)[]> {
  const xml = await readFile(path.join(fixtures, file), "utf8");
  return xml
    .split(/<host[\s>]/)
    .slice(1)
    .map((block) => /<address addr="([0-9A-F:]{17})" addrtype="mac"/.exec(block)?.[1] ?? null);
}

async function networkEndpoints(page: Page): Promise<number> {
  await page.goto("/endpoints?source=network");
  const text = (await page.getByTestId("endpoint-count").count())
    ? await page.getByTestId("endpoint-count").innerText()
    : "";
  return Number(/ of (\d+) endpoints/.exec(text)?.[1] ?? 0);
}

async function upload(page: Page, file: string) {
  await page.goto("/endpoints/import");
  await page.getByLabel("nmap XML file").setInputFiles(path.join(fixtures, file));
  await page.getByRole("button", { name: "Import" }).click();
  await expect(page).toHaveURL(/\/endpoints\/import/);
}

for (const withJs of [true, false]) {
  test.describe(withJs ? "with JavaScript" : "without JavaScript", () => {
    test.use({ javaScriptEnabled: withJs });

    test("a damaged report is refused whole, with the reason, and adds nothing", async ({ page }) => {
      await signIn(page);
      const before = await networkEndpoints(page);
      await upload(page, "hostile-truncated.xml");
      await expect(page.getByTestId("import-error")).toContainText("Nothing was imported.");
      await expect(page.getByTestId("import-result")).toHaveCount(0);
      expect(await networkEndpoints(page)).toBe(before);
    });
  });
}

test("a good report adds each host by its MAC and says how many", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await signIn(page);
  const hosts = await hostsOf("lab-sV-O.xml");
  const macs = [...new Set(hosts.filter((m): m is string => m !== null))];
  // The lab report: three hosts, each seen with its MAC (server/tests/fixtures/nmap/README.md).
  expect(hosts).toHaveLength(3);
  expect(macs).toHaveLength(3);
  const before = await networkEndpoints(page);

  await upload(page, "lab-sV-O.xml");
  await hydrated(page);
  const result = page.getByTestId("import-result");
  await expect(result).toBeVisible();
  const m = /^Imported (\d+) hosts: (\d+) new endpoints, (\d+) updated, (\d+) without a MAC skipped\./.exec(
    (await result.innerText()).trim(),
  );
  expect(m).not.toBeNull();
  const [imported, added, updated, skipped] = m!.slice(1).map(Number);
  expect(imported).toBe(hosts.length);
  expect(skipped).toBe(hosts.length - hosts.filter((h) => h !== null).length);
  expect(added + updated).toBe(macs.length);
  // The outcome is shown once: it came with the redirect, not with the page.
  await page.reload();
  await expect(page.getByTestId("import-result")).toHaveCount(0);

  expect(await networkEndpoints(page)).toBe(before + added);
  for (const mac of macs) {
    await page.goto(`/endpoints?q=${encodeURIComponent(mac)}`);
    await expect(page.getByTestId("endpoint-count")).toHaveText("1–1 of 1 endpoints");
    await expect(page.locator("table.endpoint-table tbody tr td:nth-child(2)")).toHaveText(mac);
  }

  // The same report again updates the same endpoints and adds none.
  await upload(page, "lab-sV-O.xml");
  await expect(page.getByTestId("import-result")).toContainText(`0 new endpoints, ${macs.length} updated`);
  expect(await networkEndpoints(page)).toBe(before + added);
  expect(errors).toEqual([]);
});
