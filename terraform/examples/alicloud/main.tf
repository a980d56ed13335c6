# Example: a RAM policy for the controller of cluster "prod", attached to the RAM
# role its ECS instances run as. Tag the managed route tables tartan.io/cluster=prod
# (or pass --route-table-ids).
module "tartan" {
  source        = "../../modules/alicloud"
  cluster_name  = "prod"
  ram_role_name = "tartan-controller"
}
