# Example: a hybrid cluster. Hosts in the VPC are reached by the route tables the
# controller writes; on-prem hosts run only the agent (no cloud credentials) and are
# reached over the vxlan Fallback. Only the controller's role gets the AWS policy.
variable "onprem_agents" {
  type        = list(string)
  description = "public addresses of the on-prem hosts that run tartan agent"
  default     = ["203.0.113.10", "203.0.113.11"]
}

locals {
  route_table_ids = ["rtb-0123456789abcdef0"]
  # etcdctl put /coreos.com/network/config '<this>' before the first agent starts.
  network_config = jsonencode({
    Network = "10.244.0.0/16"
    Backend = { Type = "aws-vpc", RouteTableID = local.route_table_ids, Fallback = "vxlan" }
  })
}

module "tartan" {
  source          = "../../modules/aws"
  cluster_name    = "prod"
  route_table_ids = local.route_table_ids
  role_name       = "tartan-controller"
}

output "network_config" {
  description = "the network config to put at <etcd-prefix>/config"
  value       = local.network_config
}

output "controller_flags" {
  description = "flags for tartan controller (on two or more VPC hosts)"
  value       = module.tartan.controller_flags
}

output "onprem_agent_flags" {
  description = "per on-prem host: flags for tartan agent (its public address; it finds no VPC and uses the Fallback)"
  value       = { for ip in var.onprem_agents : ip => "--public-ip ${ip}" }
}
