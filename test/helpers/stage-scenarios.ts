/**
 * The scenario table of the stage-decision differential tests (issue 11 §5): plain data the real
 * workflow, the preview and the simulator each run, and must agree on — every stage's decision
 * (sent, suppressed and why, escalated and why) and its instant. The helpers below turn a
 * scenario into what each of them takes; nothing here decides anything.
 *
 * Every scenario runs at the demo clinic (config/clinics/demo-clinic.yaml) with the product's
 * default send window, Monday to Saturday 10:00–19:00 (`SCENARIO_SEND_WINDOW`): the demo clinic
 * opens on Sundays, which would hide every send-window deferral.
 */
import type { CapRule } from '../../src/core/caps.js';
import { normalizePhone } from '../../src/core/phone.js';
import type { SendWindow } from '../../src/core/send-window.js';
import type { ChannelState, DecisionClinic } from '../../src/core/stage-decision.js';
import type { Channel } from '../../src/core/types.js';
import type { PreviewInput } from '../../src/preview/timeline.js';
import { localTimeOnDay, nextLocalWeekdayAt } from './clinic-time.js';

export const SCENARIO_CLINIC_ID = 'demo-clinic';
export const SCENARIO_TIME_ZONE = 'America/New_York';
/** The default window (src/core/send-window.ts), as YAML for the scenario clinic's config. */
export const SCENARIO_SEND_WINDOW: SendWindow = { days: [1, 2, 3, 4, 5, 6], start: '10:00', end: '19:00' };
export const SCENARIO_SEND_WINDOW_YAML =
  'sendWindow: { days: [mon, tue, wed, thu, fri, sat], start: "10:00", end: "19:00" }';

export interface ScenarioClient {
  email: string | null;
  phone: string | null;
  consent: { sms: boolean; email: boolean };
}

/** Something the client or the platform does, `day` days after the treatment at clinic-local `at`. */
export type ScenarioEvent =
  | { kind: 'booked'; day: number; at: string; appointmentId: string; startDay: number }
  | { kind: 'cancelled'; day: number; at: string; appointmentId: string }
  | { kind: 'no_show'; day: number; at: string; appointmentId: string };

export interface StageScenario {
  name: string;
  /** The service as the platform names it (classified as at enrolment). */
  service: string;
  /** Treatment type the service classifies to (the workflow id and the preview need it). */
  treatmentType: string;
  /** The treatment's clinic-local weekday (0 = Sunday) and time: decides which stages fall on a closed day. */
  treatedOn: { weekday: number; at: string };
  client: ScenarioClient;
  /** For a series type: the session this treatment was (the workflow counts it from the ledger). */
  session?: { completed: number };
  events?: ScenarioEvent[];
  /** Days after the treatment the scenario is observed for (past the sequence's end). */
  untilDay: number;
  /** What the scenario is there to show (documentation; the test compares, it does not expect). */
  shows: string;
}

const reachable: ScenarioClient = {
  email: 'avery.quinton@example.com',
  phone: '+12125550123',
  consent: { sms: true, email: true },
};

/** The scenarios, one line of intent each. Extend compatibly: the simulator's tests read them too. */
export const STAGE_SCENARIOS: StageScenario[] = (
  [
    {
      name: 'never answers',
      service: 'Botox 20u',
      treatmentType: 'neuromodulator',
      treatedOn: { weekday: 2, at: '15:00' },
      client: reachable,
      untilDay: 245,
      shows: 'care touches, the rebooking stages, the staff call, reactivation and both win-back touches',
    },
    {
      name: 'quiet hours',
      service: 'Botox 20u',
      // From a Wednesday the day-95 check-in falls on a Sunday: held to Monday 10:00.
      treatedOn: { weekday: 3, at: '15:00' },
      client: reachable,
      untilDay: 101,
      shows: 'a stage due on a closed day is deferred to the next opening',
    },
    {
      name: 'no SMS consent',
      service: 'Botox 20u',
      treatedOn: { weekday: 2, at: '15:00' },
      client: { ...reachable, consent: { sms: false, email: true } },
      untilDay: 101,
      shows:
        'care SMS still goes out; marketing SMS falls back to email, and the third email in 30 days is capped past its stage',
    },
    {
      name: 'no marketing consent',
      service: 'Botox 20u',
      treatedOn: { weekday: 2, at: '15:00' },
      client: { ...reachable, consent: { sms: false, email: false } },
      untilDay: 245,
      shows: 'care touches go out; the first marketing stage hands the client to staff (no_usable_channel)',
    },
    {
      name: 'invalid number',
      service: 'Botox 20u',
      treatedOn: { weekday: 2, at: '15:00' },
      client: { ...reachable, phone: '+1 555 0100' },
      untilDay: 101,
      shows: 'an invalid number never reaches the provider: email fallback for every SMS stage',
    },
    {
      name: 'invalid number, no email',
      service: 'Botox 20u',
      treatedOn: { weekday: 2, at: '15:00' },
      client: { ...reachable, phone: '+1 555 0100', email: null },
      untilDay: 245,
      shows: 'no usable channel: care touches suppressed, the first marketing stage goes to staff',
    },
    {
      name: 'laser series',
      service: 'laser hair removal',
      treatmentType: 'laser_hair_removal',
      treatedOn: { weekday: 2, at: '15:00' },
      client: reachable,
      session: { completed: 1 },
      untilDay: 50,
      shows: 'between sessions: the session reminders and the staff call, no offer',
    },
    {
      name: 'pre-booked at checkout',
      service: 'Botox 20u',
      treatmentType: 'neuromodulator',
      treatedOn: { weekday: 2, at: '15:00' },
      client: reachable,
      events: [{ kind: 'booked', day: 0, at: '15:30', appointmentId: 'next', startDay: 90 }],
      untilDay: 60,
      shows: 'care touches go out after a booking, marketing stages do not',
    },
    {
      name: 'booked day 85, cancelled day 88',
      service: 'Botox 20u',
      treatmentType: 'neuromodulator',
      treatedOn: { weekday: 2, at: '15:00' },
      client: reachable,
      events: [
        { kind: 'booked', day: 85, at: '12:00', appointmentId: 'next', startDay: 92 },
        { kind: 'cancelled', day: 88, at: '12:00', appointmentId: 'next' },
      ],
      untilDay: 101,
      shows: 'a recovery touch two days after the cancellation, then the stages still ahead and the staff call',
    },
    {
      name: 'no-show on day 84',
      service: 'Botox 20u',
      treatmentType: 'neuromodulator',
      treatedOn: { weekday: 2, at: '15:00' },
      client: reachable,
      events: [
        { kind: 'booked', day: 82, at: '12:00', appointmentId: 'next', startDay: 84 },
        { kind: 'no_show', day: 84, at: '20:30', appointmentId: 'next' },
      ],
      untilDay: 101,
      shows: 'a no-show reported after hours: the recovery touch waits for the window, then the stages ahead',
    },
  ] satisfies (Omit<StageScenario, 'treatmentType'> & { treatmentType?: string })[]
).map((s) => ({ treatmentType: 'neuromodulator', ...s }));

/** The treatment instant of a scenario: its weekday and time, the first such after `fromMs`. */
export function scenarioTreatmentAt(scenario: StageScenario, fromMs: number): number {
  return nextLocalWeekdayAt(fromMs, scenario.treatedOn.weekday, scenario.treatedOn.at, SCENARIO_TIME_ZONE);
}

/** The instant of an event, given the treatment instant. */
export function scenarioEventAt(event: ScenarioEvent, treatedAtMs: number): number {
  return localTimeOnDay(treatedAtMs, event.day, event.at, SCENARIO_TIME_ZONE);
}

/** The booked start of a `booked` event: clinic-local 11:00 on its start day. */
export function scenarioBookedStartAt(event: Extract<ScenarioEvent, { kind: 'booked' }>, treatedAtMs: number): number {
  return localTimeOnDay(treatedAtMs, event.startDay, '11:00', SCENARIO_TIME_ZONE);
}

/** The preview request of a scenario treated at `treatedAtMs` (its booking and what became of it included). */
export function scenarioPreviewInput(scenario: StageScenario, treatedAtMs: number): PreviewInput {
  const booked = scenario.events?.find((x) => x.kind === 'booked');
  const lapse = scenario.events?.find((x) => x.kind === 'cancelled' || x.kind === 'no_show');
  return {
    treatmentType: scenario.treatmentType,
    completedAtMs: treatedAtMs,
    client: { firstName: 'Avery', ...scenario.client },
    ...(scenario.session ? { session: scenario.session } : {}),
    ...(booked?.kind === 'booked'
      ? {
          booking: {
            bookedAtMs: scenarioEventAt(booked, treatedAtMs),
            startAtMs: scenarioBookedStartAt(booked, treatedAtMs),
            ...(lapse && (lapse.kind === 'cancelled' || lapse.kind === 'no_show')
              ? { lapse: { kind: lapse.kind, atMs: scenarioEventAt(lapse, treatedAtMs) } }
              : {}),
          },
        }
      : {}),
  };
}

/** What decideStage needs of a clinic, from the preview's or the simulator's view of it. */
export function scenarioDecisionClinic(clinic: {
  timeZone: string;
  sendWindow: SendWindow;
  capRules: CapRule[];
  fallback: DecisionClinic['fallback'];
  capsIncludeCare?: boolean;
}): DecisionClinic {
  return {
    timeZone: clinic.timeZone,
    sendWindow: clinic.sendWindow,
    capRules: clinic.capRules,
    fallback: clinic.fallback,
    capsIncludeCare: clinic.capsIncludeCare ?? false,
  };
}

/** The channel facts decideStage takes, for a scenario's client before anything was sent. */
export function scenarioChannels(client: ScenarioClient, defaultCountry = 'US'): Record<Channel, ChannelState> {
  return {
    sms: {
      hasAddress: !!client.phone,
      consented: client.consent.sms,
      optedOut: false,
      undeliverable: false,
      ...(client.phone ? { validNumber: normalizePhone(client.phone, defaultCountry).ok } : {}),
    },
    email: { hasAddress: !!client.email, consented: client.consent.email, optedOut: false, undeliverable: false },
  };
}
