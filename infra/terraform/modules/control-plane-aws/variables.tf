# Inputs of the control-plane-aws module. CIDR lists are IPv4 and canonical.

# ---------------------------------------------------------------------------------------
# Placement
# ---------------------------------------------------------------------------------------

variable "name" {
  type        = string
  description = "Prefix of every resource's name (lowercase letters, digits and hyphens, 1 to 24 characters: load balancer and target group names take 32 at most)."
  default     = "airlock"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,23}$", var.name)) && !endswith(var.name, "-")
    error_message = "name: expected 1 to 24 lowercase letters, digits or hyphens, starting with a letter and not ending with a hyphen."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource, and propagated to the instances and their volumes."
  default     = {}
}

variable "vpc_id" {
  type        = string
  description = "The VPC the control plane runs in."

  validation {
    condition     = can(regex("^vpc-[0-9a-f]{8,17}$", var.vpc_id))
    error_message = "vpc_id: expected a VPC id such as vpc-0123456789abcdef0."
  }
}

variable "private_subnet_ids" {
  type        = list(string)
  description = "Private subnets, in at least two Availability Zones, for the control-plane instances, the NATS servers (spread over them in order) and the database's subnet group."

  validation {
    condition     = length(var.private_subnet_ids) >= 2 && alltrue([for id in var.private_subnet_ids : can(regex("^subnet-[0-9a-f]{8,17}$", id))])
    error_message = "private_subnet_ids: expected two or more subnet ids such as subnet-0123456789abcdef0."
  }
}

variable "load_balancer_subnet_ids" {
  type        = list(string)
  description = "Subnets of the two load balancers, one per Availability Zone: public subnets for a hosted control plane (load_balancers_internal = false), private ones for a self-hosted one."

  validation {
    condition     = length(var.load_balancer_subnet_ids) >= 2 && alltrue([for id in var.load_balancer_subnet_ids : can(regex("^subnet-[0-9a-f]{8,17}$", id))])
    error_message = "load_balancer_subnet_ids: expected two or more subnet ids."
  }
}

variable "load_balancers_internal" {
  type        = bool
  description = "True: both load balancers get private addresses only (fully self-hosted, air-gapped). False: internet-facing (hosted), the gRPC one with an Elastic IP per subnet that workers' egress rules can name."
  default     = true
}

# ---------------------------------------------------------------------------------------
# Load balancers
# ---------------------------------------------------------------------------------------

variable "api_certificate_arn" {
  type        = string
  description = "ACM certificate of the REST API and dashboard's host name (public_url), served by the Application Load Balancer."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[0-9a-f-]{36}$", var.api_certificate_arn))
    error_message = "api_certificate_arn: expected an ACM certificate ARN such as arn:aws:acm:eu-central-1:123456789012:certificate/12345678-1234-1234-1234-123456789012."
  }
}

variable "api_ssl_policy" {
  type        = string
  description = "TLS policy of the HTTPS listener."
  default     = "ELBSecurityPolicy-TLS13-1-2-2021-06"

  validation {
    condition     = can(regex("^ELBSecurityPolicy-[A-Za-z0-9-]+$", var.api_ssl_policy))
    error_message = "api_ssl_policy: expected an ELB security policy name such as ELBSecurityPolicy-TLS13-1-2-2021-06."
  }
}

variable "api_idle_timeout_seconds" {
  type        = number
  description = "Idle timeout of the Application Load Balancer (1 to 4000 s). The dashboard's event streams send a heartbeat every 15 s (AIRLOCK_EVENTS_HEARTBEAT), well inside the 120 s default."
  default     = 120

  validation {
    condition     = var.api_idle_timeout_seconds >= 1 && var.api_idle_timeout_seconds <= 4000 && floor(var.api_idle_timeout_seconds) == var.api_idle_timeout_seconds
    error_message = "api_idle_timeout_seconds: expected a whole number from 1 to 4000."
  }
}

variable "api_ingress_cidrs" {
  type        = list(string)
  description = "Who may reach the REST API and dashboard on 443: the customer's office and VPN ranges (0.0.0.0/0 only for a hosted control plane meant for the internet)."

  validation {
    condition     = length(var.api_ingress_cidrs) >= 1 && alltrue([for cidr in var.api_ingress_cidrs : can(cidrhost(cidr, 0)) && can(cidrnetmask(cidr)) && try(cidrsubnet(cidr, 0, 0) == cidr, false)])
    error_message = "api_ingress_cidrs: expected one or more canonical IPv4 CIDRs."
  }
}

variable "grpc_ingress_cidrs" {
  type        = list(string)
  description = "Who may reach the workers' gRPC endpoint: the workers' subnets (self-hosted) or their NAT or proxy addresses (hosted)."

  validation {
    condition     = length(var.grpc_ingress_cidrs) >= 1 && alltrue([for cidr in var.grpc_ingress_cidrs : can(cidrhost(cidr, 0)) && can(cidrnetmask(cidr)) && try(cidrsubnet(cidr, 0, 0) == cidr, false)])
    error_message = "grpc_ingress_cidrs: expected one or more canonical IPv4 CIDRs."
  }
}

variable "grpc_listener_port" {
  type        = number
  description = "Port of the Network Load Balancer's TCP listener for the workers (the control_plane_port of the worker module). TLS passes through to the instances' port 50051."
  default     = 443

  validation {
    condition     = var.grpc_listener_port >= 1 && var.grpc_listener_port <= 65535 && floor(var.grpc_listener_port) == var.grpc_listener_port
    error_message = "grpc_listener_port: expected a port from 1 to 65535."
  }
}

variable "grpc_deregistration_delay_seconds" {
  type        = number
  description = "How long a deregistering instance keeps its worker streams through the Network Load Balancer before they are closed (connection termination on), 0 to 3600 s. Workers reconnect through the balancer to another replica and name the attempts they still run."
  default     = 60

  validation {
    condition     = var.grpc_deregistration_delay_seconds >= 0 && var.grpc_deregistration_delay_seconds <= 3600 && floor(var.grpc_deregistration_delay_seconds) == var.grpc_deregistration_delay_seconds
    error_message = "grpc_deregistration_delay_seconds: expected a whole number from 0 to 3600."
  }
}

variable "metrics_ingress_cidrs" {
  type        = list(string)
  description = "Prometheus servers allowed to scrape GET /metrics on the instances' port 9464 (its series name tenants, so it is never behind a load balancer). Empty: the metrics listener stays on loopback."
  default     = []

  validation {
    condition     = alltrue([for cidr in var.metrics_ingress_cidrs : can(cidrhost(cidr, 0)) && can(cidrnetmask(cidr)) && try(cidrsubnet(cidr, 0, 0) == cidr, false) && !endswith(cidr, "/0")])
    error_message = "metrics_ingress_cidrs: expected canonical IPv4 CIDRs, none of them a /0."
  }
}

# ---------------------------------------------------------------------------------------
# Control-plane instances
# ---------------------------------------------------------------------------------------

variable "ami_id" {
  type        = string
  description = "AMI of the control-plane and NATS instances: Debian 12 or Amazon Linux 2023, x86_64 (the offline bundle's Node.js is linux-x64; the nats-server tarball must match too). Its packages must include curl, tar, xz, openssl and the AWS CLI, unless install_os_packages is true."

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
  description = "Install curl, tar, xz, openssl and the AWS CLI at first boot from the repositories the AMI is configured with (the customer's mirror in a VPC without internet access). False: the AMI must carry them."
  default     = false
}

variable "instance_type" {
  type        = string
  description = "EC2 instance type of the control-plane replicas."
  default     = "m7i.large"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", var.instance_type))
    error_message = "instance_type: expected an EC2 instance type such as m7i.large."
  }
}

variable "root_volume_size_gib" {
  type        = number
  description = "Size of each instance's encrypted gp3 root volume, GiB (8 to 1024)."
  default     = 30

  validation {
    condition     = var.root_volume_size_gib >= 8 && var.root_volume_size_gib <= 1024 && floor(var.root_volume_size_gib) == var.root_volume_size_gib
    error_message = "root_volume_size_gib: expected a whole number from 8 to 1024."
  }
}

variable "ebs_kms_key_arn" {
  type        = string
  description = "KMS key that encrypts the instances' volumes. Null: the account's default EBS key (aws/ebs). A customer managed key must let the Auto Scaling service-linked role use it."
  default     = null

  validation {
    condition     = var.ebs_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/(mrk-)?[0-9a-f-]{32,36}$", var.ebs_kms_key_arn))
    error_message = "ebs_kms_key_arn: expected null or a KMS key ARN."
  }
}

variable "capacity" {
  type = object({
    min     = number
    max     = number
    desired = number
  })
  description = "Number of control-plane replicas (1 <= min <= desired <= max <= 20). Every replica shares the database and NATS; two or more survive the loss of one."
  default = {
    min     = 2
    max     = 4
    desired = 2
  }

  validation {
    condition     = var.capacity.min >= 1 && var.capacity.min <= var.capacity.desired && var.capacity.desired <= var.capacity.max && var.capacity.max <= 20
    error_message = "capacity: expected 1 <= min <= desired <= max <= 20."
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
  description = "Rolling instance refresh when the launch template changes (a new AMI or bundle). The defaults start each new replica before an old one goes; the first new replica applies the database migrations at its start."
  default = {
    min_healthy_percentage = 100
    max_healthy_percentage = 200
  }

  validation {
    condition     = var.instance_refresh.min_healthy_percentage >= 0 && var.instance_refresh.min_healthy_percentage <= 100 && var.instance_refresh.max_healthy_percentage >= 100 && var.instance_refresh.max_healthy_percentage <= 200 && var.instance_refresh.max_healthy_percentage - var.instance_refresh.min_healthy_percentage <= 100
    error_message = "instance_refresh: expected min_healthy_percentage 0..100, max_healthy_percentage 100..200, and at most 100 between them."
  }
}

variable "health_check_type" {
  type        = string
  description = "What the Auto Scaling group replaces instances on. ELB: a replica whose readiness (GET /api/v1/health/ready: PostgreSQL and NATS answer) fails on a target group past the grace period is replaced, and an instance refresh stops at replicas that never become ready; during an outage of PostgreSQL or NATS every replica is unready and gets replaced in turn. EC2: only instance status checks count."
  default     = "ELB"

  validation {
    condition     = contains(["ELB", "EC2"], var.health_check_type)
    error_message = "health_check_type: expected ELB or EC2."
  }
}

variable "enable_ssm" {
  type        = bool
  description = "Attach AmazonSSMManagedInstanceCore to the control-plane and NATS instance roles, for Session Manager shells without inbound rules (needs the ssm, ssmmessages and ec2messages endpoints in aws_endpoint_cidrs)."
  default     = false
}

variable "install_source" {
  type        = string
  description = "Where the first boot installs Node.js 24 and the control plane from. offline-bundle: Airlock's signed offline bundle (scripts/build-offline-bundle.sh), checked against release_public_key_pem and installed by its own install.sh. mirror: a Node.js 24 build and the control plane's app tarball as separate files on the customer's mirror. Neither has a default URL: nothing comes from the public internet."
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

variable "control_plane_bundle_url" {
  type        = string
  description = "With install_source = mirror: the control plane's app tarball, a tar.gz with one top-level folder holding main.js, package.json and node_modules/ (the offline bundle's apps/airlock-control-plane-<version>.tar.gz), unpacked to /opt/airlock/control-plane."
  default     = null

  validation {
    condition     = var.control_plane_bundle_url == null || can(regex("^(https://[^\\s/]+/|s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/)[^\\s]+$", var.control_plane_bundle_url))
    error_message = "control_plane_bundle_url: expected null or an https:// or s3:// URL."
  }
}

variable "control_plane_bundle_sha256" {
  type        = string
  description = "With install_source = mirror: SHA-256 of the control plane's app tarball."
  default     = null

  validation {
    condition     = var.control_plane_bundle_sha256 == null || can(regex("^[0-9a-f]{64}$", var.control_plane_bundle_sha256))
    error_message = "control_plane_bundle_sha256: expected null or 64 lowercase hexadecimal characters."
  }
}

variable "artifact_s3_object_arns" {
  type        = list(string)
  description = "S3 objects the instance roles may read (s3:GetObject) when the tarballs and bundle are given as s3:// URLs."
  default     = []

  validation {
    condition     = alltrue([for arn in var.artifact_s3_object_arns : can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/[^*\\s]+$", arn))])
    error_message = "artifact_s3_object_arns: expected S3 object ARNs without wildcards."
  }
}

variable "artifact_mirror_ca_certificate_pem" {
  type        = string
  description = "PEM certificate(s) of the CA of the mirror's HTTPS certificate; when set, only it is trusted for https:// artifacts. Null: the AMI's CA store."
  default     = null

  validation {
    condition     = var.artifact_mirror_ca_certificate_pem == null || can(regex("-----BEGIN CERTIFICATE-----", var.artifact_mirror_ca_certificate_pem))
    error_message = "artifact_mirror_ca_certificate_pem: expected null or PEM text with a certificate."
  }
}

variable "systemd_unit_file" {
  type        = string
  description = "Path, on the machine running Terraform, of the airlock-control-plane.service unit to install. Null: the unit in this repository, infra/systemd/airlock-control-plane.service."
  default     = null

  validation {
    condition     = var.systemd_unit_file == null || can(regex("airlock-control-plane\\.service$", var.systemd_unit_file))
    error_message = "systemd_unit_file: expected null or the path of a file named airlock-control-plane.service."
  }
}

# ---------------------------------------------------------------------------------------
# The control plane's configuration
# ---------------------------------------------------------------------------------------

variable "public_url" {
  type        = string
  description = "The origin browsers use for the REST API and dashboard (AIRLOCK_PUBLIC_URL), on the host name of api_certificate_arn."

  validation {
    condition     = can(regex("^https://[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?$", var.public_url))
    error_message = "public_url: expected https://host or https://host:port, without a path or trailing slash."
  }
}

variable "grpc_tls_certificate_secret_arn" {
  type        = string
  description = "Secret holding the gateway's certificate chain, PEM (AIRLOCK_GRPC_TLS_CERT_FILE): issued by the CA the workers pin, for the host name they dial (the gRPC load balancer's DNS name or a record pointing at it)."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+$", var.grpc_tls_certificate_secret_arn))
    error_message = "grpc_tls_certificate_secret_arn: expected a Secrets Manager secret ARN."
  }
}

variable "grpc_tls_private_key_secret_arn" {
  type        = string
  description = "Secret holding the gateway certificate's private key, PEM (AIRLOCK_GRPC_TLS_KEY_FILE)."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+$", var.grpc_tls_private_key_secret_arn))
    error_message = "grpc_tls_private_key_secret_arn: expected a Secrets Manager secret ARN."
  }
}

variable "grpc_client_certificates" {
  type        = string
  description = "Mutual TLS for workers (AIRLOCK_GRPC_CLIENT_CERTS): off, issue (certificates issued at enrollment, not yet required) or require. issue and require need both grpc_client_ca_* secrets."
  default     = "off"

  validation {
    condition     = contains(["off", "issue", "require"], var.grpc_client_certificates)
    error_message = "grpc_client_certificates: expected off, issue or require."
  }
}

variable "grpc_client_ca_certificate_secret_arn" {
  type        = string
  description = "Secret holding the client CA's certificate, PEM (AIRLOCK_GRPC_CLIENT_CA_CERT_FILE), for grpc_client_certificates issue or require."
  default     = null

  validation {
    condition     = var.grpc_client_ca_certificate_secret_arn == null || can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+$", var.grpc_client_ca_certificate_secret_arn))
    error_message = "grpc_client_ca_certificate_secret_arn: expected null or a Secrets Manager secret ARN."
  }
}

variable "grpc_client_ca_private_key_secret_arn" {
  type        = string
  description = "Secret holding the client CA's private key, PEM (AIRLOCK_GRPC_CLIENT_CA_KEY_FILE), for grpc_client_certificates issue or require."
  default     = null

  validation {
    condition     = var.grpc_client_ca_private_key_secret_arn == null || can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+$", var.grpc_client_ca_private_key_secret_arn))
    error_message = "grpc_client_ca_private_key_secret_arn: expected null or a Secrets Manager secret ARN."
  }
}

variable "oidc" {
  type = object({
    issuer            = string
    client_id         = string
    client_secret_arn = string
  })
  description = "Single sign-on (AIRLOCK_OIDC_ISSUER, AIRLOCK_OIDC_CLIENT_ID, AIRLOCK_OIDC_CLIENT_SECRET_FILE): the issuer URL, the client id, and the ARN of the secret holding the client secret. Null: password sign-in only."
  default     = null

  validation {
    condition = var.oidc == null ? true : (
      can(regex("^https://[^\\s]+$", var.oidc.issuer)) &&
      can(regex("^[^\\s'\"\\\\]{1,256}$", var.oidc.client_id)) &&
      can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+$", var.oidc.client_secret_arn))
    )
    error_message = "oidc: expected null, or an https issuer URL, a client id without spaces or quotes, and a Secrets Manager secret ARN."
  }
}

variable "bootstrap_token_secret_arn" {
  type        = string
  description = "Secret holding the bootstrap token that creates the first admin (AIRLOCK_BOOTSTRAP_TOKEN_FILE). Null: the control plane generates one in its data directory on the first start (docs/access.md)."
  default     = null

  validation {
    condition     = var.bootstrap_token_secret_arn == null || can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+$", var.bootstrap_token_secret_arn))
    error_message = "bootstrap_token_secret_arn: expected null or a Secrets Manager secret ARN."
  }
}

variable "additional_secrets_kms_key_arns" {
  type        = list(string)
  description = "Customer managed KMS keys that encrypt the secrets above (the TLS, client CA, OIDC and bootstrap secrets); the instance role may decrypt with them through Secrets Manager only. The module's own key (KEK, database password) is always included."
  default     = []

  validation {
    condition     = alltrue([for arn in var.additional_secrets_kms_key_arns : can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/(mrk-)?[0-9a-f-]{32,36}$", arn))])
    error_message = "additional_secrets_kms_key_arns: expected KMS key ARNs."
  }
}

variable "extra_environment" {
  type        = map(string)
  description = "Further environment of the control plane (AIRLOCK_LEASE_TTL, AIRLOCK_MAX_ATTEMPTS, LOG_LEVEL, …; apps/control-plane/README.md). Not for variables this module sets, nor for secrets: values go into the user data."
  default     = {}

  validation {
    condition = alltrue([for name, value in var.extra_environment :
      can(regex("^[A-Z][A-Z0-9_]{0,127}$", name)) &&
      !contains(["DATABASE_URL", "PGSSLMODE", "NODE_EXTRA_CA_CERTS", "AIRLOCK_NATS_URL", "AIRLOCK_HTTP_HOST", "AIRLOCK_HTTP_PORT", "AIRLOCK_GRPC_HOST", "AIRLOCK_GRPC_PORT", "AIRLOCK_METRICS_HOST", "AIRLOCK_METRICS_PORT", "AIRLOCK_PUBLIC_URL", "AIRLOCK_DASHBOARD_DIR", "AIRLOCK_DATA_DIR", "AIRLOCK_KEK", "AIRLOCK_KEK_FILE", "AIRLOCK_GRPC_TLS_CERT_FILE", "AIRLOCK_GRPC_TLS_KEY_FILE", "AIRLOCK_GRPC_CLIENT_CERTS", "AIRLOCK_GRPC_CLIENT_CA_CERT_FILE", "AIRLOCK_GRPC_CLIENT_CA_KEY_FILE", "AIRLOCK_OIDC_ISSUER", "AIRLOCK_OIDC_CLIENT_ID", "AIRLOCK_OIDC_CLIENT_SECRET_FILE", "AIRLOCK_BOOTSTRAP_TOKEN_FILE"], name) &&
      can(regex("^[^\\n'\\\\]*$", value))
    ])
    error_message = "extra_environment: expected UPPER_CASE names other than those the module sets, with one-line values without single quotes or backslashes."
  }
}

# ---------------------------------------------------------------------------------------
# PostgreSQL (Amazon RDS)
# ---------------------------------------------------------------------------------------

variable "db_engine_version" {
  type        = string
  description = "PostgreSQL version on RDS: a major version (16) lets RDS pick and upgrade the minor one."
  default     = "16"

  validation {
    condition     = can(regex("^1[4-7](\\.[0-9]+)?$", var.db_engine_version))
    error_message = "db_engine_version: expected a PostgreSQL major version 14 to 17, optionally with a minor version (16.4)."
  }
}

variable "db_instance_class" {
  type        = string
  description = "RDS instance class. Each replica opens 10 connections; RDS's default max_connections grows with the class's memory."
  default     = "db.m7g.large"

  validation {
    condition     = can(regex("^db\\.[a-z0-9]+\\.[a-z0-9]+$", var.db_instance_class))
    error_message = "db_instance_class: expected an RDS instance class such as db.m7g.large."
  }
}

variable "db_storage_gib" {
  type = object({
    allocated     = number
    max_allocated = number
  })
  description = "Encrypted gp3 storage of the database, GiB: allocated at creation (20 to 65536) and the ceiling storage autoscaling may grow it to (at least allocated)."
  default = {
    allocated     = 50
    max_allocated = 500
  }

  validation {
    condition     = var.db_storage_gib.allocated >= 20 && var.db_storage_gib.allocated <= 65536 && var.db_storage_gib.max_allocated >= var.db_storage_gib.allocated && var.db_storage_gib.max_allocated <= 65536
    error_message = "db_storage_gib: expected 20 <= allocated <= max_allocated <= 65536."
  }
}

variable "db_multi_az" {
  type        = bool
  description = "A standby in a second Availability Zone that RDS fails over to."
  default     = true
}

variable "db_backup_retention_days" {
  type        = number
  description = "Days RDS keeps automated backups and point-in-time recovery (1 to 35)."
  default     = 14

  validation {
    condition     = var.db_backup_retention_days >= 1 && var.db_backup_retention_days <= 35 && floor(var.db_backup_retention_days) == var.db_backup_retention_days
    error_message = "db_backup_retention_days: expected a whole number from 1 to 35."
  }
}

variable "db_name" {
  type        = string
  description = "Name of the database the control plane uses."
  default     = "airlock"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,62}$", var.db_name))
    error_message = "db_name: expected a lowercase identifier of at most 63 characters."
  }
}

variable "db_username" {
  type        = string
  description = "Master user name; RDS keeps its password in Secrets Manager (manage_master_user_password), encrypted with the module's KMS key."
  default     = "airlock"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,62}$", var.db_username)) && !contains(["postgres", "rdsadmin", "admin", "root"], var.db_username)
    error_message = "db_username: expected a lowercase identifier, not postgres, rdsadmin, admin or root."
  }
}

variable "database_ca_bundle_pem" {
  type        = string
  description = "The RDS certificate bundle of the region, PEM (https://truststore.pki.rds.amazonaws.com/<region>/<region>-bundle.pem, fetched once by the operator). The control plane verifies the database's certificate against it (PGSSLMODE=verify-full)."

  validation {
    condition     = can(regex("-----BEGIN CERTIFICATE-----", var.database_ca_bundle_pem))
    error_message = "database_ca_bundle_pem: expected PEM text with a -----BEGIN CERTIFICATE----- block."
  }
}

# ---------------------------------------------------------------------------------------
# NATS (JetStream)
# ---------------------------------------------------------------------------------------

variable "nats_node_count" {
  type        = number
  description = "NATS servers: 1, or 3 for a cluster that survives the loss of one. Fixed instances, each with its own network interface (a stable address in AIRLOCK_NATS_URL) and encrypted JetStream volume, both kept when the instance is replaced."
  default     = 3

  validation {
    condition     = contains([1, 3], var.nats_node_count)
    error_message = "nats_node_count: expected 1 or 3."
  }
}

variable "nats_instance_type" {
  type        = string
  description = "EC2 instance type of the NATS servers. A queued job is one message of about 200 bytes: a small instance carries the backlog."
  default     = "t3.small"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", var.nats_instance_type))
    error_message = "nats_instance_type: expected an EC2 instance type such as t3.small."
  }
}

variable "nats_store_volume_size_gib" {
  type        = number
  description = "Size of each NATS server's encrypted gp3 JetStream volume, GiB (4 to 1024); JetStream may fill 80 % of it."
  default     = 20

  validation {
    condition     = var.nats_store_volume_size_gib >= 4 && var.nats_store_volume_size_gib <= 1024 && floor(var.nats_store_volume_size_gib) == var.nats_store_volume_size_gib
    error_message = "nats_store_volume_size_gib: expected a whole number from 4 to 1024."
  }
}

variable "nats_server_tarball_url" {
  type        = string
  description = "Where the NATS instances fetch the nats-server release tarball (nats-server-v2.*-linux-amd64.tar.gz or -arm64, as the NATS project publishes it): https:// on the customer's mirror or s3://."

  validation {
    condition     = can(regex("^(https://[^\\s/]+/|s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/)[^\\s]+$", var.nats_server_tarball_url))
    error_message = "nats_server_tarball_url: expected an https:// or s3:// URL."
  }
}

variable "nats_server_tarball_sha256" {
  type        = string
  description = "SHA-256 of the nats-server tarball (the release's SHA256SUMS)."

  validation {
    condition     = can(regex("^[0-9a-f]{64}$", var.nats_server_tarball_sha256))
    error_message = "nats_server_tarball_sha256: expected 64 lowercase hexadecimal characters."
  }
}

# ---------------------------------------------------------------------------------------
# Secrets, logs and egress
# ---------------------------------------------------------------------------------------

variable "kek_recovery_window_days" {
  type        = number
  description = "Days a deleted KEK secret can still be restored (7 to 30). Without the KEK, the signing keys sealed in the database cannot be read."
  default     = 30

  validation {
    condition     = var.kek_recovery_window_days >= 7 && var.kek_recovery_window_days <= 30 && floor(var.kek_recovery_window_days) == var.kek_recovery_window_days
    error_message = "kek_recovery_window_days: expected a whole number from 7 to 30."
  }
}

variable "log_retention_days" {
  type        = number
  description = "Days CloudWatch Logs keeps the control plane's and NATS's logs (a value CloudWatch accepts: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)."
  default     = 90

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days: expected one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "aws_endpoint_cidrs" {
  type        = list(string)
  description = "Addresses (the subnets) of the VPC's interface endpoints, port 443, private DNS on: secretsmanager and logs always; ssm, ssmmessages and ec2messages with enable_ssm."

  validation {
    condition     = length(var.aws_endpoint_cidrs) >= 1 && alltrue([for cidr in var.aws_endpoint_cidrs : can(cidrhost(cidr, 0)) && can(cidrnetmask(cidr)) && try(cidrsubnet(cidr, 0, 0) == cidr, false) && !endswith(cidr, "/0")])
    error_message = "aws_endpoint_cidrs: expected one or more canonical IPv4 CIDRs, none of them a /0."
  }
}

variable "artifact_mirror_cidrs" {
  type        = list(string)
  description = "Addresses of the mirror serving the https:// artifact URLs (port 443). Empty when they are all s3://."
  default     = []

  validation {
    condition     = alltrue([for cidr in var.artifact_mirror_cidrs : can(cidrhost(cidr, 0)) && can(cidrnetmask(cidr)) && try(cidrsubnet(cidr, 0, 0) == cidr, false) && !endswith(cidr, "/0")])
    error_message = "artifact_mirror_cidrs: expected canonical IPv4 CIDRs, none of them a /0."
  }
}

variable "oidc_provider_cidrs" {
  type        = list(string)
  description = "Addresses of the identity provider the control plane calls for single sign-on (port 443). Empty without oidc."
  default     = []

  validation {
    condition     = alltrue([for cidr in var.oidc_provider_cidrs : can(cidrhost(cidr, 0)) && can(cidrnetmask(cidr)) && try(cidrsubnet(cidr, 0, 0) == cidr, false) && !endswith(cidr, "/0")])
    error_message = "oidc_provider_cidrs: expected canonical IPv4 CIDRs, none of them a /0."
  }
}

variable "s3_prefix_list_id" {
  type        = string
  description = "Prefix list of the VPC's S3 gateway endpoint (pl-…), opened on 443 for s3:// artifacts and Amazon Linux's repositories. Null: no S3 access."
  default     = null

  validation {
    condition     = var.s3_prefix_list_id == null || can(regex("^pl-[0-9a-f]{8,17}$", var.s3_prefix_list_id))
    error_message = "s3_prefix_list_id: expected null or a prefix list id such as pl-6ea54007."
  }
}

variable "dns_resolver_cidrs" {
  type        = list(string)
  description = "DNS resolvers of the instances (TCP and UDP 53). Null: the VPC's resolver at the VPC CIDR's base + 2 (which security groups do not filter; the rule matters for resolvers of the customer's own)."
  default     = null

  validation {
    condition     = var.dns_resolver_cidrs == null ? true : alltrue([for cidr in var.dns_resolver_cidrs : can(cidrhost(cidr, 0)) && can(cidrnetmask(cidr)) && try(cidrsubnet(cidr, 0, 0) == cidr, false) && !endswith(cidr, "/0")])
    error_message = "dns_resolver_cidrs: expected null or canonical IPv4 CIDRs, none of them a /0."
  }
}

variable "ntp_server_cidrs" {
  type        = list(string)
  description = "NTP servers of the instances (UDP 123); the default is the Amazon Time Sync Service."
  default     = ["169.254.169.123/32"]

  validation {
    condition     = alltrue([for cidr in var.ntp_server_cidrs : can(cidrhost(cidr, 0)) && can(cidrnetmask(cidr)) && try(cidrsubnet(cidr, 0, 0) == cidr, false) && !endswith(cidr, "/0")])
    error_message = "ntp_server_cidrs: expected canonical IPv4 CIDRs, none of them a /0."
  }
}
