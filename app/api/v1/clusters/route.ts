import { apiRoute } from "@/lib/api/route";
import { listClustersEndpoint, registerClusterEndpoint } from "@/lib/api/clusters";

export const GET = apiRoute(listClustersEndpoint);
export const POST = apiRoute(registerClusterEndpoint);
