/**
 * The interval arithmetic against published worked examples:
 * - Wilson (score) intervals: R. G. Newcombe, "Two-sided confidence intervals for the single
 *   proportion: comparison of seven methods", Statistics in Medicine 17 (1998) 857–872, Table I,
 *   method 3 (examples 81/263, 15/148, 0/20, 1/29).
 * - Differences: R. G. Newcombe, "Interval estimation for the difference between independent
 *   proportions: comparison of eleven methods", Statistics in Medicine 17 (1998) 873–890, Table II,
 *   method 10 (hybrid score, no continuity correction), examples (a)–(h).
 * - Sample size: the textbook case of 40% against 60% at 5% two-sided and 80% power, 97 a group
 *   (Fleiss, Statistical Methods for Rates and Proportions, formula without continuity correction),
 *   and a hand calculation for unequal arms.
 */
import { describe, expect, it } from 'vitest';
import { excludesZero, newcombeDifference, sampleSizeForLift, wilsonInterval } from '../../src/core/proportions.js';

const r4 = (v: number) => Math.round(v * 10_000) / 10_000;

describe('Wilson interval (Newcombe 1998a, Table I, method 3)', () => {
  it.each([
    [81, 263, 0.2553, 0.3662],
    [15, 148, 0.0624, 0.1605],
    [0, 20, 0, 0.1611],
    [1, 29, 0.0061, 0.1718],
  ])('%i/%i: %f to %f', (x, n, lower, upper) => {
    const i = wilsonInterval(x, n)!;
    expect([r4(i.lower), r4(i.upper)]).toEqual([lower, upper]);
  });

  it('knows nothing of an empty arm and refuses impossible counts', () => {
    expect(wilsonInterval(0, 0)).toBeNull();
    expect(() => wilsonInterval(3, 2)).toThrow(RangeError);
  });
});

describe('Newcombe hybrid score interval for a difference (Newcombe 1998b, Table II, method 10)', () => {
  it.each([
    ['(a)', 56, 70, 48, 80, 0.0524, 0.3339],
    ['(b)', 9, 10, 3, 10, 0.1705, 0.809],
    ['(c)', 6, 7, 2, 7, 0.0582, 0.8062],
    ['(d)', 5, 56, 0, 29, -0.0381, 0.1926],
    ['(e)', 0, 10, 0, 20, -0.1611, 0.2775],
    ['(f)', 0, 10, 0, 10, -0.2775, 0.2775],
    ['(g)', 10, 10, 0, 20, 0.6791, 1],
    ['(h)', 10, 10, 0, 10, 0.6075, 1],
  ])('example %s %i/%i − %i/%i: %f to %f', (_, x1, n1, x2, n2, lower, upper) => {
    const d = newcombeDifference(x1, n1, x2, n2)!;
    expect([r4(d.lower), r4(d.upper)]).toEqual([lower, upper]);
    expect(d.estimate).toBeCloseTo(x1 / n1 - x2 / n2, 12);
  });

  it('calls a difference only when its interval excludes zero', () => {
    expect(excludesZero(newcombeDifference(56, 70, 48, 80)!)).toBe(true);
    expect(excludesZero(newcombeDifference(5, 56, 0, 29)!)).toBe(false);
  });
});

describe('clients needed to see a 20-point lift at 95% with 80% power', () => {
  it('40% against 60%, equal arms: 97 each (the textbook figure)', () => {
    expect(sampleSizeForLift(0.4, 0.6)).toEqual({ comparison: 97, treated: 97 });
  });

  it('a 10% holdout (nine treated per held-out client): the hand calculation', () => {
    // p̄ = (9·0.6 + 0.4)/10 = 0.58; zα·√(0.58·0.42·(1 + 1/9)) = 1.959964·0.520256 = 1.019685;
    // zβ·√(0.24/9 + 0.24) = 0.841621·0.516398 = 0.434612; (1.454297)² / 0.04 = 52.87 → 53; 9·53 = 477.
    expect(sampleSizeForLift(0.4, 0.6, 9)).toEqual({ comparison: 53, treated: 477 });
  });
});
