import { leastPrivilegeRoute } from "@/lib/api/identities";

export const GET = leastPrivilegeRoute();
