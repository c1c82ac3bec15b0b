import { clusterIdParams } from "@/lib/api/clusters";
import { endpoint } from "@/lib/api/route";
import { clusterSettingsInput, getClusterSettings, updateClusterSettings } from "./update-cluster-settings";

// /api/v1/clusters/{id}/settings: the analysis settings in effect (GET) and a change to some of them (PATCH).

export const getClusterSettingsEndpoint = endpoint({
  name: "cluster.settings_read",
  permission: "clusters:read",
  params: clusterIdParams,
  handler: ({ params, db }) => getClusterSettings(db, params.id),
});

export const updateClusterSettingsEndpoint = endpoint({
  name: "cluster.settings_update",
  permission: "clusters:manage",
  params: clusterIdParams,
  body: clusterSettingsInput,
  target: ({ params }) => ({ type: "cluster", id: params.id }),
  handler: ({ params, body, principal, db }) => updateClusterSettings(db, principal.actor, params.id, body),
});
