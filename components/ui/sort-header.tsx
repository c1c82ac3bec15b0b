import Link from "next/link";
import { ArrowDown, ArrowUp } from "lucide-react";
import { queryString } from "./format-query";

type Params = Record<string, string | number | boolean | undefined>;

/**
 * A column header that sorts a server-paged table through the URL: a click on the active column flips the
 * direction, on another column starts from that column's own first direction; the page resets to the first.
 */
export function SortHeader({
  label,
  column,
  active,
  dir,
  firstDir,
  basePath,
  params,
}: {
  label: string;
  column: string;
  active: boolean;
  dir: "asc" | "desc";
  firstDir: "asc" | "desc";
  basePath: string;
  params: Params;
}) {
  const nextDir = active ? (dir === "asc" ? "desc" : "asc") : firstDir;
  const Arrow = dir === "asc" ? ArrowUp : ArrowDown;
  return (
    <th scope="col" className="px-3 py-2 text-left font-medium" aria-sort={active ? (dir === "asc" ? "ascending" : "descending") : "none"}>
      <Link href={`${basePath}${queryString({ ...params, sort: column, dir: nextDir, page: undefined })}`} className="inline-flex items-center gap-1 hover:text-slate-900">
        {label}
        {active ? <Arrow className="h-3 w-3" aria-hidden /> : null}
      </Link>
    </th>
  );
}
