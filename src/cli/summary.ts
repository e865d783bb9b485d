/** How the CLI puts a run's numbers in words. */

/** The best checkpoint in words: its step, the validation NLL that chose it and its test NLL ("conditional NLL",
 *  −log p(x | class), for a class-conditional model). */
export function bestSummary(best: { bestTestNats?: number | null; bestValidationNats?: number | null; bestStep?: number | null; conditional?: boolean }): string {
  if (best.bestTestNats === null || best.bestTestNats === undefined) return '';
  const nll = best.conditional ? 'conditional NLL' : 'NLL';
  const validation = best.bestValidationNats !== null && best.bestValidationNats !== undefined ? `validation ${nll} ${best.bestValidationNats.toFixed(2)}, ` : '';
  return `best checkpoint at step ${best.bestStep}: ${validation}test ${nll} ${best.bestTestNats.toFixed(2)} nats/image`;
}
