// Valid entities for the metadata store contract, each with a fresh UUIDv7 id (settings: the defaults,
// updated now); override what a test needs.
import {
  type AuditEntry,
  type Backup,
  type Drill,
  defaultSettings,
  type ManagedDatabase,
  type Restore,
  type Schedule,
  type Server,
  type Settings,
  type Verification,
} from "#core/entities.ts";
import { newId, nowIso } from "#core/ids.ts";

export function makeServer(overrides: Partial<Server> = {}): Server {
  const now = nowIso();
  return {
    id: newId(),
    name: "primary",
    host: "db.example.internal",
    port: 27017,
    username: "backup",
    auth_source: "admin",
    auth_mechanism: null,
    tls: true,
    sandbox: false,
    replica_set: null,
    options: { readPreference: "secondary" },
    connection_string: null,
    has_password: true,
    last_test: null,
    created_at: now,
    updated_at: now,
    ...overrides,
  };
}

export function makeDatabase(overrides: Partial<ManagedDatabase> = {}): ManagedDatabase {
  return {
    id: newId(),
    server_id: newId(),
    name: "shop",
    enabled: true,
    size_on_disk: 4096,
    discovered_at: nowIso(),
    vanished_at: null,
    last_backup: null,
    drill_stale_since: null,
    last_verified: null,
    scheduled_since_drill: 0,
    ...overrides,
  };
}

export function makeBackup(overrides: Partial<Backup> = {}): Backup {
  return {
    id: newId(),
    server_id: newId(),
    database: "shop",
    name: null,
    notes: null,
    status: "queued",
    trigger: "manual",
    schedule_id: null,
    created_by: "alice@example.com",
    created_at: nowIso(),
    started_at: null,
    finished_at: null,
    duration_ms: null,
    blob_key: null,
    size_bytes: null,
    sha256: null,
    blob_version: null,
    blob_checksum: null,
    compression: "gzip",
    tool_version: null,
    collections: null,
    progress: null,
    error: null,
    expires_at: null,
    runner_ref: null,
    imported_from: null,
    verification: null,
    ...overrides,
  };
}

export function makeSchedule(overrides: Partial<Schedule> = {}): Schedule {
  const now = nowIso();
  return {
    id: newId(),
    name: "nightly",
    cron_expression: "0 3 * * *",
    timezone: "Europe/Paris",
    server_id: null,
    database: null,
    retention_days: 30,
    keep_last: 3,
    verify_every: 1,
    drill_target: null,
    enabled: true,
    last_run: null,
    stale_since: null,
    created_at: now,
    updated_at: now,
    ...overrides,
  };
}

export function makeRestore(overrides: Partial<Restore> = {}): Restore {
  const serverId = newId();
  return {
    id: newId(),
    backup_id: newId(),
    source_server_id: serverId,
    source_database: "shop",
    target_server_id: serverId,
    target_database: "shop_restored",
    drop: false,
    collections: null,
    status: "queued",
    created_by: "alice@example.com",
    created_at: nowIso(),
    started_at: null,
    finished_at: null,
    duration_ms: null,
    progress: null,
    error: null,
    runner_ref: null,
    ...overrides,
  };
}

export function makeAudit(overrides: Partial<AuditEntry> = {}): AuditEntry {
  return {
    id: newId(),
    at: nowIso(),
    actor: "alice@example.com",
    action: "server.create",
    target_type: "server",
    target_id: newId(),
    outcome: "success",
    details: { name: "primary" },
    ...overrides,
  };
}

export function makeSettings(overrides: Partial<Settings> = {}): Settings {
  return {
    ...defaultSettings,
    concurrency: { ...defaultSettings.concurrency },
    updated_at: nowIso(),
    ...overrides,
  };
}

/** A drill's proof: passed, one collection of 10 documents restored in 1.5 s, unless told otherwise. */
export function makeVerification(overrides: Partial<Verification> = {}): Verification {
  return {
    status: "passed",
    drill_id: newId(),
    at: nowIso(),
    duration_ms: 1500,
    target: "ephemeral",
    collections: {
      orders: {
        expected: 10,
        restored: 10,
        indexes_expected: ["_id_"],
        indexes_restored: ["_id_"],
        valid: "valid",
      },
    },
    error: null,
    ...overrides,
  };
}

export function makeDrill(overrides: Partial<Drill> = {}): Drill {
  return {
    id: newId(),
    backup_id: newId(),
    server_id: newId(),
    database: "shop",
    target: { kind: "ephemeral" },
    scratch_database: null,
    trigger: "manual",
    status: "queued",
    created_by: "alice@example.com",
    created_at: nowIso(),
    started_at: null,
    finished_at: null,
    duration_ms: null,
    progress: null,
    result: null,
    error: null,
    runner_ref: null,
    ...overrides,
  };
}
