/**
 * @peculiar/x509 depends on tsyringe, which refuses to load without a `reflect-metadata` polyfill
 * (not installed here). It only needs get/define of metadata, so a WeakMap-backed stand-in suffices.
 * Imported before @peculiar/x509.
 */
type MetadataReflect = typeof Reflect & {
  getMetadata?: (key: unknown, target: object, property?: string | symbol) => unknown;
  defineMetadata?: (key: unknown, value: unknown, target: object, property?: string | symbol) => void;
  getOwnMetadata?: (key: unknown, target: object, property?: string | symbol) => unknown;
  hasMetadata?: (key: unknown, target: object, property?: string | symbol) => boolean;
  metadata?: (key: unknown, value: unknown) => (target: object, property?: string | symbol) => void;
};

const reflect = Reflect as MetadataReflect;

if (!reflect.getMetadata) {
  const store = new WeakMap<object, Map<string | symbol | undefined, Map<unknown, unknown>>>();
  const table = (target: object, property: string | symbol | undefined, create: boolean) => {
    let byProperty = store.get(target);
    if (!byProperty && create) store.set(target, (byProperty = new Map()));
    let entries = byProperty?.get(property);
    if (!entries && create && byProperty) byProperty.set(property, (entries = new Map()));
    return entries;
  };
  reflect.defineMetadata = (key, value, target, property) => void table(target, property, true)!.set(key, value);
  reflect.getMetadata = (key, target, property) => {
    for (let t: object | null = target; t; t = Object.getPrototypeOf(t)) {
      const entries = table(t, property, false);
      if (entries?.has(key)) return entries.get(key);
    }
    return undefined;
  };
  reflect.getOwnMetadata = (key, target, property) => table(target, property, false)?.get(key);
  reflect.hasMetadata = (key, target, property) => reflect.getMetadata!(key, target, property) !== undefined;
  reflect.metadata = (key, value) => (target, property) => reflect.defineMetadata!(key, value, target, property);
}

export {};
