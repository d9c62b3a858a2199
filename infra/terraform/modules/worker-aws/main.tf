# Airlock workers in the customer's VPC: an Auto Scaling group of instances that dial out
# only. No inbound rule exists; outbound is limited to the destinations the variables name.

data "aws_region" "current" {}

data "aws_partition" "current" {}

data "aws_vpc" "selected" {
  id = var.vpc_id
}

# Only for the AMI's root device name, which the launch template must repeat to size and
# encrypt the root volume.
data "aws_ami" "selected" {
  filter {
    name   = "image-id"
    values = [var.ami_id]
  }
}

locals {
  lifecycle_hook_name = "drain-worker"

  # ---- /etc/airlock/worker.yml -------------------------------------------------------
  # Optional keys are left out rather than written as null: the worker's schema refuses
  # null where it expects a string or a number.
  control_plane_config = merge(
    {
      address = var.control_plane_address
      tls = merge(
        { caFile = "/etc/airlock/control-plane-ca.pem" },
        { for key, value in { serverName = var.control_plane_server_name } : key => value if value != null },
      )
      trustedSigningKeys = [for key in var.trusted_signing_keys : { keyId = key.key_id, publicKey = key.public_key }]
    },
    { for key, value in { proxy = var.https_proxy_url } : key => value if value != null },
  )

  inference_endpoints_config = [for endpoint in var.inference_endpoints : merge(
    { name = endpoint.name, baseUrl = endpoint.base_url, model = endpoint.model },
    { for key, value in { apiKeyEnv = endpoint.api_key_env, toolCalling = endpoint.tool_calling } : key => value if value != null },
    { for key, value in { contextWindow = endpoint.context_window } : key => value if value != null },
  )]

  worker_config = merge(var.worker_config_extra, {
    controlPlane = local.control_plane_config
    stateDir     = "/var/lib/airlock/worker/state"
    workspaceDir = "/var/lib/airlock/worker/workspace"
    concurrency  = var.concurrency
    labels       = var.labels
    # Health and metrics on loopback only: the security group has no inbound rule anyway.
    health = { host = "127.0.0.1", port = 9464 }
    inference = {
      endpoints    = local.inference_endpoints_config
      allowedHosts = var.inference_allowed_hosts
    }
  })

  # ---- First boot ----------------------------------------------------------------------
  # Small values travel as NAME=<base64> lines (never interpreted by a shell); files are
  # written by quoted heredocs. The whole script is gzipped: EC2 caps user data at 16 KB.
  bootstrap_params = {
    AWS_REGION                  = data.aws_region.current.name
    OS_FAMILY                   = var.ami_os_family
    INSTALL_OS_PACKAGES         = var.install_os_packages ? "true" : "false"
    INSTALL_SOURCE              = var.install_source
    OFFLINE_BUNDLE_URL          = coalesce(var.offline_bundle_url, "-")
    OFFLINE_BUNDLE_SHA256       = coalesce(var.offline_bundle_sha256, "-")
    NODE_URL                    = coalesce(var.node_url, "-")
    NODE_SHA256                 = coalesce(var.node_sha256, "-")
    APP_BUNDLE_URL              = coalesce(var.worker_bundle_url, "-")
    APP_BUNDLE_SHA256           = coalesce(var.worker_bundle_sha256, "-")
    ENROLLMENT_TOKEN_SECRET_ARN = var.enrollment_token_secret_arn
    SECRET_FILES_TSV            = join("", [for secret in var.secret_files : "${secret.secret_arn}\t${secret.file_name}\n"])
    SECRET_ENVIRONMENT_TSV      = join("", [for name, arn in var.secret_environment : "${name}\t${arn}\n"])
    AUTOSCALING_GROUP_NAME      = var.name
    LIFECYCLE_HOOK_NAME         = local.lifecycle_hook_name
  }

  user_data_vars = {
    params                 = join("\n", [for name in sort(keys(local.bootstrap_params)) : "${name}=${base64encode(local.bootstrap_params[name])}"])
    bootstrap_lib          = chomp(file("${path.module}/files/bootstrap-lib.sh"))
    worker_bootstrap       = chomp(file("${path.module}/files/worker-bootstrap.sh"))
    worker_secrets         = chomp(file("${path.module}/files/worker-secrets.sh"))
    worker_lifecycle       = chomp(file("${path.module}/files/worker-lifecycle.sh"))
    worker_unit            = chomp(file(coalesce(var.systemd_unit_file, "${path.module}/../../../systemd/airlock-worker.service")))
    worker_dropin          = chomp(file("${path.module}/files/airlock-worker-aws.conf"))
    secrets_unit           = chomp(file("${path.module}/files/airlock-worker-secrets.service"))
    lifecycle_unit         = chomp(file("${path.module}/files/airlock-worker-lifecycle.service"))
    worker_config_yaml     = chomp(yamlencode(local.worker_config))
    control_plane_ca_pem   = chomp(var.control_plane_ca_certificate_pem)
    artifact_mirror_ca_pem = var.artifact_mirror_ca_certificate_pem == null ? "" : chomp(var.artifact_mirror_ca_certificate_pem)
    release_public_key_pem = var.release_public_key_pem == null ? "" : chomp(var.release_public_key_pem)
  }

  # ---- Egress ----------------------------------------------------------------------------
  dns_resolver_cidrs = var.dns_resolver_cidrs == null ? ["${cidrhost(data.aws_vpc.selected.cidr_block, 2)}/32"] : var.dns_resolver_cidrs

  egress_destinations = distinct(concat(
    [for cidr in var.control_plane_cidrs : { purpose = "control-plane", cidr = cidr, protocol = "tcp", port = var.control_plane_port }],
    [for cidr in var.https_proxy_cidrs : { purpose = "https-proxy", cidr = cidr, protocol = "tcp", port = var.https_proxy_port }],
    [for pair in setproduct(var.git_cidrs, var.git_ports) : { purpose = "git", cidr = pair[0], protocol = "tcp", port = pair[1] }],
    [for pair in setproduct(var.inference_cidrs, var.inference_ports) : { purpose = "inference", cidr = pair[0], protocol = "tcp", port = pair[1] }],
    [for pair in setproduct(var.package_mirror_cidrs, var.package_mirror_ports) : { purpose = "package-mirror", cidr = pair[0], protocol = "tcp", port = pair[1] }],
    [for cidr in var.aws_endpoint_cidrs : { purpose = "aws-endpoints", cidr = cidr, protocol = "tcp", port = 443 }],
    [for pair in setproduct(local.dns_resolver_cidrs, ["tcp", "udp"]) : { purpose = "dns", cidr = pair[0], protocol = pair[1], port = 53 }],
    [for cidr in var.ntp_server_cidrs : { purpose = "ntp", cidr = cidr, protocol = "udp", port = 123 }],
  ))

  egress_rules = { for rule in local.egress_destinations : "${rule.purpose} ${rule.protocol} ${rule.cidr}:${rule.port}" => rule }

  # ---- IAM -------------------------------------------------------------------------------
  secret_arns = distinct(concat(
    [var.enrollment_token_secret_arn],
    [for secret in var.secret_files : secret.secret_arn],
    values(var.secret_environment),
  ))
}

# ---------------------------------------------------------------------------------------
# Security group: egress only
# ---------------------------------------------------------------------------------------

# Terraform removes the allow-all egress rule AWS adds to a new group; with no inline rules
# and only the egress rules below, nothing reaches the workers and they reach only these.
resource "aws_security_group" "worker" {
  name        = "${var.name}-egress-only"
  description = "Airlock workers: no inbound rule; outbound only to the control plane, git, inference, mirrors, AWS endpoints, DNS and NTP"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-egress-only" })
}

resource "aws_vpc_security_group_egress_rule" "worker" {
  for_each = local.egress_rules

  security_group_id = aws_security_group.worker.id
  description       = "${each.value.purpose} ${each.value.protocol}/${each.value.port}"
  cidr_ipv4         = each.value.cidr
  ip_protocol       = each.value.protocol
  from_port         = each.value.port
  to_port           = each.value.port
  tags              = var.tags
}

resource "aws_vpc_security_group_egress_rule" "s3_gateway" {
  count = var.s3_prefix_list_id == null ? 0 : 1

  security_group_id = aws_security_group.worker.id
  description       = "s3 gateway endpoint tcp/443: s3 artifacts, Amazon Linux repositories"
  prefix_list_id    = var.s3_prefix_list_id
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  tags              = var.tags
}

# ---------------------------------------------------------------------------------------
# IAM: the instance role reads its own secrets and artifacts, and nothing else
# ---------------------------------------------------------------------------------------

data "aws_iam_policy_document" "assume_role" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "worker" {
  name                 = "${var.name}-instance"
  description          = "Airlock worker instances: their own secrets and artifacts only"
  assume_role_policy   = data.aws_iam_policy_document.assume_role.json
  max_session_duration = 3600
  tags                 = var.tags
}

resource "aws_iam_instance_profile" "worker" {
  name = "${var.name}-instance"
  role = aws_iam_role.worker.name
  tags = var.tags
}

data "aws_iam_policy_document" "boot" {
  statement {
    sid       = "ReadOwnSecrets"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = local.secret_arns
  }

  dynamic "statement" {
    for_each = var.secrets_kms_key_arn == null ? [] : [var.secrets_kms_key_arn]
    content {
      sid       = "DecryptOwnSecretsThroughSecretsManager"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["secretsmanager.${data.aws_region.current.name}.amazonaws.com"]
      }
    }
  }

  dynamic "statement" {
    for_each = length(var.artifact_s3_object_arns) == 0 ? [] : [var.artifact_s3_object_arns]
    content {
      sid       = "ReadArtifacts"
      actions   = ["s3:GetObject"]
      resources = statement.value
    }
  }
}

resource "aws_iam_role_policy" "boot" {
  name   = "secrets-and-artifacts"
  role   = aws_iam_role.worker.id
  policy = data.aws_iam_policy_document.boot.json
}

# Separate from the boot policy: it names the group, which is created after the role.
data "aws_iam_policy_document" "lifecycle" {
  statement {
    sid       = "CompleteOwnGroupsTerminationHook"
    actions   = ["autoscaling:CompleteLifecycleAction"]
    resources = [aws_autoscaling_group.worker.arn]
  }
}

resource "aws_iam_role_policy" "lifecycle" {
  name   = "complete-termination-hook"
  role   = aws_iam_role.worker.id
  policy = data.aws_iam_policy_document.lifecycle.json
}

resource "aws_iam_role_policy_attachment" "ssm" {
  count = var.enable_ssm ? 1 : 0

  role       = aws_iam_role.worker.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

# ---------------------------------------------------------------------------------------
# Launch template and Auto Scaling group
# ---------------------------------------------------------------------------------------

resource "aws_launch_template" "worker" {
  name                   = var.name
  description            = "Airlock worker: egress only, IMDSv2, encrypted volumes"
  image_id               = var.ami_id
  instance_type          = var.instance_type
  update_default_version = true
  user_data              = base64gzip(templatefile("${path.module}/templates/user-data.sh.tftpl", local.user_data_vars))
  vpc_security_group_ids = [aws_security_group.worker.id]

  iam_instance_profile {
    arn = aws_iam_instance_profile.worker.arn
  }

  # IMDSv2 only, one hop: a process in a container or namespace on the host cannot reach
  # the instance role's credentials.
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
    instance_metadata_tags      = "disabled"
  }

  block_device_mappings {
    device_name = data.aws_ami.selected.root_device_name
    ebs {
      volume_size           = var.root_volume_size_gib
      volume_type           = "gp3"
      encrypted             = true
      kms_key_id            = var.ebs_kms_key_arn
      delete_on_termination = true
    }
  }

  # /var/lib/airlock: stateDir and workspaceDir. It goes with the instance: a replacement
  # instance enrolls as a new worker (revoke the old one, docs/fleet.md).
  block_device_mappings {
    device_name = "/dev/sdf"
    ebs {
      volume_size           = var.data_volume_size_gib
      volume_type           = "gp3"
      encrypted             = true
      kms_key_id            = var.ebs_kms_key_arn
      delete_on_termination = true
    }
  }

  tag_specifications {
    resource_type = "instance"
    tags          = merge(var.tags, { Name = var.name })
  }

  tag_specifications {
    resource_type = "volume"
    tags          = merge(var.tags, { Name = var.name })
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition     = var.install_source == "offline-bundle" ? (var.offline_bundle_url != null && var.offline_bundle_sha256 != null) : (var.node_url != null && var.node_sha256 != null && var.worker_bundle_url != null && var.worker_bundle_sha256 != null)
      error_message = "install_source offline-bundle needs offline_bundle_url and offline_bundle_sha256; mirror needs node_url, node_sha256, worker_bundle_url and worker_bundle_sha256."
    }
  }
}

resource "aws_autoscaling_group" "worker" {
  name                      = var.name
  vpc_zone_identifier       = var.private_subnet_ids
  min_size                  = var.capacity.min
  max_size                  = var.capacity.max
  desired_capacity          = var.capacity.desired
  health_check_type         = "EC2"
  health_check_grace_period = 900
  default_instance_warmup   = 300
  termination_policies      = ["OldestLaunchTemplate", "OldestInstance"]

  launch_template {
    id      = aws_launch_template.worker.id
    version = aws_launch_template.worker.latest_version
  }

  # A new launch template version (AMI, bundle, configuration) rolls through the group;
  # each old instance drains through the lifecycle hook below.
  instance_refresh {
    strategy = "Rolling"
    preferences {
      min_healthy_percentage = var.instance_refresh.min_healthy_percentage
      max_healthy_percentage = var.instance_refresh.max_healthy_percentage
      instance_warmup        = 300
    }
  }

  # Held in Terminating:Wait until airlock-worker-lifecycle has drained the worker, or
  # until the timeout.
  initial_lifecycle_hook {
    name                 = local.lifecycle_hook_name
    lifecycle_transition = "autoscaling:EC2_INSTANCE_TERMINATING"
    heartbeat_timeout    = var.drain_timeout_seconds
    default_result       = "CONTINUE"
  }

  dynamic "tag" {
    for_each = merge(var.tags, { Name = var.name })
    content {
      key                 = tag.key
      value               = tag.value
      propagate_at_launch = true
    }
  }

  # The first boot reads secrets: the role's policy must exist before any instance does.
  depends_on = [aws_iam_role_policy.boot]
}
