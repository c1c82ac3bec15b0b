import { beforeAll, describe, expect, it } from "vitest";
import { setupTestDatabase } from "@/lib/testing/database";
import {
  markUnreferencedSubjectsDeleted,
  markUnseenDeleted,
  refreshCredentialColumns,
  tables,
  upsertRows,
} from "@/lib/sync/snapshot-writer";
import { analyzeCluster } from "@/lib/findings/analyze-cluster";
import { ingestAuditRecords, type IngestOptions } from "./ingest-audit";
import { failInterruptedIngestions, INTERRUPTED_AFTER_MS } from "./interrupted-ingestions";
import { recordsFromJsonLines, type AuditRecord } from "./read-records";
import { pruneUsage } from "./retention";

const db = setupTestDatabase();
const CERT_SHA = "ab".repeat(32);
let clusterId: string;
let deployer: { id: string };
let tokenCredential: { id: string };
let certUser: { id: string };
let certCredential: { id: string };
let idle: { id: string };

let serial = 0;
/** One audit event line; `at` is seconds after 2026-11-30T10:00:00Z. */
function event(options: {
  id?: string;
  username?: string;
  verb?: string;
  resource?: string;
  namespace?: string;
  name?: string;
  at?: number;
  code?: number;
  stage?: string;
  agent?: string;
  ip?: string;
  credential?: string;
  impersonate?: string;
}): string {
  const at = new Date(Date.UTC(2026, 10, 30, 10) + (options.at ?? 0) * 1000).toISOString();
  return JSON.stringify({
    kind: "Event",
    apiVersion: "audit.k8s.io/v1",
    level: "Metadata",
    auditID: options.id ?? `event-${++serial}`,
    stage: options.stage ?? "ResponseComplete",
    requestURI: "/api/v1/whatever",
    verb: options.verb ?? "get",
    user: {
      username: options.username ?? "system:serviceaccount:ci:deployer",
      groups: ["system:authenticated"],
      ...(options.credential
        ? { extra: { "authentication.kubernetes.io/credential-id": [options.credential] } }
        : {}),
    },
    ...(options.impersonate ? { impersonatedUser: { username: options.impersonate } } : {}),
    sourceIPs: [options.ip ?? "10.0.0.1"],
    userAgent: options.agent ?? "deployer/1.0",
    objectRef: {
      resource: options.resource ?? "secrets",
      namespace: options.namespace ?? "ci",
      ...(options.name === "" ? {} : { name: options.name ?? "deploy-key" }),
      apiVersion: "v1",
    },
    ...(options.code ? { responseStatus: { code: options.code } } : {}),
    requestReceivedTimestamp: at,
    stageTimestamp: at,
  });
}

const ingest = (lines: string[], chunkSize?: number) =>
  ingestAuditRecords(
    db.prisma,
    { clusterId, source: "upload", fileName: "audit.log", actorLabel: "test" },
    recordsFromJsonLines([lines.join("\n")]),
    { chunkSize },
  );

beforeAll(async () => {
  ({ id: clusterId } = await db.prisma.cluster.create({
    data: { name: "usage", apiServerUrl: "https://usage.invalid" },
  }));
  deployer = await db.prisma.identity.create({
    data: {
      clusterId,
      kind: "ServiceAccount",
      namespace: "ci",
      name: "deployer",
      username: "system:serviceaccount:ci:deployer",
    },
  });
  // A same-named RBAC User subject must not take the service account's events.
  await db.prisma.identity.create({
    data: {
      clusterId,
      kind: "User",
      name: "system:serviceaccount:ci:deployer",
      username: "system:serviceaccount:ci:deployer",
    },
  });
  tokenCredential = await db.prisma.credential.create({
    data: {
      clusterId,
      identityId: deployer.id,
      kind: "boundToken",
      namespace: "ci",
      name: "deployer-token",
      fingerprint: "3f6d1c",
    },
  });
  certUser = await db.prisma.identity.create({
    data: { clusterId, kind: "CertificateUser", name: "ops-bot", username: "ops-bot" },
  });
  certCredential = await db.prisma.credential.create({
    data: {
      clusterId,
      identityId: certUser.id,
      kind: "clientCertificate",
      name: "csr-ops-bot",
      fingerprint: CERT_SHA,
    },
  });
  idle = await db.prisma.identity.create({
    data: {
      clusterId,
      kind: "ServiceAccount",
      namespace: "ci",
      name: "idle",
      username: "system:serviceaccount:ci:idle",
    },
  });
});

describe("ingestAuditRecords", () => {
  it("rolls a small log up: stages count once, a broken line costs only itself", async () => {
    const outcome = await ingest([
      event({ id: "req-1", stage: "RequestReceived", at: 0, credential: "JTI=3f6d1c" }),
      event({ id: "req-1", at: 0, code: 403, credential: "JTI=3f6d1c" }),
      "{this is not json",
      event({
        at: 60,
        name: "other-key",
        agent: "kubectl/v1.30.1",
        ip: "203.0.113.9",
        credential: "JTI=3f6d1c",
      }),
      event({ at: 120, verb: "list", name: "", credential: "JTI=3f6d1c" }),
      event({
        at: 30,
        username: "ops-bot",
        verb: "create",
        resource: "configmaps",
        namespace: "default",
        credential: `X509SHA256=${CERT_SHA.toUpperCase()}`,
      }),
      event({ at: 90, username: "ci-runner@example.com", verb: "watch", resource: "pods", name: "" }),
      event({ at: 100, username: "system:serviceaccount:tools:ghost", credential: "JTI=unknown-jti" }),
      JSON.stringify({ kind: "Event", apiVersion: "audit.k8s.io/v1", auditID: "x" }),
    ]);
    expect(outcome).toMatchObject({ accepted: 6, duplicates: 1, rejected: 2 });
    expect(outcome.sampleReasons).toEqual([
      { line: 3, reason: "malformed JSON" },
      { line: 9, reason: "missing verb" },
    ]);
    expect(
      await db.prisma.auditIngestBatch.findUniqueOrThrow({ where: { id: outcome.batchId } }),
    ).toMatchObject({
      status: "completed",
      accepted: 6,
      duplicates: 1,
      rejected: 2,
    });

    const rollups = await db.prisma.usageRollup.findMany({
      where: { identityId: deployer.id },
      orderBy: { verb: "asc" },
    });
    expect(rollups.map((r) => [r.verb, r.resource, r.namespace, r.count, r.deniedCount])).toEqual([
      ["get", "secrets", "ci", 2, 1],
      ["list", "secrets", "ci", 1, 0],
    ]);
    const get = rollups[0];
    expect(get.day).toEqual(new Date("2026-11-30T00:00:00Z"));
    expect(get.firstSeenAt).toEqual(new Date("2026-11-30T10:00:00Z"));
    expect(get.lastSeenAt).toEqual(new Date("2026-11-30T10:01:00Z"));
    expect(get.userAgents).toEqual(["deployer/1.0", "kubectl/v1.30.1"]);
    expect(get.sourceIps).toEqual(["10.0.0.1", "203.0.113.9"]);
    expect(get.resourceNames).toEqual(["deploy-key", "other-key"]);
    expect(get.resourceNamesComplete).toBe(true);
    expect(rollups[1]).toMatchObject({ resourceNames: [], resourceNamesComplete: false });

    // Credentials: matched by JTI and by certificate fingerprint (hex in any case); an unknown one kept unmatched.
    const usage = await db.prisma.credentialUsage.findMany({
      where: { clusterId },
      orderBy: { credentialRef: "asc" },
    });
    expect(usage.map((u) => [u.credentialRef, u.credentialId, u.count])).toEqual([
      ["JTI=3f6d1c", tokenCredential.id, 3],
      ["JTI=unknown-jti", null, 1],
      [`X509SHA256=${CERT_SHA.toUpperCase()}`, certCredential.id, 1],
    ]);
    const credential = await db.prisma.credential.findUniqueOrThrow({ where: { id: tokenCredential.id } });
    expect(credential.lastUsedAt).toEqual(new Date("2026-11-30T10:02:00Z"));
    const identities = await db.prisma.identity.findMany({
      where: { clusterId },
      orderBy: { username: "asc" },
    });
    const byUsername = (username: string, kind?: string) =>
      identities.find((i) => i.username === username && (!kind || i.kind === kind))!;
    expect(byUsername("system:serviceaccount:ci:deployer", "ServiceAccount").lastUsedAt).toEqual(
      new Date("2026-11-30T10:02:00Z"),
    );
    expect(byUsername("system:serviceaccount:ci:deployer", "User").lastUsedAt).toBeNull();
    expect(byUsername("ops-bot").lastUsedAt).toEqual(new Date("2026-11-30T10:00:30Z"));
    // Users nobody synced are discovered: a service account name becomes a ServiceAccount, anything else a User.
    expect(byUsername("ci-runner@example.com")).toMatchObject({
      kind: "User",
      name: "ci-runner@example.com",
      discoveredByUsage: true,
    });
    expect(byUsername("system:serviceaccount:tools:ghost")).toMatchObject({
      kind: "ServiceAccount",
      namespace: "tools",
      name: "ghost",
      discoveredByUsage: true,
    });
    const cluster = await db.prisma.cluster.findUniqueOrThrow({ where: { id: clusterId } });
    expect(cluster.usageObservedSince).toEqual(new Date("2026-11-30T10:00:00Z"));

    // The same log again: nothing new.
    const again = await ingest([event({ id: "req-1", at: 0 })]);
    expect(again).toMatchObject({ accepted: 0, duplicates: 1, rejected: 0 });
  });

  it("later ingests merge into the rollups: counts add up, names and agents stay capped", async () => {
    const names = (from: number, to: number) =>
      Array.from({ length: to - from }, (_, i) =>
        event({
          verb: "patch",
          resource: "configmaps",
          name: `cm-${from + i}`,
          agent: `agent-${(from + i) % 12}`,
          at: 200 + i,
        }),
      );
    await ingest(names(0, 15), 4);
    await ingest(names(10, 30), 7);
    const row = await db.prisma.usageRollup.findFirstOrThrow({
      where: { identityId: deployer.id, verb: "patch" },
    });
    expect(row.count).toBe(35);
    expect(row.resourceNames).toEqual(Array.from({ length: 20 }, (_, i) => `cm-${i}`));
    expect(row.resourceNamesComplete).toBe(false);
    expect(row.userAgents).toHaveLength(10);
    expect(new Set(row.userAgents).size).toBe(10);
  });

  it("keeps agents, addresses and names exactly, quotes, backslashes, commas and braces included", async () => {
    const agent = 'curl/8 "quoted", back\\slash {brace} NULL';
    const name = 'odd,"name"\\{x}';
    await ingest([event({ verb: "proxy", agent, ip: "fe80::1%eth0", name })]);
    const row = await db.prisma.usageRollup.findFirstOrThrow({
      where: { identityId: deployer.id, verb: "proxy" },
    });
    expect(row).toMatchObject({ userAgents: [agent], sourceIps: ["fe80::1%eth0"], resourceNames: [name] });
  });

  it("a request made as a service account by an impersonating user is that user's: its kubectl is no human use of the account", async () => {
    const cluster = await db.prisma.cluster.create({
      data: { name: "usage-impersonation", apiServerUrl: "https://impersonation.invalid" },
    });
    const accounts = new Map<string, string>();
    for (const name of ["impersonated", "direct"]) {
      const account = await db.prisma.identity.create({
        data: {
          clusterId: cluster.id,
          kind: "ServiceAccount",
          namespace: "ci",
          name,
          username: `system:serviceaccount:ci:${name}`,
        },
      });
      accounts.set(account.id, name);
    }
    const kubectl = "kubectl/v1.31.0 (darwin/arm64) kubernetes/abc1234";
    await ingestAuditRecords(
      db.prisma,
      { clusterId: cluster.id, source: "upload", actorLabel: "test" },
      recordsFromJsonLines([
        [
          event({
            username: "alice@example.com",
            impersonate: "system:serviceaccount:ci:impersonated",
            agent: kubectl,
            ip: "203.0.113.7",
          }),
          event({ username: "system:serviceaccount:ci:direct", agent: kubectl }),
        ].join("\n"),
      ]),
      { analyze: false },
    );
    const rows = await db.prisma.usageRollup.findMany({ where: { clusterId: cluster.id } });
    expect(
      rows
        .map((row) => [accounts.get(row.identityId), row.userAgents, row.sourceIps, row.impersonators])
        .sort(),
    ).toEqual([
      ["direct", [kubectl], ["10.0.0.1"], []],
      ["impersonated", [], [], ["alice@example.com"]],
    ]);
    await analyzeCluster(db.prisma, cluster.id);
    const humanUse = await db.prisma.finding.findMany({
      where: { clusterId: cluster.id, type: "human-use", resolvedAt: null },
      select: { identityId: true },
    });
    expect(humanUse.map((finding) => accounts.get(finding.identityId!))).toEqual(["direct"]);
  });

  it("a chunk whose transaction fails: earlier chunks stay committed, the batch fails with their counts only", async () => {
    // A real database failure in the second chunk's transaction, where it writes its rollups.
    await db.prisma.$executeRawUnsafe(`CREATE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN IF NEW."verb" = 'boom' THEN RAISE EXCEPTION 'disk full (simulated)'; END IF; RETURN NEW; END $$`);
    await db.prisma.$executeRawUnsafe(
      `CREATE TRIGGER refuse_boom BEFORE INSERT ON "UsageRollup" FOR EACH ROW EXECUTE FUNCTION refuse_boom()`,
    );
    const log = [
      event({ id: "crash-1", verb: "delete" }),
      event({ id: "crash-2", verb: "delete" }),
      event({ id: "crash-3", verb: "boom" }),
      "garbage",
      event({ id: "crash-5", verb: "delete" }),
    ];
    await expect(ingest(log, 2)).rejects.toThrow(/disk full/);
    const batch = await db.prisma.auditIngestBatch.findFirstOrThrow({
      where: { clusterId },
      orderBy: { startedAt: "desc" },
    });
    expect(batch).toMatchObject({ status: "failed", accepted: 2, duplicates: 0, rejected: 0 });
    expect(batch.error).toMatch(/disk full/);
    const deletes = await db.prisma.usageRollup.findFirstOrThrow({
      where: { identityId: deployer.id, verb: "delete" },
    });
    expect(deletes.count).toBe(2);

    await db.prisma.$executeRawUnsafe(`DROP TRIGGER refuse_boom ON "UsageRollup"`);
    // Nothing of the failed chunk was kept: uploading the file again counts exactly what was not committed.
    expect(await ingest(log, 2)).toMatchObject({ accepted: 2, duplicates: 2, rejected: 1 });
  });

  it("a sync afterwards keeps what usage learnt", async () => {
    const seenAt = new Date();
    await db.prisma.credential.create({
      data: {
        clusterId,
        identityId: idle.id,
        kind: "legacyTokenSecret",
        namespace: "ci",
        name: "idle-token",
      },
    });
    await db.prisma.$transaction(async (tx) => {
      // The sync sees the token credential with only its day-precision label: an older date than the events'.
      await upsertRows(
        tx,
        tables.credentials,
        clusterId,
        [
          {
            kind: "boundToken",
            namespace: "ci",
            name: "deployer-token",
            uid: null,
            issuedAt: null,
            expiresAt: null,
            fingerprint: "3f6d1c",
            lastUsedAt: "2026-11-29T00:00:00.000Z",
            labels: {},
            annotations: {},
            details: {},
            identityKind: "ServiceAccount",
            identityNamespace: "ci",
            identityName: "deployer",
          },
          {
            kind: "legacyTokenSecret",
            namespace: "ci",
            name: "idle-token",
            uid: null,
            issuedAt: null,
            expiresAt: null,
            fingerprint: null,
            lastUsedAt: "2026-10-01T00:00:00.000Z",
            labels: {},
            annotations: {},
            details: {},
            identityKind: "ServiceAccount",
            identityNamespace: "ci",
            identityName: "idle",
          },
        ],
        seenAt,
      );
      await upsertRows(
        tx,
        tables.identities,
        clusterId,
        [
          {
            kind: "ServiceAccount",
            namespace: "ci",
            name: "deployer",
            username: "system:serviceaccount:ci:deployer",
            uid: null,
            labels: {},
            annotations: {},
            automountToken: null,
            createdInClusterAt: null,
            groups: [],
          },
          {
            kind: "ServiceAccount",
            namespace: "ci",
            name: "idle",
            username: "system:serviceaccount:ci:idle",
            uid: null,
            labels: {},
            annotations: {},
            automountToken: null,
            createdInClusterAt: null,
            groups: [],
          },
          // The discovered ghost turns out to exist after all.
          {
            kind: "ServiceAccount",
            namespace: "tools",
            name: "ghost",
            username: "system:serviceaccount:tools:ghost",
            uid: null,
            labels: {},
            annotations: {},
            automountToken: null,
            createdInClusterAt: null,
            groups: [],
          },
        ],
        seenAt,
      );
      for (const spec of [tables.identities, tables.credentials])
        await markUnseenDeleted(tx, spec, clusterId, seenAt);
      await markUnreferencedSubjectsDeleted(tx, clusterId, seenAt);
      await refreshCredentialColumns(tx, clusterId);
    });
    const credential = await db.prisma.credential.findUniqueOrThrow({ where: { id: tokenCredential.id } });
    expect(credential.lastUsedAt).toEqual(new Date("2026-11-30T10:02:00Z"));
    const identities = await db.prisma.identity.findMany({ where: { clusterId } });
    const find = (username: string, kind = "ServiceAccount") =>
      identities.find((i) => i.username === username && i.kind === kind)!;
    // Its latest event (the last patch) stays: the label is older.
    expect(find("system:serviceaccount:ci:deployer").lastUsedAt).toEqual(new Date("2026-11-30T10:03:39Z"));
    // No events, but a legacy token label: that is its last use.
    expect(find("system:serviceaccount:ci:idle").lastUsedAt).toEqual(new Date("2026-10-01T00:00:00Z"));
    // Known only from events: not deleted by the sync that does not list it.
    expect(find("ci-runner@example.com", "User")).toMatchObject({ deletedAt: null, discoveredByUsage: true });
    expect(find("system:serviceaccount:tools:ghost")).toMatchObject({
      deletedAt: null,
      discoveredByUsage: false,
    });
    // Synced objects the snapshot lacks are still deleted as before.
    expect(find("ops-bot", "CertificateUser").deletedAt).toEqual(seenAt);
  });

  it("webhook-style records (EventList items) and sync iterables ingest the same way", async () => {
    const records: AuditRecord[] = [
      { line: 1, value: JSON.parse(event({ verb: "deletecollection" })) },
      { line: 2, value: 42 },
    ];
    const outcome = await ingestAuditRecords(
      db.prisma,
      { clusterId, source: "webhook", actorLabel: "webhook" },
      records,
    );
    expect(outcome).toMatchObject({
      accepted: 1,
      duplicates: 0,
      rejected: 1,
      sampleReasons: [{ line: 2, reason: "not an object" }],
    });
  });

  it("retention deletes rollups and seen audit IDs older than the cluster's retention days", async () => {
    await db.prisma.cluster.update({
      where: { id: clusterId },
      data: { settings: { usageRetentionDays: 30 } },
    });
    const before = await db.prisma.usageRollup.count({ where: { clusterId } });
    await ingest([event({ id: "old-1", verb: "escalate", at: -60 * 86_400 })]);
    expect(await db.prisma.usageRollup.count({ where: { clusterId } })).toBe(before + 1);
    const pruned = await pruneUsage(db.prisma, new Date("2026-12-02T00:00:00Z"));
    expect(pruned).toEqual({ rollups: 1, seenEvents: 1 });
    expect(await db.prisma.usageRollup.count({ where: { clusterId, verb: "escalate" } })).toBe(0);
    expect(await db.prisma.usageRollup.count({ where: { clusterId } })).toBe(before);
  });
});

describe("chunked ingestion", () => {
  const newCluster = async (name: string) =>
    (
      await db.prisma.cluster.create({
        data: { name, apiServerUrl: `https://${name}.invalid` },
        select: { id: true },
      })
    ).id;
  const ingestInto = (
    cluster: string,
    lines: string[],
    options: Pick<IngestOptions, "chunkSize" | "onProgress">,
  ) =>
    ingestAuditRecords(
      db.prisma,
      { clusterId: cluster, source: "upload", fileName: "audit.log", actorLabel: "test" },
      recordsFromJsonLines([lines.join("\n")]),
      options,
    );
  /** Everything ingestion writes for a cluster, by username rather than generated ids. */
  const usageOf = async (cluster: string) => {
    const rollups = await db.prisma.usageRollup.findMany({
      where: { clusterId: cluster },
      include: { identity: { select: { username: true } } },
    });
    const credentials = await db.prisma.credentialUsage.findMany({
      where: { clusterId: cluster },
      include: { identity: { select: { username: true } } },
    });
    const identities = await db.prisma.identity.findMany({
      where: { clusterId: cluster },
      select: { username: true, kind: true, lastUsedAt: true },
    });
    const { usageObservedSince } = await db.prisma.cluster.findUniqueOrThrow({ where: { id: cluster } });
    const strip = <T extends { identity: { username: string }; clusterId: string; identityId: string }>({
      identity,
      clusterId: _cluster,
      identityId: _identity,
      ...row
    }: T) => ({ username: identity.username, ...row });
    const byJson = (a: unknown, b: unknown) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1);
    return {
      rollups: rollups.map(strip).sort(byJson),
      credentials: credentials.map(strip).sort(byJson),
      identities: identities.sort(byJson),
      usageObservedSince,
    };
  };

  /** Several identities, more names and agents than the caps, impersonation and stages split across chunks. */
  function busyLog(): string[] {
    const lines: string[] = [];
    for (let i = 0; i < 40; i++) {
      lines.push(
        event({
          id: `busy-${i}`,
          username: `system:serviceaccount:apps:worker-${i % 3}`,
          verb: ["get", "list", "update"][i % 3],
          name: i % 3 === 1 ? "" : `cm-${i}`,
          resource: "configmaps",
          agent: `agent/${i % 13}`,
          ip: `10.1.0.${i % 12}`,
          at: i * 7_200 + (i % 5),
          code: i % 7 === 0 ? 403 : undefined,
          credential: `JTI=jti-worker-${i % 3}`,
          impersonate: i % 11 === 0 ? "system:serviceaccount:apps:target" : undefined,
        }),
      );
      // The RequestReceived stage of every fourth request arrives a few lines later (often in the next chunk).
      if (i % 4 === 3)
        lines.push(
          event({
            id: `busy-${i - 2}`,
            stage: "RequestReceived",
            username: `system:serviceaccount:apps:worker-${(i - 2) % 3}`,
            at: (i - 2) * 7_200,
          }),
        );
    }
    // One rollup row with more names and agents than it keeps, spread over many chunks.
    for (let j = 0; j < 30; j++)
      lines.push(
        event({
          id: `burst-${j}`,
          username: "system:serviceaccount:apps:worker-0",
          name: `secret-${j}`,
          agent: `burst/${j}`,
          ip: `10.2.0.${j}`,
          at: j,
        }),
      );
    return lines;
  }

  it("small chunks write exactly what one chunk writes", async () => {
    const log = busyLog();
    const whole = await newCluster("usage-whole");
    const once = await ingestInto(whole, log, { chunkSize: 1_000 });
    expect(once.accepted).toBe(70);
    const expected = await usageOf(whole);
    expect(expected.rollups.length).toBeGreaterThan(10);
    expect(expected.rollups.some((row) => !row.resourceNamesComplete)).toBe(true);
    // Stages split across chunks, names and agents over their caps across many chunks.
    for (const chunkSize of [3, 1]) {
      const chunked = await newCluster(`usage-chunked-${chunkSize}`);
      const progress: number[] = [];
      const outcome = await ingestInto(chunked, log, {
        chunkSize,
        onProgress: ({ accepted, duplicates, rejected }) => progress.push(accepted + duplicates + rejected),
      });
      // One report per committed chunk, with the records so far.
      expect(progress).toEqual(
        Array.from({ length: Math.ceil(log.length / chunkSize) }, (_, i) =>
          Math.min(log.length, (i + 1) * chunkSize),
        ),
      );
      expect(outcome).toMatchObject({
        accepted: once.accepted,
        duplicates: once.duplicates,
        rejected: once.rejected,
      });
      expect(await usageOf(chunked)).toEqual(expected);
    }
  });

  it("events counted before are taken out of a chunk by their counts, the new ones around them kept", async () => {
    const first = busyLog();
    const cluster = await newCluster("usage-redelivered");
    await ingestInto(cluster, first, { chunkSize: 1_000 });
    const before = await usageOf(cluster);
    // Redelivered events (among them later stages that report a refusal) mixed with new ones, in one chunk.
    const fresh = [
      event({
        id: "fresh-1",
        username: "system:serviceaccount:apps:worker-1",
        verb: "get",
        name: "cm-new",
        at: 5,
      }),
      event({
        id: "fresh-2",
        username: "system:serviceaccount:apps:worker-2",
        verb: "delete",
        at: 9,
        code: 403,
      }),
    ];
    const again = [...first.slice(0, 20), fresh[0], ...first.slice(20), fresh[1]];
    again.push(
      event({
        id: "busy-1",
        stage: "ResponseComplete",
        code: 403,
        username: "system:serviceaccount:apps:worker-1",
      }),
    );
    const outcome = await ingestInto(cluster, again, { chunkSize: 1_000 });
    // Every line of the first log and the extra stage are duplicates; only the two new events are accepted.
    expect(outcome).toMatchObject({ accepted: 2, duplicates: first.length + 1, rejected: 0 });
    const after = await usageOf(cluster);
    const fresher = await newCluster("usage-fresh-only");
    await ingestInto(fresher, first, { chunkSize: 1_000 });
    await ingestInto(fresher, fresh, { chunkSize: 1_000 });
    // Exactly as if only the two new events had come: nothing counted twice, no refusal added afterwards.
    expect(after).toEqual(await usageOf(fresher));
    expect(after).not.toEqual(before);
  });

  it("an ingestion silent for half an hour is shown as interrupted; a live one is left alone", async () => {
    const cluster = await newCluster("usage-silent");
    const silent = await db.prisma.auditIngestBatch.create({
      data: {
        clusterId: cluster,
        source: "upload",
        actorLabel: "test",
        lastCommitAt: new Date(Date.now() - INTERRUPTED_AFTER_MS - 60_000),
      },
    });
    const live = await db.prisma.auditIngestBatch.create({
      data: { clusterId: cluster, source: "upload", actorLabel: "test" },
    });
    // The next ingestion of the cluster marks it first.
    await ingestInto(cluster, [event({ id: "after-silence" })], {});
    expect(await db.prisma.auditIngestBatch.findUniqueOrThrow({ where: { id: silent.id } })).toMatchObject({
      status: "failed",
      error: expect.stringMatching(/Interrupted/),
    });
    expect(await db.prisma.auditIngestBatch.findUniqueOrThrow({ where: { id: live.id } })).toMatchObject({
      status: "running",
    });
    // The daily job marks it too, for clusters that send nothing more.
    const later = new Date(Date.now() + INTERRUPTED_AFTER_MS + 60_000);
    expect(await failInterruptedIngestions(db.prisma, { now: later })).toBeGreaterThanOrEqual(1);
    expect(await db.prisma.auditIngestBatch.findUniqueOrThrow({ where: { id: live.id } })).toMatchObject({
      status: "failed",
    });
  });
});
