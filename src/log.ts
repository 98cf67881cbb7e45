// Where Sluice's own logs go: JSON lines on stdout (twelve-factor).
import { type DestinationStream, pino } from 'pino';

/**
 * stdout, written synchronously. pino's default destination is
 * asynchronous and flushes at exit; when whatever reads our stdout has gone
 * (EPIPE), that flush retries forever, and `serve` never finished stopping
 * on SIGTERM. A synchronous write sees the EPIPE at once and pino then
 * stops logging instead.
 */
export function logDestination(): DestinationStream {
  return pino.destination({ dest: 1, sync: true });
}
