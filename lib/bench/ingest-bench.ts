// `npm run bench:ingest`: Keyward's audit ingestion against the floor of reading and JSON.parse-ing the same
// file, on a generated, realistic 1,000,000-event log (BENCH_EVENTS scales it). Not a test: it prints figures
// (recorded in the README).
//
// Each measurement runs in its own process, so its peak RSS is its own: the floor, then the ingestion of the
// full file and of a quarter of it (memory must stay flat as the file grows) into a fresh database.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { StringDecoder } from "node:string_decoder";
import type { PrismaClient } from "@/lib/db";
import { seededRandom } from "@/lib/kube-sim/generators/scale";

const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const IDENTITIES = 2_000;
/** Identities the cluster already knows from a sync; the rest are discovered from the log. */
const SYNCED_IDENTITIES = 1_800;
const NAMESPACES = 120;
const DAYS = 7;
const root = path.resolve(import.meta.dirname, "../..");
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const rate = (events: number, ms: number) =>
  `${Math.round(events / (ms / 1000)).toLocaleString("en-US")} events/s`;


interface Actor {
  username: string;
  groups: string[];
  agent: string;
  ip: string;
  credential: string;
  /** What it does: [verb, apiGroup, resource, subresource, namespaced][]. */
  habits: [string, string, string, string, boolean][];
  /** Its own namespace first, then the two others it reaches into. */
  namespaces: string[];
}

const RESOURCES: [string, string, string, boolean][] = [
  ["", "pods", "", true],
  ["", "pods", "log", true],
  ["", "pods", "status", true],
  ["", "configmaps", "", true],
  ["", "secrets", "", true],
  ["", "services", "", true],
  ["", "endpoints", "", true],
  ["", "events", "", true],
  ["", "serviceaccounts", "token", true],
  ["", "nodes", "", false],
  ["", "namespaces", "", false],
  ["apps", "deployments", "", true],
  ["apps", "deployments", "scale", true],
  ["apps", "replicasets", "", true],
  ["batch", "jobs", "", true],
  ["coordination.k8s.io", "leases", "", true],
  ["networking.k8s.io", "ingresses", "", true],
  ["rbac.authorization.k8s.io", "rolebindings", "", true],
  ["discovery.k8s.io", "endpointslices", "", true],
];
const VERBS = ["get", "list", "watch", "create", "update", "patch", "delete"];
const AGENTS = [
  "kube-controller-manager/v1.30.2 (linux/amd64) kubernetes/39683505/system:serviceaccount:kube-system:deployment-controller",
  "argocd-application-controller/v2.11.3 (linux/amd64)",
  "Go-http-client/2.0",
  "kubectl/v1.30.1 (darwin/arm64) kubernetes/7c48c2b",
  "prometheus/2.52.0",
  "helm/v3.15.2 (linux/amd64)",
  "python-requests/2.31.0",
];

function actors(next: () => number): Actor[] {
  const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)];
  return Array.from({ length: IDENTITIES }, (_, i) => {
    const namespace = `team-${i % NAMESPACES}`;
    const human = i % 40 === 39;
    const habits = Array.from({ length: 2 + Math.floor(next() * 6) }, () => {
      const [group, resource, subresource, namespaced] = pick(RESOURCES);
      return [pick(VERBS), group, resource, subresource, namespaced] as [
        string,
        string,
        string,
        string,
        boolean,
      ];
    });
    return {
      username: human ? `user-${i}@example.com` : `system:serviceaccount:${namespace}:app-${i}`,
      groups: human
        ? ["developers", "system:authenticated"]
        : ["system:serviceaccounts", `system:serviceaccounts:${namespace}`, "system:authenticated"],
      agent: human ? AGENTS[3] : pick(AGENTS),
      ip: human ? `203.0.113.${i % 250}` : `10.${(i >> 8) & 255}.${i & 255}.${1 + (i % 200)}`,
      credential: human
        ? `X509SHA256=${(i * 2654435761).toString(16).padStart(64, "0")}`
        : `JTI=jti-${i}-0c7a`,
      habits,
      namespaces: [namespace, `team-${(i * 7 + 3) % NAMESPACES}`, `team-${(i * 13 + 5) % NAMESPACES}`],
    };
  });
}

/** Writes the log; returns how many lines it has. ~2% of requests log two stages, ~0.1% of lines are broken. */
async function generateLog(file: string, events: number): Promise<{ lines: number; bytes: number }> {
  const next = seededRandom(42);
  const people = actors(next);
  const out = createWriteStream(file);
  const start = Date.UTC(2026, 10, 20);
  let lines = 0;
  let buffer: string[] = [];
  const flush = async () => {
    if (!out.write(buffer.join(""))) await new Promise<void>((resolve) => out.once("drain", () => resolve()));
    buffer = [];
  };
  for (let n = 0; n < events; n++) {
    // A few identities make most requests (controllers), as in real clusters.
    const actor = people[Math.floor(IDENTITIES * next() ** 2)];
    const [verb, apiGroup, resource, subresource, namespaced] =
      actor.habits[Math.floor(next() * actor.habits.length)];
    const at = new Date(start + Math.floor((n / events) * DAYS * 86_400_000));
    const named = verb !== "list" && verb !== "watch" && verb !== "create";
    const namespace = namespaced ? actor.namespaces[next() < 0.8 ? 0 : 1 + Math.floor(next() * 2)] : "";
    const name = named ? `${resource}-${Math.floor(next() * 40)}` : undefined;
    const nonResource = next() < 0.03;
    const auditID = `${n.toString(16).padStart(8, "0")}-4b2e-4c1d-9a7e-${(n * 7919).toString(16).padStart(12, "0")}`;
    const event: Record<string, unknown> = {
      kind: "Event",
      apiVersion: "audit.k8s.io/v1",
      level: "Metadata",
      auditID,
      stage: "ResponseComplete",
      requestURI: nonResource
        ? "/healthz?verbose=1"
        : `/${apiGroup ? `apis/${apiGroup}/v1` : "api/v1"}${namespace ? `/namespaces/${namespace}` : ""}/${resource}${name ? `/${name}` : ""}${subresource ? `/${subresource}` : ""}`,
      verb: nonResource ? "get" : verb,
      user: {
        username: actor.username,
        uid: `uid-${actor.username.length}`,
        groups: actor.groups,
        extra: { "authentication.kubernetes.io/credential-id": [actor.credential] },
      },
      sourceIPs: [actor.ip],
      userAgent: actor.agent,
      ...(nonResource
        ? {}
        : {
            objectRef: {
              resource,
              ...(namespace ? { namespace } : {}),
              ...(name ? { name } : {}),
              apiGroup,
              apiVersion: "v1",
              ...(subresource ? { subresource } : {}),
            },
          }),
      responseStatus: { metadata: {}, code: next() < 0.02 ? 403 : 200 },
      requestReceivedTimestamp: at.toISOString().replace("Z", "123Z"),
      stageTimestamp: new Date(at.getTime() + 3).toISOString().replace("Z", "456Z"),
      annotations: { "authorization.k8s.io/decision": "allow", "authorization.k8s.io/reason": "" },
    };
    if (next() < 0.02) {
      // The RequestReceived stage of the same request: a duplicate.
      buffer.push(`${JSON.stringify({ ...event, stage: "RequestReceived", responseStatus: undefined })}\n`);
      lines++;
    }
    const broken = next();
    if (broken < 0.0005) buffer.push(`${JSON.stringify(event).slice(0, 120)}\n`);
    else if (broken < 0.001) buffer.push(`${JSON.stringify({ ...event, verb: undefined })}\n`);
    else buffer.push(`${JSON.stringify(event)}\n`);
    lines++;
    if (buffer.length >= 5_000) await flush();
  }
  await flush();
  await new Promise<void>((resolve, reject) =>
    out.end((error?: Error | null) => (error ? reject(error) : resolve())),
  );
  return { lines, bytes: (await stat(file)).size };
}

/** Peak RSS sampled every 50 ms, and the kernel's own maximum. */
function memorySampler() {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 50);
  return () => {
    clearInterval(timer);
    return Math.max(peak, process.memoryUsage.rss(), process.resourceUsage().maxRSS * 1024) / 2 ** 20;
  };
}

/** Child: read the file line by line and JSON.parse each line; nothing else. */
async function floorChild(file: string): Promise<void> {
  const peak = memorySampler();
  const started = performance.now();
  const decoder = new StringDecoder("utf8");
  let partial = "";
  let parsed = 0;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    const text = partial + decoder.write(chunk);
    let start = 0;
    for (let end = text.indexOf("\n"); end >= 0; end = text.indexOf("\n", start)) {
      try {
        JSON.parse(text.slice(start, end));
        parsed++;
      } catch {
        // a broken line costs the floor as much as a good one
      }
      start = end + 1;
    }
    partial = text.slice(start);
  }
  const ms = performance.now() - started;
  process.stdout.write(`${JSON.stringify({ ms, parsed, peakRssMb: peak() })}\n`);
}

/** Child: the real path, file → recordsFromJsonLines → ingestAuditRecords → Postgres. */
async function ingestChild(file: string, clusterId: string): Promise<void> {
  const { getPrisma } = await import("@/lib/db");
  const { ingestAuditRecords } = await import("@/lib/usage/ingest-audit");
  const { recordsFromJsonLines } = await import("@/lib/usage/read-records");
  const db = getPrisma();
  await db.$queryRawUnsafe("SELECT 1"); // connect before the clock starts
  const peak = memorySampler();
  const started = performance.now();
  const outcome = await ingestAuditRecords(
    db,
    { clusterId, source: "upload", fileName: path.basename(file), actorLabel: "bench" },
    recordsFromJsonLines(createReadStream(file)),
    { analyze: false },
  );
  const ms = performance.now() - started;
  await db.$disconnect();
  process.stdout.write(
    `${JSON.stringify({ ms, outcome: { ...outcome, sampleReasons: outcome.sampleReasons.length }, peakRssMb: peak() })}\n`,
  );
}

function runChild<T>(args: string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        // e.g. BENCH_CHILD_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile each measurement.
        ...(process.env.BENCH_CHILD_NODE_ARGS?.split(" ").filter(Boolean) ?? []),
        "--conditions=react-server",
        "--import",
        "tsx",
        path.join(root, "lib/bench/ingest-bench.ts"),
        ...args,
      ],
      {
        cwd: root,
        env: process.env,
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("exit", (code) => {
      const line = output.trim().split("\n").at(-1) ?? "";
      if (code === 0 && line.startsWith("{")) resolve(JSON.parse(line) as T);
      else reject(new Error(`${args[0]} child exited with ${code}: ${output}`));
    });
  });
}

/** A cluster as a sync leaves it: most of the log's service accounts and their token credentials known. */
async function seedCluster(db: PrismaClient, name: string): Promise<string> {
  const cluster = await db.cluster.create({ data: { name, apiServerUrl: "https://bench.invalid" } });
  await db.$executeRawUnsafe(
    `INSERT INTO "Identity" ("id", "clusterId", "kind", "namespace", "name", "username", "firstSeenAt", "lastSeenAt")
SELECT $1 || '-' || n, $1, 'ServiceAccount', 'team-' || (n % $3::int), 'app-' || n, 'system:serviceaccount:team-' || (n % $3::int) || ':app-' || n, now(), now()
FROM generate_series(0, $2::int - 1) AS n WHERE n % 40 <> 39`,
    cluster.id,
    SYNCED_IDENTITIES,
    NAMESPACES,
  );
  await db.$executeRawUnsafe(
    `INSERT INTO "Credential" ("id", "clusterId", "identityId", "kind", "namespace", "name", "fingerprint", "firstSeenAt", "lastSeenAt")
SELECT i.id || '-token', $1, i.id, 'legacyTokenSecret', i."namespace", i."name" || '-token', 'jti-' || substr(i."name", 5) || '-0c7a', now(), now()
FROM "Identity" i WHERE i."clusterId" = $1`,
    cluster.id,
  );
  return cluster.id;
}

interface IngestResult {
  ms: number;
  outcome: { accepted: number; duplicates: number; rejected: number };
  peakRssMb: number;
}

async function main(): Promise<void> {
  process.env.KEYWARD_SECRET_KEY ??= randomBytes(32).toString("base64");
  const { createTestDatabase } = await import("@/lib/db/testing");
  console.log(
    `database: ${process.env.DATABASE_URL ? "PostgreSQL (a fresh database on DATABASE_URL's server)" : "embedded PGlite"}; ${os.cpus().length} CPUs`,
  );
  const dir = await mkdtemp(path.join(os.tmpdir(), "keyward-ingest-bench-"));
  const database = await createTestDatabase();
  process.env.DATABASE_URL = database.url;
  try {
    const quarter = Math.round(EVENTS / 4);
    const files = {
      full: path.join(dir, "audit-full.jsonl"),
      quarter: path.join(dir, "audit-quarter.jsonl"),
    };
    let started = performance.now();
    const full = await generateLog(files.full, EVENTS);
    const small = await generateLog(files.quarter, quarter);
    console.log(
      `generated: ${EVENTS.toLocaleString("en-US")} events in ${full.lines.toLocaleString("en-US")} lines (${(full.bytes / 2 ** 20).toFixed(0)} MiB), and ${quarter.toLocaleString("en-US")} (${(small.bytes / 2 ** 20).toFixed(0)} MiB), in ${seconds(performance.now() - started)}`,
    );

    const floor = await runChild<{ ms: number; parsed: number; peakRssMb: number }>(["--floor", files.full]);
    console.log(
      `floor (read line by line + JSON.parse, nothing else): ${seconds(floor.ms)}, ${rate(full.lines, floor.ms)}, peak RSS ${floor.peakRssMb.toFixed(0)} MB`,
    );

    started = performance.now();
    const fullCluster = await seedCluster(database.prisma, "bench-full");
    const quarterCluster = await seedCluster(database.prisma, "bench-quarter");
    console.log(
      `seeded 2 clusters with ${SYNCED_IDENTITIES} synced identities each in ${seconds(performance.now() - started)}`,
    );

    const ingest = await runChild<IngestResult>(["--ingest", files.full, fullCluster]);
    const { accepted, duplicates, rejected } = ingest.outcome;
    console.log(
      `keyward ingest (recordsFromJsonLines + ingestAuditRecords into Postgres): ${seconds(ingest.ms)}, ${rate(full.lines, ingest.ms)}, peak RSS ${ingest.peakRssMb.toFixed(0)} MB`,
    );
    console.log(`  accepted ${accepted}, duplicates ${duplicates}, rejected ${rejected}`);
    const quarterRun = await runChild<IngestResult>(["--ingest", files.quarter, quarterCluster]);
    console.log(
      `keyward ingest of the quarter file: ${seconds(quarterRun.ms)}, ${rate(small.lines, quarterRun.ms)}, peak RSS ${quarterRun.peakRssMb.toFixed(0)} MB`,
    );
    const [rollups, seen, discovered] = await Promise.all([
      database.prisma.usageRollup.count({ where: { clusterId: fullCluster } }),
      database.prisma.cluster
        .findUniqueOrThrow({ where: { id: fullCluster } })
        .then(({ number }) => database.prisma.auditEventSeen.count({ where: { clusterNumber: number } })),
      database.prisma.identity.count({ where: { clusterId: fullCluster, discoveredByUsage: true } }),
    ]);
    console.log(
      `  stored: ${rollups} rollup rows, ${seen} seen audit IDs, ${discovered} discovered identities`,
    );

    console.log("\nsummary (for the README):");
    console.log(`| audit log | lines | time | throughput | peak RSS |`);
    console.log(`|---|---|---|---|---|`);
    console.log(
      `| floor: read + JSON.parse | ${full.lines.toLocaleString("en-US")} | ${seconds(floor.ms)} | ${rate(full.lines, floor.ms)} | ${floor.peakRssMb.toFixed(0)} MB |`,
    );
    console.log(
      `| keyward ingest | ${full.lines.toLocaleString("en-US")} | ${seconds(ingest.ms)} | ${rate(full.lines, ingest.ms)} | ${ingest.peakRssMb.toFixed(0)} MB |`,
    );
    console.log(
      `| keyward ingest (¼ file) | ${small.lines.toLocaleString("en-US")} | ${seconds(quarterRun.ms)} | ${rate(small.lines, quarterRun.ms)} | ${quarterRun.peakRssMb.toFixed(0)} MB |`,
    );
    console.log(
      `ratio to the floor ${(ingest.ms / floor.ms).toFixed(2)}; memory ${quarterRun.peakRssMb.toFixed(0)} MB for ¼ of the file, ${ingest.peakRssMb.toFixed(0)} MB for all of it`,
    );
  } finally {
    await database.drop();
    await rm(dir, { recursive: true, force: true });
  }
}

const mode = process.argv[2];
if (mode === "--floor") await floorChild(process.argv[3]);
else if (mode === "--ingest") await ingestChild(process.argv[3], process.argv[4]);
else await main();
