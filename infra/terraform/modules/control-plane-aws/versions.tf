terraform {
  # 1.5: the oldest release this module is written for. Validations therefore refer only to
  # the variable they belong to (cross-variable references need 1.9).
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # Any 5.x from 5.60 on: a floor chosen for the arguments used here (NLB security
      # groups, instance_refresh max_healthy_percentage), not a tested minimum.
      version = "~> 5.60"
    }
  }
}
