/**
 * Treatment series (laser hair removal, Kybella, microneedling): which stages follow a completed
 * session, and which session a completed treatment was when the booking platform does not say.
 * Decided here only; planSequence (and through it the workflow's planning activity, the preview
 * and the simulator) asks these functions.
 */
import type { SeriesDefinition, SeriesPosition, StageDefinition, TreatmentTypeDefinition } from './types.js';

const DAY_MS = 86_400_000;

/** What the booking platform or our records say about a completed session. */
export interface CompletedSession {
  /** The session the completed treatment was (1-based). */
  completed: number;
  /** The course's length for this client when the platform knows it (a package of 4); else the catalog's. */
  sessions?: number;
}

export interface SessionStages {
  /** `series`: reminders for the next session; `maintenance`: the course is done; `single`: not a series (or session unknown). */
  phase: 'series' | 'maintenance' | 'single';
  intervalDays: number;
  stages: StageDefinition[];
  /** The session the series stages remind for, and the course's length. */
  next?: SeriesPosition;
  /** The completed session and the course's length (series and maintenance phases). */
  position?: { completed: number; sessions: number };
}

/**
 * The stages that follow a completed session. Before the last session the series' own stages
 * (a reminder, an SMS on the interval day, a staff call a week later: no offer); from the last
 * session on, the type's own stages, which are its maintenance cadence. Without a session number
 * (a type that is no series, a preview without one) the type's own stages apply, as before series.
 */
export function stagesAfterSession(type: TreatmentTypeDefinition, session?: CompletedSession): SessionStages {
  const s = type.series;
  if (!s || !session) return { phase: 'single', intervalDays: type.intervalDays, stages: type.stages };
  if (!Number.isInteger(session.completed) || session.completed < 1)
    throw new RangeError('session.completed must be a whole number from 1');
  const sessions = session.sessions ?? s.sessions;
  const position = { completed: session.completed, sessions };
  if (session.completed >= sessions)
    return { phase: 'maintenance', intervalDays: type.intervalDays, stages: type.stages, position };
  return {
    phase: 'series',
    intervalDays: s.intervalDays,
    stages: s.stages,
    next: { session: session.completed + 1, sessions },
    position,
  };
}

/** One completed treatment of the type, with the platform's session number when it gave one. */
export interface SessionRecord {
  atMs: number;
  session?: number | null;
  sessions?: number | null;
}

/**
 * Which session the treatment completed at `anchorMs` was: the platform's number where it has
 * one (on the anchor, or on an earlier session the count then continues from), else counted as
 * `sessionFromHistory` does. The platform's course length (a package of 4) replaces the catalog's.
 */
export function completedSession(
  records: readonly SessionRecord[],
  anchorMs: number,
  series: Pick<SeriesDefinition, 'sessions' | 'windowDays'>,
  anchor?: Omit<SessionRecord, 'atMs'>,
): CompletedSession {
  const earlier = records.filter((r) => r.atMs < anchorMs).sort((a, b) => a.atMs - b.atMs);
  let count = 0;
  let sessions: number | undefined;
  let prev: number | undefined;
  for (const r of [...earlier, { ...anchor, atMs: anchorMs }]) {
    const sameVisit = prev !== undefined && r.atMs - prev < DAY_MS;
    if (r.session) {
      count = r.session;
      if (r.sessions) sessions = r.sessions;
    } else if (sameVisit) continue;
    else if (
      prev === undefined ||
      count >= (sessions ?? series.sessions) ||
      r.atMs - prev <= series.windowDays * DAY_MS
    )
      count++;
    else {
      count = 1;
      sessions = undefined;
    }
    prev = r.atMs;
  }
  return { completed: count, ...(sessions ? { sessions } : {}) };
}

/**
 * The session number of the treatment completed at `anchorMs`, counted from the instants of the
 * client's completed treatments of the type (any order; the anchor may or may not be among them;
 * later ones are ignored). Walking forward in time: treatments less than a day apart are one
 * session (two areas lasered in one visit are often two appointments); one within `windowDays` of
 * the previous continues the course; a longer gap before the course is complete starts a new one.
 * Once complete, later treatments are maintenance and the count goes on past `sessions`.
 */
export function sessionFromHistory(
  completedAtMs: readonly number[],
  anchorMs: number,
  series: Pick<SeriesDefinition, 'sessions' | 'windowDays'>,
): number {
  return completedSession(
    completedAtMs.map((atMs) => ({ atMs })),
    anchorMs,
    series,
  ).completed;
}
