import { beforeAll, describe, expect, it } from "vitest";
import { ZodError } from "zod";
import type { Actor } from "@/lib/audit/log";
import { verifyAuditChain } from "@/lib/audit/log";
import { UserFacingError } from "@/lib/auth/errors";
import { insertCluster, insertKubeObjects } from "@/lib/permissions/test-support/inventory-rows";
import { setupTestDatabase } from "@/lib/testing/database";
import { getClusterSettings, updateClusterSettings } from "./update-cluster-settings";

const database = setupTestDatabase();
const DAY = 86_400_000;
const actor: Actor = { type: "user", id: "u-sec", label: "sec@example.test" };
let clusterId: string;
let botId: string;

const humanUse = () =>
  database.prisma.finding.findMany({ where: { clusterId, identityId: botId, type: "human-use", resolvedAt: null } });

beforeAll(async () => {
  // syncIntervalMinutes belongs to the job scheduler: a settings change must leave it alone.
  clusterId = (await insertCluster(database.prisma, "settings-test", { syncIntervalMinutes: 15, rotationDays: 60 })).id;
  await insertKubeObjects(database.prisma, clusterId, [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: "apps" } },
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "ci-bot", namespace: "apps" } },
  ]);
  botId = (await database.prisma.identity.findFirstOrThrow({ where: { clusterId, name: "ci-bot" } })).id;
  const day = new Date(Math.floor(Date.now() / DAY) * DAY - 3 * DAY);
  await database.prisma.cluster.update({ where: { id: clusterId }, data: { usageObservedSince: new Date(day.getTime() - 30 * DAY) } });
  await database.prisma.identity.update({ where: { id: botId }, data: { lastUsedAt: day } });
  // A client-go program (not a person by its agent), once from outside the pod network.
  await database.prisma.usageRollup.create({
    data: {
      clusterId,
      identityId: botId,
      day,
      verb: "list",
      resource: "pods",
      namespace: "apps",
      count: 4,
      firstSeenAt: new Date(day.getTime() + 3_600_000),
      lastSeenAt: new Date(day.getTime() + 7_200_000),
      userAgents: ["manager/v0.0.0 (linux/amd64) kubernetes/$Format"],
      sourceIps: ["10.244.2.2", "203.0.113.7"],
    },
  });
});

describe("updateClusterSettings", () => {
  it("refuses invalid values and unknown keys, naming the field, and changes nothing", async () => {
    for (const input of [
      { clusterCidrs: ["10.0.0.0/8", "not-a-cidr"] },
      { clusterCidrs: ["10.0.0.0/33"] },
      { rotationDays: 0 },
      { usageWindowDays: 1.5 },
      { sharedServiceAccountWorkloads: 1 },
      { syncIntervalMinutes: 5 },
    ]) {
      const error = await updateClusterSettings(database.prisma, actor, clusterId, input as never).catch((e: unknown) => e);
      expect(error, JSON.stringify(input)).toBeInstanceOf(ZodError);
      const paths = (error as ZodError).issues.map((issue) => (issue.code === "unrecognized_keys" ? issue.keys : issue.path).join("."));
      expect(paths.join(" ")).toContain(Object.keys(input)[0]);
    }
    const cidr = await updateClusterSettings(database.prisma, actor, clusterId, { clusterCidrs: ["10.0.0.0/8", "nope"] }).catch((e: ZodError) => e.issues);
    expect(cidr).toEqual([expect.objectContaining({ path: ["clusterCidrs", 1], message: expect.stringMatching(/CIDR/) })]);
    // Retention shorter than the window would delete usage the findings still rely on.
    await expect(updateClusterSettings(database.prisma, actor, clusterId, { usageRetentionDays: 30 })).rejects.toThrow(UserFacingError);
    expect((await database.prisma.cluster.findUniqueOrThrow({ where: { id: clusterId } })).settings).toEqual({ syncIntervalMinutes: 15, rotationDays: 60 });
  });

  it("an unknown cluster is a 404", async () => {
    await expect(updateClusterSettings(database.prisma, actor, "no-such-cluster", { rotationDays: 30 })).rejects.toMatchObject({ status: 404 });
    await expect(getClusterSettings(database.prisma, "no-such-cluster")).rejects.toMatchObject({ status: 404 });
  });

  it("merges beside other features' keys, null resets to the default, and the change is audited with before and after", async () => {
    const result = await updateClusterSettings(database.prisma, actor, clusterId, { rotationDays: null, expiryWarningDays: 14, ownerAnnotationKey: "example.com/team" });
    expect(result.changed).toEqual(["expiryWarningDays", "ownerAnnotationKey", "rotationDays"]);
    expect(result.settings).toMatchObject({ rotationDays: 90, maxCertificateValidityDays: 90, expiryWarningDays: 14, ownerAnnotationKey: "example.com/team" });
    expect((await database.prisma.cluster.findUniqueOrThrow({ where: { id: clusterId } })).settings).toEqual({
      syncIntervalMinutes: 15,
      expiryWarningDays: 14,
      ownerAnnotationKey: "example.com/team",
    });
    expect(await getClusterSettings(database.prisma, clusterId)).toEqual({ clusterId, settings: result.settings });

    const entries = await database.prisma.auditLogEntry.findMany({ where: { action: "cluster.settings_change", targetId: clusterId } });
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      actorType: "user",
      actorId: "u-sec",
      targetType: "cluster",
      outcome: "success",
      details: {
        before: { rotationDays: 60, expiryWarningDays: 30, ownerAnnotationKey: "keyward.io/owner" },
        after: { rotationDays: 90, expiryWarningDays: 14, ownerAnnotationKey: "example.com/team" },
      },
    });
    expect(await verifyAuditChain(database.prisma)).toMatchObject({ ok: true });

    // Saving the same values again writes, audits and analyses nothing.
    const again = await updateClusterSettings(database.prisma, actor, clusterId, { expiryWarningDays: 14, rotationDays: null });
    expect(again).toMatchObject({ changed: [], analysis: null });
    expect(await database.prisma.auditLogEntry.count({ where: { action: "cluster.settings_change" } })).toBe(1);
  });

  it("re-analyses at once: the cluster's networks make use from outside them human use, and clearing them resolves it", async () => {
    expect(await humanUse()).toEqual([]);
    const result = await updateClusterSettings(database.prisma, actor, clusterId, { clusterCidrs: ["10.0.0.0/8", "fd00::/8"] });
    expect(result.analysis?.opened).toBeGreaterThanOrEqual(1);
    const [finding] = await humanUse();
    expect(finding).toMatchObject({
      title: "Service account token used from 203.0.113.7 outside the cluster",
      details: { sourceIps: [{ value: "203.0.113.7" }], clusterCidrs: ["10.0.0.0/8", "fd00::/8"] },
    });

    await updateClusterSettings(database.prisma, actor, clusterId, { clusterCidrs: null });
    expect(await humanUse()).toEqual([]);
    expect((await database.prisma.cluster.findUniqueOrThrow({ where: { id: clusterId } })).settings).not.toHaveProperty("clusterCidrs");
  });
});
