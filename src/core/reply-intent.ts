/**
 * What an inbound SMS reply means. Pure and table-tested: the webhook handler acts on the intent
 * (opt-out, opt-in, help, snooze, staff task), this only reads the text.
 *
 * Order matters: the carrier keywords first (exact whole message, any case), then their spelled-out
 * or compound forms and free-text requests to stop (FCC: revocation by any reasonable means), then
 * appointment changes (a staff matter, never an opt-out), then "not now", then a bare
 * acknowledgement, then interest in booking, else a human reads it. A missed opt-out is the costly
 * error, so the stop patterns are broad and come first; test/fixtures/replies/labeled.tsv measures it.
 */

export const REPLY_INTENTS = [
  'opt_out', // STOP and its carrier synonyms, the whole message
  'opt_in', // START / UNSTOP
  'help', // HELP / INFO
  'opt_out_free_text', // "please stop texting me", "STOP ALL", "opt-out": opt out, confirm, staff review
  'appointment_change', // "cancel my appointment": staff, not an opt-out
  'snooze', // "not now": one reactivation touch later, on the date the reply names if any (snooze-date.ts)
  'acknowledgement', // "ok thanks", "👍": recorded, nobody needs to act
  'hot_lead', // "yes, book me", "any openings Friday?": staff call while the sequence waits
  'other', // anything else: staff inbox
] as const;
export type ReplyIntent = (typeof REPLY_INTENTS)[number];

/** Twilio's default opt-out keywords plus REVOKE/OPTOUT (CTIA, FCC 2024 order). */
export const OPT_OUT_KEYWORDS = [
  'STOP',
  'STOPALL',
  'UNSUBSCRIBE',
  'CANCEL',
  'END',
  'QUIT',
  'OPTOUT',
  'REVOKE',
] as const;
export const OPT_IN_KEYWORDS = ['START', 'UNSTOP'] as const;
export const HELP_KEYWORDS = ['HELP', 'INFO'] as const;

/** Upper case, punctuation and emoji off the ends, inner whitespace collapsed. */
function keywordForm(text: string): string {
  return text
    .normalize('NFKC')
    .trim()
    .replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, '')
    .replace(/\s+/g, ' ')
    .toUpperCase();
}

function words(text: string): string {
  return ` ${text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[’‘`]/g, "'")
    .replace(/[^\p{L}\p{N}' ]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim()} `;
}

/**
 * A carrier keyword spelled out, hyphenated or compounded ("S.T.O.P", "opt-out", "STOP ALL",
 * "unsub"): the letters alone, upper case. Carriers match only the exact keyword, so these reach
 * us and we must honour them ourselves.
 */
const COMPACT_STOP =
  /^(STOP+|STAHP|UNSUB|UNSUBSCRIBE|OPTOUT|OPTMEOUT|CANCEL|END|QUIT|REVOKE)(ALL|PLEASE|PLS|PLZ|NOW|THANKS|THX|IT)*$/;

const FREE_TEXT_STOP: RegExp[] = [
  // A stop keyword padded with courtesy words or repeated: "Stop please", "STOP STOP", "pls stop!!".
  /^ ((please|pls|plz|now|thanks|thank you|stop|unsubscribe|quit|optout|ok) )*(stop|unsubscribe|quit|optout)( (please|pls|plz|now|thanks|thank you|stop|unsubscribe|quit|ok))* $/,
  /\b(stop|quit|no more|don'?t|do not|dont) (text|txt|messag|contact|email|send|spam|call)/,
  /\bstop (sending|texting|messaging|contacting|emailing|spamming|bugging|bothering)\b/,
  /\bstop it\b/,
  /\b(remove|take) me (off|from)\b/,
  /\bunsub(scribe)?\b/,
  /\b(stop|end|quit|cancel) all\b/,
  /\bquit it\b/,
  /\bcancel (texts|messages|msgs|sms|subscription|these)\b/,
  /\bremove (me|my (number|phone|info|details))\b/,
  /\b(don'?t|do not|no longer) want (these|your|any|the|more)? ?(texts|messages|msgs|reminders)\b/,
  /\b(don'?t|do not|no longer) want to (receive|get|hear)\b/,
  /\benough (with )?(the |your |these )?(texts|messages|msgs|reminders)\b/,
  /\basked (you )?to stop\b/,
  /\bopt (me )?out\b/,
  /\b(leave|let) me (alone|be)\b/,
  /\bno (more )?(texts|messages|msgs)\b/,
  /\bdo not contact\b/,
  /\bwrong (number|person)\b/,
  /\blose my number\b/,
  /\bnot interested\b/,
  /\bdelete my (number|info|information|details)\b/,
];

const APPOINTMENT_CHANGE: RegExp[] = [
  /\b(cancel|reschedul\w*|move|change|push back|postpone)\b.{0,20}\b(appointment|appt|booking|visit|session)\b/,
  /\b(appointment|appt|booking)\b.{0,20}\b(cancel\w*|reschedul\w*|moved?)\b/,
  /\bcan'?t make (it|my)\b/,
  /\breschedul\w*\b/,
];

const SNOOZE: RegExp[] = [
  /\bnot (now|yet|right now|ready|at the moment|this (month|time|week))\b/,
  /\b(maybe|perhaps|possibly) (later|next (month|time|year|week))\b/,
  /\blater\b/,
  /\bin a (few|couple( of)?) (weeks|months)\b/,
  /\bnext month\b/,
  /\bremind me\b/,
  /\bin (\d+|a|one|two|three|four|six|a few|a couple( of)?) (days|weeks|months)\b/,
  /\bafter (the )?(summer|holidays?|winter|spring|fall|autumn|wedding|vacation|new year|baby)\b/,
  /\b(i'?ll|i will) (let you know|reach out|get back|call|be in touch|book later)\b/,
  /\b(too soon|too early|still (look|have|holding))\b/,
  /\b(busy|traveling|travelling|out of town|away) (right now|now|this month|at the moment|for a while)\b/,
  /\bhold off\b/,
  /\bno thanks? for now\b/,
  // A month named as when ("in January", "not until March"): src/core/snooze-date.ts reads the date.
  /\b(in|until|till|after|next|early|mid|late) (january|february|march|april|may|june|july|august|september|october|november|december)\b/,
];

/** The whole message is a thank-you or an "ok": nothing for anyone to do. */
const ACKNOWLEDGEMENT =
  /^ ((ok|okay|k|kk|thanks|thank you|thx|ty|tysm|got it|cool|sounds good|noted|will do|received|perfect|great|awesome|so much|very much) ?)+ $/;
/** Emoji alone ("👍", "🙏", "😊"): an acknowledgement, never a request. */
const EMOJI_ONLY = /^(?:\p{Extended_Pictographic}|\p{Emoji_Modifier}|\u200d|\ufe0f|\s)+$/u;

const HOT_LEAD: RegExp[] = [
  /^ (yes|yeah|yep|yup|sure|absolutely|definitely|please|y)( please)?( thanks?| thank you)?( [a-z]+)? $/,
  /\b(do|have) you (have|got) (anything|any|something|room|time|an opening)\b/,
  /\b(is|are) there (an? |any )?(opening|openings|slot|slots|availability|time|room)\b/,
  /\b(fit|squeeze|get) me in\b/,
  /\bcan i (use|redeem) (the|my|this|that) (code|offer|discount|deal)\b/,
  /\bbook (me|it|an?|my)\b/,
  /\b(can|could|may) i (come|come in|get in|book|schedule|stop by|pop in)\b/,
  /\b(i'?d|i would|i want|i wanna|want) (to|like to)? ?(book|come in|schedule|make an appointment)\b/,
  /\b(schedule|set up|make) (me|an appointment|an appt)\b/,
  /\b(any|what) (openings|availability|times|slots)\b/,
  /\bavailab(le|ility)\b/,
  /\b(is|are) (there|you) (any|open)\b/,
  /\b(monday|tuesday|wednesday|thursday|friday|saturday|tomorrow|next week)\b.{0,20}\?/,
  /\binterested\b/,
  /\bsign me up\b/,
  /\bready to book\b/,
];

/** Classifies one inbound reply. */
export function classifyReply(text: string): ReplyIntent {
  const kw = keywordForm(text);
  if ((OPT_OUT_KEYWORDS as readonly string[]).includes(kw)) return 'opt_out';
  if ((OPT_IN_KEYWORDS as readonly string[]).includes(kw)) return 'opt_in';
  if ((HELP_KEYWORDS as readonly string[]).includes(kw)) return 'help';
  if (COMPACT_STOP.test(kw.replace(/[^\p{L}]/gu, ''))) return 'opt_out_free_text';
  if (text.trim() !== '' && EMOJI_ONLY.test(text.trim())) return 'acknowledgement';
  const w = words(text);
  if (w.trim() === '') return 'other';
  // "Can I stop by Tuesday?" is interest, not a stop request: read it before the stop patterns.
  const stopBy = /\bstop (by|in|over)\b/.test(w);
  if (!stopBy && FREE_TEXT_STOP.some((re) => re.test(w))) return 'opt_out_free_text';
  if (APPOINTMENT_CHANGE.some((re) => re.test(w))) return 'appointment_change';
  if (SNOOZE.some((re) => re.test(w))) return 'snooze';
  if (ACKNOWLEDGEMENT.test(w)) return 'acknowledgement';
  if (HOT_LEAD.some((re) => re.test(w))) return 'hot_lead';
  return 'other';
}

/**
 * The HELP answer carriers require: who is texting, how to reach them, how often, that rates
 * may apply, how to stop. https://www.twilio.com/docs/messaging/compliance/toll-free/console-onboarding
 */
export function helpText(clinic: { name: string; phone?: string; bookingUrl: string }): string {
  const contact = clinic.phone ? `call ${clinic.phone}` : `visit ${clinic.bookingUrl}`;
  return `${clinic.name}: treatment reminders, up to 2 msgs/month. For help ${contact}. Msg & data rates may apply. Reply STOP to opt out.`;
}
