# Security groups. Every path is named: load balancers -> control plane -> database and
# NATS; the instances' remaining egress goes only to the AWS endpoints, the artifact
# mirror, the identity provider, DNS and NTP.

locals {
  dns_resolver_cidrs = var.dns_resolver_cidrs == null ? ["${cidrhost(data.aws_vpc.selected.cidr_block, 2)}/32"] : var.dns_resolver_cidrs

  # Egress shared by the control-plane and NATS instances.
  instance_egress_destinations = concat(
    [for cidr in var.aws_endpoint_cidrs : { purpose = "aws-endpoints", cidr = cidr, protocol = "tcp", port = 443 }],
    [for cidr in var.artifact_mirror_cidrs : { purpose = "artifact-mirror", cidr = cidr, protocol = "tcp", port = 443 }],
    [for pair in setproduct(local.dns_resolver_cidrs, ["tcp", "udp"]) : { purpose = "dns", cidr = pair[0], protocol = pair[1], port = 53 }],
    [for cidr in var.ntp_server_cidrs : { purpose = "ntp", cidr = cidr, protocol = "udp", port = 123 }],
  )

  control_plane_egress = { for rule in distinct(concat(
    local.instance_egress_destinations,
    [for cidr in var.oidc_provider_cidrs : { purpose = "oidc-provider", cidr = cidr, protocol = "tcp", port = 443 }],
  )) : "${rule.purpose} ${rule.protocol} ${rule.cidr}:${rule.port}" => rule }

  nats_egress = { for rule in distinct(local.instance_egress_destinations) : "${rule.purpose} ${rule.protocol} ${rule.cidr}:${rule.port}" => rule }
}

# ---- Application Load Balancer (REST API, dashboard) -----------------------------------

resource "aws_security_group" "api_lb" {
  name        = "${var.name}-api-lb"
  description = "Airlock REST API load balancer: HTTPS in from api_ingress_cidrs, out to the control plane"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-api-lb" })
}

resource "aws_vpc_security_group_ingress_rule" "api_lb_https" {
  for_each = toset(var.api_ingress_cidrs)

  security_group_id = aws_security_group.api_lb.id
  description       = "REST API and dashboard over HTTPS"
  cidr_ipv4         = each.value
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  tags              = var.tags
}

resource "aws_vpc_security_group_egress_rule" "api_lb_to_control_plane" {
  security_group_id            = aws_security_group.api_lb.id
  description                  = "To the control plane HTTP port (requests and health checks)"
  referenced_security_group_id = aws_security_group.control_plane.id
  ip_protocol                  = "tcp"
  from_port                    = 8080
  to_port                      = 8080
  tags                         = var.tags
}

# ---- Network Load Balancer (workers' gRPC) ---------------------------------------------

resource "aws_security_group" "grpc_lb" {
  name        = "${var.name}-grpc-lb"
  description = "Airlock worker gateway load balancer: TLS passthrough in from grpc_ingress_cidrs, out to the control plane"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-grpc-lb" })
}

resource "aws_vpc_security_group_ingress_rule" "grpc_lb_workers" {
  for_each = toset(var.grpc_ingress_cidrs)

  security_group_id = aws_security_group.grpc_lb.id
  description       = "Workers: gRPC over TLS, passed through"
  cidr_ipv4         = each.value
  ip_protocol       = "tcp"
  from_port         = var.grpc_listener_port
  to_port           = var.grpc_listener_port
  tags              = var.tags
}

resource "aws_vpc_security_group_egress_rule" "grpc_lb_to_gateway" {
  security_group_id            = aws_security_group.grpc_lb.id
  description                  = "To the control plane worker gateway"
  referenced_security_group_id = aws_security_group.control_plane.id
  ip_protocol                  = "tcp"
  from_port                    = 50051
  to_port                      = 50051
  tags                         = var.tags
}

resource "aws_vpc_security_group_egress_rule" "grpc_lb_health_checks" {
  security_group_id            = aws_security_group.grpc_lb.id
  description                  = "Health checks: GET /api/v1/health/ready on the HTTP port"
  referenced_security_group_id = aws_security_group.control_plane.id
  ip_protocol                  = "tcp"
  from_port                    = 8080
  to_port                      = 8080
  tags                         = var.tags
}

# ---- Control-plane instances -----------------------------------------------------------

resource "aws_security_group" "control_plane" {
  name        = "${var.name}-control-plane"
  description = "Airlock control-plane instances: in only from the load balancers (and metrics scrapers), out to PostgreSQL, NATS and named services"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-control-plane" })
}

resource "aws_vpc_security_group_ingress_rule" "control_plane_http_from_api_lb" {
  security_group_id            = aws_security_group.control_plane.id
  description                  = "REST API and dashboard from the ALB"
  referenced_security_group_id = aws_security_group.api_lb.id
  ip_protocol                  = "tcp"
  from_port                    = 8080
  to_port                      = 8080
  tags                         = var.tags
}

resource "aws_vpc_security_group_ingress_rule" "control_plane_health_from_grpc_lb" {
  security_group_id            = aws_security_group.control_plane.id
  description                  = "NLB health checks on the HTTP port"
  referenced_security_group_id = aws_security_group.grpc_lb.id
  ip_protocol                  = "tcp"
  from_port                    = 8080
  to_port                      = 8080
  tags                         = var.tags
}

# Client IP preservation keeps the workers' addresses; a target group whose balancer has a
# security group is reached through that group, which is the only source allowed here.
resource "aws_vpc_security_group_ingress_rule" "control_plane_grpc_from_grpc_lb" {
  security_group_id            = aws_security_group.control_plane.id
  description                  = "Worker gateway (gRPC, TLS) from the NLB"
  referenced_security_group_id = aws_security_group.grpc_lb.id
  ip_protocol                  = "tcp"
  from_port                    = 50051
  to_port                      = 50051
  tags                         = var.tags
}

resource "aws_vpc_security_group_ingress_rule" "control_plane_metrics" {
  for_each = toset(var.metrics_ingress_cidrs)

  security_group_id = aws_security_group.control_plane.id
  description       = "Prometheus scrape of GET /metrics"
  cidr_ipv4         = each.value
  ip_protocol       = "tcp"
  from_port         = 9464
  to_port           = 9464
  tags              = var.tags
}

resource "aws_vpc_security_group_egress_rule" "control_plane_to_database" {
  security_group_id            = aws_security_group.control_plane.id
  description                  = "PostgreSQL (TLS, verify-full)"
  referenced_security_group_id = aws_security_group.database.id
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  tags                         = var.tags
}

resource "aws_vpc_security_group_egress_rule" "control_plane_to_nats" {
  security_group_id            = aws_security_group.control_plane.id
  description                  = "NATS client port"
  referenced_security_group_id = aws_security_group.nats.id
  ip_protocol                  = "tcp"
  from_port                    = 4222
  to_port                      = 4222
  tags                         = var.tags
}

resource "aws_vpc_security_group_egress_rule" "control_plane" {
  for_each = local.control_plane_egress

  security_group_id = aws_security_group.control_plane.id
  description       = "${each.value.purpose} ${each.value.protocol}/${each.value.port}"
  cidr_ipv4         = each.value.cidr
  ip_protocol       = each.value.protocol
  from_port         = each.value.port
  to_port           = each.value.port
  tags              = var.tags
}

resource "aws_vpc_security_group_egress_rule" "control_plane_s3_gateway" {
  count = var.s3_prefix_list_id == null ? 0 : 1

  security_group_id = aws_security_group.control_plane.id
  description       = "s3 gateway endpoint tcp/443: s3 artifacts, Amazon Linux repositories"
  prefix_list_id    = var.s3_prefix_list_id
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  tags              = var.tags
}

# ---- Database ----------------------------------------------------------------------------

resource "aws_security_group" "database" {
  name        = "${var.name}-database"
  description = "Airlock PostgreSQL: in only from the control-plane instances; no egress"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-database" })
}

resource "aws_vpc_security_group_ingress_rule" "database_from_control_plane" {
  security_group_id            = aws_security_group.database.id
  description                  = "PostgreSQL from the control plane"
  referenced_security_group_id = aws_security_group.control_plane.id
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  tags                         = var.tags
}

# ---- NATS ------------------------------------------------------------------------------

resource "aws_security_group" "nats" {
  name        = "${var.name}-nats"
  description = "Airlock NATS: clients only from the control plane, routes only between the NATS servers"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-nats" })
}

resource "aws_vpc_security_group_ingress_rule" "nats_clients" {
  security_group_id            = aws_security_group.nats.id
  description                  = "NATS clients: the control plane"
  referenced_security_group_id = aws_security_group.control_plane.id
  ip_protocol                  = "tcp"
  from_port                    = 4222
  to_port                      = 4222
  tags                         = var.tags
}

resource "aws_vpc_security_group_ingress_rule" "nats_routes" {
  security_group_id            = aws_security_group.nats.id
  description                  = "NATS cluster routes between the servers"
  referenced_security_group_id = aws_security_group.nats.id
  ip_protocol                  = "tcp"
  from_port                    = 6222
  to_port                      = 6222
  tags                         = var.tags
}

resource "aws_vpc_security_group_egress_rule" "nats_routes" {
  security_group_id            = aws_security_group.nats.id
  description                  = "NATS cluster routes between the servers"
  referenced_security_group_id = aws_security_group.nats.id
  ip_protocol                  = "tcp"
  from_port                    = 6222
  to_port                      = 6222
  tags                         = var.tags
}

resource "aws_vpc_security_group_egress_rule" "nats" {
  for_each = local.nats_egress

  security_group_id = aws_security_group.nats.id
  description       = "${each.value.purpose} ${each.value.protocol}/${each.value.port}"
  cidr_ipv4         = each.value.cidr
  ip_protocol       = each.value.protocol
  from_port         = each.value.port
  to_port           = each.value.port
  tags              = var.tags
}

resource "aws_vpc_security_group_egress_rule" "nats_s3_gateway" {
  count = var.s3_prefix_list_id == null ? 0 : 1

  security_group_id = aws_security_group.nats.id
  description       = "s3 gateway endpoint tcp/443: s3 artifacts, Amazon Linux repositories"
  prefix_list_id    = var.s3_prefix_list_id
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  tags              = var.tags
}
