import { test, expect, Page } from "@playwright/test";
import { simPort } from "../playwright.config";
import { demoTenant, hydrated, signIn } from "./helpers";

const simUrl = `http://127.0.0.1:${simPort}`;

async function openDefenderPage(page: Page) {
  await page.goto("/configuration/integrations");
  await hydrated(page);
  await page.getByRole("link", { name: "Microsoft Defender for Endpoint" }).click();
  await expect(page.getByRole("heading", { name: "Microsoft Defender for Endpoint" })).toBeVisible();
  await expect(page.getByLabel("Tenant ID")).toBeVisible();
}

test("an administrator configures the demo tenant, tests it, and saves it", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await signIn(page);
  await openDefenderPage(page);

  await page.getByLabel("Tenant ID").fill(demoTenant.tenantId);
  await page.getByLabel("Client ID").fill(demoTenant.clientId);
  await page.getByLabel("Client secret").fill(demoTenant.secret);
  await page.getByLabel("Cloud").selectOption("commercial");
  await page.getByText("Advanced", { exact: true }).click();
  // Laid out as the other fields are: each label above its input, the fields one under another.
  const boxes = [];
  for (const id of ["defender-geo", "defender-login-url", "defender-api-url"]) {
    const label = await page.locator(`label[for="${id}"]`).boundingBox();
    const input = await page.locator(`#${id}`).boundingBox();
    expect(input!.y).toBeGreaterThanOrEqual(label!.y + label!.height - 1);
    boxes.push(input!);
  }
  expect(boxes[1].y).toBeGreaterThan(boxes[0].y + boxes[0].height);
  expect(boxes[2].y).toBeGreaterThan(boxes[1].y + boxes[1].height);
  await page.getByLabel("Custom login base URL (optional)").fill(simUrl);
  await page.getByLabel("Custom API base URL (optional)").fill(simUrl);

  await page.getByRole("button", { name: "Test Connection" }).click();
  const report = page.getByRole("region", { name: "Connection test report" });
  await expect(report.getByRole("heading", { name: "Connection test passed" })).toBeVisible();
  for (const check of ["Token obtained", "API reachable", "Permissions"]) {
    await expect(report.getByRole("listitem").filter({ hasText: check })).toContainText("Passed");
  }
  await expect(report.getByRole("listitem").filter({ hasText: "API reachable" })).toContainText(
    "200 machines",
  );
  await expect(report.getByRole("row", { name: /Missing/ })).toHaveCount(0);

  // A wrong secret gets the wrong-secret advice, and the form keeps its values.
  await page.getByLabel("Client secret").fill("not~the.right-secret");
  await page.getByRole("button", { name: "Test Connection" }).click();
  await expect(report.getByRole("heading", { name: "Connection test found problems" })).toBeVisible();
  await expect(report.getByRole("listitem").filter({ hasText: "Token obtained" })).toContainText(
    "secret's Value",
  );
  await expect(page.getByLabel("Tenant ID")).toHaveValue(demoTenant.tenantId);

  await page.getByLabel("Client secret").fill(demoTenant.secret);
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Saved." })).toBeVisible();

  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId("secret-state")).toContainText("A secret is set");
  await expect(page.getByLabel("Client secret")).toHaveValue("");
  await expect(page.getByLabel("Tenant ID")).toHaveValue(demoTenant.tenantId);
  const html = await page.content();
  expect(html).not.toContain(demoTenant.secret);
  expect(errors).toEqual([]);
});

test("inline validation names the field at fault", async ({ page }) => {
  await signIn(page);
  await openDefenderPage(page);
  await page.getByLabel("Tenant ID").fill("not a tenant");
  await page.getByLabel("Client ID").fill("abc");
  await page.getByRole("button", { name: "Test Connection" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "verified domain" })).toBeVisible();
  await expect(page.getByRole("alert").filter({ hasText: "is a GUID" })).toBeVisible();
});
