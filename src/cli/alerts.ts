// `sluice alerts list|create|delete|snooze|unsnooze` for scripting, through the API.
import { parseArgs } from 'node:util';
import type { Config } from '../config.js';
import { callApi, serverTarget } from './client.js';

const USAGE = `usage:
  sluice alerts list [--json]
  sluice alerts create --name NAME --query Q --window 1m --op '>' --threshold 20 --target URL
                       [--format sluice|slack|alertmanager] [--group-by service] [--interval 15s] [--for 0s] [--repeat 1h]
  sluice alerts delete ID
  sluice alerts snooze ID (--for 2h | --until 2026-12-24T08:00:00Z)
  sluice alerts unsnooze ID
options: --url URL (or SLUICE_URL), --token ADMIN_TOKEN (or SLUICE_TOKEN)`;

interface RuleOut {
  id: string;
  name: string;
  query: string;
  window: string;
  condition: { op: string; threshold: number };
  state?: string;
  snoozed?: boolean;
  snoozed_until?: string | null;
  targets: Array<{ url: string; secret?: string }>;
}

export async function alertsCommand(config: Config, argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      query: { type: 'string', default: '' },
      window: { type: 'string', default: '1m' },
      op: { type: 'string', default: '>' },
      threshold: { type: 'string' },
      target: { type: 'string', multiple: true },
      format: { type: 'string', default: 'sluice' },
      'group-by': { type: 'string', multiple: true },
      interval: { type: 'string' },
      for: { type: 'string' },
      until: { type: 'string' },
      repeat: { type: 'string' },
      json: { type: 'boolean', default: false },
      url: { type: 'string' },
      token: { type: 'string' },
    },
  });
  const target = serverTarget(config, values);
  const [action, arg] = positionals;
  switch (action) {
    case 'list': {
      const { rules } = await callApi<{ rules: RuleOut[] }>(target, 'GET', '/api/v1/alerts/rules');
      if (values.json) process.stdout.write(`${JSON.stringify(rules)}\n`);
      else {
        for (const r of rules) {
          const state = `${r.state ?? ''}${r.snoozed ? ` (snoozed until ${r.snoozed_until})` : ''}`;
          process.stdout.write(`${r.id}\t${state}\t${r.name}\t${r.query} ${r.condition.op} ${r.condition.threshold} in ${r.window}\n`);
        }
      }
      return 0;
    }
    case 'create': {
      if (!values.name || values.threshold === undefined || !values.target?.length) {
        process.stderr.write(`${USAGE}\n`);
        return 2;
      }
      const body = {
        name: values.name,
        query: values.query,
        window: values.window,
        condition: { op: values.op, threshold: Number(values.threshold) },
        targets: values.target.map((url) => ({ url, format: values.format })),
        ...(values['group-by'] ? { group_by: values['group-by'].flatMap((g) => g.split(',')) } : {}),
        ...(values.interval ? { interval: values.interval } : {}),
        ...(values.for ? { for: values.for } : {}),
        ...(values.repeat ? { repeat: values.repeat } : {}),
      };
      const rule = await callApi<RuleOut>(target, 'POST', '/api/v1/alerts/rules', body);
      process.stdout.write(`${JSON.stringify(rule)}\n`);
      process.stderr.write(`created alert rule ${rule.id}; each target's secret is shown only this once\n`);
      return 0;
    }
    case 'delete': {
      if (!arg) {
        process.stderr.write(`${USAGE}\n`);
        return 2;
      }
      await callApi(target, 'DELETE', `/api/v1/alerts/rules/${encodeURIComponent(arg)}`);
      process.stderr.write(`deleted alert rule ${arg}\n`);
      return 0;
    }
    case 'snooze': {
      // --for is also create's `for` (how long a condition must hold): here it is the snooze's length.
      if (!arg || (values.for === undefined) === (values.until === undefined)) {
        process.stderr.write(`${USAGE}\n`);
        return 2;
      }
      const body = values.until !== undefined ? { until: values.until } : { for: values.for };
      const rule = await callApi<RuleOut>(target, 'POST', `/api/v1/alerts/rules/${encodeURIComponent(arg)}/snooze`, body);
      process.stderr.write(`snoozed alert rule ${arg} until ${rule.snoozed_until}: no notices until then\n`);
      return 0;
    }
    case 'unsnooze': {
      if (!arg) {
        process.stderr.write(`${USAGE}\n`);
        return 2;
      }
      await callApi(target, 'DELETE', `/api/v1/alerts/rules/${encodeURIComponent(arg)}/snooze`);
      process.stderr.write(`alert rule ${arg} is no longer snoozed\n`);
      return 0;
    }
    default:
      process.stderr.write(`${USAGE}\n`);
      return 2;
  }
}
