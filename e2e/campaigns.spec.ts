import { readFile } from "node:fs/promises";
import { expect, test, type Locator, type Page } from "@playwright/test";
import { signedInPage } from "./helpers";
import { campaignItemsOverApi, canI, clusterSnapshot, launchCampaignOverApi, parseCsv, readObject, snapshotDiff, type KubeObject } from "./campaign-helpers";

// The demo owner reviews for data-platform (lib/demo/review-team.ts): airflow-worker never calls the API (revoke),
// airflow-scheduler uses a part of the RoleBinding airflow-pod-launcher it shares with the worker (shrink),
// dbt-runner uses all it has (approve). Campaigns here are scoped to one namespace of the demo cluster; the other
// specs never write to the simulated cluster, so its whole RBAC state can be compared before and after.

const NS = "data-platform";
const WORKER = `${NS}/airflow-worker`;
const SCHEDULER = `${NS}/airflow-scheduler`;
const DBT = `${NS}/dbt-runner`;
const SHARED_BINDING = `RoleBinding ${NS}/airflow-pod-launcher`;
const REVIEWED_AT = "keyward.io/last-reviewed";

const unique = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const subjectNames = (binding: KubeObject | null | undefined) => binding?.subjects?.map((subject) => subject.name);

/** Opens one of the campaign's items from the reviewer's inbox, filtered to the campaign as a reviewer would. */
async function openFromInbox(page: Page, campaignName: string, identity: string, recommendation: string): Promise<void> {
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Reviews" }).click();
  const filters = page.getByRole("search", { name: "Filter review items" });
  await filters.getByRole("combobox", { name: "Campaign" }).selectOption({ label: campaignName });
  await filters.getByRole("button", { name: "Filter" }).click();
  await expect(page).toHaveURL(/[?&]campaign=/);
  const row = page.getByTestId("inbox-row").filter({ has: page.getByRole("link", { name: identity, exact: true }) });
  await expect(row).toHaveCount(1);
  await expect(row.getByTestId("inbox-recommendation")).toContainText(recommendation);
  await row.getByRole("link", { name: identity, exact: true }).click();
  await expect(page.getByRole("heading", { name: identity, exact: true })).toBeVisible();
  await expect(page.getByTestId("item-status")).toHaveText("pending");
}

/** Records the decision on the open item and waits for its dry-run preview, every change accepted by the API server. */
async function decideAndPreview(page: Page, decision: "Approve" | "Shrink" | "Revoke", comment: string): Promise<Locator> {
  const form = page.getByRole("form", { name: "Decide" });
  await form.getByRole("radio", { name: decision, exact: true }).check();
  await form.getByRole("textbox", { name: /^Comment/ }).fill(comment);
  await form.getByRole("button", { name: "Preview" }).click();
  const preview = page.locator('[data-testid="change-set"][data-status="planned"]');
  await expect(preview).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId("item-status")).toHaveText("decided");
  const changes = preview.getByTestId("change");
  expect(await changes.count()).toBeGreaterThan(0);
  for (const change of await changes.all()) await expect(change).toContainText("dry run ok");
  return preview;
}

/** Waits until the change set has stopped applying, however it ended: what it ended as is the caller's assertion. */
async function settled(set: Locator): Promise<void> {
  await expect(set).toHaveAttribute("data-status", /^(applied|failed|rolledBack)$/, { timeout: 90_000 });
}

/** Confirms the preview with Apply; returns the same change set once applied. */
async function applyPreview(page: Page, preview: Locator): Promise<Locator> {
  const id = await preview.getAttribute("data-change-set-id");
  expect(id).toBeTruthy();
  await preview.getByRole("button", { name: "Apply", exact: true }).click();
  const applied = page.locator(`[data-testid="change-set"][data-change-set-id="${id}"]`);
  await settled(applied);
  await expect(applied.getByTestId("failure")).toHaveCount(0);
  await expect(applied).toHaveAttribute("data-status", "applied");
  await expect(page.getByTestId("item-status")).toHaveText("applied");
  return applied;
}

/** The SubjectAccessReviews the page shows for a change set: all passed, and how many. */
async function allChecksPassed(set: Locator): Promise<number> {
  const summary = ((await set.getByTestId("verification-summary").textContent()) ?? "").trim();
  const match = /^(\d+) of (\d+) passed$/.exec(summary);
  expect(match, summary).not.toBeNull();
  expect(match![1]).toBe(match![2]);
  expect(Number(match![2])).toBeGreaterThan(0);
  await expect(set.getByTestId("verification").locator('tr[data-passed="false"]')).toHaveCount(0);
  return Number(match![2]);
}

/** The verification row of one access (as describeAccess writes it): what was expected, and that it passed. */
async function expectCheck(set: Locator, access: string, expected: "allowed" | "denied"): Promise<void> {
  const row = set.getByTestId("verification").getByRole("row").filter({ hasText: access });
  await expect(row).toHaveCount(1);
  await expect(row).toHaveAttribute("data-passed", "true");
  await expect(row.getByRole("cell").nth(2)).toHaveText(expected);
}

test("a security user launches a data-platform review; its owner approves, revokes and shrinks, the cluster and SubjectAccessReviews show exactly that, the shrink rolls back, and the CSV export carries the decisions", async ({ browser }) => {
  test.setTimeout(420_000); // three carried-out decisions and a rollback on a simulated cluster, two cores shared with the other specs

  // The cluster as the demo left it: the worker and the scheduler share a binding that grants pod logs and exec.
  const initial = await clusterSnapshot();
  expect(subjectNames(initial.get(SHARED_BINDING))).toEqual(["airflow-scheduler", "airflow-worker"]);
  expect(initial.get(`ServiceAccount ${DBT}`)?.metadata.annotations?.[REVIEWED_AT]).toBeUndefined();
  expect(await canI(WORKER, "create", "pods", NS)).toBe("yes");
  expect(await canI(SCHEDULER, "get", "pods/log", NS)).toBe("yes");

  // 1. Security schedules the campaign on the form (the demo cluster, one namespace, a fixed end date), then launches it.
  const security = await signedInPage(browser, "security");
  const name = `e2e data-platform review ${unique()}`;
  await security.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Campaigns" }).click();
  await security.getByRole("link", { name: "New campaign" }).first().click();
  await expect(security.getByRole("heading", { name: "New campaign" })).toBeVisible();
  const form = security.getByTestId("new-campaign-form");
  await form.getByRole("textbox", { name: "Campaign name" }).fill(name);
  await form.getByRole("group", { name: "Clusters" }).getByRole("checkbox", { name: "demo", exact: true }).check();
  await form.getByRole("textbox", { name: "Namespaces" }).fill(NS);
  await form.getByRole("radio", { name: "On a date" }).check();
  const endDate = new Date(Date.now() + 10 * 86_400_000).toISOString().slice(0, 10);
  await form.getByLabel("End date").fill(endDate);
  await expect(form.getByRole("checkbox", { name: "Launch now" })).not.toBeChecked();
  await form.getByRole("button", { name: "Create campaign" }).click();
  await expect(security.getByRole("heading", { name })).toBeVisible();
  await expect(security).toHaveURL(/\/campaigns\/(?!new$)[^/?]+$/);
  const campaignId = new URL(security.url()).pathname.split("/").at(-1)!;
  await expect(security.getByTestId("campaign-status")).toHaveAttribute("data-status", "draft");
  await expect(security.getByTestId("campaign-settings")).toContainText(NS);

  await security.getByRole("button", { name: "Launch campaign" }).click();
  await security.getByRole("alertdialog", { name: "Launch campaign" }).getByRole("button", { name: "Yes, launch" }).click();
  await expect(security.getByTestId("campaign-status")).toHaveAttribute("data-status", "active", { timeout: 60_000 });
  await expect(security.getByTestId("campaign-settings")).toContainText(`until ${endDate} 23:59:59 UTC`);
  const items = security.getByTestId("campaign-items");
  for (const [identity, recommendation] of [["airflow-worker", "revoke"], ["airflow-scheduler", "shrink"], ["dbt-runner", "approve"]]) {
    const row = items.getByTestId("campaign-item").filter({ has: security.getByRole("link", { name: identity, exact: true }) });
    await expect(row).toHaveCount(1);
    await expect(row.getByRole("cell").nth(2)).toHaveText(NS);
    await expect(row.getByRole("cell").nth(3)).toContainText(NS); // the reviewer team
    await expect(row.getByRole("cell").nth(5)).toContainText(recommendation);
  }
  // Nothing outside the scope: every item the API lists is in the namespace.
  const apiItems = await campaignItemsOverApi(security, campaignId);
  expect(apiItems.length).toBeGreaterThanOrEqual(3);
  for (const item of apiItems) expect(item.identity.namespace).toBe(NS);

  // 2. The owner decides from their inbox. The revoke comes before the shrink: both edit the shared binding, and a
  // rollback restores the objects of its own change set only if no later change touched them.
  const owner = await signedInPage(browser, "owner");

  await openFromInbox(owner, name, DBT, "approve");
  const approvePreview = await decideAndPreview(owner, "Approve", "Reads exactly its config; keep it.");
  const annotation = approvePreview.getByTestId("change").filter({ hasText: `ServiceAccount ${DBT}` });
  await expect(annotation).toHaveAttribute("data-op", "patch");
  await expect(annotation.locator('[data-line="added"]').filter({ hasText: REVIEWED_AT })).toHaveCount(1);
  await applyPreview(owner, approvePreview);
  await expect(owner.getByTestId("decision")).toContainText("approve by Olu Owner <owner@keyward.local>");

  await openFromInbox(owner, name, WORKER, "revoke");
  const revokePreview = await decideAndPreview(owner, "Revoke", "Never calls the API.");
  const revokeChange = revokePreview.getByTestId("change").filter({ hasText: SHARED_BINDING });
  await expect(revokeChange).toHaveAttribute("data-op", "replace");
  await expect(revokeChange.locator('[data-line="removed"]').filter({ hasText: "name: airflow-worker" })).toHaveCount(1);
  await expect(revokeChange.locator('[data-line="same"]').filter({ hasText: "name: airflow-scheduler" })).toHaveCount(1);
  await expect(revokePreview.getByTestId("planned-checks")).toContainText("create core/pods in data-platform → denied");
  const revoked = await applyPreview(owner, revokePreview);
  await allChecksPassed(revoked);
  await expectCheck(revoked, "create core/pods in data-platform", "denied");
  await expectCheck(revoked, "get core/pods/log in data-platform", "denied");
  // The other subject of the shared binding stays in it.
  const afterRevoke = await readObject("rolebinding", NS, "airflow-pod-launcher");
  expect(subjectNames(afterRevoke)).toEqual(["airflow-scheduler"]);
  expect(afterRevoke?.roleRef).toEqual(initial.get(SHARED_BINDING)?.roleRef);

  await openFromInbox(owner, name, SCHEDULER, "shrink");
  const lp = owner.getByTestId("shrink-default");
  await expect(owner.getByRole("form", { name: "Decide" }).getByRole("radio", { name: "Shrink", exact: true })).toBeChecked(); // the recommendation
  await expect(lp.locator('[data-change="removed"]').filter({ hasText: "pods/log" })).not.toHaveCount(0);
  await expect(owner.getByRole("textbox", { name: "Grants to keep (YAML)" })).toHaveValue(/kind: Role\b/);
  const shrinkPreview = await decideAndPreview(owner, "Shrink", "Keep what it used in 30 days.");
  const shrinkOps = await shrinkPreview.getByTestId("change").evaluateAll((changes) => changes.map((c) => c.getAttribute("data-op")));
  expect(shrinkOps.sort()).toEqual(["create", "create", "delete"]);
  // Left with no other subject after the revoke, the old binding goes.
  await expect(shrinkPreview.getByTestId("change").filter({ hasText: SHARED_BINDING })).toHaveAttribute("data-op", "delete");
  const shrunk = await applyPreview(owner, shrinkPreview);
  await allChecksPassed(shrunk);
  await expectCheck(shrunk, "list core/pods in data-platform", "allowed");
  await expectCheck(shrunk, "create core/pods in data-platform", "allowed");
  await expectCheck(shrunk, "get core/pods/log in data-platform", "denied");
  await expectCheck(shrunk, "create core/pods/exec in data-platform", "denied");

  // 3. The cluster shows exactly these changes, and nothing else moved.
  const decided = await clusterSnapshot();
  const diff = snapshotDiff(initial, decided);
  expect(diff.removed).toEqual([SHARED_BINDING]);
  expect(diff.changed).toEqual([`ServiceAccount ${DBT}`]);
  expect(decided.get(`ServiceAccount ${DBT}`)?.metadata.annotations?.[REVIEWED_AT]).toMatch(/^\d{4}-\d\d-\d\dT/);
  expect(diff.added).toHaveLength(2);
  const newRole = decided.get(diff.added.find((key) => key.startsWith(`Role ${NS}/`))!);
  const newBinding = decided.get(diff.added.find((key) => key.startsWith(`RoleBinding ${NS}/`))!);
  for (const object of [newRole, newBinding]) expect(object?.metadata.labels?.["app.kubernetes.io/managed-by"]).toBe("keyward");
  expect(newBinding?.roleRef).toMatchObject({ kind: "Role", name: newRole!.metadata.name });
  expect(newBinding?.subjects).toEqual([expect.objectContaining({ kind: "ServiceAccount", name: "airflow-scheduler", namespace: NS })]);
  const granted = newRole!.rules!.flatMap((rule) => rule.resources!.flatMap((resource) => rule.verbs.map((verb) => `${verb} ${resource}`))).sort();
  expect(granted).toEqual(["create pods", "list pods", "watch pods"]);
  // Neither account is bound anywhere else; the worker and its service account are still there.
  for (const [key, object] of decided) {
    if (!key.startsWith("RoleBinding ") && !key.startsWith("ClusterRoleBinding ")) continue;
    const names = (object.subjects ?? []).filter((s) => s.kind === "ServiceAccount" && s.namespace === NS).map((s) => s.name);
    expect(names, key).not.toContain("airflow-worker");
    if (key !== `RoleBinding ${NS}/${newBinding!.metadata.name}`) expect(names, key).not.toContain("airflow-scheduler");
  }
  expect(decided.has(`ServiceAccount ${WORKER}`)).toBe(true);

  // 4. SubjectAccessReviews of our own agree with the verification the pages showed.
  expect(await canI(WORKER, "create", "pods", NS)).toBe("no");
  expect(await canI(WORKER, "get", "pods/log", NS)).toBe("no");
  expect(await canI(SCHEDULER, "create", "pods", NS)).toBe("yes");
  expect(await canI(SCHEDULER, "get", "pods/log", NS)).toBe("no");
  expect(await canI(SCHEDULER, "create", "pods/exec", NS)).toBe("no");
  expect(await canI(DBT, "get", "configmaps", NS)).toBe("yes");

  // 5. The owner rolls the shrink back: the old binding is back as the shrink found it, the new role is gone.
  await shrunk.getByRole("button", { name: "Roll back" }).click();
  await owner.getByRole("group", { name: "Confirm the rollback" }).getByRole("button", { name: "Confirm roll back" }).click();
  const rollback = owner.getByTestId("rollback-set");
  await settled(rollback);
  await expect(rollback.getByTestId("failure")).toHaveCount(0);
  await expect(rollback).toHaveAttribute("data-status", "applied");
  await expect(shrunk).toHaveAttribute("data-status", "rolledBack");
  await expect(owner.getByTestId("item-status")).toHaveText("rolled back");
  await allChecksPassed(rollback);
  await expectCheck(rollback, "get core/pods/log in data-platform", "allowed");

  const restored = await clusterSnapshot();
  const sinceStart = snapshotDiff(initial, restored);
  expect(sinceStart.added).toEqual([]);
  expect(sinceStart.removed).toEqual([]);
  expect(sinceStart.changed).toEqual([SHARED_BINDING, `ServiceAccount ${DBT}`].sort());
  expect(subjectNames(restored.get(SHARED_BINDING))).toEqual(["airflow-scheduler"]);
  expect(restored.get(SHARED_BINDING)?.roleRef).toEqual(initial.get(SHARED_BINDING)?.roleRef);
  expect(await canI(SCHEDULER, "get", "pods/log", NS)).toBe("yes");
  expect(await canI(WORKER, "create", "pods", NS)).toBe("no");

  // 6. An auditor reads the campaign and downloads its decisions with their NIST CSF and OWASP NHI mappings.
  const auditor = await signedInPage(browser, "auditor");
  await auditor.goto(`/campaigns/${campaignId}`);
  await expect(auditor.getByRole("heading", { name })).toBeVisible();
  await expect(auditor.getByTestId("team-progress-row").filter({ hasText: NS })).toContainText("1 approved · 1 shrunk · 1 revoked");
  const [download] = await Promise.all([auditor.waitForEvent("download"), auditor.getByRole("link", { name: "Export CSV" }).click()]);
  const rows = parseCsv(await readFile((await download.path())!, "utf8"));
  expect(rows).toHaveLength(apiItems.length);
  const rowOf = (identity: string) => {
    const [namespace, identityName] = identity.split("/");
    const found = rows.filter((row) => row.namespace === namespace && row.identity === identityName);
    expect(found, identity).toHaveLength(1);
    return found[0]!;
  };
  const csfOf = (row: Record<string, string>) => row.csf!.split("; ");
  const owaspOf = (row: Record<string, string>) => row.owasp!.split("; ").filter(Boolean);

  const approved = rowOf(DBT);
  expect(approved).toMatchObject({ decision: "approve", reviewer: "owner@keyward.local", "reviewer team": NS, owner: NS, status: "applied", comment: "Reads exactly its config; keep it." });
  expect(csfOf(approved)).toEqual(expect.arrayContaining(["PR.AA-05", "GV.RR-02", "ID.RA-07"]));
  expect(approved["grants after"]).toBe(approved["grants before"]);

  const revokedRow = rowOf(WORKER);
  expect(revokedRow).toMatchObject({ decision: "revoke", reviewer: "owner@keyward.local", status: "applied", "grants after": "none" });
  expect(revokedRow["verification result"]).toMatch(/^verified: (\d+)\/\1 access checks passed$/);
  expect(csfOf(revokedRow)).toEqual(expect.arrayContaining(["PR.AA-05", "GV.RR-02", "ID.RA-07"]));
  expect(owaspOf(revokedRow)).toContain("NHI1");

  const shrunkRow = rowOf(SCHEDULER);
  expect(shrunkRow).toMatchObject({ decision: "shrink", reviewer: "owner@keyward.local", status: "rolledBack" });
  expect(shrunkRow["verification result"]).toMatch(/^rolled back \(had (\d+)\/\1 access checks passed\)$/);
  expect(shrunkRow["grants before"]).toContain("pods/log");
  expect(csfOf(shrunkRow)).toEqual(expect.arrayContaining(["PR.AA-05", "GV.RR-02", "ID.RA-07"]));
  expect(owaspOf(shrunkRow)).toContain("NHI5");

  // The items nobody decided are in the export too, undecided.
  for (const row of rows.filter((r) => ![DBT, WORKER, SCHEDULER].includes(`${r.namespace}/${r.identity}`))) {
    expect(row).toMatchObject({ decision: "", reviewer: "", status: "pending" });
    expect(csfOf(row)).toContain("PR.AA-05");
  }
});

test("an owner posting a decision for another team's item through the API with their session gets 403, and nothing changes", async ({ browser }) => {
  const security = await signedInPage(browser, "security");
  // payments-api belongs to the payments team; the demo owner is never a member of it.
  const { id, items } = await launchCampaignOverApi(security, `e2e payments review ${unique()}`, ["payments"]);
  const target = items.find((item) => item.identity.name === "payments-api");
  expect(target?.reviewerTeam?.name).toBe("payments");
  const paymentsState = async () => [...(await clusterSnapshot())].filter(([key]) => key.includes(" payments/")).map(([key, object]) => `${key}@${object.metadata.resourceVersion}`);
  const clusterBefore = await paymentsState();

  const owner = await signedInPage(browser, "owner");
  const itemPath = `/api/v1/campaigns/${id}/items/${target!.id}`;
  const forged = await owner.request.post(`${itemPath}/decision`, { data: { decision: "revoke", comment: "not mine to decide", apply: true } });
  expect(forged.status()).toBe(403);
  expect(((await forged.json()) as { error: { code: string } }).error.code).toBe("forbidden");
  // Nor can the owner read it: another team's item does not exist for them.
  expect((await owner.request.get(itemPath)).status()).toBe(404);

  const after = await security.request.get(itemPath);
  expect(after.status()).toBe(200);
  expect(await after.json()).toMatchObject({ status: "pending", decision: null, version: target!.version, changeSets: [] });
  expect(await paymentsState()).toEqual(clusterBefore);
});

test("an auditor sees a campaign and its items but no control to decide, carry out or manage them", async ({ browser }) => {
  const security = await signedInPage(browser, "security");
  const name = `e2e auditor view ${unique()}`;
  const { id, items } = await launchCampaignOverApi(security, name, ["payments"]);
  const item = items.find((i) => i.identity.name === "payments-api");
  expect(item).toBeDefined();
  // The controls the auditor must not get, as the security team sees them on the same pages.
  await security.goto(`/reviews/${item!.id}`);
  await expect(security.getByRole("form", { name: "Decide" }).getByRole("button", { name: "Preview" })).toBeVisible();
  await security.goto(`/campaigns/${id}`);
  await expect(security.getByRole("button", { name: "Close campaign" })).toBeVisible();

  const auditor = await signedInPage(browser, "auditor");
  await auditor.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Campaigns" }).click();
  await auditor.getByRole("link", { name, exact: true }).click();
  await expect(auditor.getByRole("heading", { name })).toBeVisible();
  await expect(auditor.getByTestId("campaign-status")).toHaveAttribute("data-status", "active");
  await expect(auditor.getByTestId("campaign-item")).toHaveCount(items.length);
  await expect(auditor.getByRole("link", { name: "Export CSV" })).toBeVisible();
  await expect(auditor.getByTestId("campaign-actions")).toHaveCount(0);
  await expect(auditor.getByRole("button", { name: /Launch campaign|Close campaign|Cancel campaign/ })).toHaveCount(0);
  await expect(auditor.getByText("Change reviewer")).toHaveCount(0);

  await auditor.getByTestId("campaign-items").getByRole("link", { name: "payments-api", exact: true }).click();
  await expect(auditor.getByRole("heading", { name: "payments/payments-api" })).toBeVisible();
  await expect(auditor.getByTestId("recommendation")).toBeVisible();
  await expect(auditor.getByTestId("item-status")).toHaveText("pending");
  await expect(auditor.getByTestId("decision-form")).toHaveCount(0);
  await expect(auditor.getByRole("radio")).toHaveCount(0);
  await expect(auditor.getByRole("button", { name: /Preview|Apply|Roll back|Retry/ })).toHaveCount(0);

  // The inbox lists the campaign's items for reading, with nothing to select for a bulk approval.
  await auditor.goto(`/reviews?campaign=${id}`);
  await expect(auditor.getByTestId("inbox-row")).toHaveCount(items.length);
  await expect(auditor.getByRole("checkbox")).toHaveCount(0);
  await expect(auditor.getByTestId("bulk-approve")).toHaveCount(0);
});
