/**
 * The demo clinic's first 130 days, as inputs only: who was treated, who books, who replies what
 * and when. What Rebook does with them is never written here; the printout reads it back.
 * Fixed dates and data, so every run tells the same story.
 */

/** Clinic-local day 0: a date the time-skipping server can still jump forward to for years to come. */
export const DEMO_START = { year: 2031, month: 1, day: 6 };
export const DEMO_DAYS = 130;
export const DEMO_CLINIC = 'demo-clinic';

export interface DemoClient {
  id: string;
  story: string;
  firstName: string;
  lastName: string;
  email: string | null;
  phone: string | null;
  consent: { sms: boolean; email: boolean };
}

/** Something that happens at a clinic-local day and clock time ("HH:MM"). */
export type DemoInput = { day: number; at: string } & (
  | { kind: 'treatment'; client: string; appointmentId: string; service: string }
  | { kind: 'booking'; client: string; appointmentId: string; startDay: number; startAt: string }
  | { kind: 'reply'; client: string; body: string }
);

export const DEMO_CLIENTS: DemoClient[] = [
  {
    id: 'demo-dana',
    story: 'books after the day-80 email',
    firstName: 'Dana',
    lastName: 'Reyes',
    email: 'dana.reyes@example.com',
    phone: '+12125550123',
    consent: { sms: true, email: true },
  },
  {
    id: 'demo-maya',
    story: 'replies "not now"',
    firstName: 'Maya',
    lastName: 'Okafor',
    email: 'maya.okafor@example.com',
    phone: '+12125550147',
    consent: { sms: true, email: true },
  },
  {
    id: 'demo-sam',
    story: 'replies STOP',
    firstName: 'Sam',
    lastName: 'Lindqvist',
    email: 'sam.lindqvist@example.com',
    phone: '+12125550168',
    consent: { sms: true, email: true },
  },
  {
    id: 'demo-noor',
    story: 'never answers',
    firstName: 'Noor',
    lastName: 'Haddad',
    email: 'noor.haddad@example.com',
    phone: '+12125550179',
    consent: { sms: true, email: true },
  },
  {
    id: 'demo-lena',
    story: 'Botox + lip filler, same day',
    firstName: 'Lena',
    lastName: 'Moreau',
    email: 'lena.moreau@example.com',
    phone: '+12125550186',
    consent: { sms: true, email: true },
  },
  {
    id: 'demo-omar',
    story: 'no phone on file',
    firstName: 'Omar',
    lastName: 'Castillo',
    email: 'omar.castillo@example.com',
    phone: null,
    consent: { sms: false, email: true },
  },
];

export const DEMO_INPUTS: DemoInput[] = [
  { day: 0, at: '10:30', kind: 'treatment', client: 'demo-dana', appointmentId: 'demo-a-101', service: 'Botox 20u' },
  { day: 0, at: '11:15', kind: 'treatment', client: 'demo-maya', appointmentId: 'demo-a-102', service: 'Dysport' },
  { day: 0, at: '12:00', kind: 'treatment', client: 'demo-sam', appointmentId: 'demo-a-103', service: 'Botox 30u' },
  { day: 0, at: '13:45', kind: 'treatment', client: 'demo-noor', appointmentId: 'demo-a-104', service: 'Xeomin' },
  { day: 0, at: '14:30', kind: 'treatment', client: 'demo-lena', appointmentId: 'demo-a-105', service: 'Botox 20u' },
  {
    day: 0,
    at: '15:10',
    kind: 'treatment',
    client: 'demo-lena',
    appointmentId: 'demo-a-106',
    service: 'Lip filler - Juvederm Ultra',
  },
  { day: 0, at: '16:00', kind: 'treatment', client: 'demo-omar', appointmentId: 'demo-a-107', service: 'Botox 20u' },
  {
    day: 82,
    at: '18:20',
    kind: 'booking',
    client: 'demo-dana',
    appointmentId: 'demo-a-201',
    startDay: 88,
    startAt: '11:00',
  },
  // The booked visit happens: it is the next treatment, and starts the next cycle.
  { day: 88, at: '11:45', kind: 'treatment', client: 'demo-dana', appointmentId: 'demo-a-201', service: 'Botox 20u' },
  { day: 90, at: '11:40', kind: 'reply', client: 'demo-sam', body: 'STOP' },
  { day: 90, at: '12:05', kind: 'reply', client: 'demo-maya', body: 'Not now, maybe in the spring' },
  {
    day: 91,
    at: '09:30',
    kind: 'booking',
    client: 'demo-lena',
    appointmentId: 'demo-a-202',
    startDay: 96,
    startAt: '15:00',
  },
  { day: 96, at: '15:40', kind: 'treatment', client: 'demo-lena', appointmentId: 'demo-a-202', service: 'Botox 20u' },
];
