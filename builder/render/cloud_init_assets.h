#pragma once
// Files from cloud-init/ that rendered user-data carries; a unit test keeps them identical
// to the sources in cloud-init/.
namespace ccbake::render {

// cloud-init/ccbake-firstboot.sh
extern const char* const kFirstbootScript;

} // namespace ccbake::render
