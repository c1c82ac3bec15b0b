// Typed errors of the campaign use cases. A refusal and a lost race are answers the caller shows (403, 409),
// not failures: the route or action maps them to their status and never leaks anything else.
import { UserFacingError } from "@/lib/auth/errors";
import type { ReviewDecision, ReviewItemStatus } from "@/lib/db";

/** The actor may not do this to this campaign or item (HTTP 403). Thrown before anything changes. */
export class CampaignAccessError extends UserFacingError {
  constructor(message = "You may not review or change this item.") {
    super(message, 403);
    this.name = "CampaignAccessError";
  }
}

/** What the winner of a race left on the item, so the loser sees whose decision stands. */
export interface CurrentDecision {
  status: ReviewItemStatus;
  decision: ReviewDecision | null;
  comment: string | null;
  decidedById: string | null;
  decidedAt: Date | null;
  version: number;
}

/** The item changed since the reviewer loaded it (another decision, a reassignment): nothing was written. */
export class DecisionConflictError extends UserFacingError {
  constructor(readonly current: CurrentDecision) {
    super(
      current.decision
        ? `Someone else already decided this item (${current.decision}); reload to see it.`
        : "This item changed since you opened it; reload and decide again.",
      409,
    );
    this.name = "DecisionConflictError";
  }
}
