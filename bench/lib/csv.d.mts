// Types for csv.mjs (bench/ is plain JavaScript; the tests import it too).
export function parseCsv(text: string): Array<Record<string, string>>;
