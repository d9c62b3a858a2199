output "autoscaling_group_name" {
  description = "Name of the workers' Auto Scaling group."
  value       = aws_autoscaling_group.worker.name
}

output "autoscaling_group_arn" {
  description = "ARN of the workers' Auto Scaling group."
  value       = aws_autoscaling_group.worker.arn
}

output "launch_template_id" {
  description = "ID of the workers' launch template."
  value       = aws_launch_template.worker.id
}

output "launch_template_latest_version" {
  description = "Latest version of the launch template; a new one starts an instance refresh."
  value       = aws_launch_template.worker.latest_version
}

output "security_group_id" {
  description = "ID of the workers' egress-only security group (no inbound rule). Reference it in the inbound rules of the control plane, git hosts, inference servers and mirrors."
  value       = aws_security_group.worker.id
}

output "egress_rules" {
  description = "Every destination the security group allows, as purpose => protocol/CIDR:port, for the network review."
  value       = { for key, rule in local.egress_rules : key => "${rule.protocol}/${rule.cidr}:${rule.port}" }
}

output "iam_role_name" {
  description = "Name of the instance role."
  value       = aws_iam_role.worker.name
}

output "iam_role_arn" {
  description = "ARN of the instance role: grant it use of secrets_kms_key_arn in the key's policy if that policy does not delegate to IAM."
  value       = aws_iam_role.worker.arn
}

output "instance_profile_arn" {
  description = "ARN of the instance profile the launch template uses."
  value       = aws_iam_instance_profile.worker.arn
}

output "lifecycle_hook_name" {
  description = "Name of the termination lifecycle hook that holds an instance until its worker has drained."
  value       = local.lifecycle_hook_name
}

output "worker_config_yaml" {
  description = "The /etc/airlock/worker.yml the instances get (no secrets: those are files and variables fetched at boot). Check it with `airlock-worker config-schema` or `doctor`."
  value       = yamlencode(local.worker_config)
}
