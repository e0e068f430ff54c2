// The app stack's parts (network, task, scheduling, API and sign-in, alarms) are constructs of their
// own, but their resources keep the logical ids they had when the stack was one constructor: a part
// is left out of the path a logical id is made from (AppStack.allocateLogicalId). A new logical id
// would make CloudFormation replace the resource, and for the named ones (cluster, bus, schedule
// group, fan-out function, sign-in domain) the replacement would collide with the old name; for the
// log groups it would drop their logs. So child ids are unique across all parts, as they were.
import { type CfnElement, Stack } from "aws-cdk-lib";
import { Construct } from "constructs";

export abstract class AppPart extends Construct {}

/** The logical id `element` would have if no AppPart were in its path. */
export function logicalIdWithoutParts(
  element: CfnElement,
  allocate: (element: CfnElement) => string,
): string {
  const scopes = element.node.scopes.filter((scope) => !(scope instanceof AppPart));
  // The CDK's own algorithm (Stack.allocateLogicalId reads only node.scopes and stack).
  return allocate({ node: { scopes }, stack: Stack.of(element) } as unknown as CfnElement);
}
