# Inputs of the worker-aws module. Every CIDR list is IPv4 and canonical (10.0.0.0/16, not
# 10.0.0.1/16), and none may be a /0: the workers' security group opens egress to exactly
# the networks named here, nothing else.

# ---------------------------------------------------------------------------------------
# Placement
# ---------------------------------------------------------------------------------------

variable "name" {
  type        = string
  description = "Name of the Auto Scaling group, and prefix of every other resource's name (lowercase letters, digits and hyphens, 1 to 32 characters)."
  default     = "airlock-worker"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,31}$", var.name))
    error_message = "name: expected 1 to 32 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource, and propagated to the instances and their volumes."
  default     = {}
}

variable "vpc_id" {
  type        = string
  description = "The customer's VPC the workers run in."

  validation {
    condition     = can(regex("^vpc-[0-9a-f]{8,17}$", var.vpc_id))
    error_message = "vpc_id: expected a VPC id such as vpc-0123456789abcdef0."
  }
}

variable "private_subnet_ids" {
  type        = list(string)
  description = "Private subnets (no route to an internet gateway) the Auto Scaling group spreads the workers across, one or more Availability Zones."

  validation {
    condition     = length(var.private_subnet_ids) >= 1 && alltrue([for id in var.private_subnet_ids : can(regex("^subnet-[0-9a-f]{8,17}$", id))])
    error_message = "private_subnet_ids: expected one or more subnet ids such as subnet-0123456789abcdef0."
  }
}

# ---------------------------------------------------------------------------------------
# Instances
# ---------------------------------------------------------------------------------------

variable "ami_id" {
  type        = string
  description = "AMI of the workers: Debian 12 or Amazon Linux 2023, x86_64 (the offline bundle's Node.js is linux-x64; arm64 only with install_source = mirror and arm64 builds). Its packages must include git, bubblewrap, util-linux (prlimit), curl, tar, xz, openssl and the AWS CLI, unless install_os_packages is true."

  validation {
    condition     = can(regex("^ami-[0-9a-f]{8,17}$", var.ami_id))
    error_message = "ami_id: expected an AMI id such as ami-0123456789abcdef0."
  }
}

variable "ami_os_family" {
  type        = string
  description = "The AMI's distribution, which selects the package manager when install_os_packages is true: debian12 or al2023."
  default     = "debian12"

  validation {
    condition     = contains(["debian12", "al2023"], var.ami_os_family)
    error_message = "ami_os_family: expected debian12 or al2023."
  }
}

variable "install_os_packages" {
  type        = bool
  description = "Install git, bubblewrap, util-linux, curl, tar, xz, openssl and the AWS CLI at first boot from the package repositories the AMI is configured with (which, in a VPC without internet access, must be the customer's mirror). False: the AMI must already carry them, and the first boot only checks."
  default     = false
}

variable "instance_type" {
  type        = string
  description = "EC2 instance type of the workers. Each job's test commands run on it, so size it as a CI runner: concurrency × sandbox.limits.memoryMiB plus about 1 GiB for the worker."
  default     = "m7i.xlarge"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", var.instance_type))
    error_message = "instance_type: expected an EC2 instance type such as m7i.xlarge."
  }
}

variable "root_volume_size_gib" {
  type        = number
  description = "Size of the encrypted gp3 root volume, GiB (8 to 1024)."
  default     = 30

  validation {
    condition     = var.root_volume_size_gib >= 8 && var.root_volume_size_gib <= 1024 && floor(var.root_volume_size_gib) == var.root_volume_size_gib
    error_message = "root_volume_size_gib: expected a whole number from 8 to 1024."
  }
}

variable "data_volume_size_gib" {
  type        = number
  description = "Size of the encrypted gp3 data volume mounted at /var/lib/airlock, GiB (20 to 16384): the worker's stateDir (identity, audit log, job records) and workspaceDir (mirrors, worktrees, dependency cache)."
  default     = 200

  validation {
    condition     = var.data_volume_size_gib >= 20 && var.data_volume_size_gib <= 16384 && floor(var.data_volume_size_gib) == var.data_volume_size_gib
    error_message = "data_volume_size_gib: expected a whole number from 20 to 16384."
  }
}

variable "ebs_kms_key_arn" {
  type        = string
  description = "KMS key that encrypts the root and data volumes. Null: the account's default EBS key (aws/ebs). A customer managed key must let the Auto Scaling service-linked role use it."
  default     = null

  validation {
    condition     = var.ebs_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/(mrk-)?[0-9a-f-]{32,36}$", var.ebs_kms_key_arn))
    error_message = "ebs_kms_key_arn: expected null or a KMS key ARN such as arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab."
  }
}

variable "capacity" {
  type = object({
    min     = number
    max     = number
    desired = number
  })
  description = "Number of worker instances: the Auto Scaling group's min_size, max_size and desired_capacity (0 <= min <= desired <= max <= 200)."
  default = {
    min     = 1
    max     = 4
    desired = 2
  }

  validation {
    condition     = var.capacity.min >= 0 && var.capacity.min <= var.capacity.desired && var.capacity.desired <= var.capacity.max && var.capacity.max <= 200 && var.capacity.max >= 1
    error_message = "capacity: expected whole numbers with 0 <= min <= desired <= max <= 200 and max >= 1."
  }
  validation {
    condition     = alltrue([for count in [var.capacity.min, var.capacity.max, var.capacity.desired] : floor(count) == count])
    error_message = "capacity: expected whole numbers."
  }
}

variable "instance_refresh" {
  type = object({
    min_healthy_percentage = number
    max_healthy_percentage = number
  })
  description = "Rolling instance refresh when the launch template changes. The defaults (100, 200) start each replacement before the old worker drains, so capacity never drops during a rollout."
  default = {
    min_healthy_percentage = 100
    max_healthy_percentage = 200
  }

  validation {
    condition     = var.instance_refresh.min_healthy_percentage >= 0 && var.instance_refresh.min_healthy_percentage <= 100 && var.instance_refresh.max_healthy_percentage >= 100 && var.instance_refresh.max_healthy_percentage <= 200 && var.instance_refresh.max_healthy_percentage - var.instance_refresh.min_healthy_percentage <= 100
    error_message = "instance_refresh: expected min_healthy_percentage 0..100, max_healthy_percentage 100..200, and at most 100 between them (AWS's rule)."
  }
}

variable "drain_timeout_seconds" {
  type        = number
  description = "How long a terminating instance may take to drain its worker (finish running jobs) before the Auto Scaling group terminates it anyway: the termination lifecycle hook's heartbeat timeout (30 to 7200). The default covers the unit's TimeoutStopSec of 32 minutes."
  default     = 2100

  validation {
    condition     = var.drain_timeout_seconds >= 30 && var.drain_timeout_seconds <= 7200 && floor(var.drain_timeout_seconds) == var.drain_timeout_seconds
    error_message = "drain_timeout_seconds: expected a whole number of seconds from 30 to 7200."
  }
}

variable "enable_ssm" {
  type        = bool
  description = "Attach AmazonSSMManagedInstanceCore to the instance role, for Session Manager shells without any inbound rule (needs the ssm, ssmmessages and ec2messages VPC endpoints inside aws_endpoint_cidrs)."
  default     = false
}

# ---------------------------------------------------------------------------------------
# Artifacts: never from the public internet
# ---------------------------------------------------------------------------------------

variable "install_source" {
  type        = string
  description = "Where the first boot installs Node.js 24 and the worker from. offline-bundle: Airlock's signed offline bundle (scripts/build-offline-bundle.sh), checked against release_public_key_pem and installed by its own install.sh. mirror: a Node.js 24 build and the worker's app tarball as separate files on the customer's mirror. Neither has a default URL: nothing comes from the public internet."
  default     = "offline-bundle"

  validation {
    condition     = contains(["offline-bundle", "mirror"], var.install_source)
    error_message = "install_source: expected offline-bundle or mirror."
  }
}

variable "offline_bundle_url" {
  type        = string
  description = "With install_source = offline-bundle: the offline bundle tarball (airlock-<version>.tar; built with --no-images it carries what hosts need), https:// on the customer's mirror or s3:// (listed in artifact_s3_object_arns)."
  default     = null

  validation {
    condition     = var.offline_bundle_url == null || can(regex("^(https://[^\\s/]+/|s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/)[^\\s]+$", var.offline_bundle_url))
    error_message = "offline_bundle_url: expected null or an https:// or s3:// URL."
  }
}

variable "offline_bundle_sha256" {
  type        = string
  description = "With install_source = offline-bundle: SHA-256 of the offline bundle tarball, checked before it is unpacked (its install.sh then checks SHA256SUMS and their signature)."
  default     = null

  validation {
    condition     = var.offline_bundle_sha256 == null || can(regex("^[0-9a-f]{64}$", var.offline_bundle_sha256))
    error_message = "offline_bundle_sha256: expected null or 64 lowercase hexadecimal characters."
  }
}

variable "release_public_key_pem" {
  type        = string
  description = "The Airlock release's Ed25519 public key (PEM), as published out of band: install.sh refuses a bundle not signed by it. Null: the bundle's own release-key.pub, which proves the files were not damaged but not who signed them."
  default     = null

  validation {
    condition     = var.release_public_key_pem == null || can(regex("-----BEGIN PUBLIC KEY-----", var.release_public_key_pem))
    error_message = "release_public_key_pem: expected null or PEM text with a -----BEGIN PUBLIC KEY----- block."
  }
}

variable "node_url" {
  type        = string
  description = "With install_source = mirror: Node.js 24 for Linux on the customer's mirror (https://) or bucket (s3://): a nodejs.org tarball (node-v24.*-linux-x64.tar.xz) or a bare node binary such as the offline bundle's runtime/node-v24.*-linux-x64. Installed as /opt/airlock/node/bin/node, with /usr/bin/node pointing at it."
  default     = null

  validation {
    condition     = var.node_url == null || can(regex("^(https://[^\\s/]+/|s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/)[^\\s]+$", var.node_url))
    error_message = "node_url: expected null or an https:// or s3:// URL."
  }
}

variable "node_sha256" {
  type        = string
  description = "With install_source = mirror: SHA-256 of the file at node_url."
  default     = null

  validation {
    condition     = var.node_sha256 == null || can(regex("^[0-9a-f]{64}$", var.node_sha256))
    error_message = "node_sha256: expected null or 64 lowercase hexadecimal characters."
  }
}

variable "worker_bundle_url" {
  type        = string
  description = "With install_source = mirror: the worker's app tarball, a tar.gz with one top-level folder holding main.js, package.json and node_modules/ (the offline bundle's apps/airlock-worker-<version>.tar.gz), unpacked to /opt/airlock/worker."
  default     = null

  validation {
    condition     = var.worker_bundle_url == null || can(regex("^(https://[^\\s/]+/|s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/)[^\\s]+$", var.worker_bundle_url))
    error_message = "worker_bundle_url: expected null or an https:// or s3:// URL."
  }
}

variable "worker_bundle_sha256" {
  type        = string
  description = "With install_source = mirror: SHA-256 of the worker's app tarball."
  default     = null

  validation {
    condition     = var.worker_bundle_sha256 == null || can(regex("^[0-9a-f]{64}$", var.worker_bundle_sha256))
    error_message = "worker_bundle_sha256: expected null or 64 lowercase hexadecimal characters."
  }
}

variable "artifact_s3_object_arns" {
  type        = list(string)
  description = "S3 objects the instance role may read (s3:GetObject): the artifact URLs given as s3://. Empty when they are all https://."
  default     = []

  validation {
    condition     = alltrue([for arn in var.artifact_s3_object_arns : can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/[^*\\s]+$", arn))])
    error_message = "artifact_s3_object_arns: expected S3 object ARNs such as arn:aws:s3:::bucket/airlock/worker-0.1.0.tar.gz, without wildcards."
  }
}

variable "artifact_mirror_ca_certificate_pem" {
  type        = string
  description = "PEM certificate(s) of the CA that issued the mirror's HTTPS certificate; when set, the first boot trusts only it for https:// artifacts. Null: the AMI's CA store."
  default     = null

  validation {
    condition     = var.artifact_mirror_ca_certificate_pem == null || can(regex("-----BEGIN CERTIFICATE-----", var.artifact_mirror_ca_certificate_pem))
    error_message = "artifact_mirror_ca_certificate_pem: expected null or PEM text with a -----BEGIN CERTIFICATE----- block."
  }
}

variable "systemd_unit_file" {
  type        = string
  description = "Path, on the machine running Terraform, of the airlock-worker.service unit to install. Null: the unit in this repository, infra/systemd/airlock-worker.service."
  default     = null

  validation {
    condition     = var.systemd_unit_file == null || can(regex("airlock-worker\\.service$", var.systemd_unit_file))
    error_message = "systemd_unit_file: expected null or the path of a file named airlock-worker.service."
  }
}

# ---------------------------------------------------------------------------------------
# Secrets (AWS Secrets Manager, read by the instance role at boot and at each start)
# ---------------------------------------------------------------------------------------

variable "enrollment_token_secret_arn" {
  type        = string
  description = "Secret holding enrollment tokens (aet_…), separated by whitespace. Each new instance enrolls once with `enroll --token-file`, trying the tokens in order until one is accepted; tokens are one-time and expire within a day, so keep the secret filled with fresh ones before scaling out or refreshing instances."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+$", var.enrollment_token_secret_arn))
    error_message = "enrollment_token_secret_arn: expected a Secrets Manager secret ARN such as arn:aws:secretsmanager:eu-central-1:123456789012:secret:airlock/enrollment-AbCdEf."
  }
}

variable "secret_files" {
  type = list(object({
    secret_arn = string
    file_name  = string
  }))
  description = "Secrets written to /etc/airlock/secrets/<file_name> (root:airlock, 0640) before each start of the worker: forge, tracker and git tokens, a KEK for sealed tokens. Name them in worker_config_extra (tokenFile: /etc/airlock/secrets/gitlab-token)."
  default     = []

  validation {
    condition     = alltrue([for secret in var.secret_files : can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+$", secret.secret_arn)) && can(regex("^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$", secret.file_name))])
    error_message = "secret_files: expected Secrets Manager secret ARNs and plain file names (letters, digits, dot, underscore, hyphen; no slash)."
  }
  validation {
    condition     = length(distinct([for secret in var.secret_files : secret.file_name])) == length(var.secret_files)
    error_message = "secret_files: expected each file_name once."
  }
}

variable "secret_environment" {
  type        = map(string)
  description = "Environment variables of the worker's process, each from a secret (variable name => secret ARN): the keys that inference.endpoints[].apiKeyEnv or a tokenEnv names. Single-line values without quotes or backslashes."
  default     = {}

  validation {
    condition     = alltrue([for name, arn in var.secret_environment : can(regex("^[A-Z_][A-Z0-9_]{0,127}$", name)) && can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+$", arn))])
    error_message = "secret_environment: expected UPPER_CASE variable names mapped to Secrets Manager secret ARNs."
  }
}

variable "secrets_kms_key_arn" {
  type        = string
  description = "Customer managed KMS key the secrets above are encrypted with; the instance role gets kms:Decrypt on this key only, and only through Secrets Manager. Null when the secrets use the AWS managed key aws/secretsmanager."
  default     = null

  validation {
    condition     = var.secrets_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/(mrk-)?[0-9a-f-]{32,36}$", var.secrets_kms_key_arn))
    error_message = "secrets_kms_key_arn: expected null or a KMS key ARN."
  }
}

# ---------------------------------------------------------------------------------------
# The worker's configuration (/etc/airlock/worker.yml)
# ---------------------------------------------------------------------------------------

variable "control_plane_address" {
  type        = string
  description = "The control plane's gRPC endpoint, host:port, as the worker dials it (controlPlane.address)."

  validation {
    condition     = can(regex("^[A-Za-z0-9.-]{1,253}:[0-9]{1,5}$", var.control_plane_address)) && try(tonumber(regex(":([0-9]+)$", var.control_plane_address)[0]) >= 1 && tonumber(regex(":([0-9]+)$", var.control_plane_address)[0]) <= 65535, false)
    error_message = "control_plane_address: expected host:port with a port from 1 to 65535, such as airlock.example.com:443."
  }
}

variable "control_plane_server_name" {
  type        = string
  description = "Name to verify the control plane's certificate against instead of the host in control_plane_address (controlPlane.tls.serverName). Null: the host."
  default     = null

  validation {
    condition     = var.control_plane_server_name == null || can(regex("^[A-Za-z0-9.-]{1,253}$", var.control_plane_server_name))
    error_message = "control_plane_server_name: expected null or a DNS name."
  }
}

variable "control_plane_ca_certificate_pem" {
  type        = string
  description = "PEM certificate(s) of the CA that issued the control plane's gateway certificate (a private CA is fine), written to /etc/airlock/control-plane-ca.pem (controlPlane.tls.caFile). Public data: no secret."

  validation {
    condition     = can(regex("-----BEGIN CERTIFICATE-----", var.control_plane_ca_certificate_pem))
    error_message = "control_plane_ca_certificate_pem: expected PEM text with a -----BEGIN CERTIFICATE----- block."
  }
}

variable "trusted_signing_keys" {
  type = list(object({
    key_id     = string
    public_key = string
  }))
  description = "The control plane's instruction-signing keys this worker trusts (controlPlane.trustedSigningKeys), as `enroll` prints them: key_id sk_<16 hex>, public_key base64 of the raw 32-byte Ed25519 key. Get them from your control-plane admin, and check them, before the first apply."

  validation {
    condition     = length(var.trusted_signing_keys) >= 1 && alltrue([for key in var.trusted_signing_keys : can(regex("^sk_[0-9a-f]{16}$", key.key_id)) && can(regex("^[A-Za-z0-9+/]{43}=$", key.public_key))])
    error_message = "trusted_signing_keys: expected at least one key, each key_id sk_ followed by 16 lowercase hex characters and public_key 44 base64 characters (32 bytes)."
  }
}

variable "https_proxy_url" {
  type        = string
  description = "HTTP CONNECT proxy the worker's control-plane channel goes through, http://host:port (controlPlane.proxy; TLS stays end to end through it). Null: direct. With a proxy, control_plane_cidrs may be empty and https_proxy_cidrs must name the proxy."
  default     = null

  validation {
    condition     = var.https_proxy_url == null || can(regex("^http://[A-Za-z0-9.-]{1,253}:[0-9]{1,5}/?$", var.https_proxy_url))
    error_message = "https_proxy_url: expected null or http://host:port, without credentials, path or query."
  }
}

variable "concurrency" {
  type        = number
  description = "Jobs each worker runs at once (concurrency, 1 to 64)."
  default     = 2

  validation {
    condition     = var.concurrency >= 1 && var.concurrency <= 64 && floor(var.concurrency) == var.concurrency
    error_message = "concurrency: expected a whole number from 1 to 64."
  }
}

variable "labels" {
  type        = list(string)
  description = "Pools these workers belong to besides the one their enrollment token named (labels)."
  default     = []

  validation {
    condition     = length(var.labels) <= 15 && alltrue([for label in var.labels : can(regex("^[a-z0-9][a-z0-9._-]{0,62}$", label))])
    error_message = "labels: expected at most 15 pool labels matching ^[a-z0-9][a-z0-9._-]{0,62}$."
  }
}

variable "inference_endpoints" {
  type = list(object({
    name           = string
    base_url       = string
    model          = string
    api_key_env    = optional(string)
    tool_calling   = optional(string)
    context_window = optional(number)
  }))
  description = "The customer's OpenAI-compatible inference servers, tried in order (inference.endpoints: name, baseUrl, model, apiKeyEnv, toolCalling, contextWindow). An api_key_env must be a key of secret_environment."

  validation {
    condition     = length(var.inference_endpoints) >= 1 && length(var.inference_endpoints) <= 16
    error_message = "inference_endpoints: expected 1 to 16 endpoints."
  }
  validation {
    condition = alltrue([for endpoint in var.inference_endpoints :
      can(regex("^[A-Za-z0-9._-]{1,64}$", endpoint.name)) &&
      can(regex("^https?://[^\\s/]+(/[^\\s]*)?$", endpoint.base_url)) &&
      can(regex("^[A-Za-z0-9._:/@+-]{1,200}$", endpoint.model)) &&
      (endpoint.api_key_env == null || can(regex("^[A-Z_][A-Z0-9_]{0,127}$", endpoint.api_key_env))) &&
      (endpoint.tool_calling == null || contains(["auto", "native", "text"], coalesce(endpoint.tool_calling, "auto"))) &&
      (endpoint.context_window == null || try(endpoint.context_window >= 1, false))
    ])
    error_message = "inference_endpoints: expected name [A-Za-z0-9._-]{1,64}, an http(s) base_url, a model id without spaces, api_key_env an UPPER_CASE variable name, tool_calling auto, native or text, context_window a positive number."
  }
}

variable "inference_allowed_hosts" {
  type        = list(string)
  description = "Host names counted as local for inference base URLs besides loopback, private addresses and *.internal (inference.allowedHosts)."
  default     = []

  validation {
    condition     = alltrue([for host in var.inference_allowed_hosts : can(regex("^[A-Za-z0-9.-]{1,253}$", host))])
    error_message = "inference_allowed_hosts: expected DNS names."
  }
}

variable "worker_config_extra" {
  type        = any
  description = "Further top-level keys of worker.yml, as an object, merged over the keys this module writes: repositories, trackers, setup, sandbox, limits, policy, records, secrets… (docs/worker.md). It may not set controlPlane, stateDir, workspaceDir, health, concurrency, labels or inference, which come from their own variables."
  default     = {}

  validation {
    condition     = can(keys(var.worker_config_extra)) ? length(setintersection(toset(keys(var.worker_config_extra)), toset(["controlPlane", "stateDir", "workspaceDir", "health", "concurrency", "labels", "inference"]))) == 0 : false
    error_message = "worker_config_extra: expected an object without controlPlane, stateDir, workspaceDir, health, concurrency, labels or inference (set those through their own variables)."
  }
}

# ---------------------------------------------------------------------------------------
# Egress: the only destinations the security group allows
# ---------------------------------------------------------------------------------------

variable "control_plane_cidrs" {
  type        = list(string)
  description = "Addresses of the control plane's gRPC endpoint (for a hosted control plane, the /32s of its load balancer). Empty when the worker reaches it through https_proxy_url."

  validation {
    condition     = alltrue([for cidr in var.control_plane_cidrs : can(cidrhost(cidr, 0)) && can(cidrnetmask(cidr)) && try(cidrsubnet(cidr, 0, 0) == cidr, false) && !endswith(cidr, "/0")])
    error_message = "control_plane_cidrs: expected canonical IPv4 CIDRs such as 203.0.113.10/32, none of them a /0."
  }
}

variable "control_plane_port" {
  type        = number
  description = "TCP port of the control plane's gRPC endpoint (443 behind its load balancer, 50051 when dialled directly)."
  default     = 443

  validation {
    condition     = var.control_plane_port >= 1 && var.control_plane_port <= 65535 && floor(var.control_plane_port) == var.control_plane_port
    error_message = "control_plane_port: expected a port from 1 to 65535."
  }
}

variable "https_proxy_cidrs" {
  type        = list(string)
  description = "Addresses of the HTTP CONNECT proxy in https_proxy_url. Empty without a proxy."
  default     = []

  validation {
    condition     = alltrue([for cidr in var.https_proxy_cidrs : can(cidrhost(cidr, 0)) && can(cidrnetmask(cidr)) && try(cidrsubnet(cidr, 0, 0) == cidr, false) && !endswith(cidr, "/0")])
    error_message = "https_proxy_cidrs: expected canonical IPv4 CIDRs, none of them a /0."
  }
}

variable "https_proxy_port" {
  type        = number
  description = "TCP port of the HTTP CONNECT proxy."
  default     = 3128

  validation {
    condition     = var.https_proxy_port >= 1 && var.https_proxy_port <= 65535 && floor(var.https_proxy_port) == var.https_proxy_port
    error_message = "https_proxy_port: expected a port from 1 to 65535."
  }
}

variable "git_cidrs" {
  type        = list(string)
  description = "Addresses of the customer's git hosts and forges (GitLab, GitHub Enterprise Server, Gitea): clone, push and the forge's REST API."

  validation {
    condition     = alltrue([for cidr in var.git_cidrs : can(cidrhost(cidr, 0)) && can(cidrnetmask(cidr)) && try(cidrsubnet(cidr, 0, 0) == cidr, false) && !endswith(cidr, "/0")])
    error_message = "git_cidrs: expected canonical IPv4 CIDRs, none of them a /0."
  }
}

variable "git_ports" {
  type        = list(number)
  description = "TCP ports of the git hosts: 22 for ssh:// remotes, 443 for https:// remotes and forge APIs."
  default     = [22, 443]

  validation {
    condition     = length(var.git_ports) >= 1 && alltrue([for port in var.git_ports : port >= 1 && port <= 65535 && floor(port) == port])
    error_message = "git_ports: expected one or more ports from 1 to 65535."
  }
}

variable "inference_cidrs" {
  type        = list(string)
  description = "Addresses of the customer's inference servers (inference_endpoints)."

  validation {
    condition     = alltrue([for cidr in var.inference_cidrs : can(cidrhost(cidr, 0)) && can(cidrnetmask(cidr)) && try(cidrsubnet(cidr, 0, 0) == cidr, false) && !endswith(cidr, "/0")])
    error_message = "inference_cidrs: expected canonical IPv4 CIDRs, none of them a /0."
  }
}

variable "inference_ports" {
  type        = list(number)
  description = "TCP ports of the inference servers (vLLM 8000, Ollama 11434, llama.cpp 8080, or 443 behind a gateway)."

  validation {
    condition     = length(var.inference_ports) >= 1 && alltrue([for port in var.inference_ports : port >= 1 && port <= 65535 && floor(port) == port])
    error_message = "inference_ports: expected one or more ports from 1 to 65535."
  }
}

variable "package_mirror_cidrs" {
  type        = list(string)
  description = "Addresses of the package mirrors jobs' dependency setup uses (setup.mirrors: Nexus, Artifactory, Verdaccio, a PEP 503 index), and of the artifact mirror serving the https:// artifact URLs."
  default     = []

  validation {
    condition     = alltrue([for cidr in var.package_mirror_cidrs : can(cidrhost(cidr, 0)) && can(cidrnetmask(cidr)) && try(cidrsubnet(cidr, 0, 0) == cidr, false) && !endswith(cidr, "/0")])
    error_message = "package_mirror_cidrs: expected canonical IPv4 CIDRs, none of them a /0."
  }
}

variable "package_mirror_ports" {
  type        = list(number)
  description = "TCP ports of the package mirrors."
  default     = [443]

  validation {
    condition     = length(var.package_mirror_ports) >= 1 && alltrue([for port in var.package_mirror_ports : port >= 1 && port <= 65535 && floor(port) == port])
    error_message = "package_mirror_ports: expected one or more ports from 1 to 65535."
  }
}

variable "aws_endpoint_cidrs" {
  type        = list(string)
  description = "Addresses (the subnets) of the VPC's interface endpoints, port 443, private DNS on: secretsmanager and autoscaling always; ssm, ssmmessages and ec2messages with enable_ssm."

  validation {
    condition     = length(var.aws_endpoint_cidrs) >= 1 && alltrue([for cidr in var.aws_endpoint_cidrs : can(cidrhost(cidr, 0)) && can(cidrnetmask(cidr)) && try(cidrsubnet(cidr, 0, 0) == cidr, false) && !endswith(cidr, "/0")])
    error_message = "aws_endpoint_cidrs: expected one or more canonical IPv4 CIDRs, none of them a /0."
  }
}

variable "s3_prefix_list_id" {
  type        = string
  description = "Prefix list of the VPC's S3 gateway endpoint (pl-…), opened on port 443 for s3:// artifacts and Amazon Linux's package repositories. Null: no S3 access."
  default     = null

  validation {
    condition     = var.s3_prefix_list_id == null || can(regex("^pl-[0-9a-f]{8,17}$", var.s3_prefix_list_id))
    error_message = "s3_prefix_list_id: expected null or a prefix list id such as pl-6ea54007."
  }
}

variable "dns_resolver_cidrs" {
  type        = list(string)
  description = "DNS resolvers the workers use (TCP and UDP 53). Null: the VPC's own resolver at the VPC CIDR's base + 2. Security groups never filter the Amazon-provided resolver, so the rule matters for resolvers of the customer's own."
  default     = null

  validation {
    condition     = var.dns_resolver_cidrs == null ? true : alltrue([for cidr in var.dns_resolver_cidrs : can(cidrhost(cidr, 0)) && can(cidrnetmask(cidr)) && try(cidrsubnet(cidr, 0, 0) == cidr, false) && !endswith(cidr, "/0")])
    error_message = "dns_resolver_cidrs: expected null or canonical IPv4 CIDRs, none of them a /0."
  }
}

variable "ntp_server_cidrs" {
  type        = list(string)
  description = "NTP servers the workers use (UDP 123). The default is the Amazon Time Sync Service, which security groups do not filter either; name the customer's own servers if the AMI uses them."
  default     = ["169.254.169.123/32"]

  validation {
    condition     = alltrue([for cidr in var.ntp_server_cidrs : can(cidrhost(cidr, 0)) && can(cidrnetmask(cidr)) && try(cidrsubnet(cidr, 0, 0) == cidr, false) && !endswith(cidr, "/0")])
    error_message = "ntp_server_cidrs: expected canonical IPv4 CIDRs, none of them a /0."
  }
}
