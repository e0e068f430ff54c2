// cdk-nag acknowledgements (cdk-nag 3 uses the CDK's own Validations API). Every call site states
// its reason next to the construct it excuses; a finding id may name one detail, such as
// `AwsSolutions-IAM5[Resource::<arn>/backups/*]`.
import { Validations } from "aws-cdk-lib";
import type { IConstruct } from "constructs";

export function acknowledge(construct: IConstruct, id: string, reason: string): void {
  Validations.of(construct).acknowledge({ id, reason });
}
