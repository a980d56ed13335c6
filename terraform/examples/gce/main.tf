# Example: a custom role for the controller of cluster "prod", which manages the
# routes of network "prod-net" and runs as its own service account.
module "tartan" {
  source                = "../../modules/gce"
  project               = "my-project"
  network               = "prod-net"
  cluster_name          = "prod"
  service_account_email = "tartan-controller@my-project.iam.gserviceaccount.com"
}

output "controller_flags" {
  description = "flags for tartan controller"
  value       = module.tartan.controller_flags
}
