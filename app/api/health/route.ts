import { getPrisma } from "@/lib/db";

/** Liveness and database reachability, for load balancers. Reveals nothing else. */
export async function GET() {
  try {
    await getPrisma().$queryRaw`SELECT 1`;
    return Response.json({ status: "ok" });
  } catch {
    return Response.json({ status: "database unavailable" }, { status: 503 });
  }
}
