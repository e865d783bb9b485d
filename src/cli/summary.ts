/** How the CLI puts a run's numbers in words. */

/** The best checkpoint in words: its step, the validation NLL that chose it and its test NLL. */
export function bestSummary(best: { bestTestNats?: number | null; bestValidationNats?: number | null; bestStep?: number | null }): string {
  if (best.bestTestNats === null || best.bestTestNats === undefined) return '';
  const validation = best.bestValidationNats !== null && best.bestValidationNats !== undefined ? `validation NLL ${best.bestValidationNats.toFixed(2)}, ` : '';
  return `best checkpoint at step ${best.bestStep}: ${validation}test NLL ${best.bestTestNats.toFixed(2)} nats/image`;
}
