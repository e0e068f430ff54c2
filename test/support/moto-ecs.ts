// An ECS cluster and Fargate task definition on moto, in the default VPC's network, for tests of the
// ECS runner and of what reacts to its tasks.
import { CreateClusterCommand, type ECSClient, RegisterTaskDefinitionCommand } from "@aws-sdk/client-ecs";
import { awsClientConfig } from "./env.ts";

/** moto's EC2 Query API (the project has no EC2 client). */
export async function ec2(action: string, params: Record<string, string>): Promise<string> {
  const { endpoint, region } = awsClientConfig("ec2");
  const res = await fetch(endpoint, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      authorization: `AWS4-HMAC-SHA256 Credential=testing/20250101/${region}/ec2/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: new URLSearchParams({ Action: action, Version: "2016-11-15", ...params }),
  });
  if (res.status !== 200) throw new Error(`moto EC2 ${action}: HTTP ${res.status}`);
  return res.text();
}

export const xmlValues = (xml: string, tag: string) =>
  [...xml.matchAll(new RegExp(`<${tag}>([^<]+)<`, "g"))].map((m) => m[1]!);

/** A subnet and the security group of moto's default VPC. */
export async function defaultNetwork(): Promise<{ subnet: string; securityGroup: string }> {
  const subnets = await ec2("DescribeSubnets", {
    "Filter.1.Name": "default-for-az",
    "Filter.1.Value.1": "true",
  });
  const groups = await ec2("DescribeSecurityGroups", {
    "Filter.1.Name": "group-name",
    "Filter.1.Value.1": "default",
  });
  return { subnet: xmlValues(subnets, "subnetId")[0]!, securityGroup: xmlValues(groups, "groupId")[0]! };
}

/** A cluster and a Fargate task definition whose container is named "task". */
export async function createEcsCluster(client: ECSClient, cluster: string, family: string): Promise<void> {
  await client.send(new CreateClusterCommand({ clusterName: cluster }));
  await client.send(
    new RegisterTaskDefinitionCommand({
      family,
      networkMode: "awsvpc",
      requiresCompatibilities: ["FARGATE"],
      cpu: "256",
      memory: "512",
      // moto needs a container-level memory (AWS Fargate accepts the task-level one alone).
      containerDefinitions: [{ name: "task", image: "mbm-task:test", essential: true, memory: 512 }],
    }),
  );
}
