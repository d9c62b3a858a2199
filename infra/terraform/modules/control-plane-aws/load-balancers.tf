# Two load balancers, because the two ports want different things.
#
# REST API and dashboard: an Application Load Balancer terminates HTTPS with the ACM
# certificate and forwards HTTP/1.1 to port 8080.
#
# Workers' gRPC: a Network Load Balancer with a plain TCP listener, so TLS passes through
# to the replicas, each holding the gateway certificate (docs/scaling.md). That keeps
# HTTP/2 end to end between worker and replica (ALPN is theirs), keeps the worker's pinned
# private CA and, with AIRLOCK_GRPC_CLIENT_CERTS, mutual TLS: an ALB or a TLS listener would
# terminate TLS with an ACM certificate and swallow the client certificate. One worker
# stream is one TCP flow for its whole life; the NLB closes a flow after 350 s without a
# packet, while gRPC keepalive pings every 30 s (both sides' default) and heartbeats every
# 5 s keep it busy.

resource "aws_lb" "api" {
  name                       = "${var.name}-api"
  load_balancer_type         = "application"
  internal                   = var.load_balancers_internal
  subnets                    = var.load_balancer_subnet_ids
  security_groups            = [aws_security_group.api_lb.id]
  idle_timeout               = var.api_idle_timeout_seconds
  drop_invalid_header_fields = true
  enable_deletion_protection = false
  tags                       = var.tags
}

resource "aws_lb_target_group" "api" {
  name                 = "${var.name}-api"
  vpc_id               = var.vpc_id
  target_type          = "instance"
  port                 = 8080
  protocol             = "HTTP"
  protocol_version     = "HTTP1"
  deregistration_delay = 30
  tags                 = var.tags

  health_check {
    protocol            = "HTTP"
    port                = "traffic-port"
    path                = "/api/v1/health/ready"
    matcher             = "200"
    interval            = 10
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }
}

resource "aws_lb_listener" "api_https" {
  load_balancer_arn = aws_lb.api.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = var.api_ssl_policy
  certificate_arn   = var.api_certificate_arn
  tags              = var.tags

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.api.arn
  }
}

# Internet-facing: one Elastic IP per subnet, stable addresses the workers' egress rules
# (control_plane_cidrs of the worker module) can name.
resource "aws_eip" "grpc" {
  count = var.load_balancers_internal ? 0 : length(var.load_balancer_subnet_ids)

  domain = "vpc"
  tags   = merge(var.tags, { Name = "${var.name}-grpc-${count.index}" })
}

resource "aws_lb" "grpc" {
  name                             = "${var.name}-grpc"
  load_balancer_type               = "network"
  internal                         = var.load_balancers_internal
  security_groups                  = [aws_security_group.grpc_lb.id]
  enable_cross_zone_load_balancing = true
  enable_deletion_protection       = false
  tags                             = var.tags

  dynamic "subnet_mapping" {
    for_each = var.load_balancer_subnet_ids
    content {
      subnet_id     = subnet_mapping.value
      allocation_id = var.load_balancers_internal ? null : aws_eip.grpc[subnet_mapping.key].id
    }
  }
}

resource "aws_lb_target_group" "grpc" {
  name                 = "${var.name}-grpc"
  vpc_id               = var.vpc_id
  target_type          = "instance"
  port                 = 50051
  protocol             = "TCP"
  preserve_client_ip   = "true"
  deregistration_delay = var.grpc_deregistration_delay_seconds
  # A draining replica's streams are closed at the end of the delay rather than left to
  # die with the instance: the workers reconnect at once, through the NLB, elsewhere.
  connection_termination = true
  tags                   = var.tags

  # Readiness on the HTTP port: a replica takes workers only when PostgreSQL and NATS answer.
  health_check {
    protocol            = "HTTP"
    port                = "8080"
    path                = "/api/v1/health/ready"
    matcher             = "200"
    interval            = 10
    timeout             = 6
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }
}

resource "aws_lb_listener" "grpc" {
  load_balancer_arn = aws_lb.grpc.arn
  port              = var.grpc_listener_port
  protocol          = "TCP"
  tags              = var.tags

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.grpc.arn
  }
}
