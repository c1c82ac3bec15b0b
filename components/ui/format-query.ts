/** A query string from the params that are set (empty and undefined values are dropped). */
export function queryString(params: Record<string, string | number | boolean | undefined | null>): string {
  const sp = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== null && value !== "") sp.set(key, String(value));
  const text = sp.toString();
  return text ? `?${text}` : "";
}
