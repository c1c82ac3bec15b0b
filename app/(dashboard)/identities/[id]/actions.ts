"use server";

import { revalidatePath } from "next/cache";
import { z } from "zod";
import { authorizedAction } from "@/lib/auth/server-action";
import { UserFacingError } from "@/lib/auth/errors";
import { getPrisma } from "@/lib/db";
import { assignOwner } from "@/lib/owners/assign-owner";
import { acceptRisk } from "@/lib/findings/accept-risk";

const id = z.string().min(1).max(64);
const assignInput = z.object({ identityId: id, teamId: id.nullable() });

const assign = authorizedAction({
  name: "identity.assign_owner",
  permission: "inventory:manage",
  input: assignInput,
  target: (input) => ({ type: "identity", id: input.identityId }),
  async handler({ identityId, teamId }, { user }) {
    const db = getPrisma();
    const [identity, team] = await Promise.all([
      db.identity.findUnique({ where: { id: identityId }, select: { id: true } }),
      teamId ? db.team.findUnique({ where: { id: teamId }, select: { name: true } }) : null,
    ]);
    if (!identity) throw new UserFacingError("This identity does not exist.", 404);
    if (teamId && !team) throw new UserFacingError("This team does not exist.", 404);
    await assignOwner(db, { identityId, teamId, assignedBy: user.id });
    revalidatePath(`/identities/${identityId}`);
    return { owner: team?.name ?? null };
  },
});

export async function assignIdentityOwner(input: z.input<typeof assignInput>) {
  return assign(input);
}

const acceptInput = z.object({
  findingId: id,
  reason: z.string().trim().min(10, "Say why the risk is acceptable (10 characters at least).").max(2000),
  // A calendar date from the form; the acceptance lasts until the end of that day (UTC).
  expiresAt: z.iso.date().transform((day) => new Date(`${day}T23:59:59.999Z`)),
});

const accept = authorizedAction({
  name: "finding.accept_risk",
  permission: "inventory:manage",
  input: acceptInput,
  target: (input) => ({ type: "finding", id: input.findingId }),
  async handler({ findingId, reason, expiresAt }, { user }) {
    if (expiresAt.getTime() <= Date.now()) throw new UserFacingError("The expiry date must be in the future.", 422);
    const db = getPrisma();
    // The identity comes from the finding in the database, never from the client.
    const finding = await db.finding.findUnique({ where: { id: findingId }, select: { identityId: true, resolvedAt: true } });
    if (!finding) throw new UserFacingError("This finding does not exist.", 404);
    if (finding.resolvedAt) throw new UserFacingError("This finding is already resolved.", 409);
    await acceptRisk(db, { findingId, reason, expiresAt, acceptedById: user.id });
    if (finding.identityId) revalidatePath(`/identities/${finding.identityId}`);
    return { acceptedUntil: expiresAt.toISOString() };
  },
});

export async function acceptFindingRisk(input: z.input<typeof acceptInput>) {
  return accept(input);
}
