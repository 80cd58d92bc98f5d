/**
 * Caps on the free text Unpod returns for a call (it comes from the far end of a phone line and from a model):
 * kept whole up to these sizes, cut beyond with a visible marker. Applied where a call enters our state, so
 * workflow histories, the API and exports never carry more.
 */
export const SUMMARY_MAX_CHARS = 4_000;
export const TRANSCRIPT_MAX_CHARS = 32_000;
export const TRUNCATED_MARK = ' …[truncated]';

export function capText(value: string | null | undefined, max: number): string | null {
  if (value === null || value === undefined) return null;
  if (value.length <= max) return value;
  return value.slice(0, max - TRUNCATED_MARK.length) + TRUNCATED_MARK;
}
