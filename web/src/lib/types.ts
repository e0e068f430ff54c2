// The API's shapes as its OpenAPI document states them (api-types.gen.ts, through api.ts), so a
// field renamed in the API fails the console's type check. Nothing here is bundled: types only.
import type { Reply } from "./api.ts";

export type Backup = Reply<"GET", "/api/backups/{id}">;
export type JobStatus = Backup["status"];
export type Compression = Backup["compression"];
export type ManagedDatabase = Reply<"GET", "/api/databases/{id}">;
export type Restore = Reply<"GET", "/api/restore/{id}">;
/** A schedule as the API answers it: with its next five runs (none while disabled). */
export type ScheduleView = Reply<"GET", "/api/schedules/{id}">;
export type Server = Reply<"GET", "/api/servers/{id}">;
export type Settings = Reply<"GET", "/api/settings">;
export type Stats = Reply<"GET", "/api/stats">;
export type DayFigures = Stats["history"][number];
export type Rate = Stats["success_rate"]["last_24h"];
export type Me = Reply<"GET", "/api/me">;
export type Drill = Reply<"GET", "/api/drills/{id}">;
export type DrillTarget = Drill["target"];
/** A backup's latest drill proof (the drill's `result` once it ended). */
export type Verification = NonNullable<Backup["verification"]>;
/** GET /api/stats `drills`: the share of databases proven restorable, and each one's standing. */
export type DrillStats = Stats["drills"];
