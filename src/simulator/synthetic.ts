/**
 * Synthetic treatment histories for tests and the benchmark: N clients and exactly T treatments
 * over a year, seeded. Each client has one to three treatment types (Botox the most common),
 * visits spaced by a realistic return interval per type, service names written the many ways
 * booking platforms write them (plus a few services Rebook does not classify), prices in each
 * treatment's usual range, appointments during opening hours (Monday to Saturday), and
 * contact details with the usual gaps (no phone, no SMS consent, a few invalid numbers).
 */
import { addDays, fromLocal } from '../core/zoned-time.js';
import { csvField } from '../text/csv.js';
import { HISTORY_COLUMNS } from './history-csv.js';
import { mulberry32 } from './random.js';

interface MenuItem {
  /** Catalog type this should classify as (null: a service Rebook does not enroll). */
  type: string | null;
  weight: number;
  names: string[];
  price: [number, number];
  /** Days between visits for a regular client. */
  gap: [number, number];
}

export const SYNTHETIC_MENU: MenuItem[] = [
  {
    type: 'neuromodulator',
    weight: 40,
    names: [
      'Botox 20u',
      'Botox',
      'BTX 40u',
      'Dysport 60u',
      'Xeomin',
      'Jeuveau',
      'Botox - forehead lines',
      'Injectables',
    ],
    price: [250, 750],
    gap: [88, 130],
  },
  {
    type: 'lip_filler',
    weight: 12,
    names: ['Juvederm Ultra - Lips', 'Lip filler 1 syringe', 'Restylane Kysse', 'Volbella lips'],
    price: [600, 900],
    gap: [170, 260],
  },
  {
    type: 'cheek_filler',
    weight: 5,
    names: ['Juvederm Voluma', 'Cheek filler', 'Restylane Lyft'],
    price: [750, 1500],
    gap: [260, 380],
  },
  { type: 'kybella', weight: 3, names: ['Kybella', 'Double chin injection'], price: [600, 1400], gap: [40, 60] },
  { type: 'sculptra', weight: 2, names: ['Sculptra', 'Sculptra 2 vials'], price: [900, 2000], gap: [330, 420] },
  {
    type: 'chemical_peel',
    weight: 9,
    names: ['VI Peel', 'Chemical peel', 'Glycolic peel'],
    price: [150, 350],
    gap: [30, 60],
  },
  {
    type: 'microneedling',
    weight: 8,
    names: ['Microneedling', 'SkinPen microneedling', 'Morpheus8'],
    price: [300, 1200],
    gap: [30, 70],
  },
  { type: 'hydrafacial', weight: 12, names: ['HydraFacial', 'Hydra Facial Deluxe'], price: [180, 300], gap: [28, 50] },
  {
    type: 'laser',
    weight: 6,
    // Laser hair removal is a treatment series of its own (issue 11 §4), not modelled here yet.
    names: ['Fraxel laser', 'IPL photofacial', 'BBL', 'Clear + Brilliant'],
    price: [250, 700],
    gap: [40, 70],
  },
  {
    type: null,
    weight: 3,
    names: ['Consultation', 'B12 shot', 'Skincare purchase', 'Dermaplaning'],
    price: [0, 150],
    gap: [20, 90],
  },
];

export interface SyntheticOptions {
  clients: number;
  treatments: number;
  /** First local day ("YYYY-MM-DD"); visits fall within `days` days from it. */
  start: string;
  days?: number;
  seed: number;
  timeZone: string;
}

/** One row, in the CSV's column names. */
export type SyntheticRow = Record<(typeof HISTORY_COLUMNS)[number], string>;

interface Visit {
  client: number;
  item: MenuItem;
  day: number;
  /** 0: a repeat visit; 1: first visit of a secondary type; 2: first visit of the main type. */
  rank: number;
}

interface ClientPlan {
  items: MenuItem[];
  /** Multiplies the menu's return gaps: 0.9 for the most regular clients, up to ~2.5. */
  pace: number;
  /** Per type: the day of the first visit within the year. */
  phase: number[];
}

export function generateHistory(opts: SyntheticOptions): SyntheticRow[] {
  const { clients, treatments, seed, timeZone } = opts;
  const days = opts.days ?? 365;
  if (!Number.isInteger(clients) || clients < 1) throw new RangeError('clients must be a positive whole number');
  if (!Number.isInteger(treatments) || treatments < clients)
    throw new RangeError('treatments must be a whole number, at least one per client');
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(opts.start);
  if (!m) throw new RangeError('start must be YYYY-MM-DD');
  const start = { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) };
  const rnd = mulberry32(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;
  const totalWeight = SYNTHETIC_MENU.reduce((a, x) => a + x.weight, 0);
  const pickItem = (): MenuItem => {
    let u = rnd() * totalWeight;
    for (const item of SYNTHETIC_MENU) {
      u -= item.weight;
      if (u < 0) return item;
    }
    return SYNTHETIC_MENU[0]!;
  };

  // Who each client is: one to three treatment types, how regularly they come back, and when in
  // the year their first visit of each type falls (sometimes two types on the same day).
  const plans: ClientPlan[] = [];
  for (let c = 0; c < clients; c++) {
    const items: MenuItem[] = [pickItem()];
    const wanted = 1 + (rnd() < 0.35 ? 1 : 0) + (rnd() < 0.1 ? 1 : 0);
    for (let tries = 0; items.length < wanted && tries < 20; tries++) {
      const item = pickItem();
      if (!items.includes(item)) items.push(item);
    }
    const pace = 0.9 + 1.6 * rnd() ** 2;
    const phase = items.map((item) => int(0, Math.min(days - 1, Math.round(item.gap[1] * pace))));
    if (items.length > 1 && rnd() < 0.3) phase[1] = phase[0]!;
    plans.push({ items, pace, phase });
  }

  // Each client × type is a renewal process: visits every gap × pace × stretch days from its
  // first visit. The stretch is tuned until the total is near the target; the last few visits
  // are then added or removed at random.
  const visitsWith = (stretch: number): Visit[] => {
    const r = mulberry32(seed ^ 0x5bd1e995);
    const out: Visit[] = [];
    plans.forEach((p, client) => {
      p.items.forEach((item, k) => {
        for (let day = p.phase[k]!; day < days; ) {
          out.push({ client, item, day, rank: day === p.phase[k] ? (k === 0 ? 2 : 1) : 0 });
          day += Math.max(1, Math.round((item.gap[0] + r() * (item.gap[1] - item.gap[0])) * p.pace * stretch));
        }
      });
    });
    return out;
  };
  let visits = visitsWith(1);
  const firstVisits = plans.reduce((a, p) => a + p.items.length, 0);
  let stretch = 1;
  for (let i = 0; i < 40; i++) {
    // Only repeat visits depend on the stretch.
    const repeats = visits.length - firstVisits;
    const target = treatments - firstVisits;
    if (repeats <= 0 || target <= 0 || Math.abs(repeats - target) <= Math.max(5, treatments * 0.002)) break;
    stretch *= Math.min(4, Math.max(0.25, repeats / target));
    visits = visitsWith(stretch);
  }
  // Exactly `treatments`: drop random repeat visits (a missed appointment), then if need be the
  // first visits of secondary types; or add visits of a client's own types (a touch-up).
  if (visits.length > treatments) {
    const dropped = new Set<number>();
    for (const rank of [0, 1]) {
      const candidates = visits.flatMap((v, i) => (v.rank === rank ? [i] : []));
      while (dropped.size < visits.length - treatments && candidates.length > 0) {
        const k = Math.floor(rnd() * candidates.length);
        dropped.add(candidates[k]!);
        candidates[k] = candidates[candidates.length - 1]!;
        candidates.pop();
      }
    }
    visits = visits.filter((_, i) => !dropped.has(i));
  }
  while (visits.length < treatments) {
    const client = Math.floor(rnd() * clients);
    visits.push({ client, item: pick(plans[client]!.items), day: int(0, days - 1), rank: 0 });
  }

  const openings = new Map<string, number>();
  const opening = (d: { year: number; month: number; day: number }): number => {
    const key = `${d.year}-${d.month}-${d.day}`;
    let at = openings.get(key);
    if (at === undefined) {
      at = fromLocal({ ...d, hour: 9, minute: 0 }, timeZone);
      openings.set(key, at);
    }
    return at;
  };

  const width = String(clients).length;
  const contacts = plans.map(() => {
    const hasPhone = rnd() < 0.86;
    return {
      email: rnd() < 0.93 ? 'y' : 'n',
      phone: hasPhone
        ? rnd() < 0.03
          ? `+1 555 ${int(100, 999)}`
          : `+1${pick(['212', '646', '917', '718', '347'])}555${String(int(0, 9999)).padStart(4, '0')}`
        : '',
      sms: hasPhone && rnd() < 0.78 ? 'y' : 'n',
      emailConsent: rnd() < 0.97 ? 'y' : 'n',
    };
  });
  const prices = plans.map((p) => p.items.map((item) => int(item.price[0] / 5, item.price[1] / 5) * 5));

  const rows = visits.map((v) => {
    let date = addDays(start, v.day);
    // Closed on Sundays: the visit moves to Saturday.
    if (new Date(Date.UTC(date.year, date.month - 1, date.day)).getUTCDay() === 0) date = addDays(date, -1);
    // No clock change falls between 09:00 and 18:00, so the slot is an offset from 09:00.
    const at = opening(date) + 15 * 60_000 * int(0, 35);
    const price = prices[v.client]![plans[v.client]!.items.indexOf(v.item)]!;
    const contact = contacts[v.client]!;
    return {
      at,
      client_id: `C${String(v.client + 1).padStart(width, '0')}`,
      appointment_id: '',
      service_name: pick(v.item.names),
      completed_at: new Date(at).toISOString(),
      price: v.item.type === null && price === 0 ? '' : String(price),
      email: contact.email,
      phone: contact.phone,
      sms_consent: contact.sms,
      email_consent: contact.emailConsent,
    };
  });
  rows.sort((a, b) => a.at - b.at || (a.client_id < b.client_id ? -1 : a.client_id > b.client_id ? 1 : 0));
  return rows.map(({ at: _at, ...row }, i) => ({ ...row, appointment_id: `A${String(i + 1).padStart(7, '0')}` }));
}

/** The rows as CSV with a header line. */
export function historyToCsv(rows: readonly SyntheticRow[]): string {
  const lines = [HISTORY_COLUMNS.join(',')];
  for (const r of rows) lines.push(HISTORY_COLUMNS.map((c) => csvField(r[c])).join(','));
  return `${lines.join('\n')}\n`;
}
