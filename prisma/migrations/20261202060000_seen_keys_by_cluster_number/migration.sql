-- A compact number per cluster, the first column of the seen audit IDs' key: comparing the cluster's text id
-- under the database's collation was more than half of what inserting a seen audit ID cost.
ALTER TABLE "Cluster" ADD COLUMN "number" SERIAL NOT NULL;
CREATE UNIQUE INDEX "Cluster_number_key" ON "Cluster"("number");

ALTER TABLE "AuditEventSeen" ADD COLUMN "clusterNumber" INTEGER;
UPDATE "AuditEventSeen" AS s SET "clusterNumber" = c."number" FROM "Cluster" AS c WHERE c."id" = s."clusterId";
-- Keys of clusters deleted since: nothing can be a duplicate of them any more.
DELETE FROM "AuditEventSeen" WHERE "clusterNumber" IS NULL;
ALTER TABLE "AuditEventSeen" DROP CONSTRAINT "AuditEventSeen_pkey";
ALTER TABLE "AuditEventSeen" DROP COLUMN "clusterId";
ALTER TABLE "AuditEventSeen" ALTER COLUMN "clusterNumber" SET NOT NULL;
ALTER TABLE "AuditEventSeen" ADD CONSTRAINT "AuditEventSeen_pkey" PRIMARY KEY ("clusterNumber", "day", "eventKey");

-- Each chunk now writes its rollups in its own transaction; nothing is staged any more. What an interrupted
-- ingestion of the old code left staged is merged first, so no committed event is lost (the names of objects
-- are not carried over: those rows no longer narrow a generated role by name).
WITH staged AS (
  SELECT s."clusterId", s."payload"::jsonb AS payload FROM "UsageStaged" AS s
), r AS (
  SELECT staged."clusterId", x.*, row_number() OVER () AS n FROM staged
  CROSS JOIN LATERAL jsonb_to_recordset(staged.payload -> 'rollups') AS x("identityId" text, "day" text, "verb" text, "apiGroup" text,
    "resource" text, "subresource" text, "namespace" text, "path" text, "count" int, "deniedCount" int, "firstSeenAt" text,
    "lastSeenAt" text, "userAgents" text[], "sourceIps" text[])
  WHERE EXISTS (SELECT 1 FROM "Identity" AS i WHERE i."id" = x."identityId")
), sums AS (
  SELECT "clusterId", "identityId", "day", "verb", "apiGroup", "resource", "subresource", "namespace", "path",
    sum("count")::int AS "count", sum("deniedCount")::int AS "deniedCount",
    min("firstSeenAt"::timestamp(3)) AS "firstSeenAt", max("lastSeenAt"::timestamp(3)) AS "lastSeenAt",
    (SELECT array_agg(DISTINCT a) FROM r AS o, unnest(o."userAgents") AS a WHERE o.n = ANY(array_agg(r.n))) AS "userAgents",
    (SELECT array_agg(DISTINCT ip) FROM r AS o, unnest(o."sourceIps") AS ip WHERE o.n = ANY(array_agg(r.n))) AS "sourceIps"
  FROM r GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
)
INSERT INTO "UsageRollup" AS t ("clusterId", "identityId", "day", "verb", "apiGroup", "resource", "subresource", "namespace", "path",
  "count", "deniedCount", "firstSeenAt", "lastSeenAt", "userAgents", "sourceIps", "resourceNames", "resourceNamesComplete")
SELECT "clusterId", "identityId", "day"::date, "verb", "apiGroup", "resource", "subresource", "namespace", "path", "count", "deniedCount",
  "firstSeenAt", "lastSeenAt", coalesce("userAgents"[1:10], '{}'), coalesce("sourceIps"[1:10], '{}'), '{}', false
FROM sums
ON CONFLICT ("identityId", "day", "verb", "apiGroup", "resource", "subresource", "namespace", "path") DO UPDATE SET
  "count" = t."count" + EXCLUDED."count",
  "deniedCount" = t."deniedCount" + EXCLUDED."deniedCount",
  "firstSeenAt" = LEAST(t."firstSeenAt", EXCLUDED."firstSeenAt"),
  "lastSeenAt" = GREATEST(t."lastSeenAt", EXCLUDED."lastSeenAt"),
  "userAgents" = (SELECT coalesce((array_agg(DISTINCT v))[1:10], '{}') FROM unnest(t."userAgents" || EXCLUDED."userAgents") AS v),
  "sourceIps" = (SELECT coalesce((array_agg(DISTINCT v))[1:10], '{}') FROM unnest(t."sourceIps" || EXCLUDED."sourceIps") AS v),
  "resourceNamesComplete" = false;
UPDATE "Identity" AS i SET "lastUsedAt" = l."at"
FROM (
  SELECT u.key AS "id", max(u.value::timestamp(3)) AS "at"
  FROM "UsageStaged" AS s CROSS JOIN LATERAL jsonb_each_text(s."payload"::jsonb -> 'lastUsed') AS u GROUP BY 1
) AS l
WHERE i."id" = l."id" AND (i."lastUsedAt" IS NULL OR i."lastUsedAt" < l."at");
WITH c AS (
  SELECT s."clusterId", x."credentialRef", x."identityId", sum(x."count")::int AS "count",
    min(x."firstSeenAt"::timestamp(3)) AS "firstSeenAt", max(x."lastSeenAt"::timestamp(3)) AS "lastSeenAt"
  FROM "UsageStaged" AS s
  CROSS JOIN LATERAL jsonb_to_recordset(s."payload"::jsonb -> 'credentials') AS x("credentialRef" text, "identityId" text, "count" int,
    "firstSeenAt" text, "lastSeenAt" text)
  WHERE EXISTS (SELECT 1 FROM "Identity" AS i WHERE i."id" = x."identityId")
  GROUP BY 1, 2, 3
)
INSERT INTO "CredentialUsage" AS t ("clusterId", "credentialRef", "identityId", "count", "firstSeenAt", "lastSeenAt")
SELECT DISTINCT ON ("clusterId", "credentialRef") "clusterId", "credentialRef", "identityId", "count", "firstSeenAt", "lastSeenAt"
FROM c ORDER BY "clusterId", "credentialRef", "lastSeenAt" DESC
ON CONFLICT ("clusterId", "credentialRef") DO UPDATE SET
  "count" = t."count" + EXCLUDED."count",
  "firstSeenAt" = LEAST(t."firstSeenAt", EXCLUDED."firstSeenAt"),
  "lastSeenAt" = GREATEST(t."lastSeenAt", EXCLUDED."lastSeenAt");
DROP TABLE "UsageStaged";

-- When a running ingestion last committed a chunk: one silent for long was interrupted.
ALTER TABLE "AuditIngestBatch" ADD COLUMN "lastCommitAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;

-- A rollup row's key is its primary key: the surrogate id cost one more index entry and a sequence value for
-- every row an ingestion writes.
ALTER TABLE "UsageRollup" DROP CONSTRAINT "UsageRollup_pkey";
ALTER TABLE "UsageRollup" DROP COLUMN "id";
DROP INDEX "UsageRollup_identity_day_request_key";
ALTER TABLE "UsageRollup" ADD CONSTRAINT "UsageRollup_pkey" PRIMARY KEY ("identityId", "day", "verb", "apiGroup", "resource", "subresource", "namespace", "path");

-- Rollup rows are updated in place by every chunk of their day: room on each page lets Postgres update them
-- without touching their indexes (HOT updates).
ALTER TABLE "UsageRollup" SET (fillfactor = 70);



-- Who made requests as the identity (impersonation). Their clients and addresses are theirs: an admin's kubectl
-- acting as a service account is not that account's token in a human's hands.
ALTER TABLE "UsageRollup" ADD COLUMN "impersonators" TEXT[] DEFAULT ARRAY[]::TEXT[];
