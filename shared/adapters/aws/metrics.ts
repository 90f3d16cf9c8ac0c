/**
 * CloudWatch metrics the backend emits and the CDK alarms read: one definition of each namespace and name.
 * Emitted as CloudWatch embedded metric format (EMF) log lines, so a Lambda needs no SDK call and no
 * `cloudwatch:PutMetricData` permission: CloudWatch Logs extracts the metric from the function's log group.
 */

/** The indexer's metrics (`functions/indexer/tick.ts`). */
export const INDEXER_METRICS = { namespace: 'Provena/Indexer', lagBlocks: 'LagBlocks' } as const;

/** The relayer consumer's metrics (`functions/relayer/consume.ts`). */
export const RELAYER_METRICS = { namespace: 'Provena/Relayer', balanceBelowThreshold: 'BalanceBelowThreshold', balanceEth: 'BalanceEth' } as const;

/**
 * One EMF record: `values` as metrics of `namespace` with the one dimension `stage`.
 *
 * @example
 * ```ts
 * console.log(JSON.stringify(emfRecord(INDEXER_METRICS.namespace, 'prod', { [INDEXER_METRICS.lagBlocks]: 3 })));
 * ```
 */
export function emfRecord(namespace: string, stage: string, values: Readonly<Record<string, number>>, now: number = Date.now()): Record<string, unknown> {
  return {
    _aws: {
      Timestamp: now,
      CloudWatchMetrics: [{ Namespace: namespace, Dimensions: [['stage']], Metrics: Object.keys(values).map((Name) => ({ Name, Unit: 'None' })) }],
    },
    stage,
    ...values,
  };
}
