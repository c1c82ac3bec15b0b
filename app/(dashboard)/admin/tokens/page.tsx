import type { Metadata } from "next";
import { requirePermission } from "@/lib/auth/session";
import { listApiTokens, MAX_API_TOKEN_LIFETIME_MS } from "@/lib/auth/api-tokens";
import { getPrisma } from "@/lib/db";
import { Card, PageHeader } from "@/components/ui/card";
import { Badge } from "@/components/ui/badge";
import { formatDateTime, timeAgo } from "@/components/ui/format";
import { CreateTokenForm, RevokeTokenButton } from "./token-controls";

export const metadata: Metadata = { title: "API tokens" };

const day = (date: Date) => date.toISOString().slice(0, 10);

export default async function ApiTokensPage() {
  await requirePermission("tokens:manage");
  const tokens = await listApiTokens(getPrisma());
  const now = new Date();
  const dayMs = 86_400_000;
  return (
    <>
      <PageHeader
        title="API tokens"
        description={
          <>
            One token per client of <code>/api/v1</code> (see <a className="underline" href="/api/v1/openapi.json">openapi.json</a>): scoped, expiring
            within a year, revocable. Keyward stores only a hash and shows each token once.
          </>
        }
      />
      <div className="space-y-6">
        <Card title="New token">
          <CreateTokenForm
            minExpiresOn={day(new Date(now.getTime() + dayMs))}
            defaultExpiresOn={day(new Date(now.getTime() + 90 * dayMs))}
            maxExpiresOn={day(new Date(now.getTime() + MAX_API_TOKEN_LIFETIME_MS - dayMs))}
          />
        </Card>
        <Card title="Tokens">
          <table className="min-w-full text-sm" data-testid="api-tokens">
            <thead className="border-b border-slate-200 text-xs uppercase tracking-wide text-slate-500">
              <tr>
                <th className="px-2 py-2 text-left font-medium">Client</th>
                <th className="px-2 py-2 text-left font-medium">Scope</th>
                <th className="px-2 py-2 text-left font-medium">State</th>
                <th className="px-2 py-2 text-left font-medium">Expires</th>
                <th className="px-2 py-2 text-left font-medium">Last used</th>
                <th className="px-2 py-2 text-left font-medium">Created</th>
                <th className="px-2 py-2" />
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {tokens.length === 0 ? (
                <tr>
                  <td colSpan={7} className="px-2 py-4 text-center text-slate-500">
                    No tokens yet.
                  </td>
                </tr>
              ) : null}
              {tokens.map((t) => {
                const state = t.revokedAt ? "revoked" : t.expiresAt <= now ? "expired" : "active";
                return (
                  <tr key={t.id}>
                    <td className="px-2 py-1.5 font-medium">
                      {t.name}
                      <div className="font-mono text-xs font-normal text-slate-400">{t.id}</div>
                    </td>
                    <td className="px-2 py-1.5">
                      <Badge tone={t.scope === "write" ? "amber" : "gray"}>{t.scope === "write" ? "read + write" : "read"}</Badge>
                    </td>
                    <td className="px-2 py-1.5">
                      <Badge tone={state === "active" ? "green" : state === "expired" ? "amber" : "red"}>{state}</Badge>
                      {t.revokedAt ? <span className="ml-1 text-xs text-slate-500">{timeAgo(t.revokedAt, now)}</span> : null}
                    </td>
                    <td className="px-2 py-1.5 text-slate-600">{formatDateTime(t.expiresAt)}</td>
                    <td className="px-2 py-1.5 text-slate-600">{t.lastUsedAt ? timeAgo(t.lastUsedAt, now) : "never"}</td>
                    <td className="px-2 py-1.5 text-slate-600">
                      {timeAgo(t.createdAt, now)} by {t.createdBy.email}
                    </td>
                    <td className="px-2 py-1.5 text-right">{state === "active" ? <RevokeTokenButton id={t.id} name={t.name} /> : null}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </Card>
      </div>
    </>
  );
}
