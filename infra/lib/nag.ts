/**
 * cdk-nag acknowledgments (AwsSolutions pack, `lib/ProvenaStack.test.ts` requires zero unacknowledged findings).
 * Each acknowledgment sits beside the construct it concerns, with the reason in code; these helpers only build
 * cdk-nag v3's finding ids, which name a wildcard resource by the logical id of the resource it widens.
 */
import { Stack, Validations, type CfnResource } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** Acknowledges finding `id` on `scope` and everything under it. */
export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

/** The `<LogicalId.Arn>` token cdk-nag prints for `resource`'s ARN. */
export function arnToken(resource: IConstruct): string {
  const cfn = (resource.node.defaultChild ?? resource) as CfnResource;
  return `<${Stack.of(resource).getLogicalId(cfn)}.Arn>`;
}

/** Acknowledges the IAM5 finding for a wildcard resource `pattern` (e.g. `${arnToken(table)}/index/*`). */
export function acknowledgeWildcardResource(scope: IConstruct, pattern: string, reason: string): void {
  acknowledge(scope, `AwsSolutions-IAM5[Resource::${pattern}]`, reason);
}
