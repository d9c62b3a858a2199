// Original file: proto/airlock/v1/worker_gateway.proto


export interface VerificationStats {
  'testsRan'?: (boolean);
  'testExitCode'?: (number);
  'baseTestsRan'?: (boolean);
  'baseTestExitCode'?: (number);
  'baseReportRead'?: (boolean);
  'testsBefore'?: (number);
  'failingBefore'?: (number);
  'testsAfter'?: (number);
  'failingAfter'?: (number);
  'testsFixed'?: (number);
  'testsRegressed'?: (number);
  'agentTestRuns'?: (number);
  'reproductionAdded'?: (boolean);
  'reportRead'?: (boolean);
}

export interface VerificationStats__Output {
  'testsRan': (boolean);
  'testExitCode': (number);
  'baseTestsRan': (boolean);
  'baseTestExitCode': (number);
  'baseReportRead': (boolean);
  'testsBefore': (number);
  'failingBefore': (number);
  'testsAfter': (number);
  'failingAfter': (number);
  'testsFixed': (number);
  'testsRegressed': (number);
  'agentTestRuns': (number);
  'reproductionAdded': (boolean);
  'reportRead': (boolean);
}
