# Example: let the controller of cluster "prod" manage two route tables of a VPC.
module "tartan" {
  source          = "../../modules/aws"
  cluster_name    = "prod"
  route_table_ids = ["rtb-0123456789abcdef0", "rtb-0fedcba9876543210"]
  role_name       = "tartan-controller"
}

output "controller_flags" {
  description = "flags for tartan controller"
  value       = module.tartan.controller_flags
}
