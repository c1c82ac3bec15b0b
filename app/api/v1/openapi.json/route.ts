import { openApiDocument } from "@/lib/api/openapi";

/** The API's description, public so that clients and tools can read it before they hold a token. */
export function GET() {
  return Response.json(openApiDocument());
}
