# Example: the Airlock control plane, fully self-hosted in a VPC without internet access
# (internal load balancers, everything from the customer's mirror). For the hosted model,
# set load_balancers_internal = false with public subnets for the load balancers, and give
# the workers the grpc_public_ips output. Every value below is illustrative.
#
# The RDS certificate bundle is public; fetch it once, next to this file, before
# `terraform validate`:
#   curl -fsSo eu-central-1-bundle.pem https://truststore.pki.rds.amazonaws.com/eu-central-1/eu-central-1-bundle.pem
#   terraform init && terraform validate && terraform plan

terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.60"
    }
  }
}

provider "aws" {
  region = "eu-central-1"

  default_tags {
    tags = { Application = "airlock", Component = "control-plane" }
  }
}

module "airlock_control_plane" {
  source = "../../modules/control-plane-aws"

  name                     = "airlock"
  vpc_id                   = "vpc-0a1b2c3d4e5f67890"
  private_subnet_ids       = ["subnet-0a1b2c3d4e5f67801", "subnet-0a1b2c3d4e5f67802", "subnet-0a1b2c3d4e5f67803"]
  load_balancer_subnet_ids = ["subnet-0a1b2c3d4e5f67801", "subnet-0a1b2c3d4e5f67802", "subnet-0a1b2c3d4e5f67803"]
  load_balancers_internal  = true

  # REST API and dashboard at https://airlock.corp.example (ACM certificate, private CA).
  public_url          = "https://airlock.corp.example"
  api_certificate_arn = "arn:aws:acm:eu-central-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
  api_ingress_cidrs   = ["10.0.0.0/8"]

  # Workers in the same network dial grpc.airlock.corp.example:443 (a record pointing at the
  # NLB); the gateway's certificate and key, issued by the CA the workers pin.
  grpc_ingress_cidrs              = ["10.20.0.0/16"]
  grpc_tls_certificate_secret_arn = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:airlock/control-plane/grpc-tls-crt-Mn78Op"
  grpc_tls_private_key_secret_arn = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:airlock/control-plane/grpc-tls-key-Qr90St"
  grpc_client_certificates        = "require"
  grpc_client_ca_certificate_secret_arn = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:airlock/control-plane/client-ca-crt-Uv12Wx"
  grpc_client_ca_private_key_secret_arn = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:airlock/control-plane/client-ca-key-Yz34Ab"
  additional_secrets_kms_key_arns       = ["arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"]

  oidc = {
    issuer            = "https://sso.corp.example/realms/airlock"
    client_id         = "airlock"
    client_secret_arn = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:airlock/control-plane/oidc-client-secret-Cd56Ef"
  }
  oidc_provider_cidrs = ["10.0.12.20/32"]
  extra_environment = {
    LOG_LEVEL = "log"
  }

  # Instances: a Debian 12 image (x86_64) with curl, xz, openssl and awscli, and the
  # CloudWatch agent so that the logs reach CloudWatch.
  ami_id        = "ami-0f1e2d3c4b5a69788"
  ami_os_family = "debian12"
  instance_type = "m7i.large"
  capacity      = { min = 2, max = 4, desired = 3 }

  # Here from the mirror, file by file: the Node.js runtime and the app tarball the offline
  # bundle carries (runtime/, apps/), published on the mirror after the bundle's signature
  # was checked. install_source = "offline-bundle" takes the whole bundle instead.
  install_source              = "mirror"
  node_url                    = "https://nexus.corp.example/repository/raw-airlock/airlock/0.1.0/runtime/node-v24.22.3-linux-x64"
  node_sha256                 = "58a5ff5cc8f2200e458bea22e329d5c1994aa1b111d499ca46ec2411d58239ca"
  control_plane_bundle_url    = "https://nexus.corp.example/repository/raw-airlock/airlock/0.1.0/apps/airlock-control-plane-0.1.0.tar.gz"
  control_plane_bundle_sha256 = "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d"
  nats_server_tarball_url     = "https://nexus.corp.example/repository/raw-airlock/nats/v2.11.9/nats-server-v2.11.9-linux-amd64.tar.gz"
  nats_server_tarball_sha256  = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f809"
  artifact_mirror_cidrs       = ["10.20.6.15/32"]
  aws_endpoint_cidrs          = ["10.30.0.0/26", "10.30.0.64/26", "10.30.0.128/26"]

  # PostgreSQL: multi-AZ, two weeks of point-in-time recovery.
  db_instance_class        = "db.m7g.large"
  db_multi_az              = true
  db_backup_retention_days = 14
  database_ca_bundle_pem   = file("${path.module}/eu-central-1-bundle.pem")

  nats_node_count = 3

  metrics_ingress_cidrs = ["10.30.9.0/28"]
  log_retention_days    = 90
  enable_ssm            = true
  tags                  = { CostCenter = "platform" }
}

output "api_load_balancer_dns_name" {
  description = "Point airlock.corp.example at this name."
  value       = module.airlock_control_plane.api_load_balancer_dns_name
}

output "grpc_load_balancer_dns_name" {
  description = "Point grpc.airlock.corp.example (the name in the gateway certificate) at this name."
  value       = module.airlock_control_plane.grpc_load_balancer_dns_name
}

output "kek_secret_arn" {
  description = "Back this secret up together with the database."
  value       = module.airlock_control_plane.kek_secret_arn
}
