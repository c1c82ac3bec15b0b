import { expect, test, type Page } from "@playwright/test";
import { signIn } from "./helpers";

// Manual syncs counted on the demo cluster's own page: other tests register and sync other clusters in parallel,
// and the campaign spec's decisions queue remediation syncs of this one.
async function syncRunCount(page: Page): Promise<number> {
  await page.goto("/clusters");
  await page.getByRole("link", { name: "demo", exact: true }).first().click();
  await expect(page.getByRole("heading", { name: "demo", exact: true })).toBeVisible();
  const rows = page.getByTestId("sync-history").locator("tbody tr");
  return rows.filter({ has: page.locator("td", { hasText: /^manual$/ }) }).count();
}

test("a security engineer syncs a cluster; an auditor replaying the same server action gets 403 and changes nothing", async ({ browser }) => {
  test.setTimeout(120_000); // two sign-ins and a real sync
  const security = await browser.newPage();
  await signIn(security, "security");
  const before = await syncRunCount(security);

  // Capture the real server-action request the Sync button sends.
  const actionRequest = security.waitForRequest((r) => r.method() === "POST" && !!r.headers()["next-action"]);
  await security.getByRole("button", { name: /Sync demo now/ }).click();
  const captured = await actionRequest;
  // A real sync of the simulated cluster: seconds on an idle machine, more while the suite loads both cores.
  // (The status is the action's answer; waiting on the response body instead hangs on a page with a chart.)
  await expect(security.getByRole("status")).toContainText("Synced", { timeout: 60_000 });
  expect(await syncRunCount(security)).toBe(before + 1);

  // The auditor has no Sync button, so forge the call with the auditor's own session.
  const auditor = await browser.newPage();
  await signIn(auditor, "auditor");
  await auditor.goto("/clusters");
  await expect(auditor.getByRole("button", { name: /Sync .* now/ })).toHaveCount(0);
  const headers = captured.headers();
  const forged = await auditor.request.post(captured.url(), {
    headers: {
      "next-action": headers["next-action"]!,
      "content-type": headers["content-type"] ?? "text/plain;charset=UTF-8",
      accept: "text/x-component",
    },
    data: captured.postData() ?? "[]",
  });
  const body = await forged.text();
  expect(body).toContain('"status":403');
  expect(body).toContain("Your role does not allow this.");
  expect(await syncRunCount(security)).toBe(before + 1);

  // The refusal is in the audit trail, attributed to the auditor.
  await security.goto("/audit");
  await expect(security.getByTestId("audit-entries").getByRole("row", { name: /auditor@keyward\.local.*cluster\.sync.*denied/ }).first()).toBeVisible();
});
