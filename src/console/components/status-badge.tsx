/** A red/amber/green verdict as a word and a shape, never colour alone, with its one-line reason. */
import type { Rag } from '../data/health-rules.js';

const WORD: Record<Rag, string> = { red: 'Needs action', amber: 'Watch', green: 'OK' };
const ICON: Record<Rag, string> = { red: '✕', amber: '!', green: '✓' };

export function StatusBadge(props: { status: Rag; why: string; label?: string }) {
  return (
    <span class={`status status--${props.status}`}>
      <span class="status__icon" aria-hidden="true">
        {ICON[props.status]}
      </span>
      <span class="status__word">
        {props.label ? `${props.label}: ` : ''}
        {WORD[props.status]}
      </span>
      <span class="status__why">{props.why}</span>
    </span>
  );
}

/** 0.6812 → "68%"; null → "—". */
export const percent = (v: number | null | undefined, digits = 0): string =>
  v === null || v === undefined || !Number.isFinite(v) ? '—' : `${(v * 100).toFixed(digits)}%`;
