import { test, expect, Page } from "@playwright/test";
import { enableDefender, hydrated, setSimFaults, signIn, windowsMachine } from "./helpers";

/** Opens an action's form, fills it and sends it. */
async function send(page: Page, label: string, comment: string, confirmName?: string, scope?: string) {
  const panel = page.getByRole("region", { name: "Microsoft Defender actions" });
  await panel.locator("summary", { hasText: label }).click();
  const form = panel.locator("details[open] form");
  if (scope) {
    await form.locator("select[name=scope]").selectOption(scope);
  }
  await form.locator("textarea[name=comment]").fill(comment);
  const submit = form.getByRole("button", { name: `Send: ${label}` });
  if (confirmName) {
    // The button stays disabled until the device name is typed.
    await expect(submit).toBeDisabled();
    await form.locator("input[name=confirm]").fill(confirmName);
  }
  await expect(submit).toBeEnabled();
  await submit.click();
}

test("isolate, watch it succeed, release it, and see a timed-out scan offered again", async ({ page }) => {
  test.setTimeout(120_000);
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await signIn(page);
  await enableDefender(page);
  const machine = await windowsMachine();

  const found = await page.request.post("/api/endpoints/list", {
    form: {
      "query[q]": machine.name,
      "query[risk]": "",
      "query[profile]": "",
      "query[source]": "defender",
      "query[onboarding]": "",
      "query[sort]": "hostname",
      "query[dir]": "asc",
      "query[page]": "1",
      "query[page_size]": "50",
    },
  });
  const rows: any[] = (await found.json()).rows;
  const row = rows.find((r) => r.hostname === machine.name);
  expect(row, `endpoint for ${machine.name}`).toBeTruthy();

  await page.goto(`/endpoints/${row.id}`);
  await hydrated(page);
  const panel = page.getByRole("region", { name: "Microsoft Defender actions" });
  await expect(panel.getByTestId("isolation-state")).toHaveText("Not isolated");
  await expect(panel.getByTestId("action-Unisolate").getByTestId("disabled-reason")).toHaveText(
    "The device is not isolated.",
  );

  const history = panel.getByTestId("action-history").locator("tbody tr");
  const latestStatus = history.first().getByTestId("action-status");

  // Isolate: Pending, then In progress, then Succeeded, all from the page's own polling.
  await send(page, "Isolate Machine", "Suspicious beaconing, isolating for triage", machine.name, "Full");
  await expect(history.first()).toHaveAttribute("data-kind", "Isolate");
  await expect(latestStatus).toHaveText("Pending");
  await expect(panel.getByTestId("isolation-state")).toHaveText("Isolation pending");
  await expect(latestStatus).toHaveText("In progress", { timeout: 15_000 });
  await expect(latestStatus).toHaveText("Succeeded", { timeout: 15_000 });
  await expect(panel.getByTestId("isolation-state")).toHaveText("Isolated");
  await expect(panel.getByTestId("action-Isolate").getByTestId("disabled-reason")).toHaveText(
    "The device is already isolated.",
  );

  // Unisolate the same way.
  await send(page, "Unisolate Machine", "Released after triage", machine.name);
  await expect(history.first()).toHaveAttribute("data-kind", "Unisolate");
  await expect(latestStatus).toHaveText("Succeeded", { timeout: 20_000 });
  await expect(panel.getByTestId("isolation-state")).toHaveText("Not isolated");
  await expect(history).toHaveCount(2);

  // A scan the device never picks up times out, and the page offers to run it again.
  await setSimFaults({ action_outcome: "TimeOut" });
  try {
    await send(page, "Run Scan", "Scan after alert", undefined, "Quick");
    await expect(history.first()).toHaveAttribute("data-kind", "RunAntiVirusScan");
    await expect(latestStatus).toHaveText("Pending");
    await expect(latestStatus).toHaveText("Timed out", { timeout: 20_000 });
    await history.first().getByRole("button", { name: "Run again" }).click();
    await expect(panel.locator("details[open] textarea[name=comment]")).toBeVisible();
    await expect(panel.locator("details[open]").getByRole("button", { name: "Send: Run Scan" })).toBeEnabled();
  } finally {
    await setSimFaults({});
  }
  expect(errors).toEqual([]);
});
