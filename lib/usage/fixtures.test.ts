import { createReadStream, readFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { setupTestDatabase } from "@/lib/testing/database";
import { ingestAuditRecords } from "./ingest-audit";
import { recordsFromJsonLines } from "./read-records";

// Real audit logs from public repositories (../shared/fixtures/real-world/audit, with their sources): every file
// ingests with exact counts, the broken hand-written panther samples one by one, and nothing counts twice.
const FIXTURES = path.resolve(import.meta.dirname, "../../../shared/fixtures/real-world/audit");
const db = setupTestDatabase();
let clusterId: string;

beforeAll(async () => {
  ({ id: clusterId } = await db.prisma.cluster.create({
    data: { name: "fixtures", apiServerUrl: "https://fixtures.invalid" },
  }));
});

const ingestFile = (file: string) =>
  ingestAuditRecords(
    db.prisma,
    { clusterId, source: "upload", fileName: file, actorLabel: "test" },
    recordsFromJsonLines(createReadStream(path.join(FIXTURES, file))),
    { chunkSize: 16 },
  );

const EXPECTED: [file: string, accepted: number, duplicates: number, rejected: number][] = [
  ["audit2rbac-demo.jsonl", 37, 0, 0],
  ["elastic-k8s-aks-kube-audit-pipeline-test.jsonl", 1, 0, 0],
  ["falco-k8s-audit-traces-v1.jsonl", 4, 0, 0],
  ["panther-k8s-rule-tests.jsonl", 0, 0, 103],
];

describe("real-world audit logs", () => {
  it.each(EXPECTED)(
    "%s: %i accepted, %i duplicates, %i rejected; again: all duplicates",
    async (file, accepted, duplicates, rejected) => {
      const first = await ingestFile(file);
      expect([first.accepted, first.duplicates, first.rejected]).toEqual([accepted, duplicates, rejected]);
      const batch = await db.prisma.auditIngestBatch.findUniqueOrThrow({ where: { id: first.batchId } });
      expect(batch).toMatchObject({ status: "completed", accepted, duplicates, rejected, fileName: file });
      expect(batch.sampleReasons).toEqual(first.sampleReasons);

      const again = await ingestFile(file);
      expect([again.accepted, again.duplicates, again.rejected]).toEqual([
        0,
        accepted + duplicates,
        rejected,
      ]);
    },
  );

  it("panther: each broken event is rejected with its own reason", async () => {
    const outcome = await ingestFile("panther-k8s-rule-tests.jsonl");
    expect(outcome.sampleReasons).toHaveLength(20);
    const reasonOf = (line: number) => outcome.sampleReasons.find((r) => r.line === line)?.reason;
    // Line 1 ("Anonymous API Access"): no verb.
    expect(reasonOf(1)).toBe("missing verb");
    // Line 3: an auditID, but a timestamp with a space and no zone, which Kubernetes' MicroTime refuses.
    expect(reasonOf(3)).toBe('bad timestamp "2024-11-13 18:34:10.595141000" in requestReceivedTimestamp');
    expect(reasonOf(4)).toBe("missing auditID");
    expect(reasonOf(9)).toBe('bad timestamp "2022-11-29 00:09:04.38" in requestReceivedTimestamp');
    const lines = readFileSync(path.join(FIXTURES, "panther-k8s-rule-tests.jsonl"), "utf8").split("\n");
    const timestampless = lines.findIndex((line) => {
      const event = line ? (JSON.parse(line) as Record<string, unknown>) : {};
      return event.auditID && event.verb && !event.requestReceivedTimestamp && !event.stageTimestamp;
    });
    expect(timestampless).toBeGreaterThanOrEqual(0);
    const timestamplessOutcome = await ingestAuditRecords(
      db.prisma,
      { clusterId, source: "upload", actorLabel: "test" },
      [{ line: timestampless + 1, value: JSON.parse(lines[timestampless]) }],
    );
    expect(timestamplessOutcome.sampleReasons).toEqual([
      { line: timestampless + 1, reason: "missing timestamp" },
    ]);
  });

  it("audit2rbac: impersonated requests count for the impersonated users, discovered as identities", async () => {
    const identities = await db.prisma.identity.findMany({
      where: { clusterId },
      select: { id: true, kind: true, namespace: true, name: true, username: true, discoveredByUsage: true },
    });
    const byUsername = new Map(identities.map((identity) => [identity.username, identity]));
    expect(byUsername.get("bob")).toMatchObject({
      kind: "User",
      namespace: "",
      name: "bob",
      discoveredByUsage: true,
    });
    expect(byUsername.get("system:serviceaccount:ns1:sa1")).toMatchObject({
      kind: "ServiceAccount",
      namespace: "ns1",
      name: "sa1",
      discoveredByUsage: true,
    });
    // system:admin made every request, but only as the users it impersonated.
    expect(byUsername.has("system:admin")).toBe(false);

    const usage = async (username: string) => {
      const rollups = await db.prisma.usageRollup.findMany({
        where: { identityId: byUsername.get(username)!.id },
      });
      return {
        count: rollups.reduce((sum, r) => sum + r.count, 0),
        denied: rollups.reduce((sum, r) => sum + r.deniedCount, 0),
        rollups,
      };
    };
    const bob = await usage("bob");
    expect([bob.count, bob.denied]).toEqual([29, 4]);
    expect([(await usage("alice")).count, (await usage("alice")).denied]).toEqual([3, 3]);
    const sa = await usage("system:serviceaccount:ns1:sa1");
    expect([sa.count, sa.denied]).toEqual([5, 4]);
    // Discovery requests are non-resource: their path is kept (without a query), and no resource.
    const paths = bob.rollups.filter((r) => r.path !== "");
    expect(paths).toHaveLength(23);
    expect(paths.every((r) => r.resource === "" && r.path.startsWith("/api"))).toBe(true);
  });
});
