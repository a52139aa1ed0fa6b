# Post-processor use: Packer builds an image with its qemu builder (UEFI through OVMF, from the
# Ubuntu 22.04 cloud image), then a shell-local post-processor runs `ccbake bake` on the build's
# artifact and the manifest post-processor records both. The build VM here only boots the image
# and powers itself off (communicator "none"); add your own provisioning to its seed or switch
# the communicator to ssh. The confidential guest itself never reboots: that rule is for the
# baked image on TDX, not for this ordinary build VM.
#
# Pitfall: any -drive in qemuargs makes Packer drop its own disk (and Debian's Packer 1.6.6 has
# no `firmware` option), so OVMF goes in as -bios and the NoCloud seed as -cdrom, never -drive.

variable "base_image" {
  type        = string
  default     = "https://cloud-images.ubuntu.com/jammy/current/jammy-server-cloudimg-amd64.img"
  description = "Ubuntu 22.04 cloud image (qcow2) the build starts from; a local path works too."
}

variable "base_image_checksum" {
  type        = string
  default     = "file:https://cloud-images.ubuntu.com/jammy/current/SHA256SUMS"
  description = "Packer iso_checksum of the base image (sha256:..., file:URL, or none)."
}

variable "base_image_format" {
  type        = string
  default     = "qcow2"
  description = "Format of the base image: qcow2 or raw."
}

variable "seed_iso" {
  type        = string
  description = "NoCloud seed for the build VM (user-data must power the VM off when done)."
}

variable "ovmf" {
  type        = string
  default     = "/usr/share/ovmf/OVMF.fd"
  description = "OVMF firmware (combined code+vars image), passed as -bios."
}

variable "accelerator" {
  type        = string
  default     = "kvm"
  description = "qemu accelerator: kvm, or tcg where there is no KVM (slow)."
}

variable "build_timeout" {
  type        = string
  default     = "30m"
  description = "How long the build VM may run before it must have powered off."
}

variable "build_dir" {
  type        = string
  default     = "build/packer-qemu"
  description = "Packer's output directory for the build's artifact."
}

variable "recipe" {
  type        = string
  description = "ccbake recipe to bake (e.g. recipes/ppcie-8gpu.yaml)."
}

variable "output" {
  type        = string
  description = "Baked image ccbake writes; appears only when the bake succeeded."
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

source "qemu" "ubuntu" {
  iso_url          = var.base_image
  iso_checksum     = var.base_image_checksum
  disk_image       = true
  use_backing_file = false
  skip_resize_disk = true
  format           = var.base_image_format
  output_directory = var.build_dir
  vm_name          = "build.${var.base_image_format}"
  accelerator      = var.accelerator
  machine_type     = "q35"
  memory           = 2048
  cpus             = 2
  disk_interface   = "virtio"
  net_device       = "virtio-net"
  headless         = true
  communicator     = "none"
  shutdown_timeout = var.build_timeout
  qemuargs = [
    ["-bios", var.ovmf],
    ["-cdrom", var.seed_iso],
    ["-serial", "file:${var.build_dir}-console.log"],
  ]
}

build {
  sources = ["source.qemu.ubuntu"]

  post-processors {
    post-processor "shell-local" {
      script = "${path.root}/ccbake-bake.sh"
      environment_vars = [
        "CCBAKE=${var.ccbake}",
        "CCBAKE_RECIPE=${var.recipe}",
        "CCBAKE_INPUT=${var.build_dir}/build.${var.base_image_format}",
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
        ccbake_image    = var.output
        ccbake_manifest = "${var.output}.manifest.json"
      }
    }
  }
}
