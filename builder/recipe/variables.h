#pragma once
// `${name}` substitution. Variable values may use other variables; `$${` is a literal `${`.
// Undefined names and cycles are diagnosed at the exact column of the reference.
#include "recipe/node.h"

#include <map>
#include <string>

namespace ccbake::recipe {

using Variables = std::map<std::string, std::string>;

// Collects `variables:` from the merged tree, applies --set overrides (an override for a
// variable the recipe does not declare is an error) and resolves references among them.
Variables collect_variables(const Node& doc, const std::map<std::string, std::string>& overrides,
                            Diagnostics& diags);

// Substitutes in every scalar value of `doc` except the `variables` section itself.
void substitute_all(Node& doc, const Variables& vars, Diagnostics& diags);

} // namespace ccbake::recipe
