// What a notification format gets, and what it must give back.
import type { EventJson } from '../../model/event.js';
import type { Notification } from '../evaluate.js';
import type { RuleSpec, Target } from '../rule.js';

export interface NoticeInput {
  readonly rule: RuleSpec;
  readonly notification: Notification | TestNotification;
  readonly samples: readonly EventJson[];
  /** A link to the matching events in the search API. */
  readonly searchUrl: string;
  readonly publicUrl: string;
  /** The target it goes to (PagerDuty's routing key is there). */
  readonly target: Target;
}

export interface TestNotification extends Omit<Notification, 'kind'> {
  kind: 'test';
}

export type Formatter = (input: NoticeInput) => unknown;
