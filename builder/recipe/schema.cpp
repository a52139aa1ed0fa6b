#include "recipe/schema.h"

namespace ccbake::recipe {

using nlohmann::json;

std::string type_name(const Field& f) {
    switch (f.type) {
    case FieldType::String:
        return "string";
    case FieldType::Path:
        return "absolute path";
    case FieldType::Bool:
        return "boolean";
    case FieldType::Int:
        return "integer";
    case FieldType::Size:
        return "size (e.g. 4GiB)";
    case FieldType::Duration:
        return "duration (e.g. 90s, 10m)";
    case FieldType::Enum: {
        std::string s = "one of";
        for (size_t i = 0; i < f.choices.size(); ++i)
            s += (i ? ", " : " ") + f.choices[i];
        return s;
    }
    case FieldType::Url:
        return "URL (http, https or file)";
    case FieldType::Md5:
        return "md5 (32 hex digits)";
    case FieldType::Sha256:
        return "sha256 (64 hex digits)";
    case FieldType::Version:
        return "version (e.g. 6.6.0)";
    case FieldType::Artifact:
        return "artifact name";
    case FieldType::StringList:
        return "list of strings";
    case FieldType::ArgvList:
        return "list of argument lists";
    case FieldType::StringMap:
        return "mapping of strings";
    case FieldType::Any:
        return "any YAML value";
    case FieldType::Object:
        return "mapping";
    case FieldType::ObjectList:
        return "list of mappings";
    }
    return "?";
}

const std::vector<Field>& top_level_fields() {
    static const std::vector<Field> fields = {
        {.name = "name", .required = true, .help = "Short name of the image the recipe bakes."},
        {.name = "description", .help = "One or two sentences for people."},
        {.name = "include",
         .type = FieldType::StringList,
         .help = "Recipe files merged before this one, in order, relative to this file. Later "
                 "files override earlier ones and the including file wins; cycles are an error."},
        {.name = "variables",
         .type = FieldType::StringMap,
         .help = "Named values used as ${name} in any string; `--set name=value` overrides. Write "
                 "$${ for a literal ${."},
        {.name = "base",
         .type = FieldType::Object,
         .required = true,
         .help = "What the input image must be.",
         .fields =
             {
                 {.name = "os",
                  .type = FieldType::Enum,
                  .default_value = "ubuntu",
                  .help = "Distribution ID from /etc/os-release.",
                  .choices = {"ubuntu", "debian"}},
                 {.name = "version",
                  .default_value = "22.04",
                  .help = "VERSION_ID from /etc/os-release."},
                 {.name = "firmware",
                  .type = FieldType::Enum,
                  .default_value = "uefi",
                  .help = "Boot firmware; confidential images are UEFI only.",
                  .choices = {"uefi"}},
                 {.name = "min_kernel",
                  .type = FieldType::Version,
                  .default_value = "6.6.0",
                  .help =
                      "Lowest kernel version the image may boot (the platform needs >= 6.6.0)."},
                 {.name = "disk_size",
                  .type = FieldType::Size,
                  .help = "Size the baked disk grows to (e.g. `16GiB`; `bake --disk-size` wins): "
                          "the GPT moves to the new end, the root partition and its ext4 grow. A "
                          "stock cloud image has a few hundred MiB free, too little for the driver "
                          "and the DCAP stack. Left out, the disk keeps the input's size."},
             }},
        {.name = "artifacts",
         .type = FieldType::Object,
         .help = "Files downloaded and verified before baking, keyed by a name that steps refer "
                 "to. Each entry is a mapping with the fields below.",
         .fields =
             {
                 {.name = "url",
                  .type = FieldType::Url,
                  .required = true,
                  .help = "Where to download the file."},
                 {.name = "mirrors",
                  .type = FieldType::StringList,
                  .help = "Further URLs tried in order when the primary fails."},
                 {.name = "md5", .type = FieldType::Md5, .help = "md5 as the vendor publishes it."},
                 {.name = "sha256",
                  .type = FieldType::Sha256,
                  .help = "sha256; usually pinned in RECIPE.lock by `ccbake lock` instead."},
                 {.name = "size", .type = FieldType::Int, .help = "Expected size in bytes."},
                 {.name = "filename",
                  .help = "File name to use inside the image (default: last part of the URL)."},
             }},
        {.name = "steps",
         .type = FieldType::ObjectList,
         .required = true,
         .help = "Ordered list; each item is a mapping with exactly one key, the step kind, whose "
                 "value holds that kind's fields (see the step kinds below)."},
    };
    return fields;
}

const std::vector<Field>& common_step_fields() {
    static const std::vector<Field> fields = {
        {.name = "name",
         .help = "Identifies the step in output and journal; a step in an including recipe with "
                 "the same name replaces the included one in place. Default: KIND-N."},
        {.name = "timeout",
         .type = FieldType::Duration,
         .default_value = "30m",
         .help = "Stop the step after this long."},
    };
    return fields;
}

} // namespace ccbake::recipe
