# Permissions and tags for `tartan controller` on AWS: it may change routes only in
# route tables tagged tartan.io/cluster=<cluster_name>, and disable SourceDestCheck
# only on instances and interfaces tagged the same way.
terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = ">= 5.0" }
  }
}

variable "cluster_name" {
  type        = string
  description = "tartan --cluster-name; marks the managed route tables"
}

variable "route_table_ids" {
  type        = list(string)
  description = "route tables the controller manages (tagged here)"
}

variable "role_name" {
  type        = string
  description = "IAM role the controller runs as (instance profile or IRSA)"
}

locals {
  tag_key = "tartan.io/cluster"
}

resource "aws_ec2_tag" "managed" {
  for_each    = toset(var.route_table_ids)
  resource_id = each.value
  key         = local.tag_key
  value       = var.cluster_name
}

data "aws_iam_policy_document" "controller" {
  statement {
    sid       = "Read"
    actions   = ["ec2:DescribeRouteTables", "ec2:DescribeInstances"]
    resources = ["*"]
  }
  statement {
    sid       = "WriteManagedRoutes"
    actions   = ["ec2:CreateRoute", "ec2:ReplaceRoute", "ec2:DeleteRoute"]
    resources = ["arn:aws:ec2:*:*:route-table/*"]
    condition {
      test     = "StringEquals"
      variable = "ec2:ResourceTag/${local.tag_key}"
      values   = [var.cluster_name]
    }
  }
  # SourceDestCheck off: the instance attribute (its primary interface), or, for a
  # host routed by a secondary interface, that interface's own flag. Tag such
  # interfaces too; untagged ones are refused and reported, not fixed.
  statement {
    sid       = "ForwardPodTraffic"
    actions   = ["ec2:ModifyInstanceAttribute", "ec2:ModifyNetworkInterfaceAttribute"]
    resources = ["arn:aws:ec2:*:*:instance/*", "arn:aws:ec2:*:*:network-interface/*"]
    condition {
      test     = "StringEquals"
      variable = "ec2:ResourceTag/${local.tag_key}"
      values   = [var.cluster_name]
    }
  }
}

resource "aws_iam_role_policy" "controller" {
  name   = "tartan-controller-${var.cluster_name}"
  role   = var.role_name
  policy = data.aws_iam_policy_document.controller.json
}

output "controller_flags" {
  description = "flags for tartan controller"
  value       = "--provider aws --cluster-name ${var.cluster_name} --route-table-ids ${join(",", var.route_table_ids)}"
}
