// The import sources (core/ports.ts ImportSources) over a blob store's reads, refusing every key
// outside imports/: on AWS the product bucket's own store, locally a store rooted at DATA_DIR, where
// the prefix keeps the metadata, secrets and key files out of reach.
import { ValidationError } from "#core/errors.ts";
import { type BlobStore, IMPORT_PREFIX, type ImportSources } from "#core/ports.ts";

export function importSourcesOf(store: Pick<BlobStore, "download" | "head">): ImportSources {
  const check = (key: string) => {
    if (!key.startsWith(IMPORT_PREFIX) || key.split("/").some((s) => s === ".." || s === ".")) {
      throw new ValidationError("source_key", `must be a key under ${IMPORT_PREFIX}, got ${key}`);
    }
  };
  return {
    download: async (key, options) => {
      check(key);
      return await store.download(key, options);
    },
    head: async (key) => {
      check(key);
      return await store.head(key);
    },
  };
}
