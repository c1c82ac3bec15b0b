import { apiRoute } from "@/lib/api/route";
import { getClusterSettingsEndpoint, updateClusterSettingsEndpoint } from "@/lib/clusters/settings-api";

export const GET = apiRoute(getClusterSettingsEndpoint);
export const PATCH = apiRoute(updateClusterSettingsEndpoint);
