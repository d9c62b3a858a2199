# Example: Airlock workers in a customer's VPC with no internet access (hybrid model: the
# control plane is hosted elsewhere; fully self-hosted: it is in the same network). Every
# value below is illustrative: replace the ids, addresses, ARNs and checksums with yours.
#
# Put the PEM certificate of the CA that issued the control plane's gateway certificate
# next to this file as airlock-grpc-ca.pem (public data), then:
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
    tags = { Application = "airlock", Component = "worker" }
  }
}

module "airlock_worker" {
  source = "../../modules/worker-aws"

  name               = "airlock-worker"
  vpc_id             = "vpc-0a1b2c3d4e5f67890"
  private_subnet_ids = ["subnet-0a1b2c3d4e5f67801", "subnet-0a1b2c3d4e5f67802"]

  # A Debian 12 image (x86_64, as the bundle's Node.js) the customer built with git,
  # bubblewrap, util-linux, curl, xz, openssl and awscli.
  ami_id        = "ami-0f1e2d3c4b5a69788"
  ami_os_family = "debian12"
  instance_type = "m7i.2xlarge"
  capacity      = { min = 2, max = 6, desired = 3 }

  # Airlock's offline bundle (built with --no-images), on the customer's artifact mirror:
  # its SHA-256 is checked, then its install.sh checks the signature against the release
  # key published to the customer out of band.
  install_source         = "offline-bundle"
  offline_bundle_url     = "https://nexus.corp.example/repository/raw-airlock/airlock/0.1.0/airlock-0.1.0.tar"
  offline_bundle_sha256  = "4c1f0a9e8d7b6a5c4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d"
  release_public_key_pem = <<-EOT
    -----BEGIN PUBLIC KEY-----
    MCowBQYDK2VwAyEA0vlrUqXEnZYIzB8wZTxmLnPjTRgP++E35ULwm9NIEfM=
    -----END PUBLIC KEY-----
  EOT

  # The hosted control plane's gRPC endpoint, the CA that issued its certificate, and the
  # signing keys the control plane's admin gave out (check them out of band).
  control_plane_address            = "grpc.airlock.example.com:443"
  control_plane_ca_certificate_pem = file("${path.module}/airlock-grpc-ca.pem")
  trusted_signing_keys = [
    { key_id = "sk_561c9f2cc0e72038", public_key = "3q2+7wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" },
  ]

  # One-time enrollment tokens (aet_…), refilled by the customer's automation.
  enrollment_token_secret_arn = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:airlock/worker/enrollment-tokens-Ab12Cd"
  secrets_kms_key_arn         = "arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  secret_files = [
    { secret_arn = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:airlock/worker/gitlab-token-Ef34Gh", file_name = "gitlab-token" },
  ]
  secret_environment = {
    VLLM_API_KEY = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:airlock/worker/vllm-api-key-Ij56Kl"
  }

  concurrency = 2
  labels      = ["linux-gpu"]
  inference_endpoints = [
    { name = "vllm", base_url = "http://10.20.8.12:8000/v1", model = "qwen2.5-coder-32b", api_key_env = "VLLM_API_KEY", context_window = 32768 },
  ]
  worker_config_extra = {
    repositories = [
      {
        alias    = "web-app"
        cloneUrl = "https://gitlab.corp.example/team/web-app.git"
        pushUrl  = "https://gitlab.corp.example/team/web-app.git"
        baseRefs = ["main"]
        git      = { username = "oauth2", tokenFile = "/etc/airlock/secrets/gitlab-token" }
        forge    = { type = "gitlab", apiUrl = "https://gitlab.corp.example/api/v4", project = "team/web-app", tokenFile = "/etc/airlock/secrets/gitlab-token" }
      },
    ]
    setup = {
      mirrors = ["nexus.corp.example:443"]
      env = {
        npm_config_registry = "https://nexus.corp.example/repository/npm-group/"
        PIP_INDEX_URL       = "https://nexus.corp.example/repository/pypi-group/simple"
      }
    }
  }

  # Egress, and nothing else.
  control_plane_cidrs  = ["203.0.113.10/32", "203.0.113.11/32"]
  git_cidrs            = ["10.20.4.0/24"]
  git_ports            = [443]
  inference_cidrs      = ["10.20.8.12/32"]
  inference_ports      = [8000]
  package_mirror_cidrs = ["10.20.6.15/32"]
  aws_endpoint_cidrs   = ["10.20.0.0/26", "10.20.0.64/26"]

  enable_ssm = true
  tags       = { CostCenter = "platform" }
}

output "worker_security_group_id" {
  description = "The workers' egress-only security group: allow it in the git hosts', inference servers' and mirrors' inbound rules."
  value       = module.airlock_worker.security_group_id
}

output "worker_egress_rules" {
  description = "What the workers may reach, for the network review."
  value       = module.airlock_worker.egress_rules
}
