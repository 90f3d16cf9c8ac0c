/**
 * Each listing's privacy budget as jobs use it: epsilon `spent` by finished jobs and `reserved` by jobs not finished
 * yet, across all licenses. Every change is one conditional write on the listing's counters, so concurrent
 * reservations can never together exceed the budget. Adapter: `DynamoPrivacyLedger` (the datasets table).
 */
export interface PrivacyLedger {
  /**
   * Reserves `epsilon` of `datasetId`'s `budget`; false (nothing written) when spent + reserved + epsilon would
   * exceed it.
   */
  reserve(datasetId: string, epsilon: number, budget: number): Promise<boolean>;
  /**
   * Ends a reservation: `spent` (≤ `reserved`) moves to spent, the rest is released. Call once per reservation
   * (after the job's conditional write to a finished status, which only one caller wins).
   */
  settle(datasetId: string, reserved: number, spent: number): Promise<void>;
}
