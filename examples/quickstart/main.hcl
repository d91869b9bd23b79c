# coffer quickstart: two vaults, a plan with two rules, a selection by tags and two local
# directories. Needs no cloud: run `coffer -C examples/quickstart plan`.

coffer {
  backend "local" {
    path = ".coffer"
  }
}

variable "environment" {
  type        = string
  default     = "dev"
  description = "Tag value that marks what this configuration protects."

  validation {
    condition     = contains(["dev", "staging", "prod"], var.environment)
    error_message = "environment must be dev, staging or prod."
  }
}

locals {
  common_tags = {
    ManagedBy   = "coffer"
    Environment = var.environment
  }
}

vault "primary" {
  storage = "file://./vaults/primary"
  tags    = local.common_tags

  # Points of rules with cold_storage_after move here at their cold date.
  cold_storage {
    storage = "file://./vaults/primary-cold"
  }
}

# Copies go to a second vault so that losing one vault loses no data.
vault "dr" {
  storage = "file://./vaults/dr"
  tags    = merge(local.common_tags, { Purpose = "disaster-recovery" })

  lock {
    mode          = "governance"
    min_retention = "30d"
  }
}

plan "standard" {
  tags = local.common_tags

  # The classic monthly rule: 06:00 UTC on the first Saturday of each month.
  rule "first-saturday" {
    schedule          = "cron(0 6 ? * 7#1 *)"
    start_window      = "2h"
    completion_window = "8h"
    target_vault      = vault.primary

    lifecycle {
      cold_storage_after = "90d"
      delete_after       = "7y"
    }

    recovery_point_tags = { CreatedBy = "coffer", Rule = "monthly" }

    copy_to {
      vault = vault.dr
      lifecycle {
        delete_after = "1y"
      }
    }
  }

  rule "nightly" {
    schedule          = "cron(0 3 * * ? *)"
    start_window      = "1h"
    completion_window = "4h"
    target_vault      = vault.primary

    lifecycle {
      delete_after = "35d"
    }
  }
}

# Everything tagged Backup = standard (or gold) in this environment is protected.
selection "tagged" {
  plan    = plan.standard
  any_tag = { Backup = ["standard", "gold"] }

  condition {
    string_equals = { Environment = var.environment }
  }
}

directory "documents" {
  path = "./data/documents"
  tags = merge(local.common_tags, { Backup = "standard" })
}

directory "photos" {
  path = "./data/photos"
  tags = merge(local.common_tags, { Backup = "gold" })
}
