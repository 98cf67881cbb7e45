// One temp directory for the whole run, removed at the end: every data
// directory, spool and socket a test makes goes inside it (tempDir), so runs
// do not leave hundreds of engine directories behind in /tmp.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function setup(): () => void {
  const root = mkdtempSync(join(tmpdir(), 'sluice-tests-'));
  // Forked test processes inherit the environment.
  process.env.SLUICE_TEST_TMP = root;
  return () => rmSync(root, { recursive: true, force: true });
}
