# Standalone use: Packer only drives ccbake on an image that already exists (no VM is
# booted). `packer build -var recipe=... -var input_image=... -var output=... standalone.pkr.hcl`.
# Packer's manifest records the run; ccbake writes OUTPUT.manifest.json beside the image.

variable "recipe" {
  type        = string
  description = "ccbake recipe to bake (e.g. recipes/ppcie-8gpu.yaml)."
}

variable "input_image" {
  type        = string
  description = "Existing UEFI disk image, raw or qcow2; never modified."
}

variable "output" {
  type        = string
  description = "Baked image to write; appears only when the bake succeeded."
}

variable "format" {
  type        = string
  default     = ""
  description = "qcow2 or raw; empty: from the output's extension."
}

variable "cache" {
  type        = string
  default     = ""
  description = "ccbake artifact cache (--cache); empty: ccbake's default."
}

variable "sets" {
  type        = list(string)
  default     = []
  description = "Recipe variable overrides, each NAME=VALUE (ccbake --set)."
}

variable "ccbake" {
  type        = string
  default     = "ccbake"
  description = "The ccbake executable."
}

variable "manifest" {
  type        = string
  default     = "packer-manifest.json"
  description = "Where Packer's manifest post-processor writes."
}

source "null" "ccbake" {
  communicator = "none"
}

build {
  sources = ["source.null.ccbake"]

  provisioner "shell-local" {
    script = "${path.root}/ccbake-bake.sh"
    environment_vars = [
      "CCBAKE=${var.ccbake}",
      "CCBAKE_RECIPE=${var.recipe}",
      "CCBAKE_INPUT=${var.input_image}",
      "CCBAKE_OUTPUT=${var.output}",
      "CCBAKE_FORMAT=${var.format}",
      "CCBAKE_CACHE_DIR=${var.cache}",
      "CCBAKE_SETS=${join("\n", var.sets)}",
    ]
  }

  post-processor "manifest" {
    output     = var.manifest
    strip_path = false
    custom_data = {
      recipe          = var.recipe
      input_image     = var.input_image
      ccbake_image    = var.output
      ccbake_manifest = "${var.output}.manifest.json"
    }
  }
}
