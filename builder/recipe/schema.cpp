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
        {"name", FieldType::String, true, {}, "Short name of the image the recipe bakes."},
        {"description", FieldType::String, false, {}, "One or two sentences for people."},
        {"include",
         FieldType::StringList,
         false,
         {},
         "Recipe files merged before this one, in order, relative to this file. Later files "
         "override earlier ones and the including file wins; cycles are an error."},
        {"variables",
         FieldType::StringMap,
         false,
         {},
         "Named values used as ${name} in any string; `--set name=value` overrides. "
         "Write $${ for a literal ${."},
        {"base",
         FieldType::Object,
         true,
         {},
         "What the input image must be.",
         {},
         {
             {"os",
              FieldType::Enum,
              false,
              "ubuntu",
              "Distribution ID from /etc/os-release.",
              {"ubuntu", "debian"}},
             {"version", FieldType::String, false, "22.04", "VERSION_ID from /etc/os-release."},
             {"firmware",
              FieldType::Enum,
              false,
              "uefi",
              "Boot firmware; confidential images are UEFI only.",
              {"uefi"}},
             {"min_kernel", FieldType::Version, false, "6.6.0",
              "Lowest kernel version the image may boot (the platform needs >= 6.6.0)."},
             {"disk_size",
              FieldType::Size,
              false,
              {},
              "Size the baked disk grows to (e.g. `16GiB`; `bake --disk-size` wins): the GPT "
              "moves to the new end, the root partition and its ext4 grow. A stock cloud "
              "image has a few hundred MiB free, too little for the driver and the DCAP stack. "
              "Left out, the disk keeps the input's size."},
         }},
        {"artifacts",
         FieldType::Object,
         false,
         {},
         "Files downloaded and verified before baking, keyed by a name that steps refer to. "
         "Each entry is a mapping with the fields below.",
         {},
         {
             {"url", FieldType::Url, true, {}, "Where to download the file."},
             {"mirrors",
              FieldType::StringList,
              false,
              {},
              "Further URLs tried in order when the primary fails."},
             {"md5", FieldType::Md5, false, {}, "md5 as the vendor publishes it."},
             {"sha256",
              FieldType::Sha256,
              false,
              {},
              "sha256; usually pinned in RECIPE.lock by `ccbake lock` instead."},
             {"size", FieldType::Int, false, {}, "Expected size in bytes."},
             {"filename",
              FieldType::String,
              false,
              {},
              "File name to use inside the image (default: last part of the URL)."},
         }},
        {"steps",
         FieldType::ObjectList,
         true,
         {},
         "Ordered list; each item is a mapping with exactly one key, the step kind, whose "
         "value holds that kind's fields (see the step kinds below)."},
    };
    return fields;
}

const std::vector<Field>& common_step_fields() {
    static const std::vector<Field> fields = {
        {"name",
         FieldType::String,
         false,
         {},
         "Identifies the step in output and journal; a step in an including recipe with the "
         "same name replaces the included one in place. Default: KIND-N."},
        {"timeout", FieldType::Duration, false, "30m", "Stop the step after this long."},
    };
    return fields;
}

} // namespace ccbake::recipe
