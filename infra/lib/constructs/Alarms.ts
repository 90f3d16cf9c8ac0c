import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** Props for {@link Alarms}. */
export interface AlarmsProps {
  readonly api: apigwv2.HttpApi;
  readonly deadLetterQueue: sqs.Queue;
  /** Every Lambda of the stage: each gets an errors alarm. */
  readonly functions: readonly lambda.Function[];
  /** Alarms defined elsewhere (indexer lag, relayer balance) to send to the same topic. */
  readonly more?: readonly cloudwatch.Alarm[];
  /** Subscribed to the alarm topic when set. */
  readonly email?: string;
}

/**
 * What someone should be woken for, on one SNS topic (SSE, TLS only): failed training jobs (DLQ not empty), API
 * 5xx, any Lambda's errors, and the alarms other constructs define (indexer lag, relayer balance, relay DLQ).
 */
export class Alarms extends Construct {
  readonly topic: sns.Topic;

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'Topic', { displayName: 'Provena alarms', enforceSSL: true });
    if (props.email !== undefined) this.topic.addSubscription(new subs.EmailSubscription(props.email));
    const action = new actions.SnsAction(this.topic);
    const nonZero = { threshold: 0, comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD, evaluationPeriods: 1, treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING };

    new cloudwatch.Alarm(this, 'JobsDlqNotEmpty', {
      alarmDescription: 'Training jobs failed 3 times and were dead-lettered',
      metric: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
      ...nonZero,
    }).addAlarmAction(action);

    new cloudwatch.Alarm(this, 'Api5xx', {
      alarmDescription: 'API answered 5xx more than 5 times in 5 minutes',
      metric: props.api.metricServerError({ period: Duration.minutes(5), statistic: 'Sum' }),
      ...nonZero,
      threshold: 5,
    }).addAlarmAction(action);

    for (const fn of props.functions) {
      // A handler maps every expected failure to a 4xx/5xx response; an invocation error is a crash or timeout.
      new cloudwatch.Alarm(fn, 'Errors', {
        alarmDescription: `Lambda ${fn.node.path} failed (crash, timeout or throttle)`,
        metric: fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        ...nonZero,
      }).addAlarmAction(action);
    }
    for (const alarm of props.more ?? []) alarm.addAlarmAction(action);
  }
}
