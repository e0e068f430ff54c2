// Where the tasks and the API function run. Default: a VPC with public subnets and no NAT gateway
// (no hourly cost); tasks get a public IP to reach MongoDB on the internet (Atlas) and the AWS APIs.
// With a VPC of yours, tasks and the API run in its private subnets, next to MongoDB.
import { RemovalPolicy } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import type { Construct } from "constructs";
import { AppPart } from "./part.ts";

/** A VPC of the user's (MongoDB inside it), given as ids so that synth needs no AWS lookup. */
export interface ExistingNetwork {
  readonly vpcId: string;
  readonly availabilityZones: readonly string[];
  /** Private subnets with a route to AWS APIs (NAT or VPC endpoints) and to MongoDB. */
  readonly subnetIds: readonly string[];
}

export interface NetworkProps {
  /** Your VPC; absent: the network is made here. */
  readonly existing?: ExistingNetwork | undefined;
  readonly logRetention: logs.RetentionDays;
}

export class Network extends AppPart {
  readonly vpc: ec2.IVpc;
  /** The subnets tasks run in. */
  readonly subnets: ec2.ISubnet[];
  /** The tasks' (and, in your VPC, the API function's) security group. */
  readonly securityGroup: ec2.SecurityGroup;
  /** Tasks need a public IP only in the network made here (public subnets, no NAT). */
  readonly assignPublicIp: boolean;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    const own = props.existing;
    this.vpc = own
      ? ec2.Vpc.fromVpcAttributes(this, "Vpc", {
          vpcId: own.vpcId,
          availabilityZones: [...own.availabilityZones],
          privateSubnetIds: [...own.subnetIds],
        })
      : new ec2.Vpc(this, "Vpc", {
          maxAzs: 2,
          natGateways: 0,
          subnetConfiguration: [{ name: "public", subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 }],
          flowLogs: {
            rejected: {
              destination: ec2.FlowLogDestination.toCloudWatchLogs(
                new logs.LogGroup(this, "FlowLogs", {
                  retention: props.logRetention,
                  removalPolicy: RemovalPolicy.DESTROY,
                }),
              ),
              trafficType: ec2.FlowLogTrafficType.REJECT,
            },
          },
        });
    this.subnets = own ? this.vpc.privateSubnets : this.vpc.publicSubnets;
    this.assignPublicIp = !own;
    this.securityGroup = new ec2.SecurityGroup(this, "TaskSecurityGroup", {
      vpc: this.vpc,
      description: "mongo-backup-manager tasks: no inbound; outbound to MongoDB and AWS APIs",
      allowAllOutbound: true,
    });
  }

  /** A function's placement next to MongoDB: inside your VPC; nothing in the network made here. */
  functionPlacement(): Pick<lambda.FunctionProps, "vpc" | "vpcSubnets" | "securityGroups"> {
    return this.assignPublicIp
      ? {}
      : { vpc: this.vpc, vpcSubnets: { subnets: this.subnets }, securityGroups: [this.securityGroup] };
  }
}
