# A RAM policy for `tartan controller` on Alibaba Cloud VPC route tables.
terraform {
  required_providers {
    alicloud = { source = "aliyun/alicloud", version = ">= 1.200.0" }
  }
}

variable "cluster_name" {
  type        = string
  description = "tartan --cluster-name; names the policy"
}

variable "ram_role_name" {
  type        = string
  description = "RAM role the controller runs as (ECS instance RAM role or RRSA)"
}

locals {
  # Exactly the VPC API actions the provider calls (test/terraform/policy.test.ts
  # compares them with the emulator's call log).
  ram_actions = [
    "vpc:DescribeRouteTableList", "vpc:DescribeRouteEntryList",
    "vpc:CreateRouteEntry", "vpc:CreateRouteEntries", "vpc:DeleteRouteEntry", "vpc:DeleteRouteEntries",
    "vpc:ModifyRouteEntry",
  ]
}

resource "alicloud_ram_policy" "controller" {
  policy_name = "tartan-controller-${var.cluster_name}"
  policy_document = jsonencode({
    Version = "1"
    Statement = [{
      Effect   = "Allow"
      Action   = local.ram_actions
      Resource = ["*"]
    }]
  })
}

resource "alicloud_ram_role_policy_attachment" "controller" {
  policy_name = alicloud_ram_policy.controller.policy_name
  policy_type = "Custom"
  role_name   = var.ram_role_name
}
