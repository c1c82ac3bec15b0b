"use server";

import { revalidatePath } from "next/cache";
import { z } from "zod";
import { authorizedAction } from "@/lib/auth/server-action";
import { UserFacingError } from "@/lib/auth/errors";
import { getPrisma } from "@/lib/db";
import { addTeamMember } from "@/lib/owners/teams";

const membershipInput = z.object({ userId: z.string().min(1).max(64), teamId: z.string().min(1).max(64) });

const addMember = authorizedAction({
  name: "team.add_member",
  permission: "users:manage",
  input: membershipInput,
  target: (input) => ({ type: "team", id: input.teamId }),
  async handler({ userId, teamId }) {
    const db = getPrisma();
    const [user, team] = await Promise.all([
      db.user.findUnique({ where: { id: userId }, select: { id: true } }),
      db.team.findUnique({ where: { id: teamId }, select: { name: true } }),
    ]);
    if (!user || !team) throw new UserFacingError("This user or team does not exist.", 404);
    await addTeamMember(db, teamId, userId);
    revalidatePath("/admin/users");
    return { team: team.name };
  },
});

/** Makes a user a member of a team: an owner then sees the identities the team owns. */
export async function addUserToTeam(input: z.input<typeof membershipInput>) {
  return addMember(input);
}
