/** Webview messages with their binary packed so that VS Code delivers all of it. */
/**
 * The message with its byte arrays as views into one new ArrayBuffer (large ones in their own). VS Code sends each distinct ArrayBuffer
 * of a webview message as one argument of an RPC call whose argument count it writes in a single byte
 * (`writeMixedArray`), so a message with more than 253 of them (a run with hundreds of sample grids) reaches the
 * page with every later array empty. One buffer per message is always delivered whole; and being a copy, the
 * caller's bytes stay theirs (VS Code may take the memory of the bytes it posts).
 */
export function packBinary<T>(message: T): T {
  const arrays: Uint8Array[] = [];
  const collect = (value: unknown, depth: number): void => {
    if (value instanceof Uint8Array) arrays.push(value);
    else if (depth < 6 && typeof value === 'object' && value !== null) for (const v of Object.values(value)) collect(v, depth + 1);
  };
  collect(message, 0);
  if (arrays.length === 0) return message;
  // Large arrays (a data set's images) get a buffer of their own, so that a small one kept by the page (a
  // checkpoint) does not hold them in memory; there are only ever a few of them.
  const large = (a: Uint8Array) => a.byteLength >= 1 << 20;
  const buffer = new ArrayBuffer(arrays.filter((a) => !large(a)).reduce((n, a) => n + a.byteLength, 0));
  let offset = 0;
  const views = new Map<Uint8Array, Uint8Array>();
  for (const a of arrays) {
    if (views.has(a)) continue;
    if (large(a)) {
      // new Uint8Array, not slice(): a Node Buffer's slice is a view of its memory, and VS Code sends a Buffer as JSON.
      views.set(a, new Uint8Array(a));
      continue;
    }
    const view = new Uint8Array(buffer, offset, a.byteLength);
    view.set(a);
    views.set(a, view);
    offset += a.byteLength;
  }
  const rebuild = (value: unknown, depth: number): unknown => {
    if (value instanceof Uint8Array) return views.get(value);
    if (depth >= 6 || typeof value !== 'object' || value === null) return value;
    if (Array.isArray(value)) return value.map((v) => rebuild(v, depth + 1));
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rebuild(v, depth + 1)]));
  };
  return rebuild(message, 0) as T;
}
