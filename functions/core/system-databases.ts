// MongoDB's system databases as backup sources and restore targets. `admin` holds users and roles,
// `local` the oplog and replication state, `config` the sharding metadata: restoring into any of
// them can grant access or break the cluster, so none is ever a restore target. `local` and
// `config` are per-node state that mongodump cannot restore meaningfully, so they are not backed up
// either; `admin` may be (its users and roles are worth keeping). Names compare in any letter case:
// `Admin` is refused too, whatever a given server would make of it.

const neverRestoredInto = new Set(["admin", "local", "config"]);
const neverBackedUp = new Set(["local", "config"]);

/** Why `database` may not be a restore target, or undefined when it may. */
export function restoreTargetRefusal(database: string): string | undefined {
  return neverRestoredInto.has(database.toLowerCase())
    ? `${database} is a system database: admin, local and config are never restore targets`
    : undefined;
}

/** Why `database` may not be backed up, or undefined when it may. */
export function backupSourceRefusal(database: string): string | undefined {
  return neverBackedUp.has(database.toLowerCase())
    ? `${database} is a system database: local and config are never backed up`
    : undefined;
}
