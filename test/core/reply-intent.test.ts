import { describe, expect, it } from 'vitest';
import { classifyReply, helpText, type ReplyIntent } from '../../src/core/reply-intent.js';

const table: [string, ReplyIntent][] = [
  // Carrier keywords: the whole message, any case, stray punctuation or spaces tolerated.
  ['STOP', 'opt_out'],
  ['stop', 'opt_out'],
  ['Stop.', 'opt_out'],
  ['  STOP  ', 'opt_out'],
  ['STOPALL', 'opt_out'],
  ['Unsubscribe', 'opt_out'],
  ['cancel', 'opt_out'],
  ['END', 'opt_out'],
  ['quit', 'opt_out'],
  ['OPTOUT', 'opt_out'],
  ['Revoke', 'opt_out'],
  ['stop!!', 'opt_out'],
  ['START', 'opt_in'],
  ['start', 'opt_in'],
  ['Unstop', 'opt_in'],
  ['HELP', 'help'],
  ['help?', 'help'],
  ['info', 'help'],
  // Free-text requests to stop: honoured as an opt-out (FCC: any reasonable means).
  ['Please stop texting me', 'opt_out_free_text'],
  ['stop sending me these', 'opt_out_free_text'],
  ['Remove me from this list', 'opt_out_free_text'],
  ['take me off your list please', 'opt_out_free_text'],
  ["Don't text me again", 'opt_out_free_text'],
  ['do not contact me', 'opt_out_free_text'],
  ['no more texts', 'opt_out_free_text'],
  ['Leave me alone', 'opt_out_free_text'],
  ['wrong number', 'opt_out_free_text'],
  ['Who is this? Wrong person', 'opt_out_free_text'],
  ['unsubscribe me please', 'opt_out_free_text'],
  ['opt me out', 'opt_out_free_text'],
  ['Not interested, thanks', 'opt_out_free_text'],
  ['STOP TEXTING ME', 'opt_out_free_text'],
  ['stop it', 'opt_out_free_text'],
  ['lose my number', 'opt_out_free_text'],
  ['Stop please', 'opt_out_free_text'],
  // Appointment changes are a staff matter, never an opt-out.
  ['Cancel my appointment', 'appointment_change'],
  ['I need to cancel my appt on Friday', 'appointment_change'],
  ['can I reschedule my appointment?', 'appointment_change'],
  ["I can't make it tomorrow", 'appointment_change'],
  ['Need to move my booking to next week', 'appointment_change'],
  // "Not now": snooze.
  ['Not now', 'snooze'],
  ['not yet thanks', 'snooze'],
  ['Maybe later', 'snooze'],
  ['not ready yet', 'snooze'],
  ['In a few weeks', 'snooze'],
  ["I'll let you know", 'snooze'],
  ['next month maybe', 'snooze'],
  ['Too soon, still looking good!', 'snooze'],
  ['traveling right now, will reach out', 'snooze'],
  ['not right now 🙏', 'snooze'],
  ['no thanks for now', 'snooze'],
  ['Maybe next time', 'snooze'],
  // Interest: hot lead for staff.
  ['Yes', 'hot_lead'],
  ['yes please', 'hot_lead'],
  ['Yep!', 'hot_lead'],
  ['sure', 'hot_lead'],
  ['Book me in', 'hot_lead'],
  ['Can I come in Tuesday?', 'hot_lead'],
  ['could I book for saturday morning', 'hot_lead'],
  ['Any openings next week?', 'hot_lead'],
  ['Do you have availability Thursday?', 'hot_lead'],
  ['Can I stop by Tuesday?', 'hot_lead'], // "stop" inside a visit request is not a stop request
  ["I'd like to book", 'hot_lead'],
  ['Interested!', 'hot_lead'],
  ['ok thanks', 'hot_lead'],
  // Everything else: a human reads it.
  ['How much is it now?', 'other'],
  ['Who is this?', 'other'],
  ['Thanks!', 'other'],
  ['😊', 'other'],
  ['', 'other'],
  ['My lips feel a bit lumpy, is that normal?', 'other'],
  ['Is Dr. Patel still there?', 'other'],
  ['stop by', 'other'],
  ['STOP STOP', 'opt_out_free_text'],
  ['cancel that', 'other'],
  ['what does the code give me', 'other'],
];

describe('classifyReply', () => {
  it('has at least 60 real-world phrasings', () => expect(table.length).toBeGreaterThanOrEqual(60));
  it.each(table)('%j → %s', (text, intent) => {
    expect(classifyReply(text)).toBe(intent);
  });
});

describe('helpText', () => {
  it('names the clinic, a contact, the frequency, rates and how to stop', () => {
    const text = helpText({
      name: 'Glow Aesthetics',
      phone: '+12125550100',
      bookingUrl: 'https://book.example.com/glow',
    });
    expect(text).toBe(
      'Glow Aesthetics: treatment reminders, up to 2 msgs/month. For help call +12125550100. Msg & data rates may apply. Reply STOP to opt out.',
    );
    expect(helpText({ name: 'Glow', bookingUrl: 'https://b.example' })).toContain('visit https://b.example');
  });
});
