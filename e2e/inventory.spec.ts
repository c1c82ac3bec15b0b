import path from "node:path";
import { expect, test, type Browser, type Page } from "@playwright/test";
import { signIn, type DemoRole } from "./helpers";

// The demo's admin kubeconfig, written by `npm run demo` into its data directory (see playwright.config.ts).
const demoKubeconfig = path.resolve(".keyward/e2e/demo-cluster.kubeconfig");

async function as(browser: Browser, role: DemoRole): Promise<Page> {
  const page = await browser.newPage();
  await signIn(page, role);
  return page;
}

/** Opens a demo identity's page through the inventory search, as a user would. */
async function openIdentity(page: Page, namespace: string, name: string): Promise<string> {
  await page.goto(`/identities?cluster=demo&q=${encodeURIComponent(name)}`);
  await page.getByTestId("identities").getByRole("row", { name: new RegExp(`${namespace}\\s+${name}\\b`) }).getByRole("link", { name }).click();
  await expect(page.getByRole("heading", { name: `${namespace}/${name}` })).toBeVisible();
  return page.url();
}

test("a security engineer registers a cluster from a kubeconfig, tests it, syncs it and filters its inventory", async ({ browser }) => {
  test.setTimeout(120_000);
  const page = await as(browser, "security");
  const name = `e2e-${Date.now().toString(36)}`;

  await page.goto("/clusters");
  await page.getByRole("button", { name: "Register a cluster" }).click();
  const form = page.getByRole("form", { name: "Register a cluster" });
  await form.getByRole("textbox", { name: "Name" }).fill(name);
  await form.getByLabel(/Kubeconfig file for the sync credential/).setInputFiles(demoKubeconfig);
  await expect(form.getByRole("combobox", { name: "User" })).toBeVisible();
  await form.getByRole("button", { name: "Register", exact: true }).click();
  await expect(page).toHaveURL(/\/clusters\/[^/?]+\?registered=1/);
  await expect(page.getByRole("heading", { name })).toBeVisible();

  // The demo's admin credential can write: Test connection must say so.
  await page.getByRole("button", { name: `Test connection to ${name}` }).click();
  const result = page.getByTestId("connection-test");
  await expect(result).toContainText("sync credential");
  await expect(result.getByRole("alert").filter({ hasText: "The sync identity can write" })).toBeVisible();

  await page.getByRole("button", { name: `Sync ${name} now` }).click();
  await expect(page.getByRole("status").filter({ hasText: "Synced" })).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId("sync-history").getByRole("row", { name: /manual\s+succeeded/ })).toBeVisible();

  // Filter its inventory through the form: the filters land in the URL and the server applies them.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Inventory" }).click();
  const filters = page.getByRole("search", { name: "Filter identities" });
  await filters.getByRole("combobox", { name: "Cluster" }).selectOption(name);
  await filters.getByRole("combobox", { name: "Kind" }).selectOption("ServiceAccount");
  await filters.getByRole("textbox", { name: "Namespace" }).fill("platform-system");
  await filters.getByRole("button", { name: "Apply filters" }).click();
  await expect(page).toHaveURL(/kind=ServiceAccount/);
  const query = new URL(page.url()).searchParams;
  expect([query.get("cluster"), query.get("namespace"), query.get("kind")]).toEqual([name, "platform-system", "ServiceAccount"]);
  const rows = page.getByTestId("identities").locator("tbody tr");
  await expect(rows.first()).toBeVisible();
  for (const text of await rows.allInnerTexts()) {
    expect(text).toContain(name);
    expect(text).toContain("platform-system");
  }
  // Bound to cluster-admin: critical, and the "at least critical" filter keeps it.
  await filters.getByRole("combobox", { name: "Risk at least" }).selectOption("critical");
  await filters.getByRole("button", { name: "Apply filters" }).click();
  await expect(page).toHaveURL(/severity=critical/);
  await expect(page.getByTestId("identities").getByRole("row", { name: /platform-system\s+cluster-ops-operator/ })).toBeVisible();
});

test("an admin assigns an owner and accepts a risk; the owning team's member then sees only the team's identities", async ({ browser }) => {
  test.setTimeout(120_000);
  const admin = await as(browser, "admin");
  const identityUrl = await openIdentity(admin, "platform-system", "cluster-ops-operator");

  await admin.getByRole("combobox", { name: "Assign owner" }).selectOption({ label: "checkout" });
  await admin.getByRole("button", { name: "Save owner" }).click();
  await expect(admin.getByRole("status").filter({ hasText: "Owner set to checkout" })).toBeVisible();
  await expect(admin.getByTestId("owner")).toContainText("checkout");
  await expect(admin.getByTestId("owner")).toContainText("assigned in Keyward");

  const findings = admin.getByTestId("findings");
  const critical = findings.getByRole("row").filter({ has: admin.locator('[data-severity="critical"]') }).first();
  await critical.getByRole("button", { name: /Accept risk/ }).click();
  const acceptance = critical.getByRole("form", { name: /Accept risk/ });
  await acceptance.getByLabel("Reason").fill("Break-glass operator, reviewed by the platform team.");
  const until = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
  await acceptance.getByLabel("Accepted until").fill(until);
  await acceptance.getByRole("button", { name: "Accept until this date" }).click();
  await expect(findings.getByText(`accepted until ${until}`)).toBeVisible();
  await expect(findings).toContainText("Break-glass operator");

  // A payments identity, to check the owner cannot open it.
  const paymentsUrl = await openIdentity(admin, "payments", "payments-api");

  await admin.goto("/admin/users");
  await admin.getByRole("combobox", { name: "Team for owner@keyward.local" }).selectOption({ label: "checkout" });
  await admin.getByRole("row", { name: /owner@keyward\.local/ }).getByRole("button", { name: "Add" }).click();
  await expect(admin.getByRole("row", { name: /owner@keyward\.local/ })).toContainText("checkout");

  const owner = await as(browser, "owner");
  await owner.goto("/identities?cluster=demo");
  const rows = owner.getByTestId("identities").locator("tbody tr");
  await expect(rows.first()).toBeVisible();
  // The demo owner reviews for data-platform from the start (lib/demo/review-team.ts) and now also owns checkout.
  for (const text of await rows.allInnerTexts()) expect(text).toMatch(/(checkout|data-platform) \(/);
  await expect(owner.getByTestId("identities").getByRole("link", { name: "cluster-ops-operator" })).toBeVisible();
  expect((await owner.goto(identityUrl))?.status()).toBe(200);
  // No controls for owners, and other teams' identities do not exist for them.
  await expect(owner.getByRole("button", { name: "Save owner" })).toHaveCount(0);
  await expect(owner.getByRole("button", { name: /Accept risk/ })).toHaveCount(0);
  expect((await owner.goto(paymentsUrl))?.status()).toBe(404);
});

test("an auditor sees no controls, and a forged owner assignment gets 403 and changes nothing", async ({ browser }) => {
  const admin = await as(browser, "admin");
  const identityUrl = await openIdentity(admin, "legacy-apps", "batch-importer");
  await admin.getByRole("combobox", { name: "Assign owner" }).selectOption({ label: "payments" });
  const actionRequest = admin.waitForRequest((r) => r.method() === "POST" && !!r.headers()["next-action"]);
  await admin.getByRole("button", { name: "Save owner" }).click();
  const captured = await actionRequest;
  await expect(admin.getByTestId("owner")).toContainText("payments");

  const auditor = await as(browser, "auditor");
  await auditor.goto("/clusters");
  await expect(auditor.getByRole("button", { name: "Register a cluster" })).toHaveCount(0);
  await expect(auditor.getByRole("button", { name: /Test connection/ })).toHaveCount(0);
  await auditor.goto(identityUrl);
  await expect(auditor.getByTestId("owner")).toContainText("payments");
  await expect(auditor.getByRole("combobox", { name: "Assign owner" })).toHaveCount(0);
  await expect(auditor.getByRole("button", { name: /Accept risk/ })).toHaveCount(0);

  // Replay the admin's server action with the auditor's session, asking to clear the owner.
  const headers = captured.headers();
  const body = (captured.postData() ?? "").replace(/"teamId":"[^"]+"/, '"teamId":null');
  expect(body).toContain('"teamId":null');
  const forged = await auditor.request.post(captured.url(), {
    headers: { "next-action": headers["next-action"]!, "content-type": headers["content-type"] ?? "text/plain;charset=UTF-8", accept: "text/x-component" },
    data: body,
  });
  const answer = await forged.text();
  expect(answer).toContain('"status":403');
  await auditor.reload();
  await expect(auditor.getByTestId("owner")).toContainText("payments");
});
