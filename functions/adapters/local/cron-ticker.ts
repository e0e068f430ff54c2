// Local mode's Scheduler: an in-process ticker that fires each schedule's due minutes (in local mode
// `fire` is fan-out, fanOutSchedule(deps, id, minute)), in place of EventBridge Scheduler.
//
// - Timing: one timer, re-armed with setTimeout for the start of the next minute (+50 ms), rather than
//   setInterval, so it does not drift; unref()'d, so it never holds the process open.
// - Each tick evaluates every UTC minute M after the last evaluated minute, up to and including the
//   current one, and calls `fire(id, M)` for every enabled schedule that runs at M. Whether it runs is
//   croner's answer, with the options of core/cron.ts (cronFor): the first run after the window's start,
//   then the run after that, and so on, which is exactly the list `nextRuns` shows. croner's `match()` is
//   not used: it checks the wall-clock pattern only, without the DST rules (it misses the 03:00 run of
//   `30 2 * * *` on a spring-forward day and matches both passes of a repeated 02:30).
// - Missed minutes (the event loop stalled, the machine slept) are caught up, at most `catchUpMinutes`
//   of them (the current one included); older ones are skipped with a warning. A clock stepped back is
//   evaluated again from its current minute.
// - Start: the last evaluated minute is the previous one, so the current minute is evaluated at once and
//   a restart in the middle of a minute does not skip that minute's run. A process restarted within the
//   minute it already fired fires it again: fan-out's backup ids are derived from (schedule, database,
//   minute), so that second firing creates nothing, and the ticker relies on it. Minutes during which the
//   process was down are not made up: a backup hours late is a surprise (it would run at a busy time,
//   or just before the next one), and the stale-schedule alerts already report the gap.
// - DST: each UTC minute is evaluated once and croner decides whether the schedule runs at it, so a
//   time in a spring-forward gap runs where croner says, and a time that croner says runs once in a
//   repeated autumn hour fires once.
// - The fires of a tick run concurrently, across schedules and caught-up minutes. The ticker never
//   starts the same (schedule, minute) twice: evaluation moves forward, and the keys fired within the
//   catch-up window are remembered, which covers a stop and start, or a clock stepped back, within it.
//   A clock stepped back further than that is left to fan-out's ids.
// - `fire` errors are logged; they stop neither the other schedules nor later ticks. `stop()` waits for
//   the fires in flight.
import type { Cron } from "croner";
import { cronFor } from "#core/cron.ts";
import type { Schedule } from "#core/entities.ts";
import type { Scheduler } from "#core/ports.ts";
import type { Logger } from "#functions/logger.ts";

export interface CronTickerOptions {
  /** Called for each due (schedule, minute). Errors are logged, never thrown out of the ticker. */
  fire: (scheduleId: string, minute: Date) => Promise<unknown>;
  log: Logger;
  /** Injectable clock for tests. Default: `() => new Date()`. */
  now?: () => Date;
  /**
   * Missed minutes within the process's life (event loop stalled, laptop slept) are caught up to at
   * most this many minutes back, the current one included. An integer from 1. Default 10.
   */
  catchUpMinutes?: number;
}

interface Entry {
  schedule: Schedule;
  cron: Cron;
  /** The first run strictly after `after` (ms), null when none is left; recomputed when stale. */
  next?: { after: number; at: number | null };
}

const MINUTE = 60_000;
/** After the minute starts, so a timer that fires a little early still lands in the new minute. */
const TIMER_SLACK_MS = 50;

const floorMinute = (ms: number) => Math.floor(ms / MINUTE) * MINUTE;
const iso = (ms: number) => new Date(ms).toISOString();

export class CronTicker implements Scheduler {
  readonly #fire: CronTickerOptions["fire"];
  readonly #log: Logger;
  readonly #now: () => Date;
  readonly #catchUpMinutes: number;
  readonly #entries = new Map<string, Entry>();
  /** `${scheduleId} ${minute ms}` -> minute ms, for the catch-up window. */
  readonly #fired = new Map<string, number>();
  readonly #inFlight = new Set<Promise<void>>();
  /** The last evaluated minute (ms); undefined before the first tick. */
  #evaluated: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  #started = false;

  constructor(options: CronTickerOptions) {
    const catchUpMinutes = options.catchUpMinutes ?? 10;
    if (!Number.isInteger(catchUpMinutes) || catchUpMinutes < 1) {
      throw new RangeError(`catchUpMinutes must be an integer from 1; got ${catchUpMinutes}`);
    }
    this.#fire = options.fire;
    this.#log = options.log;
    this.#now = options.now ?? (() => new Date());
    this.#catchUpMinutes = catchUpMinutes;
  }

  /** Replaces the schedules with `schedules`, evaluates the current minute and starts the timer. */
  start(schedules: Schedule[]): void {
    if (this.#started) throw new Error("the cron ticker is already started");
    this.#entries.clear();
    for (const schedule of schedules) this.#put(schedule);
    this.#started = true;
    // The current minute is evaluated now, even if an earlier run of this ticker evaluated it.
    this.#evaluated = floorMinute(this.#now().getTime()) - MINUTE;
    this.#log.info({ schedules: this.#entries.size }, "cron ticker started");
    void this.tick();
    this.#arm();
  }

  /** Clears the timer and waits for the fires in flight. */
  async stop(): Promise<void> {
    this.#started = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await Promise.all(this.#inFlight);
  }

  async upsert(schedule: Schedule): Promise<void> {
    this.#put(schedule);
  }

  async remove(scheduleId: string): Promise<void> {
    this.#entries.delete(scheduleId);
  }

  /**
   * Evaluates the minutes from the last evaluated one to `now()` and fires what is due. Resolves when
   * the fires it started have settled; it never rejects.
   */
  tick(): Promise<void> {
    const current = floorMinute(this.#now().getTime());
    let last = this.#evaluated ?? current - MINUTE;
    if (current < last) {
      this.#log.warn({ from: iso(last), to: iso(current) }, "the clock went back: evaluating from now");
      last = current - MINUTE;
    }
    if (current === last) return Promise.resolve();
    const oldest = current - this.#catchUpMinutes * MINUTE;
    if (last < oldest) {
      this.#log.warn(
        { from: iso(last + MINUTE), to: iso(oldest), minutes: (oldest - last) / MINUTE },
        "minutes missed while the process was not ticking are not caught up",
      );
      last = oldest;
    }
    this.#evaluated = current;
    for (const [key, minute] of this.#fired) if (minute <= oldest) this.#fired.delete(key);

    const fires: Promise<void>[] = [];
    for (const entry of this.#entries.values()) {
      if (!entry.schedule.enabled) continue;
      try {
        for (const minute of this.#due(entry, last, current)) {
          const key = `${entry.schedule.id} ${minute}`;
          if (this.#fired.has(key)) continue;
          this.#fired.set(key, minute);
          fires.push(this.#start(entry.schedule.id, minute));
        }
      } catch (err) {
        this.#log.error({ err, schedule_id: entry.schedule.id }, "could not evaluate the schedule");
      }
    }
    return Promise.all(fires).then(() => undefined);
  }

  #put(schedule: Schedule): void {
    let cron: Cron;
    try {
      cron = cronFor(schedule.cron_expression, schedule.timezone);
    } catch (err) {
      // The API validates both; a schedule that fails here was written some other way.
      this.#entries.delete(schedule.id);
      this.#log.error(
        {
          err,
          schedule_id: schedule.id,
          cron_expression: schedule.cron_expression,
          timezone: schedule.timezone,
        },
        "schedule not loaded: its cron expression or time zone is invalid",
      );
      return;
    }
    this.#entries.set(schedule.id, { schedule, cron });
  }

  /** The schedule's runs in (after, through], in order, as minute ms. */
  #due(entry: Entry, after: number, through: number): number[] {
    let next = entry.next;
    // The cached run is the first after `after` unless it was computed from later, or it is not
    // after `after` (minutes skipped).
    if (next === undefined || next.after > after || (next.at !== null && next.at <= after)) {
      next = { after, at: entry.cron.nextRun(new Date(after))?.getTime() ?? null };
    }
    const due: number[] = [];
    while (next.at !== null && next.at <= through) {
      due.push(floorMinute(next.at));
      next = { after: next.at, at: entry.cron.nextRun(new Date(next.at))?.getTime() ?? null };
    }
    entry.next = next;
    return due;
  }

  #start(scheduleId: string, minute: number): Promise<void> {
    const scheduledAt = new Date(minute);
    this.#log.debug({ schedule_id: scheduleId, minute: scheduledAt }, "schedule due");
    const done = (async () => {
      try {
        await this.#fire(scheduleId, scheduledAt);
      } catch (err) {
        this.#log.error({ err, schedule_id: scheduleId, minute: scheduledAt }, "schedule firing failed");
      }
    })();
    this.#inFlight.add(done);
    void done.finally(() => this.#inFlight.delete(done));
    return done;
  }

  #arm(): void {
    const now = this.#now().getTime();
    const delay = floorMinute(now) + MINUTE + TIMER_SLACK_MS - now;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (!this.#started) return;
      this.#arm();
      try {
        void this.tick();
      } catch (err) {
        this.#log.error({ err }, "cron tick failed");
      }
    }, delay);
    this.#timer.unref();
  }
}
