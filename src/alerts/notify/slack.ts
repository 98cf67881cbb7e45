// Slack-compatible incoming-webhook payload: {text, blocks}.
import type { Formatter } from './types.js';

const ICON = { firing: ':rotating_light:', resolved: ':white_check_mark:', test: ':test_tube:' } as const;

export const slackFormat: Formatter = ({ rule, notification: n, samples, searchUrl }) => {
  const group = Object.entries(n.labels).map(([k, v]) => `${k}=${v}`).join(' ');
  const text = `${ICON[n.kind]} [${n.kind.toUpperCase()}] ${rule.name}${group ? ` (${group})` : ''}: ${n.value} events in ${rule.window} (${rule.condition.op} ${rule.condition.threshold})`;
  const blocks: unknown[] = [
    { type: 'section', text: { type: 'mrkdwn', text: `*${text}*\n<${searchUrl}|Matching events> · query \`${rule.query || '*'}\`` } },
  ];
  if (samples.length > 0) {
    const lines = samples.map((e) => `${e.time.slice(0, 19)}Z ${e.level.toUpperCase()} ${e.service} ${e.message}`.slice(0, 300));
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: '```' + lines.join('\n').slice(0, 2800) + '```' } });
  }
  return { text, blocks };
};
