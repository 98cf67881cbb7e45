// LogQL's ip("…") matcher: one address, a CIDR range (`10.0.0.0/8`) or a
// from-to range (`192.168.0.1-192.168.0.99`), IPv4 or IPv6, as Loki's
// ip() filters take them; checked with node's BlockList.
import { BlockList, isIP } from 'node:net';
import { SluiceError } from '../../errors.js';
import { logqlError } from './parse.js';

/** Whether an address is in the pattern's range; a 400 for a pattern that is not one. */
export function ipMatcher(pattern: string): (address: string) => boolean {
  const list = new BlockList();
  const p = pattern.trim();
  const family = (a: string): 'ipv4' | 'ipv6' => (isIP(a) === 6 ? 'ipv6' : 'ipv4');
  const bad = (): Error => logqlError(`ip(${JSON.stringify(pattern)}): give an address, a CIDR range (10.0.0.0/8) or a range (10.0.0.1-10.0.0.9)`);
  try {
    if (p.includes('/')) {
      const [net, bits] = p.split('/') as [string, string];
      if (!isIP(net) || !/^\d{1,3}$/.test(bits)) throw bad();
      list.addSubnet(net, Number(bits), family(net));
    } else if (p.includes('-')) {
      const [from, to] = p.split('-').map((x) => x.trim()) as [string, string];
      if (!isIP(from) || isIP(from) !== isIP(to)) throw bad();
      list.addRange(from, to, family(from));
    } else {
      if (!isIP(p)) throw bad();
      list.addAddress(p, family(p));
    }
  } catch (e) {
    // BlockList throws its own errors for a range whose ends are reversed.
    throw e instanceof SluiceError ? e : bad();
  }
  return (address) => {
    const f = isIP(address);
    return f !== 0 && list.check(address, f === 6 ? 'ipv6' : 'ipv4');
  };
}

// Runs of the characters an address is written with: each run, and each
// IPv4 address inside one, is checked.
const CANDIDATE = /[0-9A-Fa-f:.]{2,}/g;

/** Whether a line has an address in the range, as Loki's ip() line filter looks for one. */
export function lineHasIp(match: (address: string) => boolean): (line: string) => boolean {
  return (line) => {
    for (const m of line.matchAll(CANDIDATE)) {
      const run = m[0].replace(/^[.:]+|[.:]+$/g, '');
      if (match(run)) return true;
      // An IPv4 address with its port (10.0.0.1:443) or inside a longer run.
      for (const v4 of run.matchAll(/\d{1,3}(?:\.\d{1,3}){3}/g)) if (match(v4[0])) return true;
    }
    return false;
  };
}
