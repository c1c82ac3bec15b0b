import { getPrisma } from "@/lib/db";

export async function listUsers() {
  return getPrisma().user.findMany({
    orderBy: [{ role: "asc" }, { email: "asc" }],
    select: { id: true, email: true, name: true, role: true, disabled: true, lastLoginAt: true, createdAt: true },
  });
}
