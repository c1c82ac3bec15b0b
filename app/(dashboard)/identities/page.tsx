import type { Metadata } from "next";
import Link from "next/link";
import { z } from "zod";
import { requirePermission } from "@/lib/auth/session";
import { identityFilterSchema, listIdentities } from "@/lib/inventory/list-identities";
import { getFilterOptions } from "@/lib/inventory/filter-options";
import { Card, EmptyState, PageHeader } from "@/components/ui/card";
import { Pagination } from "@/components/ui/pagination";
import { IdentityFilters } from "@/components/inventory/identity-filters";
import { IdentityTable } from "@/components/inventory/identity-table";

export const metadata: Metadata = { title: "Inventory" };

const pageSchema = z.object({
  page: z.coerce.number().int().min(1).max(100_000).catch(1),
  pageSize: z.coerce.number().int().min(10).max(200).catch(50),
});

export default async function InventoryPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const user = await requirePermission("inventory:read");
  const raw = Object.fromEntries(Object.entries(await searchParams).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v]));
  const parsed = identityFilterSchema.safeParse(raw);
  const paging = pageSchema.parse(raw);
  const options = await getFilterOptions(user);

  if (!parsed.success) {
    return (
      <>
        <PageHeader title="Inventory" />
        <EmptyState title="This filter is not valid">
          {parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}.{" "}
          <Link href="/identities" className="text-brand-600 underline">Reset the filters</Link>.
        </EmptyState>
      </>
    );
  }
  const filter = parsed.data;
  const { items, total = 0 } = await listIdentities(user, filter, paging);
  const now = new Date();
  const params = { ...filter, pageSize: paging.pageSize === 50 ? undefined : paging.pageSize };
  const filtered = Object.entries(filter).some(([k, v]) => v !== undefined && k !== "sort" && k !== "dir");
  const sort = filter.sort ?? "severity";
  const dir = filter.dir ?? (sort === "severity" || sort === "findings" ? "desc" : "asc");

  return (
    <>
      <PageHeader
        title="Inventory"
        description={user.role === "owner" ? "Non-human identities owned by your teams." : "Every non-human identity in your clusters: service accounts, certificate users, and RBAC users and groups."}
      />
      <Card>
        <IdentityFilters filter={filter} options={options} />
      </Card>
      <Card className="mt-6" title={<span data-testid="identity-count">{total} {total === 1 ? "identity" : "identities"}{filtered ? " match" : ""}</span>}>
        {items.length ? (
          <>
            <IdentityTable rows={items} sort={sort} dir={dir} params={params} now={now} />
            <Pagination
              page={paging.page}
              pageSize={paging.pageSize}
              total={total}
              params={Object.fromEntries(Object.entries(params).map(([k, v]) => [k, v === undefined ? undefined : String(v)]))}
            />
          </>
        ) : filtered ? (
          <EmptyState title="No identity matches these filters">
            Loosen a filter, or <Link href="/identities" className="text-brand-600 underline">reset them all</Link>.
          </EmptyState>
        ) : user.role === "owner" ? (
          <EmptyState title="No identity is assigned to your teams yet">
            Ask your security team to assign your team as the owner, or annotate your service accounts with <code>keyward.io/owner</code>.
          </EmptyState>
        ) : (
          <EmptyState title="The inventory is empty">
            Register a cluster and run a sync from the <Link href="/clusters" className="text-brand-600 underline">Clusters</Link> page.
          </EmptyState>
        )}
      </Card>
    </>
  );
}
