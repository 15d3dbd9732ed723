/**
 * Sign-in attempts per client address: passwords and second-step codes share one budget, so a
 * guesser gains nothing by switching forms. In memory: a restart forgets it, and the per-account
 * lockout (users.ts) is the durable guard.
 */
export interface LoginThrottle {
  /** Counts an attempt from `ip`; true when it is over the limit for the window. */
  exceeded(ip: string, now: Date): boolean;
}

export const LOGIN_WINDOW_MS = 15 * 60_000;

export function createLoginThrottle(attemptsPerWindow: number, windowMs = LOGIN_WINDOW_MS): LoginThrottle {
  const attempts = new Map<string, number[]>();
  return {
    exceeded(ip, now) {
      const t = now.getTime();
      const recent = (attempts.get(ip) ?? []).filter((at) => t - at < windowMs);
      recent.push(t);
      attempts.set(ip, recent);
      return recent.length > attemptsPerWindow;
    },
  };
}
