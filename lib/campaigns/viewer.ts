// The signed-in user as the campaign functions' actor, for pages that read through the viewer's scope.
import type { SessionUser } from "@/lib/auth/users";
import type { CampaignActor } from "./access";

export const campaignViewer = (user: SessionUser): CampaignActor => ({ actor: { type: "user", id: user.id, label: user.email }, user });
