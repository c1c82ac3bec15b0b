// The trimmed Kubernetes protobuf schema (see proto/README.md), loaded from its generated JSON descriptor.
import protobuf from "protobufjs";
import descriptor from "./descriptor.generated.json";

export const schemaRoot = protobuf.Root.fromJSON(descriptor);
