// Types for clickhouse-standin.mjs (a plain-node program: its child process
// runs without a TypeScript loader).
export interface Standin {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  readonly user: string;
  readonly password: string;
  readonly pid: number | undefined;
  /** Stops the child process and removes the data directory it made. */
  close(): Promise<void>;
}

export interface StandinOptions {
  /** When a password is given, requests must carry this user and password. */
  user?: string;
  password?: string;
  /** Default: a new directory under SLUICE_TEST_TMP (or the OS temp dir), removed by close(). */
  dataDir?: string;
  /** Server-profile defaults, e.g. { output_format_json_quote_64bit_integers: 1 }. */
  settings?: Record<string, string | number>;
  env?: Record<string, string>;
}

export function startStandin(opts?: StandinOptions): Promise<Standin>;

export function scanStatement(text: string): { kind: string; dataStart?: number; format?: string; multi?: number };
