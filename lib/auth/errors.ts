/**
 * An error whose message is safe to show to the user. Anything else thrown in an action or route is logged
 * and answered with a generic message, so internals (SQL, stack traces, cluster URLs) never reach the browser.
 */
export class UserFacingError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 403 | 404 | 409 | 422 | 502 = 400,
  ) {
    super(message);
    this.name = "UserFacingError";
  }
}
