# PostgreSQL on Amazon RDS: the record of every job (docs/scaling.md). Encrypted with the
# module's KMS key, the master password kept by RDS in Secrets Manager (never in Terraform's
# state), TLS required.

locals {
  db_major_version = split(".", var.db_engine_version)[0]
}

resource "aws_db_subnet_group" "this" {
  name        = "${var.name}-database"
  description = "Airlock control plane ${var.name}: PostgreSQL"
  subnet_ids  = var.private_subnet_ids
  tags        = var.tags
}

resource "aws_db_parameter_group" "this" {
  name        = "${var.name}-postgres${local.db_major_version}"
  family      = "postgres${local.db_major_version}"
  description = "Airlock control plane ${var.name}: TLS required"
  tags        = var.tags

  # The control plane connects with PGSSLMODE=verify-full; refuse any other client in clear.
  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }

  # A new major version brings a new family, hence a new group (its name differs).
  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_db_instance" "this" {
  identifier     = "${var.name}-database"
  engine         = "postgres"
  engine_version = var.db_engine_version
  instance_class = var.db_instance_class

  storage_type          = "gp3"
  allocated_storage     = var.db_storage_gib.allocated
  max_allocated_storage = var.db_storage_gib.max_allocated
  storage_encrypted     = true
  kms_key_id            = aws_kms_key.this.arn

  db_name                       = var.db_name
  username                      = var.db_username
  manage_master_user_password   = true
  master_user_secret_kms_key_id = aws_kms_key.this.arn

  db_subnet_group_name   = aws_db_subnet_group.this.name
  vpc_security_group_ids = [aws_security_group.database.id]
  parameter_group_name   = aws_db_parameter_group.this.name
  publicly_accessible    = false
  multi_az               = var.db_multi_az

  backup_retention_period   = var.db_backup_retention_days
  copy_tags_to_snapshot     = true
  deletion_protection       = true
  skip_final_snapshot       = false
  final_snapshot_identifier = "${var.name}-database-final"

  auto_minor_version_upgrade  = true
  allow_major_version_upgrade = false
  tags                        = var.tags
}
