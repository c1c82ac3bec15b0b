import type { Metadata } from "next";
import Link from "next/link";
import { requirePermission } from "@/lib/auth/session";
import { getPrisma } from "@/lib/db";
import { whoCan } from "@/lib/permissions/who-can";
import { Card, EmptyState, PageHeader } from "@/components/ui/card";
import { WhoCanForm } from "@/components/who-can/who-can-form";
import { WhoCanResults } from "@/components/who-can/who-can-results";
import {
  describeQuestion,
  exampleQuestions,
  parseWhoCanParams,
  whoCanHref,
} from "@/components/who-can/query";

export const metadata: Metadata = { title: "Who can" };

export default async function WhoCanPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  await requirePermission("clusters:read");
  const db = getPrisma();
  const clusters = await db.cluster.findMany({ orderBy: { name: "asc" }, select: { id: true, name: true } });
  const form = parseWhoCanParams(
    await searchParams,
    clusters.map((cluster) => cluster.id),
  );
  const answer = form.state === "query" ? await whoCan(db, form.query) : null;
  const clusterNames = new Map(clusters.map((cluster) => [cluster.id, cluster.name]));

  return (
    <>
      <PageHeader
        title="Who can…?"
        description="Ask which users, groups and service accounts RBAC allows to do something, and through which binding and role. Answered from the last sync, the way the Kubernetes authorizer would."
      />
      <Card>
        <WhoCanForm values={form.values} clusters={clusters} />
      </Card>
      <div className="mt-6">
        {form.state === "initial" ? (
          <EmptyState title="Ask a question">
            <p>
              Fill in a verb and a resource (an API group for non-core resources), and a namespace, or leave
              it empty to ask about cluster-wide access (ClusterRoleBindings only). For example:
            </p>
            <ul className="mt-3 space-y-1">
              {exampleQuestions.map((example) => (
                <li key={example.label}>
                  <Link href={whoCanHref(example.params)} className="text-brand-600 underline">
                    {example.label}
                  </Link>
                </li>
              ))}
            </ul>
          </EmptyState>
        ) : form.state === "invalid" ? (
          <EmptyState title="This question is not valid">
            <ul role="alert">
              {form.errors.map((error) => (
                <li key={error}>{error}</li>
              ))}
            </ul>
          </EmptyState>
        ) : answer && answer.subjects.length > 0 ? (
          <Card
            title={
              <span data-testid="who-can-count">
                {answer.subjects.length} {answer.subjects.length === 1 ? "subject" : "subjects"} can{" "}
                {describeQuestion(form.values)}
              </span>
            }
          >
            <WhoCanResults subjects={answer.subjects} clusterNames={clusterNames} />
          </Card>
        ) : (
          <EmptyState title={`Nobody can ${describeQuestion(form.values)}`}>
            No binding in{" "}
            {form.query.clusterId
              ? clusterNames.get(form.query.clusterId)
              : clusters.length
                ? "any synced cluster"
                : "any cluster (none is registered yet)"}{" "}
            grants this. Members of <code>system:masters</code> are always allowed and do not show here.
          </EmptyState>
        )}
      </div>
    </>
  );
}
