// Alerts: the events bus and the SNS topic that the task and the functions announce outcomes on, and
// an optional email subscription. Alarms: failures and stale schedules already notify through the
// topic (the app publishes them), so their alarms are for dashboards and have no action, so nobody is
// told twice; function errors and dead letters are not announced by the app: those alarms notify.
import { CfnCondition, CfnParameter, Duration, Fn } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as actions from "aws-cdk-lib/aws-cloudwatch-actions";
import * as events from "aws-cdk-lib/aws-events";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as kms from "aws-cdk-lib/aws-kms";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as sns from "aws-cdk-lib/aws-sns";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import type { Construct } from "constructs";
import { AppPart } from "./part.ts";

export interface AlertsProps {
  /** Encrypts the topic. */
  readonly key: kms.IKey;
  readonly eventBusName: string;
}

export class Alerts extends AppPart {
  readonly bus: events.EventBus;
  readonly topic: sns.Topic;

  constructor(scope: Construct, id: string, props: AlertsProps) {
    super(scope, id);
    this.bus = new events.EventBus(this, "Events", { eventBusName: props.eventBusName });
    this.topic = new sns.Topic(this, "Alerts", {
      displayName: "mongo-backup-manager alerts",
      masterKey: props.key,
      enforceSSL: true,
    });
    const alertEmail = new CfnParameter(this, "AlertEmail", {
      type: "String",
      default: "",
      description: "Optional: an email address subscribed to failure and staleness alerts",
    });
    const hasEmail = new CfnCondition(this, "HasAlertEmail", {
      expression: Fn.conditionNot(Fn.conditionEquals(alertEmail.valueAsString, "")),
    });
    new sns.CfnSubscription(this, "AlertEmailSubscription", {
      topicArn: this.topic.topicArn,
      protocol: "email",
      endpoint: alertEmail.valueAsString,
    }).cfnOptions.condition = hasEmail;
    // Alarms publish to the KMS-encrypted topic. (EventBridge needs no grant: the bus is not
    // encrypted with this key and every rule targets a function; the scheduler's DLQ is written by
    // its own role, which has its own grant.)
    props.key.grantEncryptDecrypt(new iam.ServicePrincipal("cloudwatch.amazonaws.com"));
  }

  /** Announcing outcomes: putting events on the bus and publishing to the topic, nothing else. */
  grantAnnounce(grantee: iam.IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      // DescribeEventBus: the bus adapter checks the bus exists, since PutEvents to a missing one succeeds.
      new iam.PolicyStatement({
        actions: ["events:PutEvents", "events:DescribeEventBus"],
        resources: [this.bus.eventBusArn],
      }),
    );
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ["sns:Publish"], resources: [this.topic.topicArn] }),
    );
  }

  /** The environment that tells the task and the functions where to announce. */
  get environment(): Record<string, string> {
    return { MBM_EVENT_BUS_NAME: this.bus.eventBusName, MBM_ALERT_TOPIC_ARN: this.topic.topicArn };
  }
}

export interface AlarmsProps {
  readonly alerts: Alerts;
  /** Every function, by the name its alarm describes it with. */
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  readonly deadLetters: sqs.IQueue;
}

export class Alarms extends AppPart {
  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    const { bus, topic } = props.alerts;
    const notify = new actions.SnsAction(topic);
    const onBus = (name: string, detailType: string) => {
      const rule = new events.Rule(this, `${name}Rule`, {
        eventBus: bus,
        eventPattern: { source: ["mongo-backup-manager"], detailType: [detailType] },
        // No target: the rule exists for its MatchedEvents metric; the app notifies people itself.
      });
      new cloudwatch.Alarm(this, `${name}Alarm`, {
        alarmDescription: `${detailType} events in the last 5 minutes`,
        metric: new cloudwatch.Metric({
          namespace: "AWS/Events",
          metricName: "MatchedEvents",
          dimensionsMap: { RuleName: rule.ruleName, EventBusName: bus.eventBusName },
          statistic: "Sum",
          period: Duration.minutes(5),
        }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    };
    onBus("BackupFailed", "BackupFailed");
    onBus("ScheduleStale", "ScheduleStale");
    for (const [name, f] of Object.entries(props.functions)) {
      new cloudwatch.Alarm(this, `${name}Errors`, {
        alarmDescription: `The ${name} function failed`,
        metric: f.metricErrors({ period: Duration.minutes(5) }),
        threshold: 1,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }).addAlarmAction(notify);
    }
    new cloudwatch.Alarm(this, "ScheduleDeadLettersAlarm", {
      alarmDescription: "A schedule firing failed every retry and is in the dead-letter queue",
      metric: props.deadLetters.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) }),
      threshold: 1,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }).addAlarmAction(notify);
  }
}
