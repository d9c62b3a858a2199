import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadModule, parseTerraform, type TerraformModule } from './hcl-module';
import {
  checkDatabases,
  checkExample,
  checkOutputs,
  checkReadme,
  checkReferences,
  checkSecretsPolicies,
  checkSharedLibrary,
  checkShellSyntax,
  checkSystemdUnits,
  checkTemplates,
  checkUserDataSize,
  checkVariables,
  checkVersions,
  checkWorkerSecurityGroup,
  gzippedUserDataBytes,
} from './module-checks';

/**
 * The Terraform modules, read by HashiCorp's HCL parser (compiled to WebAssembly in
 * @cdktf/hcl2json): syntax, variables, outputs, references, README tables, examples, the
 * workers' security group, the instance roles' secret access, the database settings, and
 * the boot scripts' shell syntax (the real bash). Every check is also run on a broken copy
 * of the modules, in a temporary directory, to show it can fail. Not run here: terraform
 * validate / plan (no terraform binary, no AWS account) and tflint.
 */

const TERRAFORM_DIR = __dirname;
const SYSTEMD_DIR = path.join(__dirname, '..', 'systemd');
const MODULE_NAMES = ['worker-aws', 'control-plane-aws'] as const;
type ModuleName = (typeof MODULE_NAMES)[number];

// Each case parses the modules twice in WebAssembly, and some run systemd-analyze.
jest.setTimeout(60_000);

async function loadTree(root: string): Promise<{ modules: Map<ModuleName, TerraformModule>; byDirectory: Map<string, TerraformModule>; examples: TerraformModule[] }> {
  const modules = new Map<ModuleName, TerraformModule>();
  const byDirectory = new Map<string, TerraformModule>();
  for (const name of MODULE_NAMES) {
    const module = await loadModule(path.join(root, 'modules', name));
    modules.set(name, module);
    byDirectory.set(path.resolve(module.directory), module);
  }
  const examples = await Promise.all(MODULE_NAMES.map((name) => loadModule(path.join(root, 'examples', name))));
  return { modules, byDirectory, examples };
}

function moduleOf(tree: { modules: Map<ModuleName, TerraformModule> }, name: ModuleName): TerraformModule {
  const module = tree.modules.get(name);
  if (!module) throw new Error(`module ${name} not loaded`);
  return module;
}

describe('HashiCorp HCL parser (@cdktf/hcl2json)', () => {
  it('reads a valid file into Terraform JSON form', async () => {
    const json = await parseTerraform('ok.tf', 'variable "port" {\n  type    = number\n  default = 443\n}\n');
    expect(json['variable']).toEqual({ port: [{ type: '${number}', default: 443 }] });
  });

  it('refuses files with syntax errors, so a module that parses here is valid HCL', async () => {
    await expect(parseTerraform('unclosed.tf', 'variable "port" {\n  type = number\n')).rejects.toThrow(/Unclosed configuration block/);
    await expect(parseTerraform('one-line.tf', 'locals { a = 1\n}\n')).rejects.toThrow(/Invalid single-argument block definition/);
    await expect(parseTerraform('string.tf', 'locals {\n  a = "unterminated\n}\n')).rejects.toThrow(/parse config/);
  });
});

describe('Terraform modules as committed', () => {
  let tree: Awaited<ReturnType<typeof loadTree>>;

  beforeAll(async () => {
    tree = await loadTree(TERRAFORM_DIR);
  });

  describe.each(MODULE_NAMES)('%s', (name) => {
    it('declares every variable with a type, a description and, where it has a shape, a validation', () => {
      expect(moduleOf(tree, name).variables.size).toBeGreaterThan(20);
      expect(checkVariables(moduleOf(tree, name))).toEqual([]);
    });

    it('describes every output', () => {
      expect(moduleOf(tree, name).outputs.size).toBeGreaterThan(5);
      expect(checkOutputs(moduleOf(tree, name))).toEqual([]);
    });

    it('lists exactly its variables and outputs in the README, with the same types and defaults', () => {
      expect(checkReadme(moduleOf(tree, name))).toEqual([]);
    });

    it('references only declared variables, locals, resources and data sources, and uses every variable', () => {
      expect(checkReferences(moduleOf(tree, name))).toEqual([]);
    });

    it('pins Terraform >= 1.5 and the AWS provider ~> 5.x', () => {
      expect(checkVersions(moduleOf(tree, name))).toEqual([]);
    });

    it('grants secretsmanager: and kms: actions on named resources only', () => {
      expect(checkSecretsPolicies(moduleOf(tree, name))).toEqual([]);
    });

    it('gives every template exactly the placeholders it uses, and reads only files that exist', () => {
      expect(checkTemplates(moduleOf(tree, name))).toEqual([]);
    });

    it('ships boot scripts and user-data templates that bash parses', () => {
      expect(checkShellSyntax(moduleOf(tree, name))).toEqual([]);
    });
  });

  it('gives the workers a security group with no ingress rule and no egress to 0.0.0.0/0', () => {
    const worker = moduleOf(tree, 'worker-aws');
    expect([...worker.resources.values()].filter((resource) => resource.type === 'aws_vpc_security_group_egress_rule').length).toBeGreaterThan(0);
    expect(checkWorkerSecurityGroup(worker)).toEqual([]);
  });

  it('creates RDS encrypted, deletion-protected, private, with its password in Secrets Manager', () => {
    expect(checkDatabases(moduleOf(tree, 'control-plane-aws'))).toEqual([]);
  });

  it('has examples that pass every required variable and only declared ones', () => {
    for (const example of tree.examples) expect(checkExample(example, tree.byDirectory)).toEqual([]);
  });

  it('installs systemd units that systemd-analyze verify accepts, the repository\'s units with the modules\' drop-ins', () => {
    expect(checkSystemdUnits(moduleOf(tree, 'worker-aws'), 'user-data.sh.tftpl', 'user_data_vars')).toEqual([]);
    expect(checkSystemdUnits(moduleOf(tree, 'control-plane-aws'), 'user-data-control-plane.sh.tftpl', 'control_plane_user_data_vars', ['airlock-journal-export@airlock-control-plane.service'])).toEqual([]);
    expect(checkSystemdUnits(moduleOf(tree, 'control-plane-aws'), 'user-data-nats.sh.tftpl', 'nats_user_data_vars', ['airlock-journal-export@nats-server.service'])).toEqual([]);
  });

  it('ships one bootstrap library, the same in both modules', () => {
    expect(checkSharedLibrary([...tree.modules.values()])).toEqual([]);
  });

  it('keeps gzipped user data under EC2 16 KB limit, with 4 KB of room for the configuration', () => {
    expect(checkUserDataSize(moduleOf(tree, 'worker-aws'), 'user-data.sh.tftpl', 'user_data_vars')).toEqual([]);
    expect(checkUserDataSize(moduleOf(tree, 'control-plane-aws'), 'user-data-control-plane.sh.tftpl', 'control_plane_user_data_vars')).toEqual([]);
    expect(checkUserDataSize(moduleOf(tree, 'control-plane-aws'), 'user-data-nats.sh.tftpl', 'nats_user_data_vars')).toEqual([]);
    // The scripts and units are most of it: a template that lost its files would pass trivially.
    expect(gzippedUserDataBytes(moduleOf(tree, 'worker-aws'), 'user-data.sh.tftpl', 'user_data_vars')).toBeGreaterThan(8000);
  });
});

/** One deliberate break of a copy of the modules, and the problem the check must report. */
interface Breakage {
  readonly what: string;
  /** Path under infra/terraform of the file to change. */
  readonly file: string;
  readonly from: string;
  readonly to: string;
  readonly check: (tree: Awaited<ReturnType<typeof loadTree>>) => string[];
  readonly expected: RegExp;
}

const workerVariables = 'modules/worker-aws/variables.tf';
const workerMain = 'modules/worker-aws/main.tf';
const controlPlaneDatabase = 'modules/control-plane-aws/database.tf';
const controlPlaneMain = 'modules/control-plane-aws/main.tf';
const worker = (tree: Awaited<ReturnType<typeof loadTree>>): TerraformModule => moduleOf(tree, 'worker-aws');
const controlPlane = (tree: Awaited<ReturnType<typeof loadTree>>): TerraformModule => moduleOf(tree, 'control-plane-aws');
const examples = (tree: Awaited<ReturnType<typeof loadTree>>): string[] => tree.examples.flatMap((example) => checkExample(example, tree.byDirectory));

const BREAKAGES: Breakage[] = [
  {
    what: 'a variable without a description',
    file: workerVariables,
    from: '  description = "The customer\'s VPC the workers run in."\n',
    to: '',
    check: (tree) => checkVariables(worker(tree)),
    expected: /variable "vpc_id" has no description/,
  },
  {
    what: 'a variable without a type',
    file: workerVariables,
    from: 'variable "vpc_id" {\n  type        = string\n',
    to: 'variable "vpc_id" {\n',
    check: (tree) => checkVariables(worker(tree)),
    expected: /variable "vpc_id" has no type/,
  },
  {
    what: 'a port variable without a validation',
    file: workerVariables,
    from: '  validation {\n    condition     = var.https_proxy_port >= 1 && var.https_proxy_port <= 65535 && floor(var.https_proxy_port) == var.https_proxy_port\n    error_message = "https_proxy_port: expected a port from 1 to 65535."\n  }\n',
    to: '',
    check: (tree) => checkVariables(worker(tree)),
    expected: /variable "https_proxy_port" has a shape but no validation block/,
  },
  {
    what: 'a validation with an empty error_message',
    file: workerVariables,
    from: 'error_message = "https_proxy_port: expected a port from 1 to 65535."',
    to: 'error_message = ""',
    check: (tree) => checkVariables(worker(tree)),
    expected: /variable "https_proxy_port" has a validation without an error_message/,
  },
  {
    what: 'a port validation that does not bound the port',
    file: workerVariables,
    from: 'var.https_proxy_port >= 1 && var.https_proxy_port <= 65535 && ',
    to: '',
    check: (tree) => checkVariables(worker(tree)),
    expected: /variable "https_proxy_port": expected ports checked against 1\.\.65535/,
  },
  {
    what: 'a CIDR validation without cidrhost()',
    file: workerVariables,
    from: 'alltrue([for cidr in var.git_cidrs : can(cidrhost(cidr, 0)) && ',
    to: 'alltrue([for cidr in var.git_cidrs : ',
    check: (tree) => checkVariables(worker(tree)),
    expected: /variable "git_cidrs": expected CIDRs checked with cidrhost\(\)/,
  },
  {
    what: 'a validation referring to another variable (Terraform 1.9 only)',
    file: workerVariables,
    from: 'condition     = var.https_proxy_port >= 1 &&',
    to: 'condition     = var.https_proxy_port != var.control_plane_port && var.https_proxy_port >= 1 &&',
    check: (tree) => checkVariables(worker(tree)),
    expected: /variable "https_proxy_port" has a validation referring to other variables \(control_plane_port\)/,
  },
  {
    what: 'an output without a description',
    file: 'modules/control-plane-aws/outputs.tf',
    from: '  description = "Host name of the RDS PostgreSQL instance."\n',
    to: '',
    check: (tree) => checkOutputs(controlPlane(tree)),
    expected: /output "database_address" has no description/,
  },
  {
    what: 'a README without one of the variables',
    file: 'modules/worker-aws/README.md',
    from: '| <a name="input_vpc_id"></a>',
    to: '| <a name="input_vpc_identifier"></a>',
    check: (tree) => checkReadme(worker(tree)),
    expected: /Inputs table lacks variable "vpc_id"[\s\S]*lists "vpc_identifier", which the module does not declare/,
  },
  {
    what: 'a default changed in the module but not in the README',
    file: workerVariables,
    from: '  default     = 3128\n',
    to: '  default     = 8080\n',
    check: (tree) => checkReadme(worker(tree)),
    expected: /README gives "https_proxy_port" the default 3128, the module 8080/,
  },
  {
    what: 'a type changed in the module but not in the README',
    file: 'modules/control-plane-aws/variables.tf',
    from: 'variable "grpc_listener_port" {\n  type        = number\n',
    to: 'variable "grpc_listener_port" {\n  type        = string\n',
    check: (tree) => checkReadme(controlPlane(tree)),
    expected: /README gives "grpc_listener_port" the type number, the module string/,
  },
  {
    what: 'an output missing from the README',
    file: 'modules/control-plane-aws/outputs.tf',
    from: 'output "nats_url" {',
    to: 'output "nats_servers" {',
    check: (tree) => checkReadme(controlPlane(tree)),
    expected: /Outputs table lacks output "nats_servers"/,
  },
  {
    what: 'a reference to an undeclared variable',
    file: workerMain,
    from: 'instance_type          = var.instance_type',
    to: 'instance_type          = var.instance_size',
    check: (tree) => checkReferences(worker(tree)),
    expected: /var\.instance_size is not declared[\s\S]*variable "instance_type" is declared but never used/,
  },
  {
    what: 'a reference to an undeclared resource',
    file: workerMain,
    from: 'role   = aws_iam_role.worker.id\n  policy = data.aws_iam_policy_document.boot.json',
    to: 'role   = aws_iam_role.workers.id\n  policy = data.aws_iam_policy_document.boot.json',
    check: (tree) => checkReferences(worker(tree)),
    expected: /aws_iam_role\.workers is not declared/,
  },
  {
    what: 'a reference to an undeclared data source',
    file: 'modules/control-plane-aws/network.tf',
    from: 'cidrhost(data.aws_vpc.selected.cidr_block, 2)',
    to: 'cidrhost(data.aws_vpc.main.cidr_block, 2)',
    check: (tree) => checkReferences(controlPlane(tree)),
    expected: /network\.tf: data\.aws_vpc\.main is not declared/,
  },
  {
    what: 'a reference to an undeclared local',
    file: workerMain,
    from: 'resources = local.secret_arns',
    to: 'resources = local.secrets',
    check: (tree) => checkReferences(worker(tree)),
    expected: /local\.secrets is not declared/,
  },
  {
    what: 'an example passing a variable the module does not declare',
    file: 'examples/worker-aws/main.tf',
    from: '  concurrency = 2\n',
    to: '  concurrency = 2\n  jobs_at_once = 2\n',
    check: examples,
    expected: /passes "jobs_at_once", which \.\.\/\.\.\/modules\/worker-aws does not declare/,
  },
  {
    what: 'an example leaving out a variable without default',
    file: 'examples/control-plane-aws/main.tf',
    from: '  api_certificate_arn = "arn:aws:acm:eu-central-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"\n',
    to: '',
    check: examples,
    expected: /does not pass "api_certificate_arn", which has no default/,
  },
  {
    what: 'an example reading an output the module lacks',
    file: 'examples/worker-aws/main.tf',
    from: 'module.airlock_worker.egress_rules',
    to: 'module.airlock_worker.ingress_rules',
    check: examples,
    expected: /reads module\.airlock_worker\.ingress_rules, which \.\.\/\.\.\/modules\/worker-aws does not output/,
  },
  {
    what: 'an ingress rule on the workers',
    file: workerMain,
    from: 'resource "aws_vpc_security_group_egress_rule" "s3_gateway" {',
    to: 'resource "aws_vpc_security_group_ingress_rule" "ssh" {\n  security_group_id = aws_security_group.worker.id\n  cidr_ipv4         = "10.0.0.0/8"\n  ip_protocol       = "tcp"\n  from_port         = 22\n  to_port           = 22\n}\n\nresource "aws_vpc_security_group_egress_rule" "s3_gateway" {',
    check: (tree) => checkWorkerSecurityGroup(worker(tree)),
    expected: /aws_vpc_security_group_ingress_rule\.ssh is an ingress rule/,
  },
  {
    what: 'an inline ingress block on the workers\' group',
    file: workerMain,
    from: '  vpc_id      = var.vpc_id\n  tags        = merge(var.tags, { Name = "${var.name}-egress-only" })',
    to: '  vpc_id      = var.vpc_id\n  ingress {\n    from_port   = 9464\n    to_port     = 9464\n    protocol    = "tcp"\n    cidr_blocks = ["10.0.0.0/8"]\n  }\n  tags        = merge(var.tags, { Name = "${var.name}-egress-only" })',
    check: (tree) => checkWorkerSecurityGroup(worker(tree)),
    expected: /aws_security_group\.worker has an inline ingress rule/,
  },
  {
    what: 'an egress rule to 0.0.0.0/0',
    file: workerMain,
    from: '  prefix_list_id    = var.s3_prefix_list_id\n',
    to: '  cidr_ipv4         = "0.0.0.0/0"\n',
    check: (tree) => checkWorkerSecurityGroup(worker(tree)),
    expected: /aws_vpc_security_group_egress_rule\.s3_gateway opens egress to 0\.0\.0\.0\/0/,
  },
  {
    what: 'a CIDR variable defaulting to 0.0.0.0/0',
    file: workerVariables,
    from: 'default     = ["169.254.169.123/32"]',
    to: 'default     = ["0.0.0.0/0"]',
    check: (tree) => checkWorkerSecurityGroup(worker(tree)),
    expected: /variable "ntp_server_cidrs" defaults to 0\.0\.0\.0\/0/,
  },
  {
    what: 'an egress rule for every protocol',
    file: workerMain,
    from: '  ip_protocol       = "tcp"\n  from_port         = 443\n  to_port           = 443\n  tags              = var.tags\n}\n\n# -----',
    to: '  ip_protocol       = "-1"\n  tags              = var.tags\n}\n\n# -----',
    check: (tree) => checkWorkerSecurityGroup(worker(tree)),
    expected: /s3_gateway allows every protocol/,
  },
  {
    what: 'secretsmanager:GetSecretValue on "*"',
    file: workerMain,
    from: 'resources = local.secret_arns',
    to: 'resources = ["*"]',
    check: (tree) => checkSecretsPolicies(worker(tree)),
    expected: /statement "ReadOwnSecrets" names a wildcard resource: \*/,
  },
  {
    what: 'secretsmanager:* as the action',
    file: controlPlaneMain,
    from: 'actions   = ["secretsmanager:GetSecretValue"]',
    to: 'actions   = ["secretsmanager:*"]',
    check: (tree) => checkSecretsPolicies(controlPlane(tree)),
    expected: /statement "ReadOwnSecrets" grants a wildcard action/,
  },
  {
    what: 'a secret ARN pattern with a wildcard',
    file: controlPlaneMain,
    from: 'resources = [aws_secretsmanager_secret.kek.arn]',
    to: 'resources = ["arn:aws:secretsmanager:*:*:secret:airlock/*"]',
    check: (tree) => checkSecretsPolicies(controlPlane(tree)),
    expected: /statement "StoreTheInitialKek" names a wildcard resource[\s\S]*not a variable or the module's own/,
  },
  {
    what: 'a kms: statement reaching a wildcard through a local',
    file: controlPlaneMain,
    from: 'secrets_kms_key_arns = distinct(concat([aws_kms_key.this.arn], var.additional_secrets_kms_key_arns))',
    to: 'secrets_kms_key_arns = ["arn:aws:kms:eu-central-1:123456789012:key/*"]',
    check: (tree) => checkSecretsPolicies(controlPlane(tree)),
    expected: /statement "UseSecretKeysThroughSecretsManager" names a wildcard resource/,
  },
  {
    what: 'an unencrypted database',
    file: controlPlaneDatabase,
    from: 'storage_encrypted     = true',
    to: 'storage_encrypted     = false',
    check: (tree) => checkDatabases(controlPlane(tree)),
    expected: /aws_db_instance\.this has storage_encrypted = false, expected true/,
  },
  {
    what: 'a database without deletion protection',
    file: controlPlaneDatabase,
    from: '  deletion_protection       = true\n',
    to: '',
    check: (tree) => checkDatabases(controlPlane(tree)),
    expected: /aws_db_instance\.this has deletion_protection = undefined, expected true/,
  },
  {
    what: 'an unpinned AWS provider',
    file: 'modules/worker-aws/versions.tf',
    from: 'version = "~> 5.60"',
    to: 'version = ">= 4.0"',
    check: (tree) => checkVersions(worker(tree)),
    expected: /aws provider version is ">= 4\.0", expected "~> 5\.N"/,
  },
  {
    what: 'a template placeholder the module does not pass',
    file: 'modules/worker-aws/templates/user-data.sh.tftpl',
    from: '${worker_config_yaml}',
    to: '${worker_config}',
    check: (tree) => checkTemplates(worker(tree)),
    expected: /uses \$\{worker_config\}, which templatefile\(\) is not given[\s\S]*is given "worker_config_yaml", which the template never uses/,
  },
  {
    what: 'a file the module reads that does not exist',
    file: 'modules/control-plane-aws/nats.tf',
    from: '"${path.module}/files/nats-server.service"',
    to: '"${path.module}/files/nats.service"',
    check: (tree) => checkTemplates(controlPlane(tree)),
    expected: /reads files\/nats\.service, which does not exist/,
  },
  {
    what: 'a boot script bash cannot parse',
    file: 'modules/worker-aws/files/worker-secrets.sh',
    from: 'done < <(param SECRET_FILES_TSV)',
    to: 'done < <(param SECRET_FILES_TSV',
    check: (tree) => checkShellSyntax(worker(tree)),
    expected: /worker-aws\/files\/worker-secrets\.sh: bash -n: .*unexpected EOF/,
  },
  {
    what: 'a drop-in requiring a unit that does not exist',
    file: 'modules/worker-aws/files/airlock-worker-aws.conf',
    from: 'Requires=airlock-worker-secrets.service',
    to: 'Requires=airlock-worker-secret.service',
    check: (tree) => checkSystemdUnits(worker(tree), 'user-data.sh.tftpl', 'user_data_vars'),
    expected: /Unit airlock-worker-secret\.service not found/,
  },
  {
    what: 'a unit with a key systemd does not know',
    file: 'modules/control-plane-aws/files/nats-server.service',
    from: 'ReadWritePaths=/var/lib/nats',
    to: 'ReadWritePath=/var/lib/nats',
    check: (tree) => checkSystemdUnits(controlPlane(tree), 'user-data-nats.sh.tftpl', 'nats_user_data_vars', ['airlock-journal-export@nats-server.service']),
    expected: /Unknown key 'ReadWritePath' in section \[Service\]/,
  },
  {
    what: 'boot scripts too large for EC2 user data',
    file: 'modules/worker-aws/files/worker-lifecycle.sh',
    from: 'set -uo pipefail\n',
    // Random text does not compress: 6,000 bytes of it push the gzipped scripts past 12 KB.
    to: `set -uo pipefail\n# ${randomBytes(4500).toString('base64')}\n`,
    check: (tree) => checkUserDataSize(worker(tree), 'user-data.sh.tftpl', 'user_data_vars'),
    expected: /user-data\.sh\.tftpl takes \d+ bytes gzipped before any configuration/,
  },
  {
    what: 'diverging copies of the bootstrap library',
    file: 'modules/control-plane-aws/files/bootstrap-lib.sh',
    from: 'die() {',
    to: 'fail() {',
    check: (tree) => checkSharedLibrary([...tree.modules.values()]),
    expected: /control-plane-aws\/files\/bootstrap-lib\.sh differs from worker-aws\/files\/bootstrap-lib\.sh/,
  },
];

describe('each check fails on a deliberately broken copy of the modules', () => {
  let scratch: string;

  beforeEach(() => {
    scratch = mkdtempSync(path.join(tmpdir(), 'airlock-terraform-'));
    // The modules read infra/systemd's units through a relative path: copy both.
    cpSync(TERRAFORM_DIR, path.join(scratch, 'terraform'), { recursive: true });
    cpSync(SYSTEMD_DIR, path.join(scratch, 'systemd'), { recursive: true });
  });

  afterEach(() => {
    rmSync(scratch, { recursive: true, force: true });
  });

  function breakFile(file: string, from: string, to: string): void {
    const target = path.join(scratch, 'terraform', file);
    const text = readFileSync(target, 'utf8');
    // The break must really apply: a `from` that no longer matches would test nothing.
    expect(text.split(from).length - 1).toBe(1);
    writeFileSync(target, text.replace(from, () => to));
  }

  it.each(BREAKAGES)('$what', async ({ file, from, to, check, expected }) => {
    const intact = await loadTree(path.join(scratch, 'terraform'));
    expect(check(intact)).toEqual([]);
    breakFile(file, from, to);
    const broken = await loadTree(path.join(scratch, 'terraform'));
    expect(check(broken).join('\n')).toMatch(expected);
  });

  it('a syntax error in a module makes loading it fail', async () => {
    breakFile(workerMain, 'resource "aws_launch_template" "worker" {', 'resource "aws_launch_template" "worker" {{');
    await expect(loadTree(path.join(scratch, 'terraform'))).rejects.toThrow(/main\.tf/);
  });
});
