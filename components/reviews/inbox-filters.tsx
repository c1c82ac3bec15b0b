import { itemStatuses, statusLabel, type InboxParams } from "./review-view";

const field = "rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm";

/** The inbox's filters as a plain GET form, so a filtered view lives in the URL. */
export function InboxFilters({
  params,
  campaigns,
}: {
  params: InboxParams;
  campaigns: { id: string; name: string }[];
}) {
  return (
    <form
      role="search"
      aria-label="Filter review items"
      action="/reviews"
      className="flex flex-wrap items-end gap-3"
    >
      <label className="flex flex-col gap-1 text-xs font-medium text-slate-600">
        Status
        <select name="status" defaultValue={params.status} className={field}>
          {itemStatuses.map((status) => (
            <option key={status} value={status}>
              {statusLabel[status]}
            </option>
          ))}
          <option value="all">all</option>
        </select>
      </label>
      <label className="flex flex-col gap-1 text-xs font-medium text-slate-600">
        Campaign
        <select name="campaign" defaultValue={params.campaign ?? ""} className={field}>
          <option value="">All active campaigns</option>
          {campaigns.map((campaign) => (
            <option key={campaign.id} value={campaign.id}>
              {campaign.name}
            </option>
          ))}
        </select>
      </label>
      <button
        type="submit"
        className="rounded-md border border-slate-300 px-3 py-1.5 text-sm font-medium hover:bg-slate-50"
      >
        Filter
      </button>
    </form>
  );
}
