# A custom role for `tartan controller` on GCE: routes of one network, instance
# reads (next hops, canIpForward), and global operations.
terraform {
  required_providers {
    google = { source = "hashicorp/google", version = ">= 5.0" }
  }
}

variable "project" {
  type        = string
  description = "GCE project of the VPC network (tartan --project)"
}

variable "cluster_name" {
  type        = string
  description = "tartan --cluster-name; names the role"
}

variable "network" {
  type        = string
  description = "VPC network whose routes the controller manages (tartan --network)"
}

variable "service_account_email" {
  type        = string
  description = "the service account the controller runs as"
}

resource "google_project_iam_custom_role" "controller" {
  project     = var.project
  role_id     = "tartanController_${replace(var.cluster_name, "-", "_")}"
  title       = "tartan controller (${var.cluster_name})"
  permissions = [
    "compute.routes.list", "compute.routes.get", "compute.routes.create", "compute.routes.delete",
    "compute.networks.get", "compute.networks.updatePolicy",
    "compute.instances.list", "compute.instances.use",
    "compute.globalOperations.get", "compute.projects.get",
  ]
}

resource "google_project_iam_member" "controller" {
  project = var.project
  role    = google_project_iam_custom_role.controller.id
  member  = "serviceAccount:${var.service_account_email}"
}

output "controller_flags" {
  description = "flags for tartan controller"
  value       = "--provider gce --project ${var.project} --network ${var.network} --cluster-name ${var.cluster_name}"
}
