// The demo owner's team, ready for an access review on first start: data-platform, whose service accounts (owned
// through their keyward.io/owner annotation) cover each recommendation. The usage history pins what each one does.
import type { PrismaClient } from "@/lib/db";
import { addTeamMember, ensureTeams } from "@/lib/owners/teams";
import type { DemoRequest } from "./usage-history";

export const DEMO_OWNER_TEAM = "data-platform";

const request = (verb: string, resource: string, name?: string): DemoRequest => ({ verb, group: "", version: "v1", resource, namespace: "data-platform", ...(name ? { name } : {}) });

/**
 * What the team's accounts do in the history, whatever the seeded plan draws (null: never seen):
 * - airflow-worker never calls the API: revoke. It shares the RoleBinding data-platform/airflow-pod-launcher with
 *   airflow-scheduler, which must stay in it;
 * - airflow-scheduler starts and watches pods but never reads their logs or execs into them, as that binding
 *   allows: shrink, to a role generated from its usage (it too leaves the other subject in the shared binding);
 * - dbt-runner reads its config, all its Role grants: approve.
 */
export const DEMO_REVIEW_STORY: ReadonlyMap<string, DemoRequest[] | null> = new Map([
  ["data-platform/airflow-worker", null],
  ["data-platform/airflow-scheduler", [request("list", "pods"), request("watch", "pods"), request("create", "pods")]],
  ["data-platform/dbt-runner", [request("get", "configmaps", "dbt-runner-config")]],
]);

/** Makes the user a member of the demo owner's team (created here if no analysis has named it yet). */
export async function joinDemoOwnerTeam(db: PrismaClient, userId: string): Promise<string> {
  const teamId = (await ensureTeams(db, [DEMO_OWNER_TEAM])).get(DEMO_OWNER_TEAM);
  if (!teamId) throw new Error(`the team ${DEMO_OWNER_TEAM} could not be created`);
  await addTeamMember(db, teamId, userId);
  return teamId;
}
