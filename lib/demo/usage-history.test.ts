import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKubeSim, type KubeSim } from "@/lib/kube-sim";
import { RbacAuthorizer, type ClusterRole, type ClusterRoleBinding, type Role, type RoleBinding } from "@/lib/rbac";
import { parseAuditEvent } from "@/lib/usage/parse-event";
import { demoHistoryLines, planDemoWorkloads } from "./usage-history";

let sim: KubeSim;
beforeAll(async () => {
  sim = await startKubeSim({ demo: true });
});
afterAll(async () => {
  await sim?.stop();
});

describe("demo usage history", () => {
  it("uses part of what RBAC grants part of the service accounts, and every line is a valid audit event", () => {
    const workloads = planDemoWorkloads(sim);
    const accounts = sim.list("v1", "ServiceAccount").filter((sa) => sa.metadata.name !== "default");
    // Some identities stay unused for the findings to show; most appear.
    expect(workloads.length).toBeGreaterThan(10);
    expect(workloads.length).toBeLessThan(accounts.length);
    expect(planDemoWorkloads(sim)).toEqual(workloads);

    const list = <T>(kind: string) => sim.list("rbac.authorization.k8s.io/v1", kind) as unknown as T[];
    const authorizer = new RbacAuthorizer({
      roles: list<Role>("Role"),
      clusterRoles: list<ClusterRole>("ClusterRole"),
      roleBindings: list<RoleBinding>("RoleBinding"),
      clusterRoleBindings: list<ClusterRoleBinding>("ClusterRoleBinding"),
    });
    for (const w of workloads) {
      for (const r of w.requests) {
        const decision = authorizer.authorize({
          user: w.user,
          resourceAttributes: { verb: r.verb, group: r.group, version: r.version, resource: r.resource, subresource: "", name: r.name ?? "", namespace: r.namespace },
        });
        expect({ who: w.name, request: r, allowed: decision.allowed }).toMatchObject({ allowed: true });
      }
    }

    const now = Date.UTC(2026, 11, 2, 12);
    const lines = [...demoHistoryLines(workloads, { days: 30, now })];
    const parsed = lines.map((line) => parseAuditEvent(JSON.parse(line)));
    expect(parsed.filter((p) => !p.ok)).toEqual([]);
    const events = parsed.flatMap((p) => (p.ok ? [p.event] : []));
    const times = events.map((e) => e.at.getTime());
    expect(Math.min(...times)).toBeGreaterThanOrEqual(now - 30 * 86_400_000);
    expect(Math.max(...times)).toBeLessThan(now);
    expect(new Set(events.map((e) => e.username)).size).toBe(workloads.length);
    expect(events.some((e) => e.userAgent.startsWith("kubectl/") && e.sourceIps[0] === "198.51.100.23")).toBe(true);
    expect(events.some((e) => e.denied)).toBe(true);
    expect(events.every((e) => e.credentialRef?.startsWith("JTI="))).toBe(true);
  });
});
