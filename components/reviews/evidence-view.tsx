import Link from "next/link";
import type { ReviewEvidence } from "@/lib/campaigns/evidence";
import type { EffectiveRule } from "@/lib/rbac";
import { compactRule, grantProvenance } from "@/lib/findings/usage-rules";
import { Badge, SeverityBadge } from "@/components/ui/badge";
import { Card } from "@/components/ui/card";
import { formatDateTime, timeAgo } from "@/components/ui/format";

const th = "py-1 pr-3 text-left font-medium";
const ns = (namespace?: string | null) => (namespace ? `${namespace}/` : "");

/** The evidence as frozen at launch: what the decision is judged on, whatever changed since. */
export function FrozenEvidence({ evidence, now }: { evidence: ReviewEvidence; now: Date }) {
  const { grants, credentials, usage, findings } = evidence;
  return (
    <div className="grid grid-cols-1 gap-6 xl:grid-cols-3">
      <Card title={`Grants (${grants.length})`} className="xl:col-span-3">
        <p className="mb-2 text-xs text-slate-500">
          Frozen {formatDateTime(evidence.frozenAt)}: each rule with the binding and role it comes from.
        </p>
        {grants.length === 0 ? (
          <p className="text-sm text-slate-600">It held no RBAC grant of its own.</p>
        ) : (
          <div className="overflow-x-auto">
            <table className="min-w-full text-sm" data-testid="evidence-grants">
              <thead className="text-xs text-slate-500">
                <tr>
                  <th className={th}>Binding</th>
                  <th className={th}>Role</th>
                  <th className={th}>Rule</th>
                  <th className={th}>Scope</th>
                  <th className={th}>Through</th>
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-100">
                {grants.map((grant, index) => (
                  <tr key={index}>
                    <td className="py-1.5 pr-3 font-mono text-xs">{grantProvenance(grant).binding}</td>
                    <td className="py-1.5 pr-3 font-mono text-xs">→ {grantProvenance(grant).role}</td>
                    <td className="py-1.5 pr-3 font-mono text-xs [overflow-wrap:anywhere]">→ {grant.text}</td>
                    <td className="py-1.5 pr-3">
                      {grant.namespace === null ? (
                        <Badge tone="red">cluster-wide</Badge>
                      ) : (
                        <Badge>{grant.namespace}</Badge>
                      )}
                    </td>
                    <td className="py-1.5 text-xs text-slate-600">
                      {grant.viaSubject.kind} {grant.viaSubject.name}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>

      <Card title={`Credentials (${credentials.length})`} className="xl:col-span-2">
        {credentials.length === 0 ? (
          <p className="text-sm text-slate-600">No credential seen (no token Secret, no certificate).</p>
        ) : (
          <table className="min-w-full text-sm" data-testid="evidence-credentials">
            <thead className="text-xs text-slate-500">
              <tr>
                <th className={th}>Kind</th>
                <th className={th}>Name</th>
                <th className={th}>Age</th>
                <th className={th}>Expires</th>
                <th className={th}>Last used</th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {credentials.map((credential) => (
                <tr key={credential.id}>
                  <td className="py-1.5 pr-3">
                    <Badge tone={credential.kind === "legacyTokenSecret" ? "amber" : "gray"}>
                      {credential.kind}
                    </Badge>
                  </td>
                  <td className="py-1.5 pr-3 font-mono text-xs">
                    {ns(credential.namespace)}
                    {credential.name}
                  </td>
                  <td className="py-1.5 pr-3 tabular-nums">
                    {credential.ageDays === null ? "unknown" : `${credential.ageDays} days`}
                  </td>
                  <td className="py-1.5 pr-3">
                    {credential.expiresAt ? (
                      formatDateTime(credential.expiresAt)
                    ) : (
                      <span className="text-amber-700">never</span>
                    )}
                  </td>
                  <td className="py-1.5 text-slate-600">{timeAgo(credential.lastUsedAt, now)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>

      <Card title="Usage">
        <dl className="grid grid-cols-2 gap-2 text-sm" data-testid="evidence-usage">
          <dt className="text-slate-500">Window</dt>
          <dd>last {usage.windowDays} days</dd>
          <dt className="text-slate-500">Requests</dt>
          <dd className="tabular-nums">{usage.requests.toLocaleString("en")}</dd>
          <dt className="text-slate-500">Refused</dt>
          <dd className="tabular-nums">{usage.denied.toLocaleString("en")}</dd>
          <dt className="text-slate-500">Active days</dt>
          <dd className="tabular-nums">{usage.activeDays}</dd>
          <dt className="text-slate-500">Last used</dt>
          <dd>{usage.lastUsedAt ? timeAgo(usage.lastUsedAt, now) : "never seen"}</dd>
          <dt className="text-slate-500">Unused rules</dt>
          <dd className="tabular-nums">{usage.unusedRules ?? "—"}</dd>
        </dl>
        <p className="mt-2 text-xs text-slate-500">
          {usage.observedSince
            ? `Audit events observed since ${formatDateTime(usage.observedSince)}.`
            : "Keyward has not received this cluster's audit events: usage says nothing."}
        </p>
      </Card>

      <Card title={`Findings (${findings.length})`} className="xl:col-span-3">
        {findings.length === 0 ? (
          <p className="text-sm text-slate-600">No open finding at launch.</p>
        ) : (
          <table className="min-w-full text-sm" data-testid="evidence-findings">
            <thead className="text-xs text-slate-500">
              <tr>
                <th className={th}>Severity</th>
                <th className={th}>Finding</th>
                <th className={th}>OWASP NHI</th>
                <th className={th}>NIST CSF</th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {findings.map((finding) => (
                <tr key={finding.id}>
                  <td className="py-1.5 pr-3">
                    <SeverityBadge severity={finding.severity} />
                  </td>
                  <td className="py-1.5 pr-3">
                    {finding.title} <span className="text-xs text-slate-500">({finding.type})</span>
                  </td>
                  <td className="py-1.5 pr-3">
                    <span className="flex flex-wrap gap-1">
                      {finding.owasp.map((id) => (
                        <Badge key={id} tone="blue">
                          {id}
                        </Badge>
                      ))}
                    </span>
                  </td>
                  <td className="py-1.5">
                    <span className="flex flex-wrap gap-1">
                      {finding.csf.map((id) => (
                        <Badge key={id}>{id}</Badge>
                      ))}
                    </span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
    </div>
  );
}

/**
 * The identity as the last sync sees it, beside the frozen grants: what appeared or went since the launch, so the
 * reviewer knows whether the evidence still describes the cluster.
 */
export function CurrentState({
  evidence,
  identityId,
  current,
}: {
  evidence: ReviewEvidence;
  identityId: string | null;
  current: EffectiveRule[] | null;
}) {
  if (!identityId || !current) {
    return (
      <p className="text-sm text-amber-700" data-testid="current-state">
        The identity is no longer in the inventory (deleted from the cluster, or not synced since): only the
        frozen evidence remains.
      </p>
    );
  }
  const line = (rule: EffectiveRule) => {
    const provenance = grantProvenance(rule);
    return `${compactRule(rule)} (${provenance.role} via ${provenance.binding})`;
  };
  // A frozen grant is an effective rule as it was at launch.
  const frozen = new Set(evidence.grants.map(line));
  const now = new Set(current.map(line));
  const added = [...now].filter((text) => !frozen.has(text));
  const gone = [...frozen].filter((text) => !now.has(text));
  return (
    <div className="text-sm" data-testid="current-state">
      <p>
        It holds <span className="font-semibold">{current.length}</span> own{" "}
        {current.length === 1 ? "rule" : "rules"} now (last sync);{" "}
        {added.length === 0 && gone.length === 0
          ? "the same as at launch."
          : `${added.length} new and ${gone.length} gone since launch.`}{" "}
        <Link href={`/identities/${identityId}`} className="text-brand-700 hover:underline">
          Open the identity
        </Link>
      </p>
      {added.length + gone.length > 0 ? (
        <ul className="mt-2 space-y-0.5 font-mono text-xs">
          {gone.map((text) => (
            <li key={`-${text}`} className="text-red-800">
              − {text}
            </li>
          ))}
          {added.map((text) => (
            <li key={`+${text}`} className="text-emerald-800">
              + {text}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
