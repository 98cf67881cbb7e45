// Formats by name: a new channel is an added entry here, not an edit elsewhere.
import type { Format } from '../rule.js';
import { alertmanagerFormat } from './alertmanager.js';
import { pagerdutyFormat } from './pagerduty.js';
import { slackFormat } from './slack.js';
import { sluiceFormat } from './sluice.js';
import type { Formatter } from './types.js';

export const FORMATTERS: Readonly<Record<Format, Formatter>> = {
  sluice: sluiceFormat,
  slack: slackFormat,
  alertmanager: alertmanagerFormat,
  pagerduty: pagerdutyFormat,
};
