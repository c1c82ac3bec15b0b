import { readFile } from "node:fs/promises";
import { expect, test, type Page } from "@playwright/test";
import { parseAllDocuments } from "yaml";
import { signIn } from "./helpers";

// The demo backfills 30 days of seeded audit history (lib/demo/usage-history.ts): batch-importer works every day
// with a fraction of its `edit` grant, checkout-shared never makes a request.

/** Opens a demo identity through the inventory search and returns its page URL (without query). */
async function openIdentity(page: Page, namespace: string, name: string): Promise<string> {
  await page.goto(`/identities?cluster=demo&q=${encodeURIComponent(name)}`);
  await page.getByTestId("identities").getByRole("row", { name: new RegExp(`${namespace}\\s+${name}\\b`) }).getByRole("link", { name, exact: true }).click();
  await expect(page.getByRole("heading", { name: `${namespace}/${name}` })).toBeVisible();
  return page.url().split("?")[0]!;
}

test("a security engineer sees an identity's usage, its unused grants, and downloads the least-privilege role", async ({ page }) => {
  await signIn(page, "security");
  await openIdentity(page, "legacy-apps", "batch-importer");
  await page.getByRole("navigation", { name: "Identity sections" }).getByRole("link", { name: "Usage" }).click();
  await expect(page).toHaveURL(/[?&]tab=usage/);
  const tab = page.getByTestId("usage-tab");

  await expect(tab.getByTestId("last-used")).not.toContainText("never");
  // The chart draws bars for the days it worked.
  const chart = tab.getByTestId("requests-per-day-chart");
  await expect(chart).toHaveAttribute("aria-label", /Requests per day over \d+ days: [1-9]\d* allowed/);
  await expect(chart.locator(".recharts-bar-rectangle").first()).toBeVisible();
  await expect(tab.getByTestId("top-verbs-chart")).toBeVisible();

  // Used and unused grants side by side; unused ones are highlighted.
  const matrix = tab.getByTestId("used-vs-granted");
  await expect(matrix.locator('[data-usage="used"]').first()).toBeVisible();
  const unused = matrix.locator('[data-usage="unused"]').first();
  await expect(unused).toBeVisible();
  await expect(unused).toHaveClass(/bg-amber/);
  await expect(tab.getByTestId("used-vs-granted-counts")).toContainText(/[1-9]\d*\s*granted, never used/);

  // The window selector reloads the tab for 7 days.
  await page.getByRole("navigation", { name: "Usage window" }).getByRole("link", { name: "7 days" }).click();
  await expect(page).toHaveURL(/days=7/);
  await expect(page.getByTestId("requests-per-day-chart")).toHaveAttribute("aria-label", /over 7 days/);

  const lp = page.getByTestId("least-privilege");
  await expect(lp.locator('[data-change="removed"]').first()).toBeVisible();
  const [download] = await Promise.all([page.waitForEvent("download"), lp.getByRole("link", { name: "Download YAML" }).click()]);
  const text = await readFile((await download.path())!, "utf8");
  const docs = parseAllDocuments(text);
  expect(docs.length).toBeGreaterThan(0);
  for (const doc of docs) expect(doc.errors).toEqual([]);
  const objects = docs.map((d) => d.toJS() as { kind: string; metadata: { namespace?: string }; rules?: unknown[]; subjects?: { kind: string; name: string }[] });
  const role = objects.find((o) => o.kind === "Role");
  expect(role?.metadata.namespace).toBe("legacy-apps");
  expect(role?.rules?.length).toBeGreaterThan(0);
  expect(objects.find((o) => o.kind === "RoleBinding")?.subjects).toContainEqual(expect.objectContaining({ kind: "ServiceAccount", name: "batch-importer" }));
});

test("an identity that never made a request shows the empty state with where audit events come from", async ({ page }) => {
  await signIn(page, "security");
  const url = await openIdentity(page, "checkout", "checkout-shared");
  await page.goto(`${url}?tab=usage`);
  const tab = page.getByTestId("usage-tab");
  await expect(tab.getByText("No audit events for this identity yet")).toBeVisible();
  await expect(tab.getByRole("link", { name: "cluster page" })).toHaveAttribute("href", /^\/clusters\/[^/]+$/);
  await expect(tab.getByTestId("requests-per-day-chart")).toHaveCount(0);
  await expect(tab.getByTestId("last-used")).toContainText("never");
});

test("an owner cannot open another team's identity usage, nor download its role", async ({ browser }) => {
  const security = await browser.newPage();
  await signIn(security, "security");
  // payments-api belongs to the payments team; the demo owner is never a member of it.
  const url = await openIdentity(security, "payments", "payments-api");
  const id = url.split("/").at(-1)!;
  expect((await security.request.get(`/api/v1/identities/${id}/least-privilege?format=yaml&days=30`)).status()).toBe(200);

  const owner = await browser.newPage();
  await signIn(owner, "owner");
  expect((await owner.goto(`${url}?tab=usage&days=30`))?.status()).toBe(404);
  await expect(owner.getByTestId("usage-tab")).toHaveCount(0);
  expect((await owner.request.get(`/api/v1/identities/${id}/least-privilege?format=yaml&days=30`)).status()).toBe(404);
  expect((await owner.request.get(`/api/v1/identities/${id}/usage`)).status()).toBe(404);
});
