// The demo as `npm run demo` sets it up (simulated demo cluster with both identities from deploy/, a month of usage
// with a window as long, an analysis, the owner in their team), checked from the owner's side: they see their team's identities, Keyward
// recommends revoke, shrink and approve among them, and the decisions can be carried out on the simulator.
import { randomBytes } from "node:crypto";
import { KubeConfig, RbacAuthorizationV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { upsertUser } from "@/lib/auth/users";
import { carryOutDecision, previewDecision } from "@/lib/campaigns/apply-decision";
import { freezeClusterEvidence } from "@/lib/campaigns/evidence";
import { recommend } from "@/lib/campaigns/recommend";
import { registerCluster } from "@/lib/clusters/register-cluster";
import { analyzeCluster } from "@/lib/findings/analyze-cluster";
import { identityScopeWhere } from "@/lib/inventory/scope";
import { closeJobQueue } from "@/lib/jobs";
import { startKubeSim, type KubeSim } from "@/lib/kube-sim";
import { syncCluster } from "@/lib/sync/sync-cluster";
import { setupTestDatabase } from "@/lib/testing/database";
import { issueRemediationToken, issueSyncToken } from "./connect-cluster";
import { DEMO_OWNER_TEAM, joinDemoOwnerTeam } from "./review-team";
import { backfillDemoUsage, planDemoWorkloads, setDemoUsageWindow } from "./usage-history";

process.env.KEYWARD_SECRET_KEY = randomBytes(32).toString("base64");
const db = setupTestDatabase();

let sim: KubeSim;
let admin: KubeConfig;
let clusterId: string;
let teamId: string;
let owner: { actor: { type: "user"; id: string; label: string }; user: { id: string; role: "owner" } };

const sharedBindingSubjects = async () =>
  ((await admin.makeApiClient(RbacAuthorizationV1Api).readNamespacedRoleBinding({ name: "airflow-pod-launcher", namespace: "data-platform" })).subjects ?? []).map((s) => s.name);

beforeAll(async () => {
  sim = await startKubeSim({ port: 0, demo: true });
  admin = new KubeConfig();
  admin.loadFromString(sim.adminKubeconfig());
  ({ id: clusterId } = await registerCluster({
    name: "demo",
    apiServerUrl: sim.url,
    caCertPem: sim.caPem,
    sync: { type: "token", token: await issueSyncToken(admin) },
    remediation: { type: "token", token: await issueRemediationToken(admin) },
  }));
  expect(await syncCluster(clusterId, "registration")).toMatchObject({ ok: true });
  await setDemoUsageWindow(db.prisma, clusterId);
  expect(await backfillDemoUsage(db.prisma, clusterId, planDemoWorkloads(sim))).toMatchObject({ accepted: expect.any(Number) });
  await analyzeCluster(db.prisma, clusterId);
  const user = await upsertUser({ email: "owner@keyward.local", name: "Olu Owner", role: "owner", password: randomBytes(12).toString("base64url") });
  teamId = await joinDemoOwnerTeam(db.prisma, user.id);
  owner = { actor: { type: "user", id: user.id, label: user.email }, user: { id: user.id, role: "owner" } };
}, 180_000);

afterAll(async () => {
  await closeJobQueue();
  await sim?.stop();
});

describe("the demo owner's team", () => {
  it("is data-platform, whose identities the owner sees, with a revoke, a shrink and an approve among them", async () => {
    expect(await db.prisma.team.findUniqueOrThrow({ where: { id: teamId } })).toMatchObject({ name: DEMO_OWNER_TEAM });
    const visible = await db.prisma.identity.findMany({ where: { AND: [{ clusterId, deletedAt: null }, identityScopeWhere(owner.user)] }, orderBy: { name: "asc" } });
    expect(visible.map((i) => `${i.namespace}/${i.name}`)).toEqual(
      expect.arrayContaining(["data-platform/airflow-scheduler", "data-platform/airflow-worker", "data-platform/dbt-runner", "data-platform/spark-operator"]),
    );
    expect(visible.every((i) => i.ownerTeamId === teamId)).toBe(true);

    const byName = new Map(visible.map((i) => [i.name, i.id]));
    const now = new Date();
    const evidence = await freezeClusterEvidence(db.prisma, clusterId, [...byName.values()], now);
    const recommended = (name: string) => recommend(evidence.get(byName.get(name)!)!, now).decision;
    expect(recommended("airflow-worker")).toBe("revoke");
    expect(recommended("airflow-scheduler")).toBe("shrink");
    expect(recommended("dbt-runner")).toBe("approve");
    // The worker and the scheduler share one binding: what is done to one must leave the other in it.
    expect(await sharedBindingSubjects()).toEqual(["airflow-scheduler", "airflow-worker"]);
  });

  it("can carry its decisions out on the simulator: a shrink to the generated role, a revoke that keeps the others bound", async () => {
    const campaign = await db.prisma.campaign.create({ data: { name: "demo check", status: "active", createdById: owner.user.id } });
    const item = async (name: string, decision: "revoke" | "shrink") => {
      const identity = await db.prisma.identity.findUniqueOrThrow({ where: { clusterId_kind_namespace_name: { clusterId, kind: "ServiceAccount", namespace: "data-platform", name } } });
      const created = await db.prisma.reviewItem.create({
        data: { campaignId: campaign.id, clusterId, identityId: identity.id, reviewerTeamId: teamId, status: "decided", evidence: {}, recommendation: decision, recommendationReason: "demo", decision, decidedAt: new Date() },
      });
      return created.id;
    };

    const shrink = await previewDecision(db.prisma, owner, await item("airflow-scheduler", "shrink"));
    expect(shrink.dryRun.every((outcome) => outcome.ok)).toBe(true);
    const changes = shrink.plan.changes.map((c) => `${c.op} ${c.op === "create" ? c.after.kind : c.before.kind} ${c.op === "create" ? c.after.metadata.name : c.before.metadata.name}`);
    expect(changes.filter((c) => c.startsWith("create Role "))).toHaveLength(1);
    expect(changes).toContain("replace RoleBinding airflow-pod-launcher");
    const replaced = shrink.plan.changes.find((c) => c.op === "replace")!;
    expect(replaced.op === "replace" && (replaced.after.subjects as { name: string }[]).map((s) => s.name)).toEqual(["airflow-worker"]);

    const revoked = await carryOutDecision(db.prisma, owner, await item("airflow-worker", "revoke"));
    expect(revoked).toMatchObject({ status: "applied", failure: undefined });
    expect(await sharedBindingSubjects()).toEqual(["airflow-scheduler"]);
  });
});
